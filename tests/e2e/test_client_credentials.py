"""grant_type=client_credentials end to end, the way the SDKs call it (contract.md §1.2, §1.3,
§3, §4.3, §6.2): every transport (HTTP/2 and HTTP/1.1 over TLS, h2c in the clear), form and
JSON bodies, every client authentication method, and tokens checked claim by claim against the
keys the server publishes."""
import base64
import hashlib
import json
import time
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import assertion, b64url, b64url_decode, basic_o4w, jwt_parts

RS_LIFETIME = 3600      # make_tenant.py: the RS256 API's token_lifetime
DEFAULT_LIFETIME = 86400  # Auth0's default for an API without token_lifetime
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

TRANSPORTS = ["h2", "h1", "h2c"]
EXPECTED_VERSION = {"h2": "HTTP/2", "h1": "HTTP/1.1", "h2c": "HTTP/2"}


def open_client(target, transport) -> httpx.Client:
    if transport == "h2":
        return target.client(http2=True)
    if transport == "h1":
        return target.client(http2=False)
    target.need_h2c()
    return target.h2c()


# ---- token checks ------------------------------------------------------------------------------

def key_for(jwks: dict, kid: str) -> dict:
    matches = [k for k in jwks["keys"] if k.get("kid") == kid]
    assert len(matches) == 1, f"kid {kid!r} matches {len(matches)} keys in the JWKS"
    return matches[0]


def verify_token(token: str, jwks: dict, issuer: str, audience: str, alg="RS256",
                 hs_secret=None) -> dict:
    """Checks the JOSE header, verifies the signature with the published key (or the API's
    secret for HS256) and returns the claims."""
    header, _, sig = jwt_parts(token)
    if alg == "HS256":
        assert header == {"alg": "HS256", "typ": "JWT"}, header  # no kid: nothing to look up
        key = hs_secret
    else:
        assert set(header) == {"alg", "typ", "kid"}, header
        assert header["alg"] == alg and header["typ"] == "JWT", header
        jwk = key_for(jwks, header["kid"])
        assert jwk.get("alg", alg) == alg
        key = jwt.PyJWK(jwk).key
        if alg == "ES256":
            assert len(sig) == 64, "ES256 JWS signatures are raw R||S (RFC 7518 §3.4), not DER"
    return jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer,
                      options={"require": ["iss", "sub", "aud", "iat", "exp"]})


def check_cc_claims(claims: dict, issuer: str, client_id: str, audience: str, scope: str,
                    lifetime: int):
    expected = {"iss", "sub", "aud", "azp", "gty", "iat", "exp"} | ({"scope"} if scope else set())
    assert set(claims) == expected, claims
    assert claims["iss"] == issuer
    assert claims["sub"] == f"{client_id}@clients"
    assert claims["aud"] == audience  # a string, not an array, for client_credentials
    assert claims["azp"] == client_id
    assert claims["gty"] == "client-credentials"
    assert type(claims["iat"]) is int and type(claims["exp"]) is int
    assert abs(claims["iat"] - time.time()) <= 30
    assert claims["exp"] - claims["iat"] == lifetime
    if scope:
        assert sorted(claims["scope"].split(" ")) == sorted(scope.split(" ")), claims["scope"]


def check_token_response(r: httpx.Response, scope: str, lifetime: int) -> str:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    assert "no-store" in [v.strip() for v in r.headers.get("cache-control", "").split(",")]
    body = r.json()
    expected = {"access_token", "expires_in", "token_type"} | ({"scope"} if scope else set())
    assert set(body) == expected, body  # no empty id_token/refresh_token members either
    assert body["token_type"] == "Bearer"
    assert type(body["expires_in"]) is int and body["expires_in"] == lifetime
    if scope:
        assert sorted(body["scope"].split(" ")) == sorted(scope.split(" ")), body["scope"]
    return body["access_token"]


def expect_token(r, target, jwks, client_id, audience, scope, lifetime=RS_LIFETIME, alg="RS256",
                 hs_secret=None):
    token = check_token_response(r, scope, lifetime)
    claims = verify_token(token, jwks, target.issuer, audience, alg=alg, hs_secret=hs_secret)
    check_cc_claims(claims, target.issuer, client_id, audience, scope, lifetime)
    return claims


# ---- transports × body encodings ---------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_form_body_client_secret_post(target, e2e, jwks, transport):
    c = e2e["clients"]["E2E Post"]
    with open_client(target, transport) as http:
        r = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"], "audience": e2e["apis"]["rs"]})
    assert r.http_version == EXPECTED_VERSION[transport]
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_json_body_with_nulls_empties_and_unknown_params(target, e2e, jwks, transport):
    """auth0-python sends null for every unset parameter; spa-js spreads extra keys."""
    c = e2e["clients"]["E2E Post"]
    body = {"grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"], "audience": e2e["apis"]["rs"],
            "scope": None, "organization": None, "realm": None, "redirect_uri": None,
            "username": "", "code": "", "my_param": "test", "max_age": 300,
            "authorizationParams": {"nested": ["a", 1, None]}, "flag": True}
    with open_client(target, transport) as http:
        r = http.post("/oauth/token", json=body,
                      headers={"Auth0-Client": base64.b64encode(
                          json.dumps({"name": "auth0-python", "version": "4.7.1"}).encode()
                      ).decode()})
    assert r.http_version == EXPECTED_VERSION[transport]
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


@pytest.mark.parametrize("transport", ["h2", "h2c"])
def test_form_body_empty_values_and_unknown_params(target, e2e, jwks, transport):
    c = e2e["clients"]["E2E Post"]
    form = (f"client_id={quote(c['client_id'], safe='')}"
            f"&audience={quote(e2e['apis']['rs'], safe='')}"
            f"&client_secret={quote(c['client_secret'], safe='')}&grant_type=client_credentials"
            "&scope=&organization=&my_param=test&redirect_uri=")
    with open_client(target, transport) as http:
        r = http.post("/oauth/token", content=form.encode(),
                      headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


def test_json_content_type_with_charset(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", headers={"content-type": "Application/JSON; charset=utf-8"},
                  content=json.dumps({"grant_type": "client_credentials",
                                      "client_id": c["client_id"],
                                      "client_secret": c["client_secret"],
                                      "audience": e2e["apis"]["rs"]}).encode())
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


def test_demo_client(target, jwks, http):
    """Works against any deployment that gives DEMO_M2M_* (also with --base-url)."""
    form = target.demo_form()
    r = http.post("/oauth/token", data=form)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    claims = verify_token(token, jwks, target.issuer, form["audience"])
    assert claims["sub"] == form["client_id"] + "@clients"
    assert claims["azp"] == form["client_id"]
    assert claims["gty"] == "client-credentials"


# ---- client authentication methods -------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_client_secret_basic_form_encoded_credentials(target, e2e, jwks, transport):
    """oauth4webapi form-url-encodes id and secret (even - _ . ! ~ * ' ( )) before Base64; the
    E2E Basic secret holds every one of those characters plus + / = % :."""
    c = e2e["clients"]["E2E Basic"]
    assert any(ch in c["client_secret"] for ch in "+%:*'()!~")  # the point of this client
    with open_client(target, transport) as http:
        r = http.post("/oauth/token",
                      headers={"authorization": basic_o4w(c["client_id"], c["client_secret"])},
                      data={"grant_type": "client_credentials", "audience": e2e["apis"]["rs"]})
    assert r.http_version == EXPECTED_VERSION[transport]
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items")


def test_client_secret_basic_with_json_body(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token",
                  headers={"authorization": basic_o4w(c["client_id"], c["client_secret"])},
                  json={"grant_type": "client_credentials", "audience": e2e["apis"]["rs"],
                        "client_id": None, "client_secret": None})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items")


def test_client_secret_basic_same_client_id_in_body(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token",
                  headers={"authorization": basic_o4w(c["client_id"], c["client_secret"])},
                  data={"grant_type": "client_credentials", "audience": e2e["apis"]["rs"],
                        "client_id": c["client_id"]})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items")


def test_plain_basic_for_a_url_safe_secret(target, e2e, jwks, http):
    """curl -u / requests' HTTPBasicAuth do not form-encode; for a secret made of URL-safe
    characters that is the same bytes and must work too."""
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", auth=(c["client_id"], c["client_secret"]),
                  data={"grant_type": "client_credentials", "audience": e2e["apis"]["rs"]})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


def test_basic_client_may_also_post_its_secret(target, e2e, jwks, http):
    """Auth0 accepts Post and Basic for a client configured with either (contract.md §1.3)."""
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": c["client_id"],
        "client_secret": c["client_secret"], "audience": e2e["apis"]["rs"]})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items")


def jwt_key(e2e) -> str:
    with open(e2e["jwt_key"]) as f:
        return f.read()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("with_client_id", [True, False], ids=["client_id", "no_client_id"])
def test_private_key_jwt(target, e2e, jwks, transport, with_client_id):
    cid = e2e["clients"]["E2E JWT"]["client_id"]
    form = {"grant_type": "client_credentials", "audience": e2e["apis"]["rs"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(cid, jwt_key(e2e), target.issuer)}
    if with_client_id:
        form["client_id"] = cid
    with open_client(target, transport) as http:
        r = http.post("/oauth/token", data=form)
    assert r.http_version == EXPECTED_VERSION[transport]
    expect_token(r, target, jwks, cid, e2e["apis"]["rs"], "read:items")


def test_private_key_jwt_json_body_kid_nbf_and_array_aud(target, e2e, jwks, http):
    """oauth4webapi adds nbf and kid; node-auth0 sends JSON-capable bodies; aud may be an array."""
    cid = e2e["clients"]["E2E JWT"]["client_id"]
    now = int(time.time())
    a = assertion(cid, jwt_key(e2e), [target.issuer], headers={"kid": "e2e-key"}, nbf=now)
    r = http.post("/oauth/token", json={
        "grant_type": "client_credentials", "client_id": cid, "audience": e2e["apis"]["rs"],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": a, "client_secret": None})
    expect_token(r, target, jwks, cid, e2e["apis"]["rs"], "read:items")


# ---- scopes and audiences ----------------------------------------------------------------------

@pytest.mark.parametrize("requested,granted", [
    ("read:items", "read:items"),
    ("write:items", "write:items"),
    ("write:items read:items", "read:items write:items"),
    ("read:items  read:items", "read:items"),
    (None, "read:items write:items"),
    ("", "read:items write:items"),
])
def test_scope_narrowing(target, e2e, jwks, http, requested, granted):
    c = e2e["clients"]["E2E Post"]
    form = {"grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"], "audience": e2e["apis"]["rs"]}
    if requested is not None:
        form["scope"] = requested
    r = http.post("/oauth/token", data=form)
    claims = expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], granted)
    assert len(claims["scope"].split(" ")) == len(set(granted.split(" ")))  # no duplicates


def test_default_audience_when_audience_omitted(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                        "client_id": c["client_id"],
                                        "client_secret": c["client_secret"]})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


def test_default_audience_with_json_null_audience(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", json={"grant_type": "client_credentials",
                                        "client_id": c["client_id"],
                                        "client_secret": c["client_secret"], "audience": None})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["rs"], "read:items write:items")


@pytest.mark.parametrize("transport", ["h2", "h1"])
def test_hs256_api(target, e2e, jwks, transport):
    c = e2e["clients"]["E2E Post"]
    with open_client(target, transport) as http:
        r = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"], "audience": e2e["apis"]["hs"]})
    claims = expect_token(r, target, jwks, c["client_id"], e2e["apis"]["hs"], "read:hs",
                          lifetime=DEFAULT_LIFETIME, alg="HS256", hs_secret=e2e["hs_secret"])
    assert claims["aud"] == e2e["apis"]["hs"]
    # and not with some other secret
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(r.json()["access_token"], e2e["hs_secret"] + "x", algorithms=["HS256"],
                   audience=e2e["apis"]["hs"])


def test_es256_api(target, e2e, jwks, http):
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": c["client_id"],
        "client_secret": c["client_secret"], "audience": e2e["apis"]["es"]})
    expect_token(r, target, jwks, c["client_id"], e2e["apis"]["es"], "read:es",
                 lifetime=DEFAULT_LIFETIME, alg="ES256")
    kid = jwt_parts(r.json()["access_token"])[0]["kid"]
    jwk = key_for(jwks, kid)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"


def test_rs256_and_es256_sign_with_different_keys(target, e2e, http):
    c = e2e["clients"]["E2E Post"]
    kids = {}
    for api in ("rs", "es"):
        r = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": c["client_id"],
            "client_secret": c["client_secret"], "audience": e2e["apis"][api]})
        assert r.status_code == 200, r.text
        kids[api] = jwt_parts(r.json()["access_token"])[0]["kid"]
    assert kids["rs"] != kids["es"]


def test_tokens_are_fresh_each_time(target, http):
    form = target.demo_form()
    a = http.post("/oauth/token", data=form)
    time.sleep(1.05)
    b = http.post("/oauth/token", data=form)
    assert a.status_code == b.status_code == 200
    assert a.json()["access_token"] != b.json()["access_token"]


# ---- JWKS and discovery ------------------------------------------------------------------------

def rfc7638_thumbprint(jwk: dict) -> str:
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canon = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canon.encode()).digest())


def b64url_int(s: str) -> int:
    return int.from_bytes(b64url_decode(s), "big")


def test_jwks_document(target, http):
    r = http.get("/.well-known/jwks.json")
    assert r.status_code == 200
    assert r.http_version == "HTTP/2"
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    assert r.headers.get("access-control-allow-origin") == "*"
    doc = r.json()
    assert set(doc) == {"keys"}
    keys = doc["keys"]
    assert keys, "no signing keys published"
    assert len({k["kid"] for k in keys}) == len(keys), "kids must be unique"
    assert any(k["kty"] == "RSA" and k["alg"] == "RS256" for k in keys)
    for k in keys:
        assert not (set(k) & PRIVATE_JWK_MEMBERS), f"private key material published: {k}"
        assert k["use"] == "sig"
        assert k["kid"] == rfc7638_thumbprint(k), k
        assert all(v not in ("", [], None) for v in k.values()), f"empty members in {k}"
        if k["kty"] == "RSA":
            assert set(k) == {"kid", "kty", "alg", "use", "n", "e", "x5c", "x5t"}, k
            assert b64url_int(k["n"]).bit_length() >= 2048  # oauth4webapi's minimum
            assert not k["n"].startswith("AA"), "n must not carry a leading zero octet"
        elif k["kty"] == "EC":
            assert set(k) - {"x5c", "x5t"} == {"kid", "kty", "alg", "use", "crv", "x", "y"}, k
            assert k["crv"] == "P-256" and k["alg"] == "ES256"
        else:
            pytest.fail(f"unexpected key type {k['kty']}")
        if "x5c" in k:
            der = base64.b64decode(k["x5c"][0], validate=True)  # standard base64, not url-safe
            cert = x509.load_der_x509_certificate(der)
            pub = cert.public_key()
            if k["kty"] == "RSA":
                assert isinstance(pub, rsa.RSAPublicKey)
                nums = pub.public_numbers()
                assert nums.n == b64url_int(k["n"]) and nums.e == b64url_int(k["e"])
            else:
                assert isinstance(pub, ec.EllipticCurvePublicKey)
                nums = pub.public_numbers()
                assert nums.x == b64url_int(k["x"]) and nums.y == b64url_int(k["y"])
            assert k["x5t"] == b64url(hashlib.sha1(der).digest())


def test_jwks_over_h1_and_h2c(target, jwks):
    with target.client(http2=False) as http:
        r = http.get("/.well-known/jwks.json")
    assert r.http_version == "HTTP/1.1" and r.status_code == 200
    assert r.json() == jwks
    if target.h2c_url:
        with target.h2c() as http:
            r = http.get("/.well-known/jwks.json")
        assert r.http_version == "HTTP/2" and r.status_code == 200
        assert r.json() == jwks


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration",
                                  "/.well-known/oauth-authorization-server"])
def test_discovery_document(target, http, path):
    r = http.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    assert r.headers.get("access-control-allow-origin") == "*"
    doc = r.json()
    assert doc["issuer"] == target.issuer
    assert doc["issuer"].endswith("/")
    assert doc["token_endpoint"] == target.issuer + "oauth/token"
    assert doc["jwks_uri"] == target.issuer + ".well-known/jwks.json"
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(
        doc["token_endpoint_auth_methods_supported"])
    assert "RS256" in doc["token_endpoint_auth_signing_alg_values_supported"]
    # an empty member would send SDKs to "" as an endpoint
    assert all(v not in ("", [], None) for v in doc.values()), doc
    # the advertised URLs are the ones that work
    jr = http.get(doc["jwks_uri"])
    assert jr.status_code == 200 and jr.json()["keys"]


def test_both_discovery_aliases_are_the_same(http):
    a = http.get("/.well-known/openid-configuration").json()
    b = http.get("/.well-known/oauth-authorization-server").json()
    assert a == b


def test_issuer_from_discovery_matches_token_iss(target, jwks, http):
    issuer = http.get("/.well-known/openid-configuration").json()["issuer"]
    r = http.post("/oauth/token", data=target.demo_form())
    assert r.status_code == 200, r.text
    assert jwt_parts(r.json()["access_token"])[1]["iss"] == issuer


# ---- headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_request_id_echoed(target, transport):
    with open_client(target, transport) as http:
        ok = http.post("/oauth/token", data=target.demo_form(),
                       headers={"x-request-id": "e2e-req.ID_42"})
        bad = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": "nobody", "client_secret": "x"},
                        headers={"x-request-id": "e2e-req-401"})
        gen = http.get("/.well-known/jwks.json")
    assert ok.status_code == 200, ok.text
    assert ok.headers["x-request-id"] == "e2e-req.ID_42"
    assert bad.status_code == 401
    assert bad.headers["x-request-id"] == "e2e-req-401"
    assert len(gen.headers["x-request-id"]) >= 16


def test_invalid_request_id_is_replaced(http):
    r = http.get("/.well-known/jwks.json", headers={"x-request-id": "has spaces and ; semicolons"})
    assert r.status_code == 200
    rid = r.headers["x-request-id"]
    assert rid != "has spaces and ; semicolons"
    assert rid and all(ch.isalnum() or ch in "._-" for ch in rid)
    r = http.get("/.well-known/jwks.json", headers={"x-request-id": "a" * 65})
    assert r.headers["x-request-id"] != "a" * 65


def test_generated_request_ids_differ(http):
    ids = {http.get("/.well-known/jwks.json").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_token_response_not_cached(target, http):
    r = http.post("/oauth/token", data=target.demo_form())
    assert r.status_code == 200
    directives = [v.strip().lower() for v in r.headers["cache-control"].split(",")]
    assert "no-store" in directives
