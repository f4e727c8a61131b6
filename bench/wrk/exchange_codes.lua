-- POST /oauth/token grant_type=authorization_code, one prepared code per request (each is
-- single-use); the thread stops when the codes run out. Env: CODES_FILE, FORM_PREFIX (the form
-- without the code, ending in "&code=").
local codes, i, prefix = {}, 0, os.getenv("FORM_PREFIX")

function init(args)
    for line in io.lines(os.getenv("CODES_FILE")) do codes[#codes + 1] = line end
end

function request()
    i = i + 1
    local code = codes[i] or codes[#codes]
    return wrk.format("POST", "/oauth/token",
        {["Content-Type"] = "application/x-www-form-urlencoded"}, prefix .. code)
end

local answered = 0
function response(status, headers, body)
    answered = answered + 1
    if answered >= #codes then wrk.thread:stop() end
end
