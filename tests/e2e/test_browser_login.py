"""A regular web application's sign-in in a real browser (issue #4): headless Debian Chromium
driven by Playwright follows the app's login link (code + PKCE, state, nonce) to the login
page, fills and submits the form, and comes back to the app's callback with a code; the test
exchanges it (as the app's back end would), reads /userinfo, then the browser logs out with
/v2/logout, after which prompt=none in the same browser answers login_required."""
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

import jwt as pyjwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from harness import (app, app_hits, authorize_url, chromium, link_page, pkce,  # noqa: E402,F401
                     query_of, sso_then_logout, web)

from authflow import signup  # noqa: E402

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Br0!"


@pytest.fixture(scope="module")
def user(target, web, e2e):
    return signup(target, web, e2e["connections"]["default"], password=PASSWORD)


def test_login_link_code_exchange_userinfo_logout_then_prompt_none(target, web, user, app,
                                                                   chromium):
    verifier, challenge = pkce()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    login_href = authorize_url(target, web, state=state, nonce=nonce, code_challenge=challenge,
                               code_challenge_method="S256")
    app.pages["/web/"] = ("text/html", link_page("Web App", login_href))
    app.hits.clear()
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        # the app's login link -> /authorize -> the login page
        page.goto(web["home"])
        page.click("#login")
        page.wait_for_url(target.base_url + "/u/login?**")
        assert page.title() == "Log in" or "Log in" in page.content()
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        with page.expect_navigation(url=web["callback"] + "?**"):
            page.click("button[type=submit]")
        got = query_of(page.url)
        assert got["state"] == state
        assert got["iss"] == target.issuer
        assert "error" not in got
        code = got["code"]

        # the app's back end exchanges the code and reads the profile
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
            assert claims["iss"] == target.issuer
            assert claims["email"] == user
            r = http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
            assert r.status_code == 200, r.text
            assert r.json()["email"] == user
            assert r.json()["sub"] == claims["sub"]

        # SSO while the session lives, then logout, then login_required
        sso_then_logout(page, target, web)
        # every app page the browser asked for was one the flow should reach
        assert app_hits(app) == [
            "/web/", "/web/callback", "/web/callback", "/web/", "/web/callback"], app.hits
    finally:
        ctx.close()


def test_wrong_password_stays_on_login_page(target, web, user, app, chromium):
    app.hits.clear()
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        page.goto(authorize_url(target, web, state="s", code_challenge=pkce()[1],
                                code_challenge_method="S256"))
        page.wait_for_url(target.base_url + "/u/login?**")
        page.fill("#username", user)
        page.fill("#password", PASSWORD + "-wrong")
        page.click("button[type=submit]")
        page.wait_for_selector("[role=alert]")
        assert urlparse(page.url).path == "/u/login"
        assert "Wrong email or password" in page.inner_text("[role=alert]")
        assert app_hits(app) == []  # nothing reached the app
    finally:
        ctx.close()
