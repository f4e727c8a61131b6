"""Auth0's flexible password policy (options.password_options) and the built-in dictionaries,
end to end over HTTP/2: POST /dbconnections/signup against the e2e tenant's "e2e-flexible"
connection (every part on: min_length 10, three_of_four, identical and sequential characters
blocked, max_length_exceeded error, the 100k dictionary plus a custom word, blocked profile
fields nickname, user_metadata.pet and email), its "e2e-flexible-truncate" connection, and the
legacy password_dictionary of the default connection (the 10,000-word list). Every refusal's
body is checked whole (contract.md §10, §21.3)."""
import secrets

import pytest

REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"
GOOD = "Quiet-Harbor-57x"

LOWER = {"code": "lowerCase", "message": "lower case letters (a-z)"}
UPPER = {"code": "upperCase", "message": "upper case letters (A-Z)"}
NUMBERS = {"code": "numbers", "message": "numbers (i.e. 0-9)"}
SPECIAL = {"code": "specialCharacters", "message": "special characters (e.g. !@#$%^&*)"}


def email(tag="po"):
    return f"{tag}-{secrets.token_hex(6)}@example.com"


def signup(http, client_id, connection, password, **fields):
    r = http.post("/dbconnections/signup", json={"client_id": client_id, "email": email(),
                                                 "password": password,
                                                 "connection": connection, **fields})
    assert r.http_version == "HTTP/2"
    return r


def strength_body(length_ok, max_ok, kinds, identical_ok, sequential_ok):
    """The PasswordStrengthError body the e2e-flexible connection gives: its five rules in
    order, with the verified flags given (kinds: lower, upper, numbers, special)."""
    items = [dict(item, verified=ok) for item, ok in zip((LOWER, UPPER, NUMBERS, SPECIAL), kinds)]
    rules = [
        {"code": "lengthAtLeast", "message": "At least %d characters in length", "format": [10],
         "verified": length_ok},
        {"code": "maxLength", "message": "Maximum password length exceeded", "format": [72],
         "verified": max_ok},
        {"code": "containsAtLeast",
         "message": "Contain at least %d of the following %d types of characters:",
         "format": [3, 4], "items": items, "verified": sum(kinds) >= 3},
        {"code": "identicalChars",
         "message": "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
         "format": [2, "aaa"], "verified": identical_ok},
        {"code": "sequentialChars",
         "message": "No more than %d sequential alphanumeric characters (e.g., \"%s\" not "
                    "allowed)",
         "format": [2, "abc"], "verified": sequential_ok},
    ]
    return {"name": "PasswordStrengthError", "code": "invalid_password", "statusCode": 400,
            "description": {"rules": rules, "verified": False}}


DICTIONARY = {"name": "PasswordDictionaryError", "code": "password_dictionary_error",
              "description": "The chosen password is too common.", "statusCode": 400}
USER_INFO = {"name": "PasswordNoUserInfoError", "code": "password_no_user_info_error",
             "description": "The chosen password is based on user information.",
             "statusCode": 400}


@pytest.fixture
def web_id(e2e):
    return e2e["clients"]["E2E Web"]["client_id"]


@pytest.fixture
def flex(e2e):
    return e2e["connections"]["flexible"]


@pytest.mark.parametrize("password,expected", [
    # too short, one kind, three identical: every failing rule reported, the rest verified
    ("aaa", strength_body(False, True, (True, False, False, False), False, True)),
    # long enough and three kinds, but "abc" is a run of three
    ("Mountain-abc-77", strength_body(True, True, (True, True, True, True), True, False)),
    ("Mountain-CBA-77", strength_body(True, True, (True, True, True, True), True, False)),
    ("Mountain-789-xx", strength_body(True, True, (True, True, True, True), True, False)),
    # two kinds only
    ("mountainriver", strength_body(True, True, (True, False, False, False), True, True)),
    ("mountain-river", strength_body(True, True, (True, False, False, True), True, True)),
    # 73 bytes: max_length_exceeded error refuses it, never truncates it
    ("Aa1!" + "x-" * 34 + "z", strength_body(True, False, (True, True, True, True), True, True)),
    # bytes, not characters: 32 characters, 73 bytes
    ("Aa1!" + "\u20ac\u00fc" * 13 + "\u20acx", strength_body(True, False, (True, True, True, True),
                                                         True, True)),
    # identical characters, not bytes: three euro signs in a row
    ("Aa1!-quiet-\u20ac\u20ac\u20ac", strength_body(True, True, (True, True, True, True), False,
                                                  True)),
])
def test_strength_refusals(http, web_id, flex, password, expected):
    r = signup(http, web_id, flex, password)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == expected


def test_exactly_72_bytes_is_accepted(http, web_id, flex):
    password = "Aa1!" + "x-" * 34   # 72 bytes
    assert len(password.encode()) == 72
    r = signup(http, web_id, flex, password)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("password", [
    "Butterfly1",          # the 100k list only (rank ~50,000)
    "bUTTERFLY1",          # case-insensitive
    "7Elephants",          # the 100k list only
    "tollgate-flex-2026",  # the connection's custom word, other case
])
def test_dictionary_refusals(http, web_id, flex, password):
    r = signup(http, web_id, flex, password)
    assert r.status_code == 400, r.text
    assert r.json() == DICTIONARY


@pytest.mark.parametrize("password,fields", [
    ("Zorrito-Rides-9", {"nickname": "Zorrito"}),
    ("My-FLUFFY-cat-9", {"user_metadata": {"pet": "Fluffy"}}),
    ("Hi-Quokka-Jones-9", {}),  # the email's local part, sent as quokka-jones@...
])
def test_profile_data_refusals(http, web_id, flex, password, fields):
    body = {"client_id": web_id, "email": "quokka-jones@example.com" if not fields else email(),
            "password": password, "connection": flex, **fields}
    r = http.post("/dbconnections/signup", json=body)
    assert r.http_version == "HTTP/2"
    assert r.status_code == 400, r.text
    assert r.json() == USER_INFO


def test_fields_not_blocked_are_allowed(http, web_id, flex):
    # name is not among this connection's blocked_fields (nickname, user_metadata.pet, email)
    r = signup(http, web_id, flex, "Lovelace-Ada-9x", name="Ada Lovelace", nickname="Countess",
               user_metadata={"pet": "Rex", "city": "London"})
    assert r.status_code == 200, r.text


def test_success(http, web_id, flex):
    addr = email("ok")
    r = http.post("/dbconnections/signup", json={"client_id": web_id, "email": addr,
                                                 "password": GOOD, "connection": flex,
                                                 "nickname": "Skipper"})
    assert r.http_version == "HTTP/2"
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["email"] == addr and b["email_verified"] is False and b["nickname"] == "Skipper"
    assert "password" not in b and "password_hash" not in b


def password_login(http, e2e, connection, username, password):
    web = e2e["clients"]["E2E Web"]
    return http.post("/oauth/token", data={
        "grant_type": REALM_GRANT, "client_id": web["client_id"],
        "client_secret": web["client_secret"], "username": username, "password": password,
        "realm": connection, "scope": "openid"})


def test_truncate_never_truncates(http, e2e, web_id):
    """max_length_exceeded truncate: a 100-byte password is taken whole (argon2id), so its
    first 72 bytes are not the password."""
    conn = e2e["connections"]["flexible_truncate"]
    addr, password = email("trunc"), "Long-" + secrets.token_hex(48)[:95]
    assert len(password) == 100
    r = http.post("/dbconnections/signup", json={"client_id": web_id, "email": addr,
                                                 "password": password, "connection": conn})
    assert r.status_code == 200, r.text
    ok = password_login(http, e2e, conn, addr, password)
    assert ok.status_code == 200, ok.text
    assert "id_token" in ok.json()
    cut = password_login(http, e2e, conn, addr, password[:72])
    assert cut.status_code == 403, cut.text
    assert cut.json()["error"] == "invalid_grant"


def test_legacy_dictionary_has_the_10k_list(http, e2e, web_id):
    """The default connection's legacy password_dictionary: "america1" sits in the middle of the
    10,000-word list (rank ~4,100) and was not in the old built-in 117; it passes "good", so the
    dictionary is what refuses it."""
    r = signup(http, web_id, e2e["connections"]["default"], "America1")
    assert r.status_code == 400, r.text
    assert r.json() == DICTIONARY
    # A word of the 100k list only is not in the legacy 10k dictionary.
    r = signup(http, web_id, e2e["connections"]["default"], "Butterfly1")
    assert r.status_code == 200, r.text
