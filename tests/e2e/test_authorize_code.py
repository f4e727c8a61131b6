"""Browser sign-in without a browser (issue #4, first step): GET /authorize → the login page →
POST /u/login → back to the callback with a code → /oauth/token, driven with httpx over HTTP/2
and with authlib's code + PKCE client; SSO on a second /authorize, prompt=none, code reuse,
logout, and the redirect checks that must never send a browser to an unregistered URL."""
import base64
import hashlib
import re
import secrets
from urllib.parse import urlencode, urlparse

import jwt as pyjwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, jwt as authlib_jwt
from authlib.oidc.core import CodeIDToken

from authflow import PASSWORD, authorize, browser, callback_params, exchange, login, pkce


def test_code_flow_sso_and_reuse(target, web, user):
    with browser(target) as http:
        r = authorize(http, web, state="st-1", nonce="n-1")
        cb = callback_params(login(http, target, r, user), web)
        assert cb["state"] == "st-1"
        assert cb["iss"] == target.issuer
        tokens = exchange(http, web, cb["code"])
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        assert r.http_version == "HTTP/2"
        claims = pyjwt.decode(body["id_token"], options={"verify_signature": False})
        assert claims["nonce"] == "n-1" and claims["aud"] == web["client_id"]
        assert claims["sid"] and isinstance(claims["auth_time"], int)
        digest = hashlib.sha256(body["access_token"].encode()).digest()
        assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        # the code works once
        again = exchange(http, web, cb["code"])
        assert again.status_code == 403
        assert again.json() == {"error": "invalid_grant",
                                "error_description": "Invalid authorization code"}
        # SSO: a second /authorize skips the login page, and prompt=none succeeds silently
        cb2 = callback_params(authorize(http, web, state="st-2"), web)
        assert cb2["state"] == "st-2" and cb2["code"] != cb["code"]
        cb3 = callback_params(authorize(http, web, prompt="none", state="st-3"), web)
        assert "code" in cb3
        # prompt=login shows the login page again
        r = authorize(http, web, prompt="login")
        assert r.status_code == 302 and urlparse(r.headers["location"]).path == "/u/login"


def test_prompt_none_without_session_is_login_required(target, web):
    with browser(target) as http:
        cb = callback_params(authorize(http, web, prompt="none", state="s"), web)
        assert cb["error"] == "login_required"
        assert cb["state"] == "s" and cb["iss"] == target.issuer


def test_public_client_needs_pkce(target, spa, user):
    with browser(target) as http:
        cb = callback_params(authorize(http, spa, state="p"), spa)
        assert cb["error"] == "invalid_request" and cb["state"] == "p"
        verifier, challenge = pkce()
        cb = callback_params(authorize(http, spa, code_challenge=challenge, code_challenge_method="plain"), spa)
        assert cb["error"] == "invalid_request"
        r = authorize(http, spa, code_challenge=challenge, code_challenge_method="S256", nonce="x")
        cb = callback_params(login(http, target, r, user), spa)
        bad = exchange(http, spa, cb["code"], verifier="x" * 43, secret=False)
        assert bad.status_code == 403
        assert bad.json()["error_description"] == "Failed to verify code verifier"
        r = authorize(http, spa, code_challenge=challenge, code_challenge_method="S256", nonce="y")
        cb = callback_params(r, spa)  # SSO: straight back
        good = exchange(http, spa, cb["code"], verifier=verifier, secret=False)
        assert good.status_code == 200, good.text


@pytest.mark.parametrize("redirect_uri", [
    "https://app.e2e.test.evil.example/callback",
    "https://app.e2e.test@evil.example/callback",
    "https://evil.example/?https://app.e2e.test/callback",
    "https://app.e2e.test/callback/../../evil",
    "https://app.e2e.test/callback%2F..%2Fevil",
    "https://APP.E2E.TEST/callback",
    "javascript:alert(1)//https://app.e2e.test/callback",
    "https://app.e2e.test/callback#frag",
    "https://app.e2e.test/callback?x=1",
])
def test_unregistered_redirect_uri_never_redirects(target, web, redirect_uri):
    with browser(target) as http:
        r = authorize(http, {**web, "callback": redirect_uri}, state="s")
        assert r.status_code == 400, (r.status_code, r.headers.get("location"))
        assert "location" not in r.headers
        assert "Callback URL mismatch" in r.text


def test_unknown_client_gets_a_page_not_a_redirect(target, web):
    with browser(target) as http:
        r = authorize(http, {**web, "client_id": "no-such-client"})
        assert r.status_code == 400 and "location" not in r.headers


def test_login_form_needs_its_csrf_cookie(target, web, user):
    with browser(target) as http:
        r = authorize(http, web)
        page = http.get(r.headers["location"])
        form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
        form.update({"username": user, "password": PASSWORD})
    with browser(target) as other:  # a cross-site post: no cookie
        r = other.post("/u/login", data=form)
        assert r.status_code == 403


def test_logout_ends_the_session(target, web, user):
    with browser(target) as http:
        callback_params(login(http, target, authorize(http, web), user), web)
        r = http.get("/v2/logout?" + urlencode({"client_id": web["client_id"],
                                                "returnTo": "https://app.e2e.test/"}))
        assert r.status_code == 302 and r.headers["location"] == "https://app.e2e.test/"
        cb = callback_params(authorize(http, web, prompt="none"), web)
        assert cb["error"] == "login_required"
        r = http.get("/v2/logout?" + urlencode({"client_id": web["client_id"],
                                                "returnTo": "https://evil.example/"}))
        assert r.status_code == 400 and "location" not in r.headers
        assert "is not defined as a valid URL in \"Allowed Logout URLs\"" in r.text


def test_authlib_code_flow_with_pkce(target, web, user, jwks):
    verify = target.ca_cert
    with OAuth2Client(web["client_id"], web["client_secret"], scope="openid email",
                      redirect_uri=web["callback"], code_challenge_method="S256",
                      token_endpoint_auth_method="client_secret_post", verify=verify,
                      http2=True) as oauth:
        verifier = secrets.token_urlsafe(48)
        url, state = oauth.create_authorization_url(target.issuer + "authorize",
                                                    code_verifier=verifier, nonce="an")
        with browser(target) as http:
            r = http.get(url[len(target.base_url):])
            r = login(http, target, r, user)
            assert r.status_code == 302
            token = oauth.fetch_token(target.issuer + "oauth/token",
                                      authorization_response=r.headers["location"],
                                      code_verifier=verifier)
    assert token["id_token"] and token["token_type"].lower() == "bearer"
    # authlib's own OIDC Core §3.1.3.7 validation, against the keys the server publishes
    claims = authlib_jwt.decode(
        token["id_token"], JsonWebKey.import_key_set(jwks), claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "values": [target.issuer]},
                        "aud": {"essential": True, "values": [web["client_id"]]},
                        "sub": {"essential": True}, "auth_time": {"essential": True}},
        claims_params={"nonce": "an", "client_id": web["client_id"],
                       "access_token": token["access_token"]})
    claims.validate(leeway=60)
    assert claims["nonce"] == "an"
