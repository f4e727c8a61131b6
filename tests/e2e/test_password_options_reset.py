"""The reset page applies the flexible policy (password_options) of the e2e tenant's
"e2e-flexible" connection, as signup does. Needs the test SMTP sink (SMTP_PORT, SMTP_DIR)."""
import re
import secrets
from urllib.parse import urlparse

import pytest
from auth0.authentication import Database

from test_password_reset import LINK, SENT, mail_dir, wait_for_mail  # noqa: F401 (fixture)


@pytest.fixture
def sdk(target, monkeypatch):
    if isinstance(target.ca_cert, str):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", target.ca_cert)
    return urlparse(target.base_url).netloc


def test_reset_page_applies_the_flexible_policy(target, e2e, sdk, mail_dir):
    conn = e2e["connections"]["flexible"]
    web_id = e2e["clients"]["E2E Web"]["client_id"]
    email = f"flexreset-{secrets.token_hex(6)}@example.com"
    first = "Quiet-Harbor-57x"
    db = Database(sdk, web_id)
    db.signup(email=email, password=first, connection=conn, nickname="Zorrito")
    assert db.change_password(email=email, connection=conn) == SENT
    link = LINK.search(wait_for_mail(mail_dir, email)).group(0)
    path = link[len(target.base_url):]
    with target.client() as http:
        page = http.get(path)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        ticket = re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)
        http.cookies.clear()

        def post(pw):
            assert http.get(path).status_code == 200
            http.cookies.clear()
            return http.post("/u/reset-password",
                             data={"ticket": ticket, "csrf_token": csrf, "new_password": pw,
                                   "confirm_new_password": pw},
                             headers={"cookie": f"tg_csrf={csrf}"})

        r = post("short")
        assert r.status_code == 400 and "Password is too weak" in r.text, r.text
        assert "At least 10 characters in length" in r.text
        r = post("Mountain-abc-77")
        assert r.status_code == 400 and "No more than 2 sequential alphanumeric" in r.text
        r = post("Aa1!" + "x-" * 34 + "z")
        assert r.status_code == 400 and "Maximum password length exceeded" in r.text
        r = post("Butterfly1")
        assert r.status_code == 400 and "The chosen password is too common." in r.text
        r = post("Zorrito-Rides-9")
        assert r.status_code == 400 and "based on user information" in r.text
        r = post(first)
        assert r.status_code == 400 and "Password has previously been used" in r.text
        r = post("Calm-Meadow-83q")
        assert r.status_code == 200 and "Your password has been changed." in r.text
