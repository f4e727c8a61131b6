"""POST /dbconnections/signup end to end (contract.md §10, §21.3): the official SDK
auth0-python 4.13.0 (Database.signup) for the happy path, raw httpx for the hostile cases.
Needs the whole system with svc-users and the e2e tenant's database connections."""
import secrets
from urllib.parse import urlparse

import pytest
from auth0.authentication import Database
from auth0.exceptions import Auth0Error


@pytest.fixture
def sdk(target, monkeypatch):
    if isinstance(target.ca_cert, str):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", target.ca_cert)
    return urlparse(target.base_url).netloc


@pytest.fixture
def web_id(e2e):
    return e2e["clients"]["E2E Web"]["client_id"]


@pytest.fixture
def conn(e2e):
    return e2e["connections"]["default"]


def email():
    return f"su-{secrets.token_hex(6)}@example.com"


PASSWORD = "Tg-Signup-42!x"


def signup(http, **body):
    return http.post("/dbconnections/signup", json=body)


def assert_dbconn(r, code, name="BadRequestError", description=None):
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    b = r.json()
    assert b["name"] == name and b["code"] == code and b["statusCode"] == 400, b
    if description is not None:
        assert b["description"] == description, b
    return b


def test_sdk_signup(sdk, web_id, conn):
    addr = email()
    r = Database(sdk, web_id).signup(email=addr.upper(), password=PASSWORD, connection=conn,
                                     given_name="Ada", family_name="Lovelace",
                                     user_metadata={"plan": "free"})
    assert len(r["_id"]) == 24 and "auth0|" not in r["_id"], r
    assert r["email"] == addr and r["email_verified"] is False
    assert r["given_name"] == "Ada" and r["family_name"] == "Lovelace"
    assert r["user_metadata"] == {"plan": "free"}
    assert "password" not in r and "password_hash" not in r and "nickname" not in r


def test_sdk_duplicate(sdk, web_id, conn):
    addr = email()
    Database(sdk, web_id).signup(email=addr, password=PASSWORD, connection=conn)
    with pytest.raises(Auth0Error) as ei:
        Database(sdk, web_id).signup(email=addr, password=PASSWORD, connection=conn)
    assert ei.value.status_code == 400 and ei.value.error_code == "invalid_signup"


def test_duplicate_raw(http, web_id, conn):
    addr = email()
    assert signup(http, client_id=web_id, email=addr, password=PASSWORD,
                  connection=conn).status_code == 200
    assert_dbconn(signup(http, client_id=web_id, email=addr, password=PASSWORD, connection=conn),
                  "invalid_signup", description="Invalid sign up")


@pytest.mark.parametrize("password,failing", [
    ("short1A", "lengthAtLeast"),          # good: at least 8
    ("alllowercase", "containsAtLeast"),   # good: 3 of 4 kinds
])
def test_policy_violations(http, web_id, conn, password, failing):
    b = assert_dbconn(signup(http, client_id=web_id, email=email(), password=password,
                             connection=conn), "invalid_password", name="PasswordStrengthError")
    d = b["description"]
    assert isinstance(d, dict) and d["verified"] is False
    by_code = {rule["code"]: rule for rule in d["rules"]}
    assert set(by_code) == {"lengthAtLeast", "containsAtLeast"}
    assert by_code[failing]["verified"] is False
    assert by_code["lengthAtLeast"]["format"] == [8]
    assert by_code["containsAtLeast"]["format"] == [3, 4]
    assert [i["code"] for i in by_code["containsAtLeast"]["items"]] == [
        "lowerCase", "upperCase", "numbers", "specialCharacters"]


def test_dictionary_and_personal_info(http, web_id, conn):
    assert_dbconn(signup(http, client_id=web_id, email=email(), password="Tollgate2026",
                         connection=conn), "password_dictionary_error",
                  name="PasswordDictionaryError")
    assert_dbconn(signup(http, client_id=web_id, email=email(), password="P@ssw0rd",
                         connection=conn), "password_dictionary_error",
                  name="PasswordDictionaryError")
    local = "mallory" + secrets.token_hex(2)
    assert_dbconn(signup(http, client_id=web_id, email=local + "@example.com",
                         password=local.upper() + "-9x", connection=conn),
                  "password_no_user_info_error", name="PasswordNoUserInfoError")


def test_missing_and_unknown(http, web_id, conn, e2e):
    assert_dbconn(signup(http, client_id=web_id, password=PASSWORD, connection=conn),
                  "invalid_signup", description="Missing required parameter: email")
    assert_dbconn(signup(http, client_id=web_id, email=email(), connection=conn),
                  "invalid_signup", description="Missing required parameter: password")
    assert_dbconn(signup(http, client_id=web_id, email=email(), password=PASSWORD,
                         connection="No-Such-Connection"),
                  "invalid_signup", description="the connection was not found")
    other = e2e["clients"]["E2E Web Not Enabled"]["client_id"]
    assert_dbconn(signup(http, client_id=other, email=email(), password=PASSWORD,
                         connection=conn),
                  "invalid_signup", description="the connection was disabled")
    assert_dbconn(signup(http, client_id=web_id, email=email(), password=PASSWORD,
                         connection=e2e["connections"]["no_signup"]),
                  "operation_not_allowed", description="public signup is disabled")


def test_requires_username(http, web_id, e2e):
    c = e2e["connections"]["usernames"]
    r = signup(http, client_id=web_id, email=email(), password="secret1", connection=c)
    assert r.status_code == 400
    assert r.json() == {"error": f"missing username for {c} connection with requires_username "
                                 "enabled"}
    name = "u" + secrets.token_hex(4)
    r = signup(http, client_id=web_id, email=email(), password="secret1", connection=c,
               username=name)
    assert r.status_code == 200 and r.json()["username"] == name, r.text
    assert_dbconn(signup(http, client_id=web_id, email=email(), password="secret1",
                         connection=c, username=name.upper()), "invalid_signup")
    assert_dbconn(signup(http, client_id=web_id, email=email(), password="secret1",
                         connection=c, username="ab"), "invalid_signup")


def test_hostile_email(http, web_id, conn):
    for bad in [{"$gt": ""}, "not-an-email", "a b@example.com", "x" * 250 + "@example.com"]:
        r = signup(http, client_id=web_id, email=bad, password=PASSWORD, connection=conn)
        assert r.status_code == 400, (bad, r.text)


def test_overlong_fields(http, web_id, conn):
    for field, limit in [("given_name", 300), ("family_name", 300), ("name", 300),
                         ("nickname", 300), ("picture", 2048)]:
        r = signup(http, client_id=web_id, email=email(), password=PASSWORD, connection=conn,
                   **{field: "x" * (limit + 1)})
        assert_dbconn(r, "invalid_signup", description=f"{field}: at most {limit} characters")
    r = signup(http, client_id=web_id, email=email(), password=PASSWORD, connection=conn,
               given_name="x" * 300)
    assert r.status_code == 200, r.text


def test_overlong_password(http, web_id, conn):
    # argon2id takes up to 1024 bytes; nothing is ever silently truncated
    r = signup(http, client_id=web_id, email=email(), password="Aa1!" + "x" * 1021,
               connection=conn)
    assert_dbconn(r, "invalid_password", name="PasswordStrengthError")


def test_metadata_limits(http, web_id, conn):
    cases = [
        ({str(i): "v" for i in range(11)}, "user_metadata: at most 10 properties"),
        ({"k": "v" * 501}, "user_metadata: property values must be at most 500 characters"),
        ({"k" * 101: "v"}, "user_metadata: property names must be 1 to 100 characters"),
        ({"k": 1}, "user_metadata: property values must be strings"),
        ({"k": {"nested": "x"}}, "user_metadata: property values must be strings"),
    ]
    for meta, text in cases:
        r = signup(http, client_id=web_id, email=email(), password=PASSWORD, connection=conn,
                   user_metadata=meta)
        assert r.status_code == 400, (meta, r.text)
        if r.headers["content-type"].startswith("application/json") and "code" in r.json():
            assert r.json()["description"] == text, r.json()
    r = signup(http, client_id=web_id, email=email(), password=PASSWORD, connection=conn,
               user_metadata={str(i): "v" * 500 for i in range(10)})
    assert r.status_code == 200, r.text


def test_non_utf8(http, web_id, conn):
    body = (b'{"client_id":"' + web_id.encode() + b'","email":"' + email().encode() +
            b'","password":"' + PASSWORD.encode() + b'","connection":"' + conn.encode() +
            b'","given_name":"\xff\xfe"}')
    r = http.post("/dbconnections/signup", content=body,
                  headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text


def test_profile_defaults_in_id_token(http, e2e, web_id, conn):
    """A user who sent no profile gets Auth0's: name = email, nickname = the email's local part,
    picture = the email's Gravatar with the initials avatar as fallback; the signup reply still
    echoes only what was sent."""
    import hashlib

    import jwt as pyjwt

    addr = email()
    r = signup(http, client_id=web_id, email=addr, password=PASSWORD, connection=conn)
    assert r.status_code == 200, r.text
    assert "name" not in r.json() and "picture" not in r.json()
    web = e2e["clients"]["E2E Web"]
    t = http.post("/oauth/token", data={
        "grant_type": "password", "client_id": web["client_id"],
        "client_secret": web["client_secret"], "username": addr, "password": PASSWORD,
        "scope": "openid profile email"})
    assert t.status_code == 200, t.text
    claims = pyjwt.decode(t.json()["id_token"], options={"verify_signature": False})
    md5 = hashlib.md5(addr.encode()).hexdigest()
    assert claims["name"] == addr and claims["nickname"] == addr.split("@")[0]
    assert claims["picture"] == (f"https://s.gravatar.com/avatar/{md5}?s=480&r=pg&d="
                                 "https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fsu.png")
