"""The OpenID Connect Basic OP checks of security.md and the conformance suite's basic
modules (reference/oidcc-modules.md), over HTTP/2 with a cookie-keeping client as the browser:
ID token signature against the published JWKS and every required claim, nonce echo, max_age
and prompt=login re-authentication with a correct auth_time, prompt=none, code reuse, a code
redeemed with another redirect_uri or by another client, a missing openid scope, repeated and
overlong parameters, and open-redirect attempts at /authorize and /v2/logout."""
import time
from urllib.parse import urlencode, urlparse

import jwt as pyjwt
import pytest

from authflow import authorize, browser, callback_params, exchange, login, pkce


def verified_id_token(target, jwks, token, client_id, nonce=None):
    """The ID token's claims after checking its signature with the key its kid names in the
    published JWKS, and the claims OIDC Core §2 and §3.1.3.7 require."""
    kid = pyjwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    key = pyjwt.PyJWK(jwk).key
    claims = pyjwt.decode(token, key, algorithms=[jwk.get("alg", "RS256")], audience=client_id,
                          issuer=target.issuer,
                          options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    now = time.time()
    assert claims["iat"] <= now + 5 and claims["exp"] > now
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= now + 5
    if nonce is None:
        assert "nonce" not in claims
    else:
        assert claims["nonce"] == nonce
    return claims


def code_tokens(http, client, cb):
    r = exchange(http, client, cb["code"])
    assert r.status_code == 200, r.text
    return r.json()


def test_id_token_signature_and_claims(target, jwks, web, user):
    with browser(target) as http:
        cb = callback_params(login(http, target, authorize(http, web, nonce="n-sig", state="s"),
                                   user), web)
        body = code_tokens(http, web, cb)
        claims = verified_id_token(target, jwks, body["id_token"], web["client_id"], "n-sig")
        assert claims["sub"].startswith("auth0|") and claims["email"] == user
        # a tampered payload no longer verifies
        h, p, s = body["id_token"].split(".")
        forged = ".".join([h, p[:-2] + ("AA" if p[-2:] != "AA" else "BB"), s])
        with pytest.raises(pyjwt.InvalidTokenError):
            verified_id_token(target, jwks, forged, web["client_id"], "n-sig")
        # without a nonce at /authorize there is none in the ID token
        cb = callback_params(authorize(http, web, state="s2"), web)
        verified_id_token(target, jwks, code_tokens(http, web, cb)["id_token"], web["client_id"])


def test_without_openid_scope_no_id_token(target, web, user):
    with browser(target) as http:
        r = authorize(http, web, scope="profile email", state="s")
        cb = callback_params(login(http, target, r, user), web)
        body = code_tokens(http, web, cb)
        assert "id_token" not in body and body["access_token"]


def test_max_age_and_prompt_login_reauthenticate(target, jwks, web, user):
    with browser(target) as http:
        cb = callback_params(login(http, target, authorize(http, web, nonce="a"), user), web)
        first = verified_id_token(target, jwks, code_tokens(http, web, cb)["id_token"],
                                  web["client_id"], "a")["auth_time"]
        time.sleep(1.1)
        # a generous max_age: SSO, the same auth_time
        cb = callback_params(authorize(http, web, nonce="b", max_age="3600"), web)
        same = verified_id_token(target, jwks, code_tokens(http, web, cb)["id_token"],
                                 web["client_id"], "b")["auth_time"]
        assert same == first
        # max_age=0 (older than any session): the login page again, then a new auth_time
        r = authorize(http, web, nonce="c", max_age="0")
        assert r.status_code == 302 and urlparse(r.headers["location"]).path == "/u/login"
        cb = callback_params(login(http, target, r, user), web)
        second = verified_id_token(target, jwks, code_tokens(http, web, cb)["id_token"],
                                   web["client_id"], "c")["auth_time"]
        assert second > first
        time.sleep(1.1)
        r = authorize(http, web, nonce="d", prompt="login")
        assert r.status_code == 302 and urlparse(r.headers["location"]).path == "/u/login"
        cb = callback_params(login(http, target, r, user), web)
        third = verified_id_token(target, jwks, code_tokens(http, web, cb)["id_token"],
                                  web["client_id"], "d")["auth_time"]
        assert third > second
        # prompt=none with max_age=0: re-authentication is needed but not allowed
        cb = callback_params(authorize(http, web, prompt="none", max_age="0", state="z"), web)
        assert cb["error"] == "login_required" and cb["state"] == "z"


@pytest.mark.parametrize("max_age", ["-1", "abc", "1e3", "99999999999999999999999"])
def test_bad_max_age_is_refused(target, web, max_age):
    with browser(target) as http:
        cb = callback_params(authorize(http, web, max_age=max_age, state="m"), web)
        assert cb["error"] == "invalid_request" and cb["state"] == "m"


def test_code_bound_to_redirect_uri_and_client(target, web, spa, user):
    with browser(target) as http:
        cb = callback_params(login(http, target, authorize(http, web), user), web)
        wrong = exchange(http, web, cb["code"], redirect_uri="http://localhost:3000/callback")
        assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_grant"
        # injected into another client's exchange (the SPA, a public client)
        verifier, _ = pkce()
        other = exchange(http, {**spa, "callback": web["callback"]}, cb["code"],
                         verifier=verifier, secret=False)
        assert other.status_code in (401, 403) and other.json()["error"] in (
            "invalid_grant", "unauthorized_client", "invalid_request")
        assert "access_token" not in other.json()


def test_repeated_parameter_is_refused_without_redirect(target, web):
    with browser(target) as http:
        q = urlencode([("response_type", "code"), ("client_id", web["client_id"]),
                       ("redirect_uri", web["callback"]), ("redirect_uri", "https://evil.example/"),
                       ("scope", "openid")])
        r = http.get("/authorize?" + q)
        assert r.status_code == 400 and "location" not in r.headers


@pytest.mark.parametrize("name", ["state", "nonce", "scope", "login_hint"])
def test_overlong_parameter_is_refused(target, web, name):
    with browser(target) as http:
        r = authorize(http, web, **{name: "x" * 5000})
        assert r.status_code in (302, 400, 414, 431)
        if r.status_code == 302:  # back to the trusted callback with an error, never a code
            loc = r.headers["location"]
            assert loc.startswith(web["callback"]) and "error=" in loc and "code=" not in loc


@pytest.mark.parametrize("return_to", [
    "https://app.e2e.test.evil.example/",
    "https://app.e2e.test@evil.example/",
    "https://evil.example/?https://app.e2e.test/",
    "https://evil.example/#https://app.e2e.test/",
    "javascript:alert(1)//https://app.e2e.test/",
    "//evil.example/",
    "https://app%2ee2e.test/",
    "https:/\\evil.example/",
])
def test_logout_return_to_lookalikes_never_redirect(target, web, return_to):
    with browser(target) as http:
        r = http.get("/v2/logout?" + urlencode({"client_id": web["client_id"],
                                                "returnTo": return_to}))
        assert r.status_code == 400, (r.status_code, r.headers.get("location"))
        assert "location" not in r.headers
