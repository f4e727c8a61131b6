"""End-to-end harness: real HTTP/1.1 and HTTP/2 (httpx) against a running Tollgate.

tests/run starts the whole system and passes --env-file (the local.env that deploy/local/up
writes). Against another deployment use --base-url; tests that need the e2e tenant's special
clients are then skipped.

Besides the fixtures, this file holds the few helpers several test modules share (JWT pieces,
client assertions, the oauth4webapi way of encoding Basic credentials); test modules import
them with `from conftest import ...` (pytest puts this directory on sys.path)."""
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest


def pytest_addoption(parser):
    parser.addoption("--env-file", default=None, help="local.env written by deploy/local/up")
    parser.addoption("--base-url", default=None, help="target an already running deployment")
    parser.addoption("--ca-cert", default=None, help="CA certificate for --base-url")


class Target:
    def __init__(self, env: dict):
        self.env = env
        self.base_url = env["BASE_URL"].rstrip("/")
        self.h2c_url = env.get("H2C_URL", "").rstrip("/")
        self.ca_cert = env.get("CA_CERT") or True
        self.issuer = self.base_url + "/"
        self.run_dir = Path(env["RUN_DIR"]) if env.get("RUN_DIR") else None
        info = self.run_dir / "e2e_clients.json" if self.run_dir else None
        self.e2e = json.loads(info.read_text()) if info and info.exists() else None

    def client(self, http2=True, base=None, **kw) -> httpx.Client:
        return httpx.Client(base_url=base or self.base_url, http2=http2, verify=self.ca_cert,
                            timeout=15, **kw)

    def h2c(self) -> httpx.Client:
        # httpx speaks h2c with prior knowledge when http1 is disabled on an http:// URL
        return httpx.Client(base_url=self.h2c_url, http1=False, http2=True, timeout=15)

    def need_e2e(self):
        if self.e2e is None:
            pytest.skip("needs the e2e tenant that tests/run generates")
        return self.e2e

    def need_h2c(self):
        if not self.h2c_url:
            pytest.skip("no H2C_URL for this target")
        return self.h2c_url

    def demo(self):
        """(client_id, client_secret, audience) of a client_credentials client with a grant.
        With the e2e tenant, "Demo M2M" and the RS256 API (local.env's DEMO_API_AUDIENCE is the
        demo tenant's audience, which the e2e tenant does not have)."""
        if self.e2e is not None:
            c = self.e2e["clients"]["Demo M2M"]
            return c["client_id"], c["client_secret"], self.e2e["apis"]["rs"]
        if not self.env.get("DEMO_M2M_CLIENT_ID"):
            pytest.skip("no client credentials for this target (DEMO_M2M_CLIENT_ID)")
        return (self.env["DEMO_M2M_CLIENT_ID"], self.env["DEMO_M2M_CLIENT_SECRET"],
                self.env.get("DEMO_API_AUDIENCE", ""))

    def demo_form(self) -> dict:
        cid, secret, aud = self.demo()
        return {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret,
                "audience": aud}


def read_env(path: str) -> dict:
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


@pytest.fixture(scope="session")
def target(pytestconfig) -> Target:
    env_file = pytestconfig.getoption("--env-file") or os.environ.get("TG_ENV_FILE")
    base = pytestconfig.getoption("--base-url")
    if env_file:
        env = read_env(env_file)
    elif base:
        env = {"BASE_URL": base, "CA_CERT": pytestconfig.getoption("--ca-cert") or ""}
    else:
        pytest.exit("give --env-file or --base-url", returncode=2)
    return Target(env)


@pytest.fixture
def http(target):
    with target.client() as c:
        yield c


@pytest.fixture(scope="session")
def e2e(target):
    return target.need_e2e()


@pytest.fixture(scope="module")
def web(e2e) -> dict:
    """The e2e tenant's regular web application, with its callback."""
    return {**e2e["clients"]["E2E Web"], "callback": e2e["callbacks"]["web"]}


@pytest.fixture(scope="module")
def spa(e2e) -> dict:
    """The e2e tenant's single-page application (public, PKCE), with its callback."""
    return {**e2e["clients"]["E2E SPA"], "callback": e2e["callbacks"]["spa"]}


@pytest.fixture(scope="module")
def user(target, web, e2e) -> str:
    """A new user of the default database connection (password authflow.PASSWORD)."""
    from authflow import signup
    return signup(target, web, e2e["connections"]["default"])


@pytest.fixture(scope="session")
def jwks(target) -> dict:
    with target.client() as c:
        r = c.get("/.well-known/jwks.json")
    assert r.status_code == 200, r.text
    return r.json()


# ---- helpers shared by the test modules --------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token: str):
    """(header, payload, signature bytes) of a compact JWS, without verifying anything."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


def o4w_form_encode(s: str) -> str:
    """application/x-www-form-urlencoded as oauth4webapi's formUrlEncode does it for Basic
    credentials: encodeURIComponent, then also - _ . ! ~ * ' ( ) escaped, and %20 as '+'.
    So only ASCII letters and digits stay as they are."""
    out = []
    for ch in s:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.append("".join("%%%02X" % b for b in ch.encode()))
    return "".join(out)


def basic_o4w(client_id: str, secret: str) -> str:
    raw = f"{o4w_form_encode(client_id)}:{o4w_form_encode(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def assertion(client_id: str, key_pem: str, aud, alg="RS256", headers=None, **claims) -> str:
    """A client assertion as SDKs build it (RFC 7523): iss = sub = client_id, aud, jti, iat,
    exp = +60 s. Keyword claims override or (with value None) remove claims."""
    now = int(time.time())
    payload = {"iss": client_id, "sub": client_id, "aud": aud, "jti": str(uuid.uuid4()),
               "iat": now, "exp": now + 60}
    for k, v in claims.items():
        if v is None:
            payload.pop(k, None)
        else:
            payload[k] = v
    return jwt.encode(payload, key_pem, algorithm=alg, headers=headers)


def hand_made_jws(header: dict, payload: dict, signer=None) -> str:
    """A compact JWS built by hand, for what PyJWT refuses to produce (alg none, HMAC keyed with
    a PEM public key). signer(signing_input bytes) -> signature bytes; None = empty."""
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(payload, separators=(",", ":")).encode()))
    sig = signer(signing_input.encode()) if signer else b""
    return signing_input + "." + b64url(sig)


def hs256_signer(secret: bytes):
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def random_jti() -> str:
    return secrets.token_hex(16)
