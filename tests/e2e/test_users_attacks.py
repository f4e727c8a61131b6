"""Attacks on the password endpoints over HTTP (issue #3's hostile inputs; contract.md §21.4,
§6.3, §9): brute-force blocking per user and end-user IP, tokens voided by a password reset at
/userinfo and the refresh grant, and no user enumeration through status, body or timing."""
import re
import secrets
import statistics
import time
from pathlib import Path

import pytest

from test_password_reset import LINK, wait_for_mail

REALM = "http://auth0.com/oauth/grant-type/password-realm"
BLOCKED = {"error": "too_many_attempts",
           "error_description": "Your account has been blocked after multiple consecutive login "
                                "attempts. We've sent you an email with instructions on how to "
                                "unblock it."}
WRONG = {"error": "invalid_grant", "error_description": "Wrong email or password."}


@pytest.fixture
def web(e2e):
    return e2e["clients"]["E2E Web"]


@pytest.fixture
def conn(e2e):
    return e2e["connections"]["default"]


def signup(http, web, conn, email, password):
    r = http.post("/dbconnections/signup", json={"client_id": web["client_id"], "email": email,
                                                 "password": password, "connection": conn})
    assert r.status_code == 200, r.text


def login(http, web, conn, email, password, ip=None, scope="openid", audience=None):
    # auth0-forwarded-for names the end user's IP; honoured because E2E Web is confidential
    # and authenticates with its secret (contract.md §1.3)
    headers = {"auth0-forwarded-for": ip} if ip else {}
    form = {"grant_type": REALM, "client_id": web["client_id"],
            "client_secret": web["client_secret"], "username": email, "password": password,
            "realm": conn, "scope": scope}
    if audience:
        form["audience"] = audience
    return http.post("/oauth/token", headers=headers, data=form)


def refresh(http, web, refresh_token):
    return http.post("/oauth/token", data={
        "grant_type": "refresh_token", "client_id": web["client_id"],
        "client_secret": web["client_secret"], "refresh_token": refresh_token})


def new_user(http, web, conn):
    email = f"attack-{secrets.token_hex(6)}@example.com"
    password = "Tg-" + secrets.token_hex(8) + "-Ok9!"
    signup(http, web, conn, email, password)
    return email, password


def test_eleventh_failed_login_is_blocked_for_that_ip_only(http, web, conn):
    email, password = new_user(http, web, conn)
    ip = f"198.51.100.{secrets.randbelow(200) + 1}"
    for _ in range(10):
        r = login(http, web, conn, email, "wrong-" + secrets.token_hex(4), ip)
        assert (r.status_code, r.json()) == (403, WRONG)
    # the 11th attempt is refused even with the right password, without checking it
    r = login(http, web, conn, email, password, ip)
    assert (r.status_code, r.json()) == (429, BLOCKED)
    # the same user from another address is not blocked
    r = login(http, web, conn, email, password, "203.0.113.77")
    assert r.status_code == 200, r.text
    # and the block holds across attempts (it is stored, not in memory of one request)
    r = login(http, web, conn, email, password, ip)
    assert r.status_code == 429


def test_reset_voids_tokens_and_lifts_the_block(target, http, web, conn, e2e):
    smtp = e2e.get("smtp")
    if not smtp or not smtp.get("dir"):
        pytest.skip("no test SMTP server (tests/run starts one)")
    email, password = new_user(http, web, conn)
    ip = "198.51.100.250"
    r = login(http, web, conn, email, password, ip, scope="openid offline_access")
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]
    assert http.get("/userinfo", headers={"authorization": f"Bearer {access}"}).status_code == 200
    # two refresh tokens: one mints ID tokens (svc-token asks svc-users about the user), one
    # does not (svc-token decides on what svc-users told it of the reset)
    refresh_tokens = []
    for scope in ("openid offline_access", "offline_access"):
        r = login(http, web, conn, email, password, ip, scope, e2e["apis"]["offline"])
        assert r.status_code == 200, r.text
        refresh_tokens.append(r.json()["refresh_token"])
    for rt in refresh_tokens:
        assert refresh(http, web, rt).status_code == 200
    for _ in range(10):
        login(http, web, conn, email, "wrong", ip)
    assert login(http, web, conn, email, password, ip).status_code == 429

    time.sleep(1.1)  # tokens_valid_after has one-second resolution, like iat
    r = http.post("/dbconnections/change_password",
                  json={"client_id": web["client_id"], "email": email, "connection": conn})
    assert r.status_code == 200
    link = LINK.search(wait_for_mail(Path(smtp["dir"]), email)).group(0)
    page = http.get(link[len(target.base_url):])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
    new = "Tg-" + secrets.token_hex(8) + "-New9!"
    r = http.post("/u/reset-password", headers={"cookie": f"tg_csrf={csrf}"},
                  data={"ticket": ticket, "csrf_token": csrf, "new_password": new,
                        "confirm_new_password": new})
    assert r.status_code == 200, r.text

    # the access token issued before the reset is refused at /userinfo, as a revoked token
    r = http.get("/userinfo", headers={"authorization": f"Bearer {access}"})
    assert r.status_code == 401
    assert r.text == "Unauthorized"
    assert r.headers["www-authenticate"].startswith('Bearer realm="Users", error="invalid_token"')
    # both refresh tokens are void
    for rt in refresh_tokens:
        r = refresh(http, web, rt)
        assert (r.status_code, r.json()) == (403, {
            "error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    # the block is lifted and the new password works from the blocked address
    assert login(http, web, conn, email, new, ip).status_code == 200


def test_no_user_enumeration(http, web, conn):
    email, _ = new_user(http, web, conn)
    unknown = f"nobody-{secrets.token_hex(6)}@example.com"
    timings = {"known": [], "unknown": []}
    for i in range(12):
        for who, address in (("known", email), ("unknown", unknown)):
            ip = f"192.0.2.{(i * 2 + (who == 'known')) % 250 + 1}"  # stay under the block
            t0 = time.perf_counter()
            r = login(http, web, conn, address, "not-the-password", ip)
            timings[who].append(time.perf_counter() - t0)
            assert (r.status_code, r.json()) == (403, WRONG)
    known, unknown_t = statistics.median(timings["known"]), statistics.median(timings["unknown"])
    # an unknown user costs a password hash too (a dummy one): same order of time, not ~0
    assert 0.5 < unknown_t / known < 2.0, (known, unknown_t)
    # change_password says the same for both, byte for byte
    answers = {http.post("/dbconnections/change_password",
                         json={"client_id": web["client_id"], "email": a, "connection": conn}).text
               for a in (email, unknown)}
    assert answers == {"We've just sent you an email to reset your password."}
