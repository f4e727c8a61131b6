-- GET /authorize with an SSO session cookie (prompt=none): every 302 carries a code, which is
-- appended to $CODES_FILE for the exchange run. Env: AUTHORIZE_PATH, COOKIE, CODES_FILE.
local out
wrk.method = "GET"
wrk.path = os.getenv("AUTHORIZE_PATH")
wrk.headers["Cookie"] = os.getenv("COOKIE")

function init(args)
    out = assert(io.open(os.getenv("CODES_FILE"), "a"))
end

function response(status, headers, body)
    local loc = headers["Location"] or headers["location"]
    if status == 302 and loc then
        local code = loc:match("[?&]code=([^&#]+)")
        if code then out:write(code, "\n") end
    end
end

function done(summary, latency, requests)
end
