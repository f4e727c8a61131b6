"""The signup page of a connection with Auth0's flexible password policy (issue #3): the e2e
tenant's "e2e-flexible" connection (every part of password_options on) shows its rules in words,
not "must not be empty"; a password that breaks them is refused on the page with the same
words, and one that keeps them signs up. Over HTTP/2 with httpx, its cookie jar acting as the
browser, through /authorize?screen_hint=signup&connection=... as E2E Web (enabled on it)."""
import html
import re
import secrets
from urllib.parse import urlparse

from authflow import authorize, browser, callback_params

FORM_INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
FOUR = ("lower case letters (a-z), upper case letters (A-Z), numbers (i.e. 0-9), special "
        "characters (e.g. !@#$%^&*)")
FLEXIBLE_TEXT = (
    "Your password must contain: at least 10 characters in length; no more than 72 bytes; "
    "at least 3 of the following 4 types: " + FOUR + "; no more than 2 identical characters "
    'in a row (e.g., "aaa" not allowed); no more than 2 sequential alphanumeric characters '
    '(e.g., "abc" not allowed). It must not be a common password or contain your personal '
    "information.")
# keeps every rule of e2e-flexible: 14 characters, four types, no runs, not a common password
GOOD_PASSWORD = "Tq-7Xm#Lp2!Rw9"


def signup_page(http, web, connection):
    r = authorize(http, web, screen_hint="signup", connection=connection)
    assert r.status_code == 302, r.text
    assert urlparse(r.headers["location"]).path == "/u/signup", r.headers["location"]
    page = http.get(r.headers["location"])
    assert page.status_code == 200, page.text
    form = {k: html.unescape(v) for k, v in FORM_INPUT.findall(page.text)
            if k in ("state", "csrf_token")}
    return html.unescape(page.text), form


def new_email():
    return f"flex-page-{secrets.token_hex(6)}@example.com"


def test_flexible_rules_on_the_page_and_in_the_refusal(target, web, e2e):
    with browser(target) as http:
        text, form = signup_page(http, web, e2e["connections"]["flexible"])
        assert FLEXIBLE_TEXT in text
        assert "must not be empty" not in text
        # too short (the other rules kept): refused on the page, in the same words
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": "Tq-7Xm#"})
        assert r.status_code == 400 and "location" not in r.headers
        refused = html.unescape(r.text)
        assert 'role="alert"' in r.text
        assert "Your password is too weak. " + FLEXIBLE_TEXT in refused
        # a password keeping every rule signs up on the same transaction
        r = http.post("/u/signup", data={**form, "email": new_email(),
                                         "password": GOOD_PASSWORD})
        assert "code" in callback_params(r, web)


def test_flexible_truncate_connection_states_its_length_only(target, web, e2e):
    with browser(target) as http:
        text, form = signup_page(http, web, e2e["connections"]["flexible_truncate"])
        assert "Your password must contain: at least 8 characters in length." in text
        assert "72 bytes" not in text and "common password" not in text
        r = http.post("/u/signup", data={**form, "email": new_email(), "password": "short"})
        assert r.status_code == 400
        assert ("Your password is too weak. Your password must contain: at least 8 characters "
                "in length.") in html.unescape(r.text)
