"""Consent for third-party applications (issue #4; Auth0: is_first_party false): after the login,
before the code, a page lists the requested scopes and the API with Accept and Decline. Accept
remembers the grant per (user, application, audience), so the next /authorize goes straight
back; prompt=consent always asks; prompt=none without the grant is consent_required; Decline is
access_denied. First-party applications never ask. Over HTTP/2 with httpx, its cookie jar
acting as the browser."""
import html
import re
import secrets
from urllib.parse import urlparse

import pytest

from authflow import PASSWORD, authorize, browser, callback_params, exchange, login

FORM_INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


@pytest.fixture(scope="module")
def third(e2e):
    return {**e2e["clients"]["E2E Third Party"], "callback": e2e["callbacks"]["third"]}


def new_user(target, web, e2e):
    email = f"consent-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": web["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


def consent_page(r):
    """The consent page r is; returns its hidden fields."""
    assert r.status_code == 200, (r.status_code, r.headers.get("location"), r.text[:300])
    assert "location" not in r.headers
    assert 'action="/u/consent"' in r.text and "<script" not in r.text.lower()
    assert r.headers["x-frame-options"] == "DENY"
    return {k: html.unescape(v) for k, v in FORM_INPUT.findall(r.text)
            if k in ("state", "csrf_token")}


def test_consent_accept_then_skipped(target, third, web, e2e):
    email = new_user(target, web, e2e)
    with browser(target) as http:
        r = login(http, target, authorize(http, third, state="c-1", scope="openid email",
                                          audience=e2e["apis"]["rs"]), email)
        form = consent_page(r)
        assert "E2E Third Party" in r.text and "E2E API" in r.text
        assert "<li>openid</li>" in r.text and "<li>email</li>" in r.text
        r = http.post("/u/consent", data={**form, "action": "accept"})
        cb = callback_params(r, third)
        assert cb["state"] == "c-1" and cb["iss"] == target.issuer
        tokens = exchange(http, third, cb["code"])
        assert tokens.status_code == 200, tokens.text
        # granted: straight back, also silently
        cb = callback_params(authorize(http, third, scope="openid email",
                                       audience=e2e["apis"]["rs"]), third)
        assert "code" in cb
        cb = callback_params(authorize(http, third, prompt="none", scope="openid",
                                       audience=e2e["apis"]["rs"]), third)
        assert "code" in cb
        # a scope not granted yet: asked again; prompt=none says consent_required
        cb = callback_params(authorize(http, third, prompt="none", state="n",
                                       scope="openid email profile",
                                       audience=e2e["apis"]["rs"]), third)
        assert cb["error"] == "consent_required" and cb["state"] == "n"
        consent_page(authorize(http, third, scope="openid email profile",
                               audience=e2e["apis"]["rs"]))
        # prompt=consent always asks
        consent_page(authorize(http, third, prompt="consent", scope="openid",
                               audience=e2e["apis"]["rs"]))
        # the transaction answers once
        again = http.post("/u/consent", data={**form, "action": "accept"})
        assert again.status_code == 400 and "location" not in again.headers


def test_consent_decline_is_access_denied(target, third, web, e2e):
    email = new_user(target, web, e2e)
    with browser(target) as http:
        form = consent_page(login(http, target, authorize(http, third, state="d"), email))
        r = http.post("/u/consent", data={**form, "action": "deny"})
        cb = callback_params(r, third)
        assert cb["error"] == "access_denied" and cb["state"] == "d"
        assert "code" not in cb
        # nothing was granted
        cb = callback_params(authorize(http, third, prompt="none"), third)
        assert cb["error"] == "consent_required"


def test_consent_needs_its_csrf_cookie(target, third, web, e2e):
    email = new_user(target, web, e2e)
    with browser(target) as http:
        form = consent_page(login(http, target, authorize(http, third), email))
        with browser(target) as other:  # a cross-site post: no cookie
            r = other.post("/u/consent", data={**form, "action": "accept"})
            assert r.status_code == 403 and "location" not in r.headers
        r = http.post("/u/consent", data={**form, "csrf_token": "x" * 43, "action": "accept"})
        assert r.status_code == 403
        r = http.post("/u/consent", data={**form, "action": "maybe"})
        assert r.status_code == 400 and "location" not in r.headers
        # still answerable properly
        r = http.post("/u/consent", data={**form, "action": "accept"})
        assert "code" in callback_params(r, third)


def test_a_login_transaction_is_no_consent(target, third):
    with browser(target) as http:
        r = authorize(http, third)
        page = http.get(r.headers["location"])
        form = {k: html.unescape(v) for k, v in FORM_INPUT.findall(page.text)}
        r = http.post("/u/consent", data={"state": form["state"], "csrf_token": form["csrf_token"],
                                          "action": "accept"})
        assert r.status_code in (400, 403) and "location" not in r.headers


def test_first_party_never_asks(target, web, e2e):
    email = new_user(target, web, e2e)
    with browser(target) as http:
        r = login(http, target, authorize(http, web, prompt="consent",
                                          audience=e2e["apis"]["rs"]), email)
        assert "code" in callback_params(r, web)
        assert urlparse(r.headers["location"]).netloc == urlparse(web["callback"]).netloc
