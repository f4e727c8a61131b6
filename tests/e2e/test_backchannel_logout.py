"""Back-channel logout (OIDC Back-Channel Logout 1.0, issue #4): a local HTTP server plays the
relying parties whose tenant entries register back-channel logout URLs (oidc_logout, and the
older oidc_backchannel_logout). After GET /v2/logout each client that took part in the session
receives `logout_token=...` by POST; the token is verified (signature, iss, aud, iat/exp, jti,
sub, sid, events, no nonce), and clients outside the session receive nothing."""
import base64
import json
import queue
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from authlib.jose import JsonWebKey, jwt as authlib_jwt

from authflow import PASSWORD, browser, login

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture(scope="module")
def e2e_cfg(target):
    cfg = target.need_e2e()
    if not cfg.get("backchannel_port"):
        pytest.skip("tenant without back-channel logout clients")
    return cfg


@pytest.fixture(scope="module")
def rp(e2e_cfg):
    return {**e2e_cfg["clients"]["E2E Backchannel"], "callback": e2e_cfg["callbacks"]["backchannel"]}


@pytest.fixture(scope="module")
def legacy(e2e_cfg):
    return {**e2e_cfg["clients"]["E2E Backchannel Legacy"],
            "callback": e2e_cfg["callbacks"]["backchannel"]}


@pytest.fixture(scope="module")
def user(target, rp, e2e_cfg):
    email = f"bcl-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": rp["client_id"], "email": email, "password": PASSWORD,
            "connection": e2e_cfg["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


@pytest.fixture(scope="module")
def receiver(e2e_cfg):
    """The RPs' back-channel endpoint: every POST lands in a queue as (path, headers, body)."""
    received = queue.Queue()
    received.delay = 0.0  # seconds each answer waits (a slow relying party)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(n).decode()
            time.sleep(received.delay)
            received.put((self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", e2e_cfg["backchannel_port"]), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


def drain(received):
    while not received.empty():
        received.get_nowait()


def wait_posts(received, n, timeout=10.0):
    posts, deadline = [], time.monotonic() + timeout
    while len(posts) < n and time.monotonic() < deadline:
        try:
            posts.append(received.get(timeout=max(0.05, deadline - time.monotonic())))
        except queue.Empty:
            break
    return posts


def sign_in(http, target, client, user=None, nonce="bc"):
    """An ID token for client from the authorization endpoint (login, or SSO when user is None)."""
    q = {"client_id": client["client_id"], "redirect_uri": client["callback"],
         "response_type": "id_token", "scope": "openid", "nonce": nonce}
    r = http.get("/authorize?" + urlencode(q))
    if user is not None:
        r = login(http, target, r, user)
    assert r.status_code == 302, r.text
    p = parse_qs(urlparse(r.headers["location"]).fragment)
    return p["id_token"][0]


def check_logout_token(target, token, key, client, id_claims):
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "logout+jwt", header  # never mistakable for an ID token
    claims = authlib_jwt.decode(token, key)
    claims.validate(leeway=60)
    assert claims["iss"] == target.issuer and claims["aud"] == client["client_id"]
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims and len(claims["jti"]) >= 16
    assert claims["iat"] <= time.time() + 60 and claims["exp"] - claims["iat"] <= 300
    return claims


def test_logout_tokens_reach_every_client_of_the_session(target, rp, legacy, user, receiver,
                                                         jwks):
    key_set = JsonWebKey.import_key_set(jwks)
    drain(receiver)
    with browser(target) as http:
        id_rp = authlib_jwt.decode(sign_in(http, target, rp, user), key_set)
        id_legacy = authlib_jwt.decode(sign_in(http, target, legacy),
                                       legacy["client_secret"].encode())  # HS256 client
        assert id_rp["sid"] == id_legacy["sid"]  # one SSO session
        r = http.get("/v2/logout?" + urlencode({"client_id": rp["client_id"],
                                                "returnTo": "https://rp.e2e.test/"}))
        assert r.status_code == 302 and r.headers["location"] == "https://rp.e2e.test/"
    posts = {path: (headers, body) for path, headers, body in wait_posts(receiver, 2)}
    assert set(posts) == {"/bc/new", "/bc/old"}, posts.keys()
    for path, client, key, id_claims in (("/bc/new", rp, key_set, id_rp),
                                         ("/bc/old", legacy, legacy["client_secret"].encode(),
                                          id_legacy)):
        headers, body = posts[path]
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = parse_qs(body)
        assert list(form) == ["logout_token"]
        check_logout_token(target, form["logout_token"][0], key, client, id_claims)
    # a logout token is not an ID token: no client would accept it as one (no nonce, events)


def test_only_the_clients_of_the_session_hear_of_it(target, rp, user, receiver, jwks):
    key_set = JsonWebKey.import_key_set(jwks)
    drain(receiver)
    with browser(target) as http:
        id_rp = authlib_jwt.decode(sign_in(http, target, rp, user), key_set)
        r = http.get("/v2/logout")
        assert r.status_code == 200
        posts = wait_posts(receiver, 2, timeout=4)
        assert [p[0] for p in posts] == ["/bc/new"]
        check_logout_token(target, parse_qs(posts[0][2])["logout_token"][0], key_set, rp, id_rp)
        # no session any more: a second logout tells nobody
        assert http.get("/v2/logout").status_code == 200
    assert wait_posts(receiver, 1, timeout=2) == []


def test_a_slow_relying_party_does_not_hold_the_logout(target, rp, user, receiver):
    """The POSTs run off the request path: a relying party that takes 3 s to answer does not
    delay the browser's logout (security.md 222)."""
    drain(receiver)
    receiver.delay = 3.0
    try:
        with browser(target) as http:
            sign_in(http, target, rp, user)
            start = time.monotonic()
            assert http.get("/v2/logout").status_code == 200
            assert time.monotonic() - start < 1.5
        assert [p[0] for p in wait_posts(receiver, 1)] == ["/bc/new"]
    finally:
        receiver.delay = 0.0
