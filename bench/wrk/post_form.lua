-- POST a fixed form body (FORM) to PATH: the same-tool reference for the exchange run.
wrk.method = "POST"
wrk.path = os.getenv("FORM_PATH")
wrk.body = os.getenv("FORM")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
