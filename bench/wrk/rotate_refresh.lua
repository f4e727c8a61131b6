-- POST /oauth/token grant_type=refresh_token for a rotating client: each answer's new refresh
-- token goes back into the pool and becomes a later request's, so every chain keeps rotating.
-- The pool (TOKENS_FILE, one token per line) must hold more tokens than there are connections:
-- a connection has one request in flight, so the pool never runs dry unless answers fail.
-- Env: TOKENS_FILE, FORM_PREFIX (the form without the token, ending in "refresh_token=").
local pool, prefix, dry = {}, os.getenv("FORM_PREFIX"), 0

function init(args)
    for line in io.lines(os.getenv("TOKENS_FILE")) do pool[#pool + 1] = line end
end

function request()
    local token = table.remove(pool, 1)
    if token == nil then -- every chain died (failed answers): stop, and say so in done()
        dry = dry + 1
        wrk.thread:stop()
        return wrk.format("GET", "/.well-known/jwks.json")
    end
    return wrk.format("POST", "/oauth/token",
        {["Content-Type"] = "application/x-www-form-urlencoded"}, prefix .. token)
end

function response(status, headers, body)
    local token = body:match('"refresh_token":"([^"]+)"')
    if status == 200 and token then pool[#pool + 1] = token end
end

function done(summary, latency, requests)
    if dry > 0 then io.write("ran dry: every refresh-token chain failed\n") end
end
