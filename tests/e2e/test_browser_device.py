"""The device authorization grant (RFC 8628) with a real browser on the user's side (issue
#4): the test starts a device authorization as a device would (POST /oauth/device/code for the
e2e tenant's public device client) while a thread polls /oauth/token with the device_code;
headless Debian Chromium driven by Playwright opens verification_uri_complete, continues with
the prefilled code, logs in on the login page, lands back on the confirmation page and
confirms. The poller sees authorization_pending first, then gets the tokens. In a second run
the browser cancels and the poller gets access_denied."""
import secrets
import sys
import threading
import time
from pathlib import Path

import jwt as pyjwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from harness import chromium  # noqa: E402,F401

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Dv8!"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def device(e2e):
    return e2e["clients"]["E2E Device"]


@pytest.fixture(scope="module")
def user(target, e2e):
    email = f"browser-device-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": e2e["clients"]["E2E Web"]["client_id"], "email": email,
            "password": PASSWORD, "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


class Poller:
    """The device: polls /oauth/token every `interval` seconds (plus a margin, so never
    slow_down) until an answer other than authorization_pending; `seen` holds every error."""

    def __init__(self, target, client_id, code):
        self.target, self.client_id, self.code = target, client_id, code
        self.seen, self.final = [], None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.time() + 120
        with self.target.client() as dev:
            while time.time() < deadline:
                r = dev.post("/oauth/token", data={"grant_type": GRANT,
                                                   "client_id": self.client_id,
                                                   "device_code": self.code["device_code"]})
                body = r.json()
                if r.status_code == 403 and body.get("error") == "authorization_pending":
                    self.seen.append(body["error"])
                    time.sleep(self.code["interval"] + 0.5)
                    continue
                self.final = (r.status_code, body)
                return

    def wait_pending(self, timeout=30):
        end = time.time() + timeout
        while not self.seen and self.thread.is_alive() and time.time() < end:
            time.sleep(0.1)
        assert self.seen, self.final

    def join(self):
        self.thread.join(timeout=150)
        assert not self.thread.is_alive(), "the poller did not finish"
        return self.final


def start(target, device, **extra):
    with target.client() as http:
        r = http.post("/oauth/device/code", data={"client_id": device["client_id"], **extra})
        assert r.status_code == 200, r.text
        return r.json()


def open_and_log_in(target, page, code, email):
    """verification_uri_complete -> Continue (prefilled code) -> login page -> the
    confirmation page, which names the app and shows the code."""
    page.goto(code["verification_uri_complete"])
    assert page.input_value("#user_code") == code["user_code"]
    page.click("button[type=submit]")
    page.wait_for_url(target.base_url + "/u/login?**")
    assert "E2E Device" in page.content()
    page.fill("#username", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(target.base_url + "/activate/confirm?**")
    assert page.inner_text("#client-name") == "E2E Device"
    assert page.inner_text("#user-code") == code["user_code"]


def test_browser_confirms_while_the_device_polls(target, e2e, device, user, chromium, jwks):
    code = start(target, device, scope="openid profile email")
    assert code["verification_uri_complete"].startswith(target.issuer + "activate?user_code=")
    poller = Poller(target, device["client_id"], code)
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        poller.wait_pending()  # the device waits while the user has not answered
        open_and_log_in(target, page, code, user)
        with page.expect_navigation():
            page.click("button[value=confirm]")
        assert "Your device is now connected" in page.content()
    finally:
        ctx.close()
    status, tokens = poller.join()
    assert status == 200, tokens
    assert poller.seen and set(poller.seen) == {"authorization_pending"}, poller.seen
    assert tokens["token_type"] == "Bearer" and tokens["access_token"]
    kid = pyjwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(pyjwt.PyJWK(k).key for k in jwks["keys"] if k["kid"] == kid)
    idt = pyjwt.decode(tokens["id_token"], key, algorithms=["RS256"],
                       audience=device["client_id"], issuer=target.issuer)
    assert idt["email"] == user
    with target.client() as http:
        r = http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
        assert r.status_code == 200, r.text
        assert r.json()["email"] == user and r.json()["sub"] == idt["sub"]


def test_browser_cancels_and_the_device_is_denied(target, device, user, chromium):
    code = start(target, device, scope="openid")
    poller = Poller(target, device["client_id"], code)
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        poller.wait_pending()
        open_and_log_in(target, page, code, user)
        with page.expect_navigation():
            page.click("button[value=cancel]")
        assert "You cancelled the request" in page.content()
    finally:
        ctx.close()
    status, body = poller.join()
    assert (status, body) == (403, {"error": "access_denied",
                                    "error_description": "User cancelled the confirmation "
                                                         "prompt."}), body
    assert set(poller.seen) == {"authorization_pending"}, poller.seen
