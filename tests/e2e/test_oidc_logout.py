"""GET|POST /oidc/logout, OpenID Connect RP-Initiated Logout 1.0 as Auth0 implements it (issue
#4; security.md 46-56, 59): a verified id_token_hint selects the application, whose Allowed
Logout URLs must hold post_logout_redirect_uri exactly; state comes back; the SSO session ends.
Hints that are not ours (alg none, another key, a changed payload), mismatched client_id or
logout_hint, and look-alike redirect URIs get an error page, no redirect, and the session stays.
Without a hint nobody is logged out cross-site: a confirmation page asks first. Over HTTP/2 with
httpx, its cookie jar acting as the browser."""
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt as pyjwt
import pytest

from conftest import b64url, hand_made_jws, jwt_parts
from authflow import PASSWORD, authorize, browser, callback_params, consented, exchange, login

LOGOUT_URL = "https://app.e2e.test/"


@pytest.fixture(scope="module")
def user(target, web, e2e):
    email = f"oidc-logout-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": web["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


def logged_in(http, target, web, user):
    """Logs the browser in; returns the ID token."""
    cb = callback_params(login(http, target, authorize(http, web, nonce="n"), user), web)
    tokens = exchange(http, web, cb["code"])
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"]


def session_alive(http, web):
    cb = callback_params(authorize(http, web, prompt="none"), web)
    return "code" in cb


def oidc_logout(http, **params):
    return http.get("/oidc/logout?" + urlencode({k: v for k, v in params.items() if v is not None}))


def assert_refused(r, *texts):
    assert r.status_code == 400, (r.status_code, r.headers.get("location"), r.text)
    assert "location" not in r.headers
    assert "set-cookie" not in r.headers  # the session cookies stay
    for t in texts:
        assert t in r.text, r.text


def test_discovery_lists_end_session_endpoint(target):
    with target.client() as http:
        doc = http.get("/.well-known/openid-configuration").json()
    assert doc["end_session_endpoint"] == target.issuer + "oidc/logout"


def test_logout_with_hint_redirects_with_state_and_ends_the_session(target, web, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        sid = pyjwt.decode(id_token, options={"verify_signature": False})["sid"]
        r = oidc_logout(http, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URL,
                        state="st 1&x", logout_hint=sid, ui_locales="fr-CA")
        assert r.status_code == 302, r.text
        loc = urlparse(r.headers["location"])
        assert loc._replace(query="").geturl() == LOGOUT_URL
        assert parse_qs(loc.query) == {"state": ["st 1&x"]}
        assert any(c.startswith("tg_session=;") for c in r.headers.get_list("set-cookie"))
        cb = callback_params(authorize(http, web, prompt="none"), web)
        assert cb["error"] == "login_required"


def test_logout_without_state_or_redirect(target, web, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        r = oidc_logout(http, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URL)
        assert r.status_code == 302 and r.headers["location"] == LOGOUT_URL
        assert not session_alive(http, web)
    with browser(target) as http:  # only a hint (or only state): a logged-out page
        id_token = logged_in(http, target, web, user)
        r = oidc_logout(http, id_token_hint=id_token, state="s")
        assert r.status_code == 200 and "Logged out" in r.text and "location" not in r.headers
        assert not session_alive(http, web)


def test_post_form_works(target, web, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        r = http.post("/oidc/logout", data={"id_token_hint": id_token,
                                            "post_logout_redirect_uri": LOGOUT_URL, "state": "p"})
        assert r.status_code == 302 and r.headers["location"] == LOGOUT_URL + "?state=p"
        assert not session_alive(http, web)


@pytest.mark.parametrize("uri", [
    "https://app.e2e.test.evil.example/",
    "https://app.e2e.test@evil.example/",
    "https://evil.example/?https://app.e2e.test/",
    "https://app.e2e.test/?foo=bar",
    "https://app.e2e.test/#x",
    "https://APP.E2E.TEST/",
    "https://app.e2e.test/%2e%2e/evil",
    "https://app.e2e.test",
    "javascript:alert(1)//https://app.e2e.test/",
    "http://app.e2e.test/",
])
def test_hostile_post_logout_redirect_uri(target, web, user, uri):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        r = oidc_logout(http, id_token_hint=id_token, post_logout_redirect_uri=uri, state="s")
        assert_refused(r, "post_logout_redirect_uri", "Allowed Logout URLs")
        assert session_alive(http, web)


def test_client_id_must_match_the_hint(target, web, spa, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        # the SPA lists its own URL: it still may not be used with the web app's token
        r = oidc_logout(http, id_token_hint=id_token, client_id=spa["client_id"],
                        post_logout_redirect_uri=spa["callback"])
        assert_refused(r, "client_id")
        r = oidc_logout(http, id_token_hint=id_token, logout_hint="not-the-sid")
        assert_refused(r, "logout_hint")
        r = oidc_logout(http, id_token_hint=id_token, client_id=web["client_id"],
                        post_logout_redirect_uri=LOGOUT_URL)
        assert r.status_code == 302


def forged_hints(target, id_token):
    header, payload, _ = jwt_parts(id_token)
    other = Path(target.e2e["other_key"]).read_text()
    changed = dict(payload, sub="auth0|someone-else")
    h, _, s = id_token.split(".")
    return {
        "alg none": hand_made_jws({"alg": "none", "typ": "JWT"}, payload),
        "another key": pyjwt.encode(payload, other, algorithm="RS256",
                                    headers={"kid": header["kid"]}),
        "payload changed": h + "." + b64url(json.dumps(changed).encode()) + "." + s,
        "signature cut": h + "." + id_token.split(".")[1] + ".",
        "HS256 with a public value": hand_made_jws(
            {"alg": "HS256", "typ": "JWT"}, payload,
            lambda d: __import__("hmac").new(header["kid"].encode(), d, "sha256").digest()),
        "other issuer": pyjwt.encode(dict(payload, iss="https://evil.example/"), other,
                                     algorithm="RS256", headers={"kid": header["kid"]}),
        "garbage": "a.b.c",
        "not a jwt": "x" * 100,
    }


def test_forged_hints_are_refused(target, web, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        for name, hint in forged_hints(target, id_token).items():
            r = oidc_logout(http, id_token_hint=hint, post_logout_redirect_uri=LOGOUT_URL)
            assert r.status_code == 400 and "location" not in r.headers, name
            assert "id_token_hint" in r.text, name
        assert session_alive(http, web)


def test_redirect_needs_an_application(target, web, user):
    with browser(target) as http:
        logged_in(http, target, web, user)
        r = oidc_logout(http, post_logout_redirect_uri=LOGOUT_URL, state="s")
        assert_refused(r, "client_id")
        r = oidc_logout(http, client_id="no-such-client", post_logout_redirect_uri=LOGOUT_URL)
        assert_refused(r, "Unknown client")
        assert session_alive(http, web)


def test_without_hint_a_confirmation_is_asked(target, web, user):
    """A cross-site link cannot log the user out: the page asks, and only its own form (which
    carries the session's sid as logout_hint) ends the session."""
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        sid = pyjwt.decode(id_token, options={"verify_signature": False})["sid"]
        r = oidc_logout(http, client_id=web["client_id"], post_logout_redirect_uri=LOGOUT_URL,
                        state="c")
        assert r.status_code == 200 and "location" not in r.headers
        assert 'action="/oidc/logout"' in r.text and "<script" not in r.text.lower()
        assert f'name="logout_hint" value="{sid}"' in r.text
        assert r.headers["x-frame-options"] == "DENY"
        assert session_alive(http, web)
        # a guessed logout_hint does not count
        r = oidc_logout(http, client_id=web["client_id"], logout_hint="x" * 22)
        assert r.status_code == 200 and "Log out" in r.text
        assert session_alive(http, web)
        # the confirmation's own request
        r = oidc_logout(http, client_id=web["client_id"], post_logout_redirect_uri=LOGOUT_URL,
                        state="c", logout_hint=sid)
        assert r.status_code == 302 and r.headers["location"] == LOGOUT_URL + "?state=c"
        assert not session_alive(http, web)


def test_no_params_without_session_is_a_logged_out_page(target):
    with browser(target) as http:
        r = http.get("/oidc/logout")
        assert r.status_code == 200 and "Logged out" in r.text and "location" not in r.headers


def test_overlong_and_repeated_parameters(target, web, user):
    with browser(target) as http:
        id_token = logged_in(http, target, web, user)
        r = oidc_logout(http, id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URL,
                        state="s" * 5000)
        assert r.status_code in (400, 413, 414) and "location" not in r.headers
        r = http.get("/oidc/logout?" + urlencode([("id_token_hint", id_token),
                                                  ("post_logout_redirect_uri", LOGOUT_URL),
                                                  ("post_logout_redirect_uri",
                                                   "https://evil.example/")]))
        assert r.status_code == 400 and "location" not in r.headers
        r = oidc_logout(http, id_token_hint="x" * 20000)
        assert r.status_code in (400, 413, 414) and "location" not in r.headers
        assert session_alive(http, web)


def test_hint_of_a_registered_client(target, web, user, e2e):
    """An ID token of a client registered at /oidc/register is a valid hint too (its aud is
    found in the registry, not the tenant file); it lists no logout URLs, so no redirect."""
    import base64
    import hashlib
    callback = "https://registered-logout.e2e.test/callback"
    with target.client() as http:
        r = http.post("/oidc/register", json={"client_name": "E2E Logout RP",
                                              "redirect_uris": [callback],
                                              "token_endpoint_auth_method": "none"})
    assert r.status_code == 201, r.text
    client = {"client_id": r.json()["client_id"], "callback": callback}
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with browser(target) as http:
        logged_in(http, target, web, user)
        cb = callback_params(consented(http, authorize(http, client, nonce="rn",
                                                       code_challenge=challenge,
                                                       code_challenge_method="S256")), client)
        tokens = exchange(http, client, cb["code"], verifier, secret=False)
        assert tokens.status_code == 200, tokens.text
        hint = tokens.json()["id_token"]
        r = oidc_logout(http, id_token_hint=hint, post_logout_redirect_uri=callback)
        assert_refused(r, "post_logout_redirect_uri")
        r = oidc_logout(http, id_token_hint=hint, state="s")
        assert r.status_code == 200 and "Logged out" in r.text and "location" not in r.headers
        assert not session_alive(http, web)


def test_hint_of_another_user_asks(target, web, user):
    """A valid ID token of another user (OIDC RP-Initiated Logout §2) does not end this
    browser's session on its own: the page asks."""
    from authflow import signup
    other = signup(target, web, target.e2e["connections"]["default"], password=PASSWORD)
    with browser(target) as http:
        other_hint = logged_in(http, target, web, other)
    with browser(target) as http:
        own = logged_in(http, target, web, user)
        r = oidc_logout(http, id_token_hint=other_hint, post_logout_redirect_uri=LOGOUT_URL,
                        state="o")
        assert r.status_code == 200 and "location" not in r.headers, r.text[:300]
        assert 'action="/oidc/logout"' in r.text
        assert session_alive(http, web)
        # the user's own hint ends it at once
        r = oidc_logout(http, id_token_hint=own, post_logout_redirect_uri=LOGOUT_URL, state="s")
        assert r.status_code == 302 and r.headers["location"] == LOGOUT_URL + "?state=s"
        assert not session_alive(http, web)
