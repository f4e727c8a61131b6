"""End-to-end harness: real HTTP/1.1 and HTTP/2 (httpx) against a running Tollgate.

tests/run starts the whole system and passes --env-file (the local.env that deploy/local/up
writes). Against another deployment use --base-url; tests that need the e2e tenant's special
clients are then skipped."""
import json
import os
from pathlib import Path

import httpx
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
