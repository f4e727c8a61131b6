"""Dynamic client registration (RFC 7591, contract.md §18) over HTTP/2: POST /oidc/register
answers 201 with the new client, which then works at once on every service: a public client
(token_endpoint_auth_method none) does the code flow with PKCE, a confidential one
(client_secret_post) exchanges its code with the secret it was given. Hostile registration
bodies get Auth0's error shape, never a 500. Also Auth0's subdomain wildcard callbacks: one
label in place of the '*', look-alikes get the error page and no redirect.

A registered client is third-party: it may sign users in with the tenant's domain connections
only (the e2e tenant's default database is one; the others are not), as Auth0's third-party
applications do. Most tests here sign in through a tenant application first and the registered
client then gets its code from that SSO session."""
from urllib.parse import urlencode, urlparse

import jwt as pyjwt
import pytest

from authflow import authorize, browser, callback_params, consented, exchange, login, pkce

CALLBACK = "https://registered.e2e.test/callback"


def register(target, **body):
    with target.client() as http:
        return http.post("/oidc/register", json=body)


def sign_in(http, target, web, user):
    """Gives the browser an SSO session (logged in through the tenant's web application)."""
    cb = callback_params(login(http, target, authorize(http, web), user), web)
    assert "code" in cb


def test_discovery_lists_registration_endpoint(target, e2e):
    with target.client() as http:
        conf = http.get("/.well-known/openid-configuration").json()
    assert conf["registration_endpoint"] == target.issuer + "oidc/register"


def test_public_client_code_flow_with_pkce(target, web, user):
    r = register(target, client_name="E2E Registered SPA", redirect_uris=[CALLBACK],
                 token_endpoint_auth_method="none")
    assert r.status_code == 201, r.text
    assert r.http_version == "HTTP/2"
    assert r.headers["content-type"].startswith("application/json")
    assert "no-store" in r.headers["cache-control"]
    body = r.json()
    assert body["client_id"].startswith("tpc_")
    assert "client_secret" not in body
    assert body["client_secret_expires_at"] == 0
    assert body["client_name"] == "E2E Registered SPA"
    assert body["redirect_uris"] == [CALLBACK]
    assert body["token_endpoint_auth_method"] == "none"
    assert body["grant_types"] == ["authorization_code"]
    client = {"client_id": body["client_id"], "callback": CALLBACK}

    with browser(target) as http:
        sign_in(http, target, web, user)
        # a public client must use PKCE (refused back at the registered callback)
        cb = callback_params(authorize(http, client, state="no-pkce"), client)
        assert cb["error"] == "invalid_request" and cb["state"] == "no-pkce"
        verifier, challenge = pkce()
        # a registered client is third-party: the user consents once
        r = authorize(http, client, state="s1", nonce="n1", code_challenge=challenge,
                      code_challenge_method="S256")
        assert r.status_code == 200 and 'action="/u/consent"' in r.text, r.text[:300]
        cb = callback_params(consented(http, r), client)
        assert cb["state"] == "s1" and "code" in cb, cb
        # a secret sent anyway is refused; without one, the verifier is what counts
        bad = exchange(http, {**client, "client_secret": "guess"}, cb["code"], verifier)
        assert bad.status_code == 401, bad.text
        tokens = exchange(http, client, cb["code"], verifier, secret=False)
        assert tokens.status_code == 200, tokens.text
        claims = pyjwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
        assert claims["aud"] == client["client_id"] and claims["nonce"] == "n1"
        assert claims["iss"] == target.issuer
        # a redirect_uri it did not register is refused without a redirect
        r = http.get("/authorize?" + urlencode({
            "response_type": "code", "client_id": client["client_id"],
            "redirect_uri": "https://registered.e2e.test.evil.test/callback",
            "code_challenge": challenge, "code_challenge_method": "S256"}))
        assert r.status_code == 400 and "location" not in r.headers
        # /v2/logout knows the registered client (it registered no logout URLs: no returnTo)
        out = http.get("/v2/logout?" + urlencode({"client_id": client["client_id"]}))
        assert out.status_code == 200, out.text
        out = http.get("/v2/logout?" + urlencode({"client_id": client["client_id"],
                                                   "returnTo": CALLBACK}))
        assert out.status_code == 400 and "location" not in out.headers


def test_confidential_client_exchanges_code_with_secret(target, web, user):
    r = register(target, redirect_uris=[CALLBACK, "http://localhost:8123/cb"],
                 grant_types=["authorization_code", "client_credentials", "refresh_token"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["client_name"] == "My App"
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert len(body["client_secret"]) >= 32 and body["client_secret_expires_at"] == 0
    client = {"client_id": body["client_id"], "client_secret": body["client_secret"],
              "callback": CALLBACK}

    with browser(target) as http:
        sign_in(http, target, web, user)
        # Auth0 requires PKCE of every registered ("tpc_") client, confidential ones too
        cb = callback_params(authorize(http, client, state="c0"), client)
        assert cb["error"] == "invalid_request" and cb["state"] == "c0", cb
        verifier, challenge = pkce()
        cb = callback_params(consented(http, authorize(http, client, state="c1",
                                                       code_challenge=challenge,
                                                       code_challenge_method="S256")), client)
        assert "code" in cb, cb
        wrong = exchange(http, {**client, "client_secret": body["client_secret"][:-1] + "x"},
                         cb["code"], verifier)
        assert wrong.status_code == 401
        assert wrong.json() == {"error": "access_denied", "error_description": "Unauthorized"}
        tokens = exchange(http, client, cb["code"], verifier)
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["access_token"]
        # client_credentials was filtered out at registration
        cc = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"], "audience": target.env.get(
                "DEMO_API_AUDIENCE", "https://api.e2e.test/")})
        assert cc.status_code in (401, 403) and cc.status_code != 500, cc.text


HOSTILE = [
    # (body, content type or None for JSON, expected error)
    ("not json at all", "application/json", "invalid_request"),
    ('["an", "array"]', "application/json", "invalid_request"),
    ({"redirect_uris": [1, 2]}, None, None),
    ({"redirect_uris": [{"$gt": ""}]}, None, "invalid_request"),
    ({"redirect_uris": [[CALLBACK]]}, None, "invalid_request"),
    ({"redirect_uris": [CALLBACK] * 1000}, None, None),
    ({"redirect_uris": ["javascript:alert(document.domain)//"]}, None, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://registered.e2e.test/callback"]}, None, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://*.e2e.test/callback"]}, None, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://evil.test@registered.e2e.test/cb"]}, None,
     "invalid_redirect_uri"),
    ({}, None, "invalid_redirect_uri"),
    ({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "private_key_jwt",
      "jwks_uri": "https://registered.e2e.test/jwks"}, None, "invalid_client_metadata"),
    ({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "magic"}, None,
     "invalid_client_metadata"),
    ({"redirect_uris": [CALLBACK], "response_types": ["token"]}, None, "invalid_client_metadata"),
    ({"redirect_uris": [CALLBACK], "client_name": "n" * 5000}, None, "invalid_client_metadata"),
    ({"redirect_uris": [CALLBACK], "client_name": "<script>alert(1)</script>"}, None,
     "invalid_client_metadata"),
]


@pytest.mark.parametrize("body,ctype,error", HOSTILE)
def test_hostile_registrations_are_refused(target, e2e, body, ctype, error):
    with target.client() as http:
        if ctype is None:
            r = http.post("/oidc/register", json=body)
        else:
            r = http.post("/oidc/register", content=body, headers={"content-type": ctype})
    assert r.status_code == 400, (r.status_code, r.text)
    got = r.json()
    assert set(got) >= {"error", "error_description"}
    if error is not None:
        assert got["error"] == error, got
    else:
        assert got["error"] in ("invalid_request", "invalid_redirect_uri"), got


def test_wildcard_callback(target, e2e, user):
    wild = {**e2e["clients"]["E2E Wildcard"], "callback": "https://tenant-1.wild.e2e.test/callback"}
    with browser(target) as http:
        r = authorize(http, wild, state="w")
        assert r.status_code == 302, r.text
        assert urlparse(r.headers["location"]).path == "/u/login"
        for lookalike in ("https://wild.e2e.test/callback",
                          "https://a.b.wild.e2e.test/callback",
                          "https://evil.test/.wild.e2e.test/callback",
                          "https://wild.e2e.test.evil.test/callback",
                          "https://x.wild.e2e.test.evil.test/callback",
                          "https://evil.test@x.wild.e2e.test/callback",
                          "https://x.wild.e2e.test@evil.test/callback",
                          "https://evil%2etest.wild.e2e.test/callback",
                          "https://x.wild.e2e.test/callback/../../evil",
                          "https://x.wild.e2e.test:444/callback",
                          "http://x.wild.e2e.test/callback"):
            r = authorize(http, {**wild, "callback": lookalike}, state="w")
            assert r.status_code == 400 and "location" not in r.headers, lookalike
            assert "text/html" in r.headers["content-type"]
        # the whole sign-in lands on the subdomain that asked
        cb = callback_params(login(http, target, authorize(http, wild, state="w2"), user), wild)
        assert cb["state"] == "w2" and "code" in cb
        tokens = exchange(http, wild, cb["code"])
        assert tokens.status_code == 200, tokens.text


def test_registered_client_logs_in_with_a_domain_connection_only(target, e2e, user):
    r = register(target, client_name="E2E Registered Login", redirect_uris=[CALLBACK],
                 token_endpoint_auth_method="none")
    assert r.status_code == 201, r.text
    client = {"client_id": r.json()["client_id"], "callback": CALLBACK}
    verifier, challenge = pkce()
    with browser(target) as http:  # no SSO session: the login page, with a password
        r = authorize(http, client, nonce="dn", code_challenge=challenge,
                      code_challenge_method="S256")
        cb = callback_params(consented(http, login(http, target, r, user)), client)
        tokens = exchange(http, client, cb["code"], verifier, secret=False)
        assert tokens.status_code == 200, tokens.text
    with browser(target) as http:  # a connection that is not a domain connection: refused
        r = authorize(http, client, nonce="dn2", code_challenge=challenge,
                      code_challenge_method="S256",
                      connection=e2e["connections"]["no_signup"])
        page = login(http, target, r, user)
        assert page.status_code != 302 or "code=" not in page.headers.get("location", "")
