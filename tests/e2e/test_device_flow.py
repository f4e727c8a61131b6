"""The device authorization grant (RFC 8628) as Auth0 does it (contract.md §6.5, §8), over
HTTP/2 against the whole system: POST /oauth/device/code (form and JSON), a test "browser"
(httpx keeping cookies, no JavaScript) that opens verification_uri_complete, logs in through the
login page and confirms, while a thread polls the token endpoint like a device (pending →
slow_down when too fast → tokens → the device_code is spent); cancel → access_denied; SSO skips
the login; parallel polls → one winner; and hostile input: wrong, garbage and overlong user
codes, missing CSRF, another client's device_code, unknown clients."""
import re
import secrets
import threading
import time
from urllib.parse import urlparse

import jwt as pyjwt
import pytest

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Dv7!"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
NOT_ALLOWED = f"Grant type '{GRANT}' not allowed for the client."


@pytest.fixture(scope="module")
def device(e2e):
    return e2e["clients"]["E2E Device"]


@pytest.fixture(scope="module")
def user(target, e2e):
    email = f"device-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": e2e["clients"]["E2E Web"]["client_id"], "email": email,
            "password": PASSWORD, "connection": e2e["connections"]["default"]})
        assert r.status_code == 200, r.text
    return email


def path_of(url):
    u = urlparse(url)
    return u.path + ("?" + u.query if u.query else "")


def form_of(html):
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))


def assert_page(r):
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in r.headers["cache-control"]
    assert "<script" not in r.text.lower()


def start(http, client_id, **extra):
    r = http.post("/oauth/device/code", data={"client_id": client_id, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def poll(http, client_id, device_code):
    return http.post("/oauth/token", data={"grant_type": GRANT, "client_id": client_id,
                                           "device_code": device_code})


def enter_code(browser, code):
    """Opens verification_uri_complete and submits the prefilled form: the 302 to the
    confirmation."""
    page = browser.get(path_of(code["verification_uri_complete"]))
    assert page.status_code == 200, page.text
    assert_page(page)
    form = form_of(page.text)
    assert form["user_code"] == code["user_code"]
    assert '<label for="user_code">' in page.text
    r = browser.post("/activate", data=form)
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith("/activate/confirm?state=")
    return r.headers["location"]


def log_in(browser, r, email):
    """From a 302 to the login page through the form: the next 302."""
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith("/u/login?state=")
    page = browser.get(r.headers["location"])
    assert page.status_code == 200, page.text
    assert "E2E Device" in page.text
    form = form_of(page.text)
    form.update({"username": email, "password": PASSWORD})
    return browser.post("/u/login", data=form)


def answer(browser, confirm_url, action, app="E2E Device", code=None):
    page = browser.get(confirm_url)
    assert page.status_code == 200, page.text
    assert_page(page)
    assert app in page.text and "device" in page.text
    if code is not None:
        assert code in page.text
    form = form_of(page.text)
    return browser.post("/activate/confirm", data={**form, "action": action})


def test_discovery_lists_the_device_endpoint(target):
    with target.client() as http:
        d = http.get("/.well-known/openid-configuration").json()
    assert d["device_authorization_endpoint"] == target.issuer + "oauth/device/code"
    assert GRANT in d["grant_types_supported"]


def test_device_code_answer_form_and_json(target, device):
    with target.client() as http:
        for r in (http.post("/oauth/device/code", data={"client_id": device["client_id"],
                                                         "scope": "openid"}),
                  http.post("/oauth/device/code", json={"client_id": device["client_id"],
                                                         "scope": "openid", "audience": None})):
            assert r.status_code == 200, r.text
            assert r.http_version == "HTTP/2"
            assert r.headers["content-type"].startswith("application/json")
            assert "no-store" in r.headers["cache-control"]
            b = r.json()
            assert set(b) == {"device_code", "user_code", "verification_uri",
                              "verification_uri_complete", "expires_in", "interval"}
            assert USER_CODE.match(b["user_code"]), b["user_code"]
            assert len(b["device_code"]) >= 43
            assert b["verification_uri"] == target.issuer + "activate"
            assert b["verification_uri_complete"] == (target.issuer + "activate?user_code="
                                                      + b["user_code"])
            assert b["expires_in"] == 900 and b["interval"] == 5


def test_device_code_refusals(target, e2e, device):
    clients = e2e["clients"]
    with target.client() as http:
        r = http.post("/oauth/device/code", data={"scope": "openid"})
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_request"
        r = http.post("/oauth/device/code", data={"client_id": "no-such-client"})
        assert r.status_code == 401
        assert r.json() == {"error": "access_denied", "error_description": "Unauthorized"}
        for name in ("E2E Native No Device", "Demo M2M", "E2E Web"):
            r = http.post("/oauth/device/code", data={"client_id": clients[name]["client_id"]})
            assert r.status_code == 403, (name, r.text)
            assert r.json()["error"] == "unauthorized_client"
            assert r.json()["error_description"] == NOT_ALLOWED
        r = http.post("/oauth/device/code", data={"client_id": device["client_id"],
                                                  "audience": "https://nope.e2e.test/"})
        assert r.status_code == 403
        assert r.json() == {"error": "access_denied",
                            "error_description": "Service not found: https://nope.e2e.test/"}
        # an object where a string belongs is refused by the gateway, never reaches a query
        r = http.post("/oauth/device/code", json={"client_id": {"$gt": ""}})
        assert r.status_code == 400


def test_browser_approves_while_the_device_polls(target, e2e, device, user, jwks):
    offline = e2e["apis"]["offline"]
    with target.client() as http:
        code = start(http, device["client_id"], scope="openid profile offline_access",
                     audience=offline)
    seen, result = [], {}

    def device_loop():
        with target.client() as dev:
            # two polls at once: pending, then slow_down (RFC 8628 §3.5)
            for _ in range(2):
                r = poll(dev, device["client_id"], code["device_code"])
                seen.append((r.status_code, r.json()["error"]))
            deadline = time.time() + 90
            while time.time() < deadline:
                time.sleep(code["interval"] + 0.5)
                r = poll(dev, device["client_id"], code["device_code"])
                if r.status_code == 200:
                    result["tokens"] = r.json()
                    result["again"] = poll(dev, device["client_id"], code["device_code"])
                    return
                seen.append((r.status_code, r.json()["error"]))

    poller = threading.Thread(target=device_loop)
    poller.start()
    try:
        with target.client(follow_redirects=False) as browser:
            confirm = enter_code(browser, code)
            r = log_in(browser, browser.get(confirm), user)
            assert r.status_code == 302 and r.headers["location"] == confirm, r.text
            time.sleep(code["interval"] + 1)  # the device sees authorization_pending meanwhile
            done = answer(browser, confirm, "confirm", code=code["user_code"])
            assert done.status_code == 200, done.text
            assert "Your device is now connected" in done.text
    finally:
        poller.join(timeout=120)
    assert seen[:2] == [(403, "authorization_pending"), (429, "slow_down")], seen
    assert (403, "authorization_pending") in seen[2:], seen
    tokens = result["tokens"]
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["refresh_token"]
    assert "offline_access" in tokens["scope"].split()
    kid = pyjwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(pyjwt.PyJWK(k).key for k in jwks["keys"] if k["kid"] == kid)
    idt = pyjwt.decode(tokens["id_token"], key, algorithms=["RS256"],
                       audience=device["client_id"], issuer=target.issuer)
    assert idt["sid"] and isinstance(idt["auth_time"], int)
    at = pyjwt.decode(tokens["access_token"], key, algorithms=["RS256"], audience=[offline],
                      issuer=target.issuer)
    assert at["sub"] == idt["sub"] and at["azp"] == device["client_id"]
    # redeemed exactly once
    again = result["again"]
    assert again.status_code == 403
    assert again.json() == {"error": "invalid_grant",
                            "error_description": "Invalid or expired device code."}
    # the refresh token works for the public device client
    with target.client() as http:
        r = http.post("/oauth/token", data={"grant_type": "refresh_token",
                                            "client_id": device["client_id"],
                                            "refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def signed_in(target, user):
    """A browser with an SSO session (from a code activation it then cancels)."""
    browser = target.client(follow_redirects=False)
    with target.client() as http:
        code = start(http, browser_client_id(target), scope="openid")
    confirm = enter_code(browser, code)
    r = log_in(browser, browser.get(confirm), user)
    assert r.headers["location"] == confirm
    yield browser
    browser.close()


def browser_client_id(target):
    return target.need_e2e()["clients"]["E2E Device"]["client_id"]


def test_sso_session_skips_login_and_cancel_denies(target, device, signed_in):
    with target.client() as http:
        code = start(http, device["client_id"], scope="openid")
        confirm = enter_code(signed_in, code)  # straight to the confirmation: no login page
        r = answer(signed_in, confirm, "cancel")
        assert r.status_code == 200 and "cancelled" in r.text
        r = poll(http, device["client_id"], code["device_code"])
        assert r.status_code == 403
        assert r.json() == {"error": "access_denied",
                            "error_description": "User cancelled the confirmation prompt."}


def test_parallel_polls_one_winner(target, device, signed_in):
    with target.client() as http:
        code = start(http, device["client_id"], scope="openid")
    confirm = enter_code(signed_in, code)
    assert answer(signed_in, confirm, "confirm").status_code == 200
    results = []

    def one():
        with target.client() as http:
            results.append(poll(http, device["client_id"], code["device_code"]))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [403] * 19, codes
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 403)


def test_hostile_user_codes_and_csrf(target, device, signed_in):
    with target.client() as http:
        code = start(http, device["client_id"], scope="openid")
    page = signed_in.get("/activate")
    assert page.status_code == 200
    form = form_of(page.text)
    # wrong, garbage, markup and overlong codes: the form again with an error, never a crash
    for typed in ("BBBB-BBBB", "<script>alert(1)</script>", "A" * 5000):
        r = signed_in.post("/activate", data={**form, "user_code": typed})
        assert r.status_code in (400, 413), r.text
        if r.status_code == 400:
            assert_page(r)
            assert "Invalid or expired code" in r.text
            assert "<script>alert" not in r.text
    # the code form without its CSRF cookie (another site posting it)
    with target.client(follow_redirects=False) as stranger:
        r = stranger.post("/activate", data={**form, "user_code": code["user_code"]})
        assert r.status_code == 403
    # the confirmation form without the CSRF token, and with another browser's cookies
    confirm = enter_code(signed_in, code)
    page = signed_in.get(confirm)
    cform = form_of(page.text)
    r = signed_in.post("/activate/confirm", data={"state": cform["state"], "action": "confirm"})
    assert r.status_code == 403
    with target.client(follow_redirects=False) as stranger:
        r = stranger.post("/activate/confirm", data={**cform, "action": "confirm"})
        assert r.status_code == 403
    with target.client() as http:
        r = poll(http, device["client_id"], code["device_code"])
        assert r.json()["error"] == "authorization_pending"  # nothing was approved


def test_hostile_polls(target, e2e, device):
    other = e2e["clients"]["E2E Device Other"]
    with target.client() as http:
        code = start(http, device["client_id"], scope="openid")
        # another client's device_code
        r = poll(http, other["client_id"], code["device_code"])
        assert r.status_code == 403
        assert r.json()["error"] == "invalid_grant"
        for bad in ("garbage", "A" * 43, "x" * 4000):
            r = poll(http, device["client_id"], bad)
            assert r.status_code == 403 and r.json()["error"] == "invalid_grant", r.text
        r = http.post("/oauth/token", data={"grant_type": GRANT, "client_id": device["client_id"]})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        r = poll(http, "no-such-client", code["device_code"])
        assert r.status_code == 401
        # a client without the grant
        r = poll(http, e2e["clients"]["E2E Native No Device"]["client_id"],
                 code["device_code"])
        assert r.status_code == 403 and r.json()["error"] == "unauthorized_client"
        # JSON bodies poll too
        r = http.post("/oauth/token", json={"grant_type": GRANT, "client_id": device["client_id"],
                                            "device_code": code["device_code"]})
        assert r.status_code == 403 and r.json()["error"] == "authorization_pending"
