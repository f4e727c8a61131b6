"""Signing up in a real browser (issue #4): headless Debian Chromium driven by Playwright
follows a regular web app's "Sign up" link (/authorize with screen_hint=signup, code + PKCE,
state, nonce) to the signup page, fills and submits it, and comes back to the app's callback
with a code (the page's CSP must let the browser follow that redirect: form-action names the
callback's origin); the test exchanges the code as the app's back end would, /userinfo shows
the new user, the browser logs out with /v2/logout, and prompt=none then answers
login_required. A refused signup (a password the policy rejects) stays on the page."""
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

import jwt as pyjwt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from harness import (app, app_hits, authorize_url, chromium, link_page, pkce,  # noqa: E402,F401
                     query_of, sso_then_logout, web)

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Su5!"


def test_signup_link_code_exchange_userinfo_logout_then_prompt_none(target, e2e, web, app,
                                                                    chromium):
    email = f"browser-signup-{secrets.token_hex(6)}@example.com"
    verifier, challenge = pkce()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    app.pages["/web/"] = ("text/html", link_page("Sign up", authorize_url(
        target, web, screen_hint="signup", state=state, nonce=nonce, code_challenge=challenge,
        code_challenge_method="S256"), link_id="signup"))
    app.hits.clear()
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        # the app's signup link -> /authorize -> the signup page (not the login page)
        page.goto(web["home"])
        with page.expect_response(lambda r: urlparse(r.url).path == "/u/signup") as first:
            page.click("#signup")
        page.wait_for_url(target.base_url + "/u/signup?**")
        csp = first.value.headers["content-security-policy"]
        assert f"form-action 'self' {web['app']};" in csp, csp
        assert "frame-ancestors 'none'" in csp
        assert page.title() == "Sign up"
        assert page.locator("#policy").inner_text()  # the password policy, in words
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        with page.expect_navigation(url=web["callback"] + "?**"):
            page.click("button[type=submit]")
        got = query_of(page.url)
        assert "error" not in got, got
        assert got["state"] == state
        assert got["iss"] == target.issuer
        code = got["code"]

        # the app's back end exchanges the code: the tokens are the new user's
        with target.client() as http:
            r = http.post("/oauth/token", data={
                "grant_type": "authorization_code", "client_id": web["client_id"],
                "client_secret": web["client_secret"], "code": code,
                "redirect_uri": web["callback"], "code_verifier": verifier})
            assert r.status_code == 200, r.text
            tokens = r.json()
            claims = pyjwt.decode(tokens["id_token"], options={"verify_signature": False})
            assert claims["nonce"] == nonce
            assert claims["aud"] == web["client_id"]
            assert claims["email"] == email
            assert claims["sub"].startswith("auth0|")
            r = http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
            assert r.status_code == 200, r.text
            assert r.json()["email"] == email
            assert r.json()["sub"] == claims["sub"]
            # a real account: signing up the same email again is refused
            r = http.post("/dbconnections/signup", json={
                "client_id": web["client_id"], "email": email, "password": PASSWORD,
                "connection": e2e["connections"]["default"]})
            assert r.status_code == 400 and r.json()["code"] == "invalid_signup", r.text

        # signing up started an SSO session: prompt=none gets a code silently; after logout
        # it answers login_required
        sso_then_logout(page, target, web)
        assert app_hits(app) == ["/web/", "/web/callback", "/web/callback", "/web/",
                                 "/web/callback"], app.hits
    finally:
        ctx.close()


def test_refused_signup_stays_on_the_page(target, e2e, web, app, chromium):
    email = f"browser-signup-weak-{secrets.token_hex(6)}@example.com"
    app.hits.clear()
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        page.goto(authorize_url(target, web, screen_hint="signup", state="weak",
                                code_challenge=pkce()[1], code_challenge_method="S256"))
        page.wait_for_url(target.base_url + "/u/signup?**")
        page.fill("#email", email)
        page.fill("#password", "short")  # the connection's "good" policy refuses it
        page.click("button[type=submit]")
        page.wait_for_selector("[role=alert]")
        assert urlparse(page.url).path == "/u/signup"
        assert page.input_value("#email") == email  # kept; the password is not
        assert page.input_value("#password") == ""
        assert app_hits(app) == []  # nothing reached the app
    finally:
        ctx.close()
    # no account was made: the email is still free
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": web["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
