"""The per-address limit on reset emails, end to end over HTTP/2 (svc-users/reset_limit.c):
POST /dbconnections/change_password sends at most Auth0's burst of 10 emails to one address
(then one a minute), counting every request whether or not the address belongs to a user, in
any case of the address; beyond it the answer is the same status, headers and body, in about
the same time, and no mail goes out. Mail is read where the system sends it: the test SMTP
server's folder (tests/run, e2e_clients.json "smtp") or else the outbox folder of the run."""
import re
import secrets
import statistics
import time
from pathlib import Path

import pytest

SENT = "We've just sent you an email to reset your password."
BURST = 10  # Auth0's documented burst for this endpoint (svc-users/users.h USERS_RESET_BURST)
# headers that differ between any two answers, limited or not
VARYING = {"date", "x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}


@pytest.fixture(scope="module")
def conn(e2e):
    return e2e["connections"]["default"]


@pytest.fixture(scope="module")
def mail_dir(target, e2e) -> Path:
    smtp = e2e.get("smtp")
    if smtp and smtp.get("dir"):
        return Path(smtp["dir"])
    if target.run_dir is None or not (target.run_dir / "outbox").is_dir():
        pytest.skip("no mail folder: neither the test SMTP server's nor the run's outbox")
    return target.run_dir / "outbox"


def mails_to(mail_dir: Path, email: str) -> int:
    """Mails addressed to email: the SMTP sink's envelope line, or the outbox file's To:."""
    want = re.compile(rf"^(X-Envelope-To|To): {re.escape(email)}\r?$", re.M | re.I)
    return sum(1 for p in mail_dir.glob("*.eml") if want.search(p.read_text(errors="replace")))


def wait_mails(mail_dir: Path, email: str, n: int, timeout=20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and mails_to(mail_dir, email) < n:
        time.sleep(0.1)
    assert mails_to(mail_dir, email) == n


def signup(http, web, conn, email):
    r = http.post("/dbconnections/signup", json={
        "client_id": web["client_id"], "email": email, "connection": conn,
        "password": "Tg-" + secrets.token_hex(8) + "-Ok9!"})
    assert r.status_code == 200, r.text


@pytest.fixture
def one_minute():
    """The bucket gains a token each minute: a test starts early in a minute, so that it ends
    in the same one (each takes a few seconds) and the counts it asserts are exact."""
    into = time.time() % 60
    if into > 40:
        time.sleep(60 - into + 0.2)


def ask(http, web, conn, email):
    """One change_password request over HTTP/2: (answer without the varying headers, seconds)."""
    t0 = time.perf_counter()
    r = http.post("/dbconnections/change_password",
                  json={"client_id": web["client_id"], "email": email, "connection": conn})
    took = time.perf_counter() - t0
    assert r.http_version == "HTTP/2"
    headers = tuple(sorted((k, v) for k, v in r.headers.items() if k not in VARYING))
    return (r.status_code, headers, r.content), took


def drain(http, web, conn, mail_dir, answer):
    """A fresh user's request goes to the one mail queue after everything asked before: once
    its mail is there, every earlier request has been dealt with."""
    email = f"sentinel-{secrets.token_hex(6)}@example.com"
    signup(http, web, conn, email)
    assert ask(http, web, conn, email)[0] == answer
    wait_mails(mail_dir, email, 1)


def test_limit_holds_and_answers_are_identical(http, web, conn, mail_dir, one_minute):
    email = f"limit-{secrets.token_hex(6)}@example.com"
    signup(http, web, conn, email)
    cases = [email, email.upper(), email.capitalize(), email.replace("@example", "@EXAMPLE")]
    answers = {ask(http, web, conn, cases[i % len(cases)])[0] for i in range(BURST)}
    assert len(answers) == 1
    (answer,) = answers
    assert answer[0] == 200 and answer[2] == SENT.encode()
    assert dict(answer[1])["content-type"] == "text/html; charset=utf-8"
    wait_mails(mail_dir, email, BURST)

    # beyond the limit: the same answer, byte for byte, and no mail
    for i in range(3):
        assert ask(http, web, conn, cases[i % len(cases)])[0] == answer
    drain(http, web, conn, mail_dir, answer)
    assert mails_to(mail_dir, email) == BURST


def test_unknown_address_is_counted_too(http, web, conn, mail_dir, one_minute):
    email = f"ghost-{secrets.token_hex(6)}@example.com"
    answers = {ask(http, web, conn, email)[0] for _ in range(BURST)}
    # the user signs up afterwards: the address's bucket is already spent
    signup(http, web, conn, email)
    answers.add(ask(http, web, conn, email.upper())[0])
    assert len(answers) == 1
    drain(http, web, conn, mail_dir, answers.pop())
    assert mails_to(mail_dir, email) == 0


def test_limited_answer_takes_the_same_time(http, web, conn, mail_dir, one_minute):
    spent = f"spent-{secrets.token_hex(6)}@example.com"
    signup(http, web, conn, spent)
    for _ in range(BURST):
        ask(http, web, conn, spent)
    timings = {"limited": [], "fresh": []}
    answers = set()
    for _ in range(20):
        # a known user past the limit, and a new address (not limited, nobody's)
        for who, address in (("limited", spent), ("fresh", f"f-{secrets.token_hex(6)}@example.com")):
            answer, took = ask(http, web, conn, address)
            answers.add(answer)
            timings[who].append(took)
    assert len(answers) == 1
    limited, fresh = statistics.median(timings["limited"]), statistics.median(timings["fresh"])
    assert 0.5 < limited / fresh < 2.0, (limited, fresh)
    drain(http, web, conn, mail_dir, answers.pop())
    assert mails_to(mail_dir, spent) == BURST


@pytest.mark.parametrize("email", [
    "a" * 300 + "@example.com",              # over 254 bytes: nobody's, looked up as ""
    "x" * 5000,                              # far too long, and not an address
    "\u00c9milie-\u00fc@Exa\u0301mple.COM",  # non-ASCII UTF-8, mixed case
    "victim@example.com\r\nBcc: all@example.com",  # header injection
], ids=["overlong", "huge", "non-ascii", "crlf"])
def test_hostile_addresses_same_answer(http, web, conn, mail_dir, email):
    good = f"ok-{secrets.token_hex(6)}@example.com"
    signup(http, web, conn, good)
    reference, _ = ask(http, web, conn, good)
    for _ in range(BURST + 2):  # within the limit and beyond it
        assert ask(http, web, conn, email)[0] == reference
    drain(http, web, conn, mail_dir, reference)
    assert mails_to(mail_dir, good) == 1


INVALID_JSON = {"error": "invalid_request", "error_description": "Invalid JSON body"}


@pytest.mark.parametrize("email", [
    b"\xff\xfe@example.com",        # not UTF-8
    b"\xc0\xaf@example.com",        # overlong UTF-8 form
    b"\\udcff@example.com",         # an escaped lone surrogate
], ids=["bytes", "overlong-form", "lone-surrogate"])
def test_non_utf8_address_is_refused_by_the_json_reader(http, web, conn, email):
    body = (b'{"client_id": "' + web["client_id"].encode() + b'", "email": "' + email +
            b'", "connection": "' + conn.encode() + b'"}')
    for _ in range(BURST + 2):
        r = http.post("/dbconnections/change_password", content=body,
                      headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (400, INVALID_JSON)
