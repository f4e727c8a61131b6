"""The password-reset journey end to end, by real email over SMTP (contract.md §11;
security.md #122, #124, #152): auth0-python 4.13.0 Database.change_password answers the exact
text for known and unknown emails alike; the mail reaches the test SMTP server that tests/run
starts (smtp_sink.py, e2e_clients.json "smtp"); the link's page is fetched and its form posted
with httpx (hidden csrf_token + the tg_csrf cookie); then the new password logs in with
GetToken.login and the old one gets "Wrong email or password.". Skipped without the sink."""
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from auth0.authentication import Database, GetToken
from auth0.exceptions import Auth0Error

SENT = "We've just sent you an email to reset your password."
LINK = re.compile(r"https?://[^\s]+/u/reset-password\?ticket=[A-Za-z0-9_-]+")


@pytest.fixture
def sdk(target, monkeypatch):
    if isinstance(target.ca_cert, str):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", target.ca_cert)
    return urlparse(target.base_url).netloc


@pytest.fixture
def web(e2e):
    c = e2e["clients"]["E2E Web"]
    return c["client_id"], c["client_secret"]


@pytest.fixture
def mail_dir(e2e) -> Path:
    smtp = e2e.get("smtp")
    if not smtp or not smtp.get("dir"):
        pytest.skip("no test SMTP server (tests/run starts one: SMTP_PORT, SMTP_DIR)")
    return Path(smtp["dir"])


def mails_to(mail_dir: Path, email: str) -> list:
    out = []
    for p in sorted(mail_dir.glob("*.eml")):
        text = p.read_text(errors="replace")
        if re.search(rf"^X-Envelope-To: {re.escape(email)}\r?$", text, re.M | re.I):
            out.append(text)
    return out


def wait_for_mail(mail_dir: Path, email: str, timeout=20.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = mails_to(mail_dir, email)
        if found:
            return found[-1]
        time.sleep(0.1)
    pytest.fail(f"no mail for {email} in {mail_dir}")


def test_reset_by_email(target, e2e, sdk, web, mail_dir):
    conn = e2e["connections"]["default"]
    email = f"reset-{secrets.token_hex(6)}@example.com"
    old = "Tg-" + secrets.token_hex(8) + "-Old9!"
    new = "Tg-" + secrets.token_hex(8) + "-New9!"
    db = Database(sdk, web[0])
    db.signup(email=email, password=old, connection=conn)

    assert db.change_password(email=email, connection=conn) == SENT
    mail = wait_for_mail(mail_dir, email)
    assert re.search(r"^Subject: Reset your password\r?$", mail, re.M)
    assert re.search(r"^From: no-reply@e2e\.test\r?$", mail, re.M)
    link = LINK.search(mail).group(0)
    assert link.startswith(target.issuer + "u/reset-password?ticket="), link
    path = link[len(target.base_url):]

    with target.client() as http:
        page = http.get(path)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "no-store" in page.headers["cache-control"]
        assert "<script" not in page.text
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
        assert cookie.startswith(f"tg_csrf={csrf};")
        form = {"ticket": ticket, "csrf_token": csrf, "new_password": new,
                "confirm_new_password": new}
        http.cookies.clear()

        # a cross-site post carries no cookie: refused
        r = http.post("/u/reset-password", data=form)
        assert r.status_code == 403, r.text
        r = http.post("/u/reset-password", data={**form, "confirm_new_password": new + "x"},
                      headers={"cookie": f"tg_csrf={csrf}"})
        assert r.status_code == 400 and "do not match" in r.text
        r = http.post("/u/reset-password", data=form, headers={"cookie": f"tg_csrf={csrf}"})
        assert r.status_code == 200, r.text
        assert "Your password has been changed." in r.text
        # the link works once
        r = http.post("/u/reset-password", data=form, headers={"cookie": f"tg_csrf={csrf}"})
        assert r.status_code == 400 and "invalid or has expired" in r.text
        assert http.get(path).status_code == 400

    login = GetToken(sdk, web[0], client_secret=web[1])
    tokens = login.login(username=email, password=new, realm=conn, scope="openid")
    assert tokens["access_token"]
    with pytest.raises(Auth0Error) as err:
        login.login(username=email, password=old, realm=conn, scope="openid")
    assert err.value.message == "Wrong email or password."


def test_unknown_email_same_answer_no_mail(e2e, sdk, web, mail_dir):
    email = f"nobody-{secrets.token_hex(6)}@example.com"
    assert Database(sdk, web[0]).change_password(
        email=email, connection=e2e["connections"]["default"]) == SENT
    time.sleep(1.5)
    assert mails_to(mail_dir, email) == []
