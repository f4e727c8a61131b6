"""Refresh tokens and /oauth/revoke end to end (contract.md §4.4, §6.4, §7, §21.1), the way
the SDKs call them: auth0-python 4.13.0 (GetToken.login with offline_access, .refresh_token,
RevokeToken.revoke_refresh_token) and raw httpx for spa-js's form body. Needs the e2e tenant:
"E2E Web" (non-rotating), "E2E Rotating" (rotating, leeway 0), the API with
allow_offline_access, and the default database connection."""
import secrets
from urllib.parse import urlparse

import pytest
from auth0.authentication import Database, GetToken, RevokeToken
from auth0.exceptions import Auth0Error

REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"
INVALID = "Unknown or invalid refresh token."


@pytest.fixture
def sdk(target, monkeypatch):
    if isinstance(target.ca_cert, str):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", target.ca_cert)
    return urlparse(target.base_url).netloc


def creds(e2e, name):
    c = e2e["clients"][name]
    return c["client_id"], c["client_secret"]


@pytest.fixture
def user(e2e, sdk):
    email = f"rt-{secrets.token_hex(6)}@example.com"
    password = "Tg-" + secrets.token_hex(8) + "-Z9!"
    Database(sdk, creds(e2e, "E2E Web")[0]).signup(
        email=email, password=password, connection=e2e["connections"]["default"])
    return email, password


def login(sdk, e2e, user, client="E2E Web", scope="openid profile offline_access"):
    cid, secret = creds(e2e, client)
    return GetToken(sdk, cid, client_secret=secret).login(
        username=user[0], password=user[1], realm=e2e["connections"]["default"], scope=scope,
        audience=e2e["apis"]["offline"], grant_type=REALM_GRANT)


def test_sdk_login_refresh_and_revoke(sdk, e2e, user):
    cid, secret = creds(e2e, "E2E Web")
    tokens = login(sdk, e2e, user)
    rt = tokens["refresh_token"]
    assert rt.startswith("v1.")
    assert "offline_access" in tokens["scope"].split()
    gt = GetToken(sdk, cid, client_secret=secret)
    again = gt.refresh_token(rt)  # python sends scope=""
    assert again["token_type"] == "Bearer" and again["id_token"] and again["access_token"]
    assert "refresh_token" not in again  # non-rotating, as Auth0
    assert again["scope"] == tokens["scope"]
    assert gt.refresh_token(rt)["access_token"]  # still valid
    assert RevokeToken(sdk, cid, client_secret=secret).revoke_refresh_token(rt) in ("", None, {})
    with pytest.raises(Auth0Error) as e:
        gt.refresh_token(rt)
    assert e.value.status_code == 403 and e.value.error_code == "invalid_grant"
    assert e.value.message == INVALID


def test_no_refresh_token_for_api_without_offline_access(sdk, e2e, user):
    cid, secret = creds(e2e, "E2E Web")
    tokens = GetToken(sdk, cid, client_secret=secret).login(
        username=user[0], password=user[1], realm=e2e["connections"]["default"],
        scope="openid offline_access", audience=e2e["apis"]["rs"], grant_type=REALM_GRANT)
    assert "refresh_token" not in tokens
    assert "offline_access" not in tokens["scope"].split()


def test_spa_js_form_body_and_reuse_detection(target, sdk, e2e, user):
    cid, secret = creds(e2e, "E2E Rotating")
    rt1 = login(sdk, e2e, user, client="E2E Rotating")["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": cid, "client_secret": secret,
            "refresh_token": rt1, "redirect_uri": "https://app.e2e.test/callback",
            "audience": "", "scope": "", "useless_extra": "x"}
    with target.client() as http:
        r = http.post("/oauth/token", data=form)
        assert r.status_code == 200, r.text
        body = r.json()
        rt2 = body["refresh_token"]
        assert rt2.startswith("v1.") and rt2 != rt1 and body["id_token"]
        # reuse of the rotated token: refused, and the newest dies with the family
        r = http.post("/oauth/token", data=form)
        assert r.status_code == 403
        assert r.json() == {"error": "invalid_grant", "error_description": INVALID}
        r = http.post("/oauth/token", data={**form, "refresh_token": rt2})
        assert r.status_code == 403 and r.json()["error_description"] == INVALID


def test_revoke_edge_cases(target, sdk, e2e, user):
    cid, secret = creds(e2e, "E2E Web")
    other_id, other_secret = creds(e2e, "E2E Rotating")
    rt = login(sdk, e2e, user)["refresh_token"]
    with target.client() as http:
        # another client's token: 200, nothing revoked
        r = http.post("/oauth/revoke", json={"client_id": other_id, "client_secret": other_secret,
                                             "token": rt})
        assert r.status_code == 200 and r.content == b""
        assert GetToken(sdk, cid, client_secret=secret).refresh_token(rt)["access_token"]
        r = http.post("/oauth/revoke", json={"client_id": cid, "client_secret": secret,
                                             "token": "v1.never-issued"})
        assert r.status_code == 200 and r.content == b""
        r = http.post("/oauth/revoke", json={"client_id": cid, "client_secret": secret})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        r = http.post("/oauth/revoke", json={"client_id": cid, "client_secret": "wrong",
                                             "token": rt})
        assert r.status_code == 401


def test_discovery_lists_refresh_and_revocation(target, http):
    doc = http.get("/.well-known/openid-configuration").json()
    assert "refresh_token" in doc["grant_types_supported"]
    assert "offline_access" in doc["scopes_supported"]
    assert doc["revocation_endpoint"] == target.issuer + "oauth/revoke"
