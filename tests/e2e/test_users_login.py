"""The resource-owner password grants and /userinfo end to end, the way the SDKs call them
(contract.md §4.2, §4.3, §6.3, §9): auth0-python 4.13.0 (GetToken.login, Users.userinfo,
Database.signup) and Authlib's OAuth2Client over HTTPS, tokens checked against the published
JWKS. Needs the whole system with svc-users and the e2e tenant (connection
Username-Password-Authentication, client "E2E Web" with the password grants)."""
import secrets
from urllib.parse import urlparse

import httpx
import jwt
import pytest
from auth0.authentication import Database, GetToken, Users
from auth0.exceptions import Auth0Error
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey
from authlib.jose import jwt as authlib_jwt

REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"


@pytest.fixture
def sdk(target, monkeypatch):
    """(domain, CA setting) for the SDKs: auth0-python speaks requests, which reads the CA
    bundle from REQUESTS_CA_BUNDLE."""
    if isinstance(target.ca_cert, str):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", target.ca_cert)
    return urlparse(target.base_url).netloc


@pytest.fixture
def web(e2e):
    c = e2e["clients"]["E2E Web"]
    return c["client_id"], c["client_secret"]


@pytest.fixture
def user(e2e, sdk, web):
    """A fresh user signed up through the SDK on the default database connection."""
    email = f"e2e-{secrets.token_hex(6)}@example.com"
    password = "Tg-" + secrets.token_hex(8) + "-Z9!"
    Database(sdk, web[0]).signup(email=email, password=password,
                                 connection=e2e["connections"]["default"], name="E2E Person",
                                 given_name="E2E", nickname="e2e-person")
    return email, password


def rs256_claims(token: str, jwks: dict, issuer: str, audience: str) -> dict:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT", header
    key = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert len(key) == 1, header
    return jwt.decode(token, jwt.PyJWK(key[0]).key, algorithms=["RS256"], audience=audience,
                      issuer=issuer, options={"require": ["exp", "iat", "sub"]})


def test_sdk_login_with_realm_audience_and_openid(target, e2e, sdk, web, user, jwks):
    api = e2e["apis"]["rs"]
    tokens = GetToken(sdk, web[0], client_secret=web[1]).login(
        username=user[0], password=user[1], realm=e2e["connections"]["default"],
        scope="openid profile email", audience=api)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600  # make_tenant.py: the RS256 API's token_lifetime
    assert tokens["scope"].split() == ["openid", "profile", "email", "read:items",
                                       "write:items", "admin"]  # implied trust: all API scopes
    at = rs256_claims(tokens["access_token"], jwks, target.issuer, api)
    assert at["aud"] == [api, target.issuer + "userinfo"]
    assert at["gty"] == "password" and at["azp"] == web[0]
    assert at["sub"].startswith("auth0|")
    idt = rs256_claims(tokens["id_token"], jwks, target.issuer, web[0])
    assert idt["sub"] == at["sub"]
    assert idt["aud"] == web[0]
    assert idt["email"] == user[0] and idt["email_verified"] is False
    assert idt["name"] == "E2E Person" and idt["nickname"] == "e2e-person"
    assert isinstance(idt["updated_at"], str) and isinstance(idt["auth_time"], int)
    assert "refresh_token" not in tokens

    info = Users(sdk).userinfo(tokens["access_token"])
    assert info["sub"] == idt["sub"]
    assert info["email"] == user[0] and info["email_verified"] is False
    assert info["name"] == "E2E Person"


def test_sdk_default_directory_password_grant(target, e2e, sdk, web, user, jwks):
    tokens = GetToken(sdk, web[0], client_secret=web[1]).login(
        username=user[0], password=user[1], realm=None, scope="openid email",
        grant_type="password")
    # the tenant's default_audience is the RS256 API
    at = rs256_claims(tokens["access_token"], jwks, target.issuer, e2e["apis"]["rs"])
    assert target.issuer + "userinfo" in at["aud"]
    assert "name" not in rs256_claims(tokens["id_token"], jwks, target.issuer, web[0])


def test_sdk_wrong_password_is_invalid_grant(e2e, sdk, web, user):
    with pytest.raises(Auth0Error) as exc:
        GetToken(sdk, web[0], client_secret=web[1]).login(
            username=user[0], password=user[1] + "x", realm=e2e["connections"]["default"])
    assert exc.value.status_code == 403
    assert exc.value.error_code == "invalid_grant"
    assert exc.value.message == "Wrong email or password."


def test_sdk_missing_realm(e2e, sdk, web, user):
    # auth0-python always sends the password-realm grant, with "realm": null when none is given
    with pytest.raises(Auth0Error) as exc:
        GetToken(sdk, web[0], client_secret=web[1]).login(username=user[0], password=user[1])
    assert exc.value.status_code == 400
    assert exc.value.error_code == "invalid_request"


def test_authlib_password_grant_and_id_token(target, web, user, jwks):
    verify = target.ca_cert
    versions = []  # authlib's httpx client, unmodified but for HTTP/2 switched on
    with OAuth2Client(web[0], web[1], scope="openid profile email",
                      token_endpoint_auth_method="client_secret_post", verify=verify, http2=True,
                      event_hooks={"response": [lambda r: versions.append(r.http_version)]}) as c:
        token = c.fetch_token(target.issuer + "oauth/token", username=user[0],
                              password=user[1], grant_type="password")
    assert versions == ["HTTP/2"]
    claims = authlib_jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks),
                                claims_options={"iss": {"essential": True,
                                                        "value": target.issuer},
                                                "aud": {"essential": True, "value": web[0]},
                                                "sub": {"essential": True}})
    claims.validate()
    assert claims["email"] == user[0]
    assert token["token_type"].lower() == "bearer"


@pytest.mark.parametrize("authorization, www", [
    (None, 'Bearer realm="Users"'),
    ("Bearer not-a-token",
     'Bearer realm="Users", error="invalid_token", error_description="Invalid token"'),
    ("Basic dXNlcjpwYXNz",
     'Bearer realm="Users", error="invalid_token", '
     'error_description="Invalid authorization header"'),
])
def test_userinfo_refusal_is_plain_text(target, authorization, www):
    headers = {"Authorization": authorization} if authorization else {}
    with target.client() as c:
        r = c.get("/userinfo", headers=headers)
    assert r.status_code == 401
    assert r.text == "Unauthorized"
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["www-authenticate"] == www


def test_userinfo_refuses_client_credentials_token(target, http):
    # an M2M token has no openid and no userinfo audience
    r = http.post("/oauth/token", data=target.demo_form())
    assert r.status_code == 200, r.text
    r = http.get("/userinfo", headers={"Authorization": "Bearer " + r.json()["access_token"]})
    assert r.status_code == 401 and r.text == "Unauthorized"


def test_discovery_lists_password_grants_and_userinfo(target, http):
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["userinfo_endpoint"] == target.issuer + "userinfo"
    assert "openid" in doc["scopes_supported"]
    assert doc["subject_types_supported"] == ["public"]
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
