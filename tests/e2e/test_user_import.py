"""Auth0 bulk user import (tenant-format.md §3) into the running system: an export of 1,000
users with bcrypt hashes imports with tollgate-users-import, and a sample of them logs in over
HTTP with their old passwords. Bad records are reported by index and skipped."""
import json
import random
import secrets
import subprocess
from pathlib import Path

import bcrypt
import pytest

CONNECTION = "Username-Password-Authentication"
REALM_GRANT = "http://auth0.com/oauth/grant-type/password-realm"


@pytest.fixture(scope="module")
def importer(target):
    env = target.env
    if not env.get("BUILD_DIR") or not env.get("USERS_STORE"):
        pytest.skip("needs the local runner's BUILD_DIR and USERS_STORE (tests/run)")
    tool = Path(env["BUILD_DIR"]) / "svc-users" / "tollgate-users-import"

    def run(records, tmp_path):
        path = tmp_path / f"users-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(records))
        return subprocess.run(
            [str(tool), "--tenant", env["TENANT_FILE"], "--store", env["USERS_STORE"],
             "--connection", CONNECTION, "--master-key-file", str(target.run_dir / "master.key"),
             str(path)], capture_output=True, text=True, timeout=300)
    return run


def login(http, web, email, password):
    return http.post("/oauth/token", data={
        "grant_type": REALM_GRANT, "client_id": web["client_id"],
        "client_secret": web["client_secret"], "username": email, "password": password,
        "realm": CONNECTION, "scope": "openid email"})


def export_record(i, tag, password, prefix=b"2b"):
    # cost 4 keeps 1,000 hashes fast; Auth0's own exports use cost 10 and verify the same way
    h = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=prefix)).decode()
    return {"email": f"imported-{tag}-{i}@e2e.test", "email_verified": i % 2 == 0,
            "user_id": f"imp{tag}{i:05d}", "given_name": "Imported", "family_name": f"User{i}",
            "name": f"Imported User {i}", "nickname": f"imp{i}",
            "user_metadata": {"plan": "gold" if i % 3 == 0 else "free"},
            "app_metadata": {"roles": ["reader"]},
            "password_hash": h}


def test_thousand_users_import_and_log_in(target, http, importer, tmp_path):
    e2e = target.need_e2e()
    web = e2e["clients"]["E2E Web"]
    tag = secrets.token_hex(3)
    passwords = [f"Old-pass-{secrets.token_hex(4)}-{i}" for i in range(1000)]
    records = [export_record(i, tag, passwords[i], prefix=b"2a" if i % 2 else b"2b")
               for i in range(1000)]
    result = importer(records, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "imported 1000, skipped 0"

    for i in random.Random(7).sample(range(1000), 10):
        r = login(http, web, records[i]["email"], passwords[i])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "Bearer" and body["id_token"]
        # the id keeps Auth0's user_id: auth0|<user_id>
        sub = http.get("/userinfo", headers={"authorization": f"Bearer {body['access_token']}"})
        assert sub.status_code == 200, sub.text
        assert sub.json()["sub"] == f"auth0|{records[i]['user_id']}"
        assert sub.json()["email"] == records[i]["email"]
    wrong = login(http, web, records[0]["email"], passwords[0] + "x")
    assert wrong.status_code == 403
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Wrong email or password."}


def test_bad_records_are_reported_by_index_and_skipped(target, http, importer, tmp_path):
    e2e = target.need_e2e()
    web = e2e["clients"]["E2E Web"]
    tag = secrets.token_hex(3)
    good = [export_record(i, tag, f"Good-pass-{i}") for i in range(3)]
    records = [
        good[0],
        {"email": "not-an-email", "password_hash": good[0]["password_hash"]},            # 1
        {"email": {"$gt": ""}},                                                          # 2
        good[1],
        {**export_record(9, tag, "x"), "custom_password_hash": {"algorithm": "md4"}},     # 4
        {**export_record(10, tag, "y"), "unexpected_field": True},                       # 5
        dict(good[1], user_id=f"other{tag}"),                                             # 6: email again
        good[2],
    ]
    result = importer(records, tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == "imported 3, skipped 5"
    reported = {int(line.split(":")[0].split()[1]) for line in result.stderr.splitlines()
                if line.startswith("record ")}
    assert reported == {1, 2, 4, 5, 6}, result.stderr
    for i in range(3):
        assert login(http, web, good[i]["email"], f"Good-pass-{i}").status_code == 200
