"""Implicit and hybrid response types from GET /authorize (issue #4): authlib builds the
requests and validates every ID token (signature against the JWKS, iss, aud, nonce, at_hash,
c_hash); the login page is driven with httpx as in test_authorize_code.py. Then the refusals:
no nonce, query mode with tokens, a client without the implicit grant, PKCE plain, malformed
response types."""
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import jwt as pyjwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, jwt as authlib_jwt
from authlib.oidc.core import HybridIDToken, ImplicitIDToken

from authflow import PASSWORD, browser, login


@pytest.fixture(scope="module")
def e2e_cfg(target):
    cfg = target.need_e2e()
    if "E2E Implicit" not in cfg["clients"]:
        pytest.skip("tenant without the implicit clients")
    return cfg


@pytest.fixture(scope="module")
def app(e2e_cfg):
    return {**e2e_cfg["clients"]["E2E Implicit"], "callback": e2e_cfg["callbacks"]["implicit"]}


@pytest.fixture(scope="module")
def spa(e2e_cfg):
    return {**e2e_cfg["clients"]["E2E Implicit SPA"], "callback": e2e_cfg["callbacks"]["implicit"]}


@pytest.fixture(scope="module")
def web(e2e_cfg):
    return {**e2e_cfg["clients"]["E2E Web"], "callback": e2e_cfg["callbacks"]["web"]}


@pytest.fixture(scope="module")
def user(target, app, e2e_cfg):
    email = f"implicit-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": app["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e_cfg["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


@pytest.fixture(scope="module")
def key_set(jwks):
    return JsonWebKey.import_key_set(jwks)


def fragment(r, client):
    """The parameters of a redirect to the client's callback, which must be in the fragment."""
    assert r.status_code == 302, r.text
    loc = r.headers["location"]
    assert loc.startswith(client["callback"] + "#"), loc
    assert urlparse(loc).query == "", loc  # nothing in the query string, ever
    return {k: v[0] for k, v in parse_qs(urlparse(loc).fragment).items()}


def authorize(http, client, **params):
    q = {"client_id": client["client_id"], "redirect_uri": client["callback"],
         "scope": "openid profile email"}
    q.update({k: v for k, v in params.items() if v is not None})
    return http.get("/authorize?" + urlencode(q))


def validate(target, key_set, client, id_token, cls, nonce, **params):
    """authlib's own OIDC Core validation of an ID token from the authorization endpoint."""
    claims = authlib_jwt.decode(
        id_token, key_set, claims_cls=cls,
        claims_options={"iss": {"essential": True, "values": [target.issuer]},
                        "aud": {"essential": True, "values": [client["client_id"]]},
                        "sub": {"essential": True}, "auth_time": {"essential": True},
                        "sid": {"essential": True}},
        claims_params={"nonce": nonce, "client_id": client["client_id"], **params})
    claims.validate(leeway=60)
    return claims


def authlib_flow(target, http, client, user, response_type, nonce):
    """authlib makes the authorization URL; the browser logs in (or rides the SSO session)."""
    with OAuth2Client(client["client_id"], client.get("client_secret") or None,
                      scope="openid profile email", redirect_uri=client["callback"],
                      response_type=response_type) as oauth:
        url, state = oauth.create_authorization_url(target.issuer + "authorize", nonce=nonce)
    r = http.get(url[len(target.base_url):])
    if r.status_code == 302 and urlparse(r.headers["location"]).path == "/u/login":
        r = login(http, target, r, user)
    params = fragment(r, client)
    assert params["state"] == state and params["iss"] == target.issuer
    return params


def test_implicit_id_token_token(target, app, user, key_set, e2e_cfg):
    with browser(target) as http:
        nonce = secrets.token_urlsafe(16)
        p = authlib_flow(target, http, app, user, "id_token token", nonce)
    # the API's token_lifetime_for_web: min(7200, token_lifetime = 3600 in the e2e tenant)
    assert p["token_type"] == "Bearer" and p["expires_in"] == "3600"
    assert "code" not in p and "refresh_token" not in p
    claims = validate(target, key_set, app, p["id_token"], ImplicitIDToken, nonce,
                      access_token=p["access_token"])
    assert claims["nonce"] == nonce and claims["at_hash"] and "c_hash" not in claims
    assert claims["email"] == user
    # the access token is the tenant default API's, signed with the tenant key
    at = authlib_jwt.decode(p["access_token"], key_set)
    at.validate(leeway=60)
    assert e2e_cfg["apis"]["rs"] in at["aud"] and at["sub"] == claims["sub"]
    assert at["exp"] - at["iat"] == 3600


def test_id_token_alone_carries_the_profile(target, app, user, key_set):
    with browser(target) as http:
        nonce = secrets.token_urlsafe(16)
        p = authlib_flow(target, http, app, user, "id_token", nonce)
    assert set(p) == {"id_token", "state", "iss"}
    claims = validate(target, key_set, app, p["id_token"], ImplicitIDToken, nonce)
    assert claims["email"] == user and "at_hash" not in claims


@pytest.mark.parametrize("response_type", ["code id_token", "code id_token token",
                                           "id_token code"])
def test_hybrid_flows(target, app, user, key_set, response_type):
    with browser(target) as http:
        nonce = secrets.token_urlsafe(16)
        p = authlib_flow(target, http, app, user, response_type, nonce)
        extra = {"code": p["code"]}
        if "token" in response_type.split():
            extra["access_token"] = p["access_token"]
            assert p["token_type"] == "Bearer"
        else:
            assert "access_token" not in p
        front = validate(target, key_set, app, p["id_token"], HybridIDToken, nonce, **extra)
        assert front["c_hash"]
        assert ("at_hash" in front) == ("access_token" in extra)
        # the code from the front channel still works, once, at the token endpoint
        r = http.post("/oauth/token", data={
            "grant_type": "authorization_code", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "code": p["code"],
            "redirect_uri": app["callback"]})
        assert r.status_code == 200, r.text
        back = pyjwt.decode(r.json()["id_token"], options={"verify_signature": False})
        assert back["sub"] == front["sub"] and back["nonce"] == nonce  # OIDC Core §3.3.3.6
        assert back["sid"] == front["sid"]


def test_code_token_needs_no_nonce(target, app, user):
    with browser(target) as http:
        r = login(http, target, authorize(http, app, response_type="code token", state="ct"),
                  user)
        p = fragment(r, app)
    assert p["code"] and p["access_token"] and "id_token" not in p and p["state"] == "ct"


def test_public_client_implicit_without_pkce_but_hybrid_needs_it(target, spa, user, key_set):
    with browser(target) as http:
        r = authorize(http, spa, response_type="token id_token", nonce="n-spa", state="s")
        p = fragment(login(http, target, r, user), spa)
        validate(target, key_set, spa, p["id_token"], ImplicitIDToken, "n-spa",
                 access_token=p["access_token"])
        p = fragment(authorize(http, spa, response_type="code id_token", nonce="n", state="h"),
                     spa)
        assert p["error"] == "invalid_request" and p["state"] == "h"
        assert "code_challenge" in p["error_description"]


def test_form_post_carries_the_tokens(target, app, user):
    with browser(target) as http:
        r = login(http, target, authorize(http, app, response_type="id_token token",
                                          nonce="fp", response_mode="form_post"), user)
    assert r.status_code == 200 and "location" not in r.headers
    assert 'name="access_token"' in r.text and 'name="id_token"' in r.text
    assert f'action="{app["callback"]}"' in r.text


def test_refused_without_nonce(target, app):
    with browser(target) as http:
        for rt in ("id_token token", "id_token", "code id_token"):
            p = fragment(authorize(http, app, response_type=rt, state="nn"), app)
            assert p == {"error": "invalid_request",
                         "error_description": "Missing required parameter: nonce",
                         "state": "nn", "iss": target.issuer}


@pytest.mark.parametrize("rt", ["token", "id_token token", "code id_token"])
def test_query_mode_refused_for_tokens(target, app, user, rt):
    with browser(target) as http:
        r = authorize(http, app, response_type=rt, nonce="q", response_mode="query", state="q")
        p = fragment(r, app)  # the refusal itself stays out of the query
        assert p["error"] == "invalid_request" and "query" in p["error_description"]
        assert "access_token" not in r.headers["location"]


def test_client_without_implicit_grant(target, web):
    with browser(target) as http:
        r = authorize(http, web, response_type="id_token token", nonce="x", state="g")
        p = fragment(r, web)
        assert p["error"] == "unauthorized_client"
        assert p["error_description"] == "Grant type 'implicit' not allowed for the client."


def test_pkce_plain_refused_for_hybrid(target, app):
    with browser(target) as http:
        r = authorize(http, app, response_type="code id_token", nonce="x", state="p",
                      code_challenge="a" * 43, code_challenge_method="plain")
        p = fragment(r, app)
        assert p["error"] == "invalid_request" and p["state"] == "p"


@pytest.mark.parametrize("rt", ["token token", "code  token", "token ", " token", "none",
                                "id_token+token", "ID_TOKEN", "code\ttoken", "x" * 300])
def test_malformed_response_types(target, app, rt):
    with browser(target) as http:
        r = authorize(http, app, response_type=rt, nonce="x", state="m")
        assert r.status_code == 302
        p = {k: v[0] for k, v in parse_qs(urlparse(r.headers["location"]).query).items()}
        assert p["error"] == "unsupported_response_type" and p["state"] == "m"


def test_no_id_token_without_openid(target, app):
    with browser(target) as http:
        p = fragment(authorize(http, app, response_type="id_token", nonce="x", scope="email"),
                     app)
        assert p["error"] == "invalid_scope"


def test_discovery_lists_the_response_types(target):
    with target.client() as http:
        doc = http.get("/.well-known/openid-configuration").json()
    assert doc["response_types_supported"] == [
        "code", "token", "id_token", "id_token token", "code id_token", "code token",
        "code id_token token"]
    assert "implicit" in doc["grant_types_supported"]
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is True
