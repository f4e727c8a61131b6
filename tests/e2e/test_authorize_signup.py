"""The signup page (issue #4): /authorize?screen_hint=signup → the server-rendered form →
POST /u/signup → logged in like the login form (SSO session, code) → the code exchanges for the
new user's tokens. Refusals (duplicate, weak password, invalid email, signup disabled) come
back on the page, escaped; the form needs its CSRF cookie. Over HTTP/2 with httpx, its cookie
jar acting as the browser."""
import html
import re
import secrets
from urllib.parse import urlencode, urlparse

import jwt as pyjwt
import pytest

from authflow import authorize, browser, callback_params, exchange

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Ok9!"
FORM_INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


def signup_page(http, r):
    """Follows /authorize's redirect to the signup page; returns (page, hidden form fields)."""
    assert r.status_code == 302, r.text
    loc = r.headers["location"]
    assert urlparse(loc).path == "/u/signup", loc
    page = http.get(loc)
    assert page.status_code == 200, page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text.lower()
    return page, {k: html.unescape(v) for k, v in FORM_INPUT.findall(page.text)
                  if k in ("state", "csrf_token")}


def new_email():
    return f"signup-{secrets.token_hex(6)}@example.com"


def test_signup_logs_in_and_the_code_exchanges(target, web):
    email = new_email()
    with browser(target) as http:
        r = authorize(http, web, screen_hint="signup", state="su-1", nonce="n-su")
        page, form = signup_page(http, r)
        assert "at least 3 of the following 4 types" in page.text  # the policy, in words
        assert 'href="/u/login?state=' in page.text  # "Log in" back
        r = http.post("/u/signup", data={**form, "email": email, "password": PASSWORD})
        cb = callback_params(r, web)
        assert cb["state"] == "su-1" and cb["iss"] == target.issuer
        tokens = exchange(http, web, cb["code"])
        assert tokens.status_code == 200, tokens.text
        claims = pyjwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
        assert claims["email"] == email and claims["nonce"] == "n-su"
        assert claims["sub"].startswith("auth0|") and claims["sid"]
        info = http.get("/userinfo",
                        headers={"authorization": "Bearer " + tokens.json()["access_token"]})
        assert info.status_code == 200 and info.json()["sub"] == claims["sub"]
        # the SSO session is the new user's: prompt=none succeeds
        cb = callback_params(authorize(http, web, prompt="none"), web)
        assert "code" in cb
        # the transaction was used: posting the form again is refused, no second account
        again = http.post("/u/signup", data={**form, "email": new_email(), "password": PASSWORD})
        assert again.status_code == 400 and "location" not in again.headers
    # and the password works on the login form too (a real account)
    r = target.client().post("/oauth/token", data={
        "grant_type": "password", "client_id": web["client_id"],
        "client_secret": web["client_secret"], "username": email, "password": PASSWORD,
        "scope": "openid"})
    assert r.status_code == 200, r.text


def test_login_page_links_to_signup_and_back(target, web):
    with browser(target) as http:
        r = authorize(http, web)
        page = http.get(r.headers["location"])
        m = re.search(r'href="(/u/signup\?state=[^"]+)"', page.text)
        assert m, page.text
        signup = http.get(html.unescape(m.group(1)))
        assert signup.status_code == 200 and 'action="/u/signup"' in signup.text
        m = re.search(r'href="(/u/login\?state=[^"]+)"', signup.text)
        assert m and http.get(html.unescape(m.group(1))).status_code == 200


def test_duplicate_and_weak_password_rerender_escaped(target, web):
    email = new_email()
    with browser(target) as http:
        _, form = signup_page(http, authorize(http, web, screen_hint="signup"))
        r = http.post("/u/signup", data={**form, "email": email, "password": PASSWORD})
        assert r.status_code == 302
    with browser(target) as http:
        _, form = signup_page(http, authorize(http, web, screen_hint="signup"))
        r = http.post("/u/signup", data={**form, "email": email, "password": PASSWORD})
        assert r.status_code == 400 and "location" not in r.headers
        assert 'role="alert"' in r.text and "Invalid sign up" in r.text
        assert f'value="{email}"' in r.text  # the email is kept
        # weak password: the policy text; the form is still usable with the same transaction
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": "short"})
        assert r.status_code == 400
        assert "Your password is too weak." in r.text and "at least 8 characters" in r.text
        # invalid email, with markup in it: shown escaped, never as markup
        bad = '"><script>alert(1)</script>@x'
        r = http.post("/u/signup", data={**form, "email": bad, "password": PASSWORD})
        assert r.status_code == 400 and "<script>alert(1)" not in r.text
        assert "&quot;&gt;&lt;script&gt;" in r.text
        assert "invalid email address" in r.text
        # then a good signup still works on the same transaction
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": PASSWORD})
        assert "code" in callback_params(r, web)


def test_signup_needs_its_csrf_cookie(target, web):
    with browser(target) as http:
        _, form = signup_page(http, authorize(http, web, screen_hint="signup"))
    with browser(target) as other:  # a cross-site post: no cookie
        r = other.post("/u/signup", data={**form, "email": new_email(), "password": PASSWORD})
        assert r.status_code == 403 and "location" not in r.headers
    with browser(target) as http:
        _, form = signup_page(http, authorize(http, web, screen_hint="signup"))
        r = http.post("/u/signup", data={**form, "csrf_token": "x" * 43, "email": new_email(),
                                         "password": PASSWORD})
        assert r.status_code == 403
        r = http.post("/u/signup", data={"state": form["state"], "email": new_email(),
                                         "password": PASSWORD})
        assert r.status_code == 403


def test_signup_with_username_connection(target, web, e2e):
    conn = e2e["connections"]["usernames"]
    name = "u" + secrets.token_hex(4)
    with browser(target) as http:
        page, form = signup_page(http, authorize(http, web, screen_hint="signup", connection=conn))
        assert '<label for="username">' in page.text
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": "abcdef"})
        assert r.status_code == 400
        assert "missing username" in r.text
        r = http.post("/u/signup", data={**form, "email": new_email(), "username": name,
                                         "password": "abcdef"})
        assert "code" in callback_params(r, web)


def test_signup_disabled(target, web, e2e):
    conn = e2e["connections"]["no_signup"]
    with browser(target) as http:
        r = authorize(http, web, connection=conn)
        login = http.get(r.headers["location"])
        assert login.status_code == 200 and "/u/signup" not in login.text
        page, form = signup_page(http, authorize(http, web, screen_hint="signup", connection=conn))
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": "x"})
        assert r.status_code == 400 and "public signup is disabled" in r.text


@pytest.mark.parametrize("state", ["", "nope", "x" * 5000, "../u/login"])
def test_signup_page_with_a_bad_transaction(target, state):
    with browser(target) as http:
        r = http.get("/u/signup?" + urlencode({"state": state}))
        assert r.status_code in (400, 413, 414) and "location" not in r.headers
        r = http.post("/u/signup", data={"state": state, "csrf_token": "x", "email": "a@b.co",
                                         "password": "p"})
        assert r.status_code in (400, 413) and "location" not in r.headers
