"""Requests that must be refused, exactly as Auth0 refuses them (contract.md §1.3, §6.2, §6.10,
§24), and input meant to break the gateway: malformed bodies, oversized ones, header floods,
forged client assertions, truncated or lying HTTP/2 frames. The last test checks that every
process of the system is still running and still issues tokens."""
import base64
import json
import os
import socket
import ssl
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import hpack
import httpx
import pytest

from conftest import assertion, basic_o4w, hand_made_jws, hs256_signer, random_jti

UNAUTHORIZED = {"error": "access_denied", "error_description": "Unauthorized"}
MALFORMED_AUTH = "Malformed Authorization header"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRANT_NOT_ALLOWED = {
    "error": "unauthorized_client",
    "error_description": "Grant type 'client_credentials' not allowed for the client.",
    "error_uri": "https://auth0.com/docs/clients/client-grant-types",
}


def is_json(r: httpx.Response) -> bool:
    return r.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def expect_error(r: httpx.Response, status: int, error: str, description=None, **extra):
    """Exact status and body. description None: any non-empty string (the text is ours, not
    Auth0's, and only the code is keyed on by SDKs)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert is_json(r), r.headers.get("content-type")
    body = r.json()
    if description is None:
        assert set(body) == {"error", "error_description"} | set(extra), body
        assert body["error"] == error, body
        assert isinstance(body["error_description"], str) and body["error_description"], body
        for k, v in extra.items():
            assert body[k] == v
    else:
        assert body == {"error": error, "error_description": description, **extra}, body
    return body


def invalid_request(r, description=None):
    return expect_error(r, 400, "invalid_request", description)


def form(e2e, name="E2E Post", **kw):
    c = e2e["clients"][name]
    f = {"grant_type": "client_credentials", "client_id": c["client_id"],
         "client_secret": c["client_secret"], "audience": e2e["apis"]["rs"]}
    for k, v in kw.items():
        if v is None:
            f.pop(k, None)
        else:
            f[k] = v
    return f


def raw_form(pairs) -> bytes:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()


FORM_CT = {"content-type": "application/x-www-form-urlencoded"}


def token_works(target) -> None:
    with target.client() as http:
        r = http.post("/oauth/token", data=target.demo_form())
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"


# ---- client authentication and authorisation (svc-token) ---------------------------------------

def test_wrong_secret(e2e, http):
    expect_error(http.post("/oauth/token", data=form(e2e, client_secret="not-the-secret")),
                 401, **UNAUTHORIZED)


def test_wrong_secret_json(e2e, http):
    expect_error(http.post("/oauth/token", json=form(e2e, client_secret="not-the-secret")),
                 401, **UNAUTHORIZED)


def test_secret_prefix_is_not_enough(e2e, http):
    secret = e2e["clients"]["E2E Post"]["client_secret"]
    expect_error(http.post("/oauth/token", data=form(e2e, client_secret=secret[:-1])),
                 401, **UNAUTHORIZED)
    expect_error(http.post("/oauth/token", data=form(e2e, client_secret=secret + "x")),
                 401, **UNAUTHORIZED)


def test_missing_secret_for_confidential_client(e2e, http):
    expect_error(http.post("/oauth/token", data=form(e2e, client_secret=None)), 401, **UNAUTHORIZED)


def test_another_clients_secret(e2e, http):
    other = e2e["clients"]["E2E No Grant"]["client_secret"]
    expect_error(http.post("/oauth/token", data=form(e2e, client_secret=other)), 401, **UNAUTHORIZED)


def test_unknown_client(e2e, http):
    expect_error(http.post("/oauth/token", data=form(e2e, client_id="no-such-client")),
                 401, **UNAUTHORIZED)


def test_missing_client_id(e2e, http):
    invalid_request(http.post("/oauth/token", data=form(e2e, client_id=None)),
                    "Missing required parameter: client_id")


def test_unknown_audience(e2e, http):
    expect_error(http.post("/oauth/token", data=form(e2e, audience="https://unknown.e2e.test/")),
                 403, "access_denied", "Service not enabled within domain: https://unknown.e2e.test/")


def no_grant_text(aud):
    return (f'Client is not authorized to access "{aud}". You need to create a "client-grant" '
            "associated to this API. See: "
            "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants")


def test_no_client_grant(e2e, http):
    aud = e2e["apis"]["rs"]
    expect_error(http.post("/oauth/token", data=form(e2e, "E2E No Grant")),
                 403, "access_denied", no_grant_text(aud))


def test_no_client_grant_for_that_api(e2e, http):
    aud = e2e["apis"]["nogrant"]
    expect_error(http.post("/oauth/token", data=form(e2e, audience=aud)),
                 403, "access_denied", no_grant_text(aud))


def test_grant_of_another_client_does_not_count(e2e, http):
    """E2E Basic has no grant for the HS API; E2E Post does."""
    aud = e2e["apis"]["hs"]
    expect_error(http.post("/oauth/token", data=form(e2e, "E2E Basic", audience=aud)),
                 403, "access_denied", no_grant_text(aud))


@pytest.mark.parametrize("name,scope,missing", [
    ("E2E Basic", "read:items write:items", "write:items"),
    ("E2E Post", "admin", "admin"),                       # the API has it, the grant not
    ("E2E Post", "read:items delete:all", "delete:all"),  # the API does not have it
    ("E2E Post", "read:hs", "read:hs"),                   # another API's scope
])
def test_scope_outside_grant(e2e, http, name, scope, missing):
    expect_error(http.post("/oauth/token", data=form(e2e, name, scope=scope)),
                 403, "access_denied", f"Client has not been granted scopes: {missing}")


def test_missing_grant_type(e2e, http):
    invalid_request(http.post("/oauth/token", data=form(e2e, grant_type=None)),
                    "Missing required parameter: grant_type")


def test_missing_grant_type_json_null(e2e, http):
    invalid_request(http.post("/oauth/token", json={**form(e2e), "grant_type": None}),
                    "Missing required parameter: grant_type")


@pytest.mark.parametrize("grant", ["client-credentials", "Password", "urn:x:unknown",
                                   "CLIENT_CREDENTIALS"])
def test_unsupported_grant(e2e, http, grant):
    expect_error(http.post("/oauth/token", data=form(e2e, grant_type=grant)),
                 501, "unsupported_grant_type", f"Unsupported grant type: {grant}")


def test_grant_not_allowed_for_client(e2e, http):
    expect_error(http.post("/oauth/token", data=form(e2e, "E2E No CC")), 403, **GRANT_NOT_ALLOWED)


def test_public_client_asking_client_credentials(e2e, http):
    f = form(e2e, "E2E SPA", client_secret=None)
    expect_error(http.post("/oauth/token", data=f), 403, **GRANT_NOT_ALLOWED)


def test_public_client_with_a_made_up_secret(e2e, http):
    f = form(e2e, "E2E SPA", client_secret="guess")
    expect_error(http.post("/oauth/token", data=f), 401, **UNAUTHORIZED)


def test_secret_for_a_private_key_jwt_client(e2e, http):
    f = form(e2e, client_id=e2e["clients"]["E2E JWT"]["client_id"], client_secret="guess")
    expect_error(http.post("/oauth/token", data=f), 401, **UNAUTHORIZED)


def test_basic_and_post_secret_together(e2e, http):
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token", headers={"authorization": basic_o4w(c["client_id"],
                                                                      c["client_secret"])},
                  data=form(e2e, "E2E Basic"))
    invalid_request(r, "Multiple client authentication methods are not allowed")


def test_basic_user_differs_from_body_client_id(e2e, http):
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token",
                  headers={"authorization": basic_o4w(c["client_id"], c["client_secret"])},
                  data={"grant_type": "client_credentials",
                        "client_id": e2e["clients"]["E2E Post"]["client_id"]})
    expect_error(r, 401, **UNAUTHORIZED)


def test_basic_not_form_encoded_fails_for_special_secret(e2e, http):
    """RFC 6749 §2.3.1: the halves are form-decoded, so a raw '+' or '%' in the secret changes
    it. Without encoding the E2E Basic secret is not the secret."""
    c = e2e["clients"]["E2E Basic"]
    raw = base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
    r = http.post("/oauth/token", headers={"authorization": "Basic " + raw},
                  data={"grant_type": "client_credentials"})
    # the secret holds "%:" followed by hex: not a valid escape
    invalid_request(r, MALFORMED_AUTH)
    # and with only a '+' (a space once decoded) it is simply the wrong secret
    plus = "abc+def"
    raw = base64.b64encode(f"{c['client_id']}:{plus}".encode()).decode()
    r = http.post("/oauth/token", headers={"authorization": "Basic " + raw},
                  data={"grant_type": "client_credentials"})
    expect_error(r, 401, **UNAUTHORIZED)


def test_basic_wrong_secret(e2e, http):
    c = e2e["clients"]["E2E Basic"]
    r = http.post("/oauth/token", headers={"authorization": basic_o4w(c["client_id"], "nope")},
                  data={"grant_type": "client_credentials"})
    expect_error(r, 401, **UNAUTHORIZED)


@pytest.mark.parametrize("value", [
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b":secret-without-user").decode(),
    "Basic " + base64.b64encode(b"user:%zz").decode(),         # bad escape in the password
    "Basic " + base64.b64encode(b"us%00er:x").decode(),        # NUL
    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),       # not UTF-8
    "Basic =====",
], ids=["bad-base64", "no-colon", "empty-user", "bad-escape", "nul", "not-utf8", "padding-only"])
def test_malformed_basic(e2e, http, value):
    r = http.post("/oauth/token", headers={"authorization": value},
                  data={"grant_type": "client_credentials"})
    invalid_request(r, MALFORMED_AUTH)


def test_basic_without_credentials(e2e, http):
    r = http.post("/oauth/token", headers={"authorization": "Basic "},
                  data={"grant_type": "client_credentials"})
    invalid_request(r)


def test_two_authorization_headers(e2e, http):
    c = e2e["clients"]["E2E Basic"]
    b = basic_o4w(c["client_id"], c["client_secret"])
    r = http.post("/oauth/token", headers=[("authorization", b), ("authorization", b)],
                  data={"grant_type": "client_credentials"})
    invalid_request(r, MALFORMED_AUTH)


def test_other_authorization_scheme_is_not_basic(e2e, http):
    """A Bearer header is not client authentication: the body's credentials decide."""
    r = http.post("/oauth/token", headers={"authorization": "Bearer abc.def.ghi"},
                  data=form(e2e))
    assert r.status_code == 200, r.text


# ---- private_key_jwt forgeries -----------------------------------------------------------------

def jwt_form(e2e, a, **kw):
    f = {"grant_type": "client_credentials", "audience": e2e["apis"]["rs"],
         "client_id": e2e["clients"]["E2E JWT"]["client_id"],
         "client_assertion_type": ASSERTION_TYPE, "client_assertion": a}
    f.update(kw)
    return f


def jwt_cid(e2e):
    return e2e["clients"]["E2E JWT"]["client_id"]


def key_pem(e2e, which="jwt_key"):
    return Path(e2e[which]).read_text()


def test_replayed_assertion(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    first = http.post("/oauth/token", data=jwt_form(e2e, a))
    assert first.status_code == 200, first.text
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)
    # also on another connection and protocol
    with target.client(http2=False) as h1:
        expect_error(h1.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)


def test_replayed_jti_in_a_new_assertion(target, e2e, http):
    jti = random_jti()
    a1 = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer, jti=jti)
    a2 = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer, jti=jti, exp=int(time.time()) + 90)
    assert a1 != a2
    assert http.post("/oauth/token", data=jwt_form(e2e, a1)).status_code == 200
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a2)), 401, **UNAUTHORIZED)


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) - 120, "iat": int(time.time()) - 180},   # expired
    {"exp": None},                                                     # no exp
    {"exp": int(time.time()) + 3600},                                  # lives too long
    {"iat": int(time.time()) + 600},                                   # issued in the future
    {"nbf": int(time.time()) + 600},                                   # not yet valid
    {"jti": None},                                                     # no jti
    {"jti": ""},
    {"iss": "someone-else"},
    {"sub": "someone-else"},
    {"aud": "https://evil.example/"},                                  # wrong audience
    {"aud": ["https://evil.example/", "https://other.example/"]},
    {"aud": None},
    {"exp": "9999999999"},                                             # exp as a string
], ids=["expired", "no-exp", "too-long", "iat-future", "nbf-future", "no-jti", "empty-jti",
        "wrong-iss", "wrong-sub", "wrong-aud", "wrong-aud-list", "no-aud", "string-exp"])
def test_bad_assertion_claims(target, e2e, http, claims):
    claims = dict(claims)
    aud = claims.pop("aud", target.issuer)
    a = assertion(jwt_cid(e2e), key_pem(e2e), aud, **claims)
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)


def test_assertion_audience_without_trailing_slash(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer.rstrip("/"))
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)


def test_assertion_signed_by_another_key(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e, "other_key"), target.issuer)
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)


def test_assertion_alg_none(target, e2e, http):
    now = int(time.time())
    a = hand_made_jws({"alg": "none", "typ": "JWT"},
                      {"iss": jwt_cid(e2e), "sub": jwt_cid(e2e), "aud": target.issuer,
                       "jti": random_jti(), "iat": now, "exp": now + 60})
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)
    # and with the signature part of a valid assertion grafted on
    good = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    grafted = a.rsplit(".", 1)[0] + "." + good.rsplit(".", 1)[1]
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, grafted)), 401, **UNAUTHORIZED)


def public_pem(e2e) -> bytes:
    from cryptography.hazmat.primitives import serialization
    priv = serialization.load_pem_private_key(key_pem(e2e).encode(), password=None)
    return priv.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def test_assertion_alg_confusion_hs256_keyed_with_public_pem(target, e2e, http):
    now = int(time.time())
    payload = {"iss": jwt_cid(e2e), "sub": jwt_cid(e2e), "aud": target.issuer,
               "jti": random_jti(), "iat": now, "exp": now + 60}
    pem = public_pem(e2e)
    for secret in (pem, pem.strip()):
        a = hand_made_jws({"alg": "HS256", "typ": "JWT"}, dict(payload, jti=random_jti()),
                          hs256_signer(secret))
        expect_error(http.post("/oauth/token", data=jwt_form(e2e, a)), 401, **UNAUTHORIZED)


def test_assertion_with_tampered_payload(target, e2e, http):
    good = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    h, p, s = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims["exp"] += 100
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, f"{h}.{p2}.{s}")), 401, **UNAUTHORIZED)


@pytest.mark.parametrize("junk", ["", "a.b", "a.b.c", "....", "x" * 5000,
                                  "eyJhbGciOiJSUzI1NiJ9.eyJ9.", "e30.e30.e30"])
def test_assertion_garbage(e2e, http, junk):
    # "" is absent: then no assertion and no secret for a private_key_jwt client
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, junk)), 401, **UNAUTHORIZED)


def test_assertion_for_a_secret_client(target, e2e, http):
    """A correctly signed assertion naming a client that authenticates with a secret."""
    cid = e2e["clients"]["E2E Post"]["client_id"]
    a = assertion(cid, key_pem(e2e), target.issuer)
    expect_error(http.post("/oauth/token", data=jwt_form(e2e, a, client_id=cid)), 401, **UNAUTHORIZED)


def test_assertion_client_id_mismatch(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    r = http.post("/oauth/token",
                  data=jwt_form(e2e, a, client_id=e2e["clients"]["E2E Post"]["client_id"]))
    expect_error(r, 401, **UNAUTHORIZED)


def test_wrong_assertion_type(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    invalid_request(http.post("/oauth/token",
                              data=jwt_form(e2e, a, client_assertion_type="urn:x:saml")),
                    "Invalid client_assertion_type")


def test_assertion_and_secret_together(target, e2e, http):
    a = assertion(jwt_cid(e2e), key_pem(e2e), target.issuer)
    invalid_request(http.post("/oauth/token", data=jwt_form(e2e, a, client_secret="x")),
                    "Multiple client authentication methods are not allowed")


# ---- body parsing (gateway) --------------------------------------------------------------------

JSON_CT = {"content-type": "application/json"}
DESC_415 = "Content-Type must be application/json or application/x-www-form-urlencoded"
TOO_LARGE_413 = {"error": "invalid_request", "error_description": "Request entity too large"}
TOO_LARGE_431 = {"error": "invalid_request",
                 "error_description": "Request header fields too large"}


@pytest.mark.parametrize("body", [b'{"grant_type": "client_credentials",', b"{", b"nul",
                                  b'{"a":1}}', b"\xff\xfe{}", b'{"a": NaN}'])
def test_malformed_json(http, body):
    invalid_request(http.post("/oauth/token", content=body, headers=JSON_CT), "Invalid JSON body")


@pytest.mark.parametrize("body", [b"[]", b'[{"grant_type":"client_credentials"}]'])
def test_json_array_body(http, body):
    invalid_request(http.post("/oauth/token", content=body, headers=JSON_CT),
                    "Request body must be a JSON object")


@pytest.mark.parametrize("body", [b'"x"', b"42", b"null", b"true"])
def test_json_scalar_body(http, body):
    # a bare scalar is not a JSON text jansson decodes by default: either wording is right
    r = http.post("/oauth/token", content=body, headers=JSON_CT)
    assert invalid_request(r)["error_description"] in ("Invalid JSON body",
                                                       "Request body must be a JSON object")


def test_empty_json_body(http):
    r = http.post("/oauth/token", content=b"", headers=JSON_CT)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


def test_empty_form_body(http):
    invalid_request(http.post("/oauth/token", content=b"", headers=FORM_CT),
                    "Missing required parameter: grant_type")


@pytest.mark.parametrize("field", ["client_id", "client_secret", "audience", "grant_type", "scope"])
@pytest.mark.parametrize("value", [{"$gt": ""}, {"$ne": None}, ["a", "b"], [{"$gt": ""}]],
                         ids=["gt", "ne", "array", "array-of-object"])
def test_nosql_injection_shapes(e2e, http, field, value):
    body = form(e2e)
    body[field] = value
    invalid_request(http.post("/oauth/token", json=body), f"Invalid type for parameter: {field}")


def test_json_number_and_bool_for_string_fields(e2e, http):
    """Scalars of another type are text: client_id 12345 is the (unknown) client "12345"."""
    r = http.post("/oauth/token", json=form(e2e, client_id=12345))
    expect_error(r, 401, **UNAUTHORIZED)
    r = http.post("/oauth/token", json=form(e2e, client_secret=True))
    expect_error(r, 401, **UNAUTHORIZED)


def test_duplicate_json_key(e2e, http):
    c = e2e["clients"]["E2E Post"]
    body = ('{"grant_type":"client_credentials","client_id":"%s","client_secret":"%s",'
            '"client_id":"other"}' % (c["client_id"], c["client_secret"]))
    invalid_request(http.post("/oauth/token", content=body.encode(), headers=JSON_CT),
                    "Duplicate parameter in JSON body")


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "multipart/form-data; boundary=x",
                                   "application/jsonx", "application/x-www-form-urlencodedx"])
def test_wrong_content_type(e2e, http, ctype):
    r = http.post("/oauth/token", content=raw_form(form(e2e).items()), headers={"content-type": ctype})
    expect_error(r, 415, "invalid_request", DESC_415)


def test_no_content_type(e2e, http):
    r = http.post("/oauth/token", content=raw_form(form(e2e).items()))
    expect_error(r, 415, "invalid_request", DESC_415)


@pytest.mark.parametrize("transport", ["h2", "h1"])
def test_body_over_the_limit(target, e2e, transport):
    big = raw_form(list(form(e2e).items()) + [("padding", "x" * (70 * 1024))])
    with target.client(http2=(transport == "h2")) as http:
        r = http.post("/oauth/token", content=big, headers=FORM_CT)
    expect_error(r, 413, **TOO_LARGE_413)


def test_body_just_under_the_limit_is_parsed(e2e, http):
    """60 KiB of padding in an unknown parameter: parsed, ignored, token issued."""
    big = raw_form(list(form(e2e).items()) + [("padding", "x" * (60 * 1024))])
    r = http.post("/oauth/token", content=big, headers=FORM_CT)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("transport", ["h2", "h1"])
def test_body_over_a_mebibyte(target, e2e, transport):
    """Above h2o's own limit the answer may be h2o's (plain 413, or a reset HTTP/2 stream);
    what matters is a refusal, not a crash or a hang."""
    big = b"padding=" + b"x" * (2 * 1024 * 1024)
    with target.client(http2=(transport == "h2")) as http:
        try:
            r = http.post("/oauth/token", content=big, headers=FORM_CT)
        except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
            r = None
    if r is not None:
        assert r.status_code == 413, (r.status_code, r.text[:200])
    token_works(target)


def test_over_long_parameter(e2e, http):
    invalid_request(http.post("/oauth/token", data=form(e2e, client_id="a" * (17 * 1024))),
                    "Parameter too long: client_id")
    invalid_request(http.post("/oauth/token", json=form(e2e, scope="s" * (17 * 1024))),
                    "Parameter too long: scope")


def test_long_scope_is_refused_not_truncated(e2e, http):
    scope = " ".join(f"s{i}" for i in range(100))
    expect_error(http.post("/oauth/token", data=form(e2e, scope=scope)), 400, "invalid_scope",
                 "Scope is too long")


def test_too_many_parameters(e2e, http):
    pairs = list(form(e2e).items()) + [(f"p{i}", "1") for i in range(300)]
    invalid_request(http.post("/oauth/token", content=raw_form(pairs), headers=FORM_CT),
                    "Too many parameters")


def test_duplicate_form_parameter(e2e, http):
    pairs = list(form(e2e).items()) + [("client_id", "other")]
    invalid_request(http.post("/oauth/token", content=raw_form(pairs), headers=FORM_CT),
                    "Duplicate parameter: client_id")
    # even with the same value twice
    pairs = list(form(e2e).items()) + [("audience", e2e["apis"]["rs"])]
    invalid_request(http.post("/oauth/token", content=raw_form(pairs), headers=FORM_CT),
                    "Duplicate parameter: audience")


@pytest.mark.parametrize("raw", [b"%FF%FE", b"\xff\xfe", b"%C0%AF", b"%ED%A0%80", b"abc%00def",
                                 b"%zz", b"%4"],
                         ids=["escaped-ff", "raw-ff", "overlong", "surrogate", "nul", "bad-hex",
                              "short-escape"])
def test_bad_bytes_in_a_form_value(e2e, http, raw):
    body = raw_form(form(e2e, client_secret=None).items()) + b"&client_secret=" + raw
    invalid_request(http.post("/oauth/token", content=body, headers=FORM_CT),
                    "Malformed value for parameter: client_secret")


def test_bad_bytes_in_an_unknown_key(e2e, http):
    body = raw_form(form(e2e).items()) + b"&%FF=1"
    invalid_request(http.post("/oauth/token", content=body, headers=FORM_CT))


def test_form_oddities_are_tolerated(target, e2e, http):
    """Empty pairs (&&), a trailing &, a key without '=' (unknown), '+' for spaces in scope."""
    c = e2e["clients"]["E2E Post"]
    body = (f"&&grant_type=client_credentials&client_id={quote(c['client_id'], safe='')}"
            f"&client_secret={quote(c['client_secret'], safe='')}&lonely&scope=read%3Aitems+write%3Aitems&")
    r = http.post("/oauth/token", content=body.encode(), headers=FORM_CT)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["scope"].split()) == ["read:items", "write:items"]


# ---- routing and headers (gateway) -------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_on_token_endpoint(http, method):
    r = http.request(method, "/oauth/token")
    expect_error(r, 405, "method_not_allowed", "Method Not Allowed")
    allow = {m.strip() for m in r.headers["allow"].split(",")}
    assert "POST" in allow and method not in allow


def test_post_on_jwks(http):
    r = http.post("/.well-known/jwks.json", data={"a": "b"})
    expect_error(r, 405, "method_not_allowed", "Method Not Allowed")
    assert "GET" in {m.strip() for m in r.headers["allow"].split(",")}


@pytest.mark.parametrize("path", ["/nope", "/oauth/token/", "/oauth/TOKEN", "/oauth/token/../x",
                                  "/.well-known/", "/" + "a" * 2000, "/%00", "/oauth%2Ftoken"])
def test_unknown_path(http, path):
    expect_error(http.get(path), 404, "not_found", "Not Found")


def test_unknown_path_post(http):
    expect_error(http.post("/oauth/revoke-nothing", data={"a": "b"}), 404, "not_found", "Not Found")


def test_query_string_does_not_authenticate(e2e, http):
    """Credentials in the URL of a POST are not read (and must not be)."""
    c = e2e["clients"]["E2E Post"]
    r = http.post("/oauth/token", params={"client_id": c["client_id"],
                                          "client_secret": c["client_secret"]},
                  data={"grant_type": "client_credentials"})
    invalid_request(r, "Missing required parameter: client_id")


@pytest.mark.parametrize("transport", ["h2", "h1"])
def test_too_many_headers(target, transport):
    headers = [(f"x-filler-{i}", "v") for i in range(80)]
    with target.client(http2=(transport == "h2")) as http:
        r = http.get("/.well-known/jwks.json", headers=headers)
    expect_error(r, 431, **TOO_LARGE_431)


@pytest.mark.parametrize("transport", ["h2", "h1"])
def test_large_header(target, transport):
    with target.client(http2=(transport == "h2")) as http:
        r = http.get("/.well-known/jwks.json", headers={"x-big": "b" * (12 * 1024)})
    expect_error(r, 431, **TOO_LARGE_431)


def test_headers_just_within_limits(target, e2e):
    """60 small headers and 6 KiB in all: served."""
    headers = [(f"x-f{i}", "v" * 90) for i in range(55)]
    with target.client() as http:
        r = http.post("/oauth/token", data=form(e2e), headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("transport,shape", [("h1", "one-huge"), ("h1", "very-many"),
                                             ("h2", "very-many")])
def test_header_flood_does_not_crash(target, transport, shape):
    """Floods beyond h2o's own limits: h2o may answer itself (400/413/431) or close the
    connection; any refusal is fine, a crash or a 2xx is not. (One huge header over HTTP/2 is
    test_huge_header_block_raw_h2: pure-Python HPACK needs ~25 s to encode it.)"""
    headers = ({"x-huge": "h" * (600 * 1024)} if shape == "one-huge"
               else [(f"x-f{i}", "v" * 10) for i in range(400)])
    with target.client(http2=(transport == "h2")) as http:
        try:
            r = http.get("/.well-known/jwks.json", headers=headers)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                httpx.LocalProtocolError):
            r = None
    if r is not None:
        assert 400 <= r.status_code < 500, r.status_code
    token_works(target)


# ---- raw protocol abuse ------------------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
T_DATA, T_HEADERS, T_RST_STREAM, T_SETTINGS, T_GOAWAY, T_CONTINUATION = 0x0, 0x1, 0x3, 0x4, 0x7, 0x9
END_STREAM, END_HEADERS = 0x1, 0x4
FRAME_SIZE_ERROR = 0x6


def frame(ftype: int, flags: int, stream: int, payload: bytes = b"", length=None) -> bytes:
    n = len(payload) if length is None else length
    return n.to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


def header_block(authority: str, scheme: str) -> bytes:
    return hpack.Encoder().encode([(":method", "POST"), (":scheme", scheme),
                                   (":authority", authority), (":path", "/oauth/token"),
                                   ("content-type", "application/x-www-form-urlencoded")])


def connect(target, tls: bool):
    url = urlsplit(target.base_url if tls else target.h2c_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    if not tls:
        return sock, url
    ctx = ssl.create_default_context(cafile=target.ca_cert if isinstance(target.ca_cert, str)
                                     else None)
    ctx.set_alpn_protocols(["h2"])
    s = ctx.wrap_socket(sock, server_hostname=url.hostname)
    assert s.selected_alpn_protocol() == "h2"
    return s, url


def read_until_closed(sock, seconds=5.0) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or seconds pass (False)."""
    data, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def parse_frames(data: bytes):
    frames, i = [], 0
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        frames.append((data[i + 3], data[i + 4], int.from_bytes(data[i + 5:i + 9], "big") & 0x7FFFFFFF,
                       data[i + 9:i + 9 + n]))
        i += 9 + n
    return frames


def goaway_codes(data: bytes):
    return [int.from_bytes(p[4:8], "big") for t, _, _, p in parse_frames(data) if t == T_GOAWAY]


@pytest.fixture(params=["h2c", "tls"])
def raw_h2(request, target):
    tls = request.param == "tls"
    if not tls:
        target.need_h2c()
    return lambda: connect(target, tls), ("https" if tls else "http")


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = [first | limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes(out + [value])


def hpack_literal(name: bytes, value: bytes) -> bytes:
    """Literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2): the
    pure-Python encoder is far too slow for hundreds of KiB."""
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def test_huge_header_block_raw_h2(target, raw_h2):
    """A 600 KiB header block in HEADERS + CONTINUATION frames (above h2o's own limit): the
    stream or the connection is refused, the server does not fall over."""
    open_, scheme = raw_h2
    sock, url = open_()
    block = header_block(url.netloc, scheme) + hpack_literal(b"x-huge", b"h" * (600 * 1024))
    chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
    frames = frame(T_HEADERS, END_STREAM if len(chunks) > 1 else END_STREAM | END_HEADERS, 1,
                   chunks[0])
    for i, c in enumerate(chunks[1:], 1):
        frames += frame(T_CONTINUATION, END_HEADERS if i == len(chunks) - 1 else 0, 1, c)
    try:
        sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) + frames)
    except OSError:
        pass  # refused while we were still sending
    data, _ = read_until_closed(sock, 3.0)
    sock.close()
    refused = False
    for t, _, stream, payload in parse_frames(data):
        if t == T_HEADERS and stream == 1:
            status = dict(hpack.Decoder().decode(payload)).get(":status")
            assert status is not None and status.startswith("4"), status
            refused = True
        refused |= (t == T_RST_STREAM and stream == 1) or t == T_GOAWAY
    assert refused, parse_frames(data)
    token_works(target)


def test_truncated_headers_frame_then_close(target, raw_h2):
    open_, scheme = raw_h2
    sock, url = open_()
    block = header_block(url.netloc, scheme)
    sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) +
                 frame(T_HEADERS, END_HEADERS, 1, block)[: 9 + len(block) // 2])
    time.sleep(0.2)
    sock.close()
    token_works(target)


def test_truncated_frame_header_then_close(target, raw_h2):
    open_, _ = raw_h2
    sock, _ = open_()
    sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) + b"\x00\x00\x10\x01")
    sock.close()
    token_works(target)


def test_headers_frame_announcing_a_huge_length(target, raw_h2):
    open_, scheme = raw_h2
    sock, url = open_()
    block = header_block(url.netloc, scheme)
    sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) +
                 frame(T_HEADERS, END_HEADERS, 1, block, length=0xFFFFFF))
    data, closed = read_until_closed(sock)
    sock.close()
    assert closed, "the server kept the connection open waiting for a 16 MiB frame"
    assert FRAME_SIZE_ERROR in goaway_codes(data), parse_frames(data)
    token_works(target)


def test_data_frame_announcing_more_than_sent(target, raw_h2):
    """A stream whose DATA frame promises 1000 bytes and delivers 10, then the client leaves."""
    open_, scheme = raw_h2
    sock, url = open_()
    sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) +
                 frame(T_HEADERS, END_HEADERS, 1, header_block(url.netloc, scheme)) +
                 frame(T_DATA, END_STREAM, 1, b"grant_type", length=1000))
    time.sleep(0.2)
    sock.close()
    token_works(target)


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    bytes(range(256)) * 2,   # a complete 258-byte RST_STREAM frame, then more junk
    frame(T_DATA, 0, 0, b"data on stream zero"),
    frame(T_HEADERS, END_HEADERS | END_STREAM, 2, b"\xff" * 20),  # even stream id, junk HPACK
], ids=["http1", "bytes", "data-stream-0", "bad-hpack"])
def test_garbage_after_preface(target, raw_h2, garbage):
    open_, _ = raw_h2
    sock, _ = open_()
    sock.sendall(PREFACE + garbage)
    data, closed = read_until_closed(sock)
    sock.close()
    assert closed, "the server did not close a connection that broke the protocol"
    codes = goaway_codes(data)
    assert all(c != 0 for c in codes), codes  # a GOAWAY, if any, names an error
    token_works(target)


def test_garbage_after_settings(target, raw_h2):
    open_, _ = raw_h2
    sock, _ = open_()
    sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) + frame(T_HEADERS, END_HEADERS | END_STREAM, 1,
                                                            b"\xff\xff\xff\xff\xff\xff"))
    data, closed = read_until_closed(sock)
    sock.close()
    assert closed
    assert goaway_codes(data) and all(c != 0 for c in goaway_codes(data)), parse_frames(data)
    token_works(target)


def test_many_streams_opened_and_abandoned(target, raw_h2):
    """200 HEADERS without END_STREAM, no body, then close: requests waiting for bodies that
    never come must be freed, not leaked or left to crash the loop."""
    open_, scheme = raw_h2
    sock, url = open_()
    enc = hpack.Encoder()
    frames = b"".join(
        frame(T_HEADERS, END_HEADERS, 2 * i + 1, enc.encode(
            [(":method", "POST"), (":scheme", scheme), (":authority", url.netloc),
             (":path", "/oauth/token"), ("content-type", "application/x-www-form-urlencoded")]))
        for i in range(200))
    try:
        sock.sendall(PREFACE + frame(T_SETTINGS, 0, 0) + frames)
    except OSError:
        pass  # the server may refuse the flood and close first
    read_until_closed(sock, 1.0)
    sock.close()
    token_works(target)


def test_http1_truncated_body_then_close(target, e2e):
    url = urlsplit(target.h2c_url or target.base_url)
    if not target.h2c_url:
        pytest.skip("needs the cleartext port")
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    sock.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: " + url.netloc.encode() +
                 b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 1000\r\n\r\ngrant_type=client_")
    time.sleep(0.2)
    sock.close()
    token_works(target)


def test_http1_garbage_request_line(target):
    if not target.h2c_url:
        pytest.skip("needs the cleartext port")
    url = urlsplit(target.h2c_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    sock.sendall(b"\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n")
    data, closed = read_until_closed(sock)
    sock.close()
    assert closed
    assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:100]
    token_works(target)


def test_tls_handshake_abandoned(target):
    url = urlsplit(target.base_url)
    for cut in (5, 60):
        sock = socket.create_connection((url.hostname, url.port), timeout=5)
        # the start of a TLS 1.2 ClientHello record, cut short
        hello = bytes.fromhex("16030100f4010000f00303") + os.urandom(200)
        sock.sendall(hello[:cut])
        sock.close()
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # cleartext on the TLS port
    read_until_closed(sock, 3.0)
    sock.close()
    token_works(target)


# ---- the system survived all of the above ------------------------------------------------------

def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_zz_every_process_survived(target):
    """Runs last in this module (pytest keeps file order)."""
    if target.run_dir is not None:
        pids = sorted((target.run_dir / "pids").glob("*.pid"))
        assert pids, "no pid files in RUN_DIR/pids"
        dead = [p.name for p in pids if not process_alive(int(p.read_text().strip()))]
        assert not dead, f"processes gone after the hostile module: {dead}"
    token_works(target)
    with target.client(http2=False) as http:
        r = http.post("/oauth/token", data=target.demo_form())
    assert r.status_code == 200, r.text
