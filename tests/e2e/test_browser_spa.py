"""Auth0's own browser SDK against Tollgate in a real browser (issue #4): @auth0/auth0-spa-js
v2 from npm, loaded in a test page served over HTTPS on localhost, in headless Debian
Chromium driven by Playwright: loginWithRedirect -> the login page -> handleRedirectCallback
(code + PKCE exchanged from the browser: CORS) -> getTokenSilently through the hidden iframe
(prompt=none, response_mode=web_message) -> a refresh_token grant from the browser (rotating
refresh tokens, CORS) -> getUser -> logout -> not authenticated, and silent authentication
now answers login_required through the same web_message page.

Also, over plain HTTP (httpx): the CORS headers of /oauth/token, /userinfo and /oauth/revoke
for an allowed and a foreign Origin, and web_message refused for an origin the client did not
list."""
import json
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt as pyjwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from harness import HERE, AppServer, chromium  # noqa: E402,F401

from authflow import signup  # noqa: E402

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Sp4!"
SPA_JS = Path("browser-deps/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js")


@pytest.fixture(scope="module")
def spa(e2e):
    app = e2e["browser_app"]
    return {**e2e["clients"]["E2E Browser SPA"], "app": app, "home": app + "/spa/",
            "audience": e2e["apis"]["offline"]}


@pytest.fixture(scope="module")
def user(target, spa, e2e):
    return signup(target, spa, e2e["connections"]["default"], password=PASSWORD)


@pytest.fixture(scope="module")
def app(target, spa):
    if target.run_dir is None or not target.env.get("BUILD_DIR"):
        pytest.skip("needs the run's TLS key and the build tree's npm packages")
    sdk = Path(target.env["BUILD_DIR"]) / SPA_JS
    assert sdk.is_file(), f"{sdk} missing: tests/run installs tests/browser/package.json there"
    config = {"domain": urlparse(target.base_url).netloc, "clientId": spa["client_id"],
              "redirectUri": spa["home"], "audience": spa["audience"]}
    server = AppServer(spa["app"], str(target.run_dir / "tls" / "cert.pem"),
                       str(target.run_dir / "tls" / "key.pem"), {
                           "/spa/": ("text/html", (HERE / "spa.html").read_text()),
                           "/spa/spa.js": ("application/javascript", (HERE / "spa.js").read_text()),
                           "/spa/config.js": ("application/javascript",
                                              "window.SPA_CONFIG = %s;" % json.dumps(config)),
                           "/spa/auth0-spa-js.production.js": ("application/javascript",
                                                               sdk.read_bytes()),
                       })
    yield server
    server.close()


def call(page, name):
    return page.evaluate(f"() => window.spaTest.{name}()")


def wait_ready(page):
    page.wait_for_function("() => window.spaTest !== undefined")


def authorize_requests(log, base_url):
    return [parse_qs(urlparse(r.url).query) for r in log
            if r.url.startswith(base_url + "/authorize?")]


def grant_type_of(request):
    """spa-js posts JSON in some versions and a form in others."""
    body = request.post_data or ""
    if body.startswith("{"):
        return json.loads(body)["grant_type"]
    return parse_qs(body)["grant_type"][0]


def token_posts(log, base_url):
    return [r for r in log if r.method == "POST" and r.url == base_url + "/oauth/token"]


def test_spa_js_login_silent_auth_refresh_and_logout(target, spa, user, app, chromium):
    base = target.base_url
    ctx = chromium.new_context()
    page = ctx.new_page()
    log = []
    page.on("request", lambda req: log.append(req))
    try:
        page.goto(spa["home"])
        wait_ready(page)
        assert call(page, "isAuthenticated") == {"ok": True, "value": False}

        # loginWithRedirect -> /authorize -> the login page
        page.evaluate("() => { window.spaTest.login(); }")
        page.wait_for_url(base + "/u/login?**")
        first = authorize_requests(log, base)[0]
        assert first["client_id"] == [spa["client_id"]]
        assert first["code_challenge_method"] == ["S256"]
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(spa["home"] + "?**")
        wait_ready(page)

        # handleRedirectCallback: the code is exchanged by the browser (a CORS request)
        got = call(page, "handleRedirectCallback")
        assert got["ok"], got
        exchange = token_posts(log, base)[-1]
        assert grant_type_of(exchange) == "authorization_code"
        r = exchange.response()
        assert r.status == 200
        first_rt = r.json()["refresh_token"]
        assert r.headers.get("access-control-allow-origin") == spa["app"]
        assert r.headers.get("access-control-allow-credentials") == "true"
        assert call(page, "isAuthenticated") == {"ok": True, "value": True}
        profile = call(page, "getUser")
        assert profile["ok"] and profile["value"]["email"] == user, profile

        # getTokenSilently without refresh tokens: the hidden iframe and the web_message page
        n_auth = len(authorize_requests(log, base))
        silent = call(page, "silent")
        assert silent["ok"], silent
        iframe = authorize_requests(log, base)[n_auth:]
        assert len(iframe) == 1, iframe
        assert iframe[0]["response_mode"] == ["web_message"]
        assert iframe[0]["prompt"] == ["none"]
        assert iframe[0]["redirect_uri"] == [spa["home"]]
        page_resp = [r.response() for r in log
                     if r.url.startswith(base + "/authorize?") and "web_message" in r.url][0]
        assert page_resp.status == 200
        csp = page_resp.headers["content-security-policy"]
        assert f"frame-ancestors {spa['app']};" in csp
        assert "x-frame-options" not in page_resp.headers
        at = pyjwt.decode(silent["value"]["access_token"], options={"verify_signature": False})
        assert spa["audience"] in (at["aud"] if isinstance(at["aud"], list) else [at["aud"]])

        # a refresh from the browser: refresh_token grant with rotation, answered with CORS
        n_posts = len(token_posts(log, base))
        refreshed = call(page, "refresh")
        assert refreshed["ok"], refreshed
        grants = [grant_type_of(p) for p in token_posts(log, base)[n_posts:]]
        assert grants == ["refresh_token"], grants
        rr = token_posts(log, base)[-1].response()
        assert rr.status == 200
        assert rr.headers.get("access-control-allow-origin") == spa["app"]
        assert rr.json()["refresh_token"] != first_rt  # rotated
        profile = call(page, "getUser")
        assert profile["ok"] and profile["value"]["email"] == user, profile

        # logout() -> /v2/logout -> back to the app, signed out
        page.evaluate("() => { window.spaTest.logout(); }")
        page.wait_for_url(spa["home"])
        out = [parse_qs(urlparse(r.url).query) for r in log
               if r.url.startswith(base + "/v2/logout?")]
        assert out and out[-1]["client_id"] == [spa["client_id"]], out
        assert out[-1]["returnTo"] == [spa["home"]]
        wait_ready(page)
        assert call(page, "isAuthenticated") == {"ok": True, "value": False}
        # and the SSO session is gone: the web_message page now posts login_required
        after = call(page, "silent")
        assert after["ok"] is False and after["error"] == "login_required", after
        assert authorize_requests(log, base)[-1]["response_mode"] == ["web_message"]
    finally:
        ctx.close()


def test_spa_js_login_with_popup(target, spa, user, app, chromium):
    """loginWithPopup: /authorize with response_mode=web_message opens in a popup, the user
    logs in there, and the page that answers the login form posts the code to the opener
    (web_message survives the login transaction); spa-js exchanges it and closes the popup."""
    base = target.base_url
    ctx = chromium.new_context()
    page = ctx.new_page()
    log, answers = [], []
    ctx.on("request", lambda req: log.append(req))
    # the popup is gone by the time the test reads its answers: keep them as they come
    ctx.on("response", lambda r: answers.append((r.request.method, r.url, r.status, r.headers)))
    try:
        page.goto(spa["home"])
        wait_ready(page)
        assert call(page, "isAuthenticated") == {"ok": True, "value": False}
        with page.expect_popup() as opened:
            page.evaluate("() => { window.spaTest.popup(); }")
        popup = opened.value
        popup.wait_for_url(base + "/u/login?**")
        first = authorize_requests(log, base)[0]
        assert first["response_mode"] == ["web_message"]
        assert "prompt" not in first or first["prompt"] == ["login"], first
        assert first["redirect_uri"] == [spa["home"]]
        popup.fill("#username", user)
        popup.fill("#password", PASSWORD)
        with popup.expect_event("close"):  # spa-js closes it once the answer arrived
            popup.click("button[type=submit]")
        page.wait_for_function("() => window.spaTest.popupResult !== null")
        got = page.evaluate("() => window.spaTest.popupResult")
        assert got["ok"], got
        # the answer to the login form was the web_message page, framable by the app only
        answer = [a for a in answers if a[0] == "POST" and a[1] == base + "/u/login"]
        assert len(answer) == 1 and answer[0][2] == 200, answer
        assert f"frame-ancestors {spa['app']};" in answer[0][3]["content-security-policy"]
        # the code went to the opener, never to the app's callback as a redirect
        assert not [r for r in log if r.url.startswith(spa["home"] + "?")], log
        exchange = token_posts(log, base)[-1]
        assert grant_type_of(exchange) == "authorization_code"
        assert exchange.response().status == 200
        assert call(page, "isAuthenticated") == {"ok": True, "value": True}
        profile = call(page, "getUser")
        assert profile["ok"] and profile["value"]["email"] == user, profile
    finally:
        ctx.close()


# ---- over plain HTTP ------------------------------------------------------------------------

def test_web_message_refused_for_an_origin_the_client_did_not_list(target, e2e):
    web = e2e["clients"]["E2E Web"]  # registered callbacks, no Allowed Web Origins
    with target.client(follow_redirects=False) as http:
        r = http.get("/authorize?" + urlencode({
            "response_type": "code", "client_id": web["client_id"],
            "redirect_uri": e2e["callbacks"]["web"], "response_mode": "web_message",
            "prompt": "none", "state": "st-1", "scope": "openid"}))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert "postMessage" not in r.text and "authorization_response" not in r.text
    assert "does not have a registered origin" in r.text
    assert r.headers["x-frame-options"] == "DENY"


def test_web_message_page_for_a_listed_origin(target, spa):
    """Without a session: the login_required answer is posted by the web_message page, which
    only the app's origin may frame; no value appears in script text."""
    hostile = "</script><script>alert(1)</script>"
    with target.client(follow_redirects=False) as http:
        r = http.get("/authorize?" + urlencode({
            "response_type": "code", "client_id": spa["client_id"], "redirect_uri": spa["home"],
            "response_mode": "web_message", "prompt": "none", "state": hostile,
            "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256"}))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "x-frame-options" not in r.headers
    csp = r.headers["content-security-policy"]
    assert f"frame-ancestors {spa['app']};" in csp
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert hostile not in r.text
    block = r.text.split('<script type="application/json" id="response">', 1)[1]
    data = json.loads(block.split("</script>", 1)[0])
    assert data["origin"] == spa["app"]
    assert data["response"]["error"] == "login_required"
    assert data["response"]["state"] == hostile
    assert data["response"]["iss"] == target.issuer


def password_tokens(http, web):
    r = http.post("/oauth/token", data={
        "grant_type": "password", "client_id": web["client_id"],
        "client_secret": web["client_secret"], "username": web["email"],
        "password": PASSWORD, "scope": "openid email offline_access",
        "audience": web["audience"]})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def web_user(target, e2e):
    """E2E Web (password grant; its callback https://app.e2e.test/callback makes
    https://app.e2e.test an allowed CORS origin, contract.md §1.6) and a user of it."""
    web = e2e["clients"]["E2E Web"]
    email = f"cors-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": web["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
    return {**web, "email": email, "audience": e2e["apis"]["offline"],
            "origin": "https://app.e2e.test"}


FOREIGN = "https://evil.e2e.test"


def assert_cors(r, origin):
    assert r.headers.get("access-control-allow-origin") == origin, dict(r.headers)
    assert r.headers.get("access-control-allow-credentials") == "true"
    assert "origin" in r.headers.get("vary", "").lower()


def assert_no_cors(r):
    assert "access-control-allow-origin" not in r.headers, dict(r.headers)
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize("http2", [True, False])
def test_cors_on_token_userinfo_and_revoke(target, web_user, http2):
    with target.client(http2=http2) as http:
        tokens = password_tokens(http, web_user)
        form = {"grant_type": "refresh_token", "client_id": web_user["client_id"],
                "client_secret": web_user["client_secret"]}
        # success of /oauth/token
        r = http.post("/oauth/token", data={**form, "refresh_token": tokens["refresh_token"]},
                      headers={"Origin": web_user["origin"]})
        assert r.status_code == 200, r.text
        assert_cors(r, web_user["origin"])
        tokens = {**tokens, **r.json()}  # E2E Web's refresh tokens do not rotate
        r = http.post("/oauth/token", data={**form, "refresh_token": tokens["refresh_token"]},
                      headers={"Origin": FOREIGN})
        assert r.status_code == 200, r.text
        assert_no_cors(r)
        tokens = {**tokens, **r.json()}
        # an error of /oauth/token: readable by the allowed origin only
        r = http.post("/oauth/token", data={**form, "refresh_token": "v1.not-a-token"},
                      headers={"Origin": web_user["origin"]})
        assert r.status_code in (400, 403), r.text
        assert r.json()["error"] == "invalid_grant"
        assert_cors(r, web_user["origin"])
        r = http.post("/oauth/token", data={**form, "refresh_token": "v1.not-a-token"},
                      headers={"Origin": FOREIGN})
        assert_no_cors(r)
        # /userinfo: the client the token was issued to decides
        bearer = {"Authorization": "Bearer " + tokens["access_token"]}
        r = http.get("/userinfo", headers={**bearer, "Origin": web_user["origin"]})
        assert r.status_code == 200, r.text
        assert r.json()["email"] == web_user["email"]
        assert_cors(r, web_user["origin"])
        r = http.get("/userinfo", headers={**bearer, "Origin": FOREIGN})
        assert r.status_code == 200
        assert_no_cors(r)
        # look-alike origins are foreign
        for origin in ("https://app.e2e.test.evil.test", "http://app.e2e.test",
                       "https://app.e2e.test:444", "https://app.e2e.test/", "null"):
            r = http.get("/userinfo", headers={**bearer, "Origin": origin})
            assert_no_cors(r)
        # /oauth/revoke
        r = http.post("/oauth/revoke", data={
            "client_id": web_user["client_id"], "client_secret": web_user["client_secret"],
            "token": tokens["refresh_token"]}, headers={"Origin": FOREIGN})
        assert r.status_code == 200
        assert_no_cors(r)
        r = http.post("/oauth/revoke", data={
            "client_id": web_user["client_id"], "client_secret": web_user["client_secret"],
            "token": tokens["refresh_token"]}, headers={"Origin": web_user["origin"]})
        assert r.status_code == 200
        assert_cors(r, web_user["origin"])
        # without an Origin (a server-side caller) nothing changes
        r = http.post("/oauth/token", data={**form, "refresh_token": tokens["refresh_token"]})
        assert_no_cors(r)


def test_cors_for_a_client_registered_at_oidc_register(target, e2e):
    """A public SPA registered at /oidc/register (no web origins: its callback's origin is
    its allowed origin, contract.md §1.6) gets CORS on its code exchange and /userinfo."""
    from authflow import authorize, browser, callback_params, consented, login, signup
    from authflow import pkce as authflow_pkce
    origin = "https://registered-spa.e2e.test"
    with target.client() as http:
        r = http.post("/oidc/register", json={
            "client_name": "E2E Registered CORS SPA", "redirect_uris": [origin + "/callback"],
            "token_endpoint_auth_method": "none"})
        assert r.status_code == 201, r.text
    client = {"client_id": r.json()["client_id"], "callback": origin + "/callback"}
    web = {**e2e["clients"]["E2E Web"], "callback": e2e["callbacks"]["web"]}
    user = signup(target, web, e2e["connections"]["default"])
    with browser(target) as http:
        # an SSO session through a tenant app, then the registered client's code from it
        assert "code" in callback_params(login(http, target, authorize(http, web), user), web)
        verifier, challenge = authflow_pkce()
        cb = callback_params(consented(http, authorize(http, client, code_challenge=challenge,
                                                       code_challenge_method="S256")), client)
        r = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "client_id": client["client_id"],
            "code": cb["code"], "redirect_uri": client["callback"], "code_verifier": verifier},
            headers={"Origin": origin})
        assert r.status_code == 200, r.text
        assert_cors(r, origin)
        bearer = {"Authorization": "Bearer " + r.json()["access_token"]}
        r = http.get("/userinfo", headers={**bearer, "Origin": origin})
        assert r.status_code == 200, r.text
        assert_cors(r, origin)
        for foreign in (FOREIGN, "https://registered-spa.e2e.test.evil.test",
                        "http://registered-spa.e2e.test"):
            r = http.get("/userinfo", headers={**bearer, "Origin": foreign})
            assert r.status_code == 200
            assert_no_cors(r)
        # an error answer for it is readable by its origin too
        r = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "client_id": client["client_id"],
            "code": "not-a-code", "redirect_uri": client["callback"], "code_verifier": verifier},
            headers={"Origin": origin})
        assert r.status_code == 403 and r.json()["error"] == "invalid_grant", r.text
        assert_cors(r, origin)
