"""Browser sign-in steps shared by the /authorize test modules: a cookie-keeping client that
does not follow redirects (a browser stepped by hand), PKCE, /authorize, the login form, the
callback's parameters and the code exchange. Test modules import these with
`from authflow import ...` (pytest puts this directory on sys.path)."""
import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

PASSWORD = "Tg-" + secrets.token_hex(8) + "-Ok9!"


def browser(target):
    """A cookie-keeping client that does not follow redirects, like a browser we step by hand."""
    return target.client(follow_redirects=False)


def signup(target, client, connection, email=None, password=PASSWORD):
    """A new database user through /dbconnections/signup; returns the email."""
    email = email or f"browser-{secrets.token_hex(6)}@example.com"
    with target.client() as http:
        r = http.post("/dbconnections/signup", json={
            "client_id": client["client_id"], "email": email, "password": password,
            "connection": connection})
        assert r.status_code == 200, r.text
    return email


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize(http, client, **params):
    q = {"response_type": "code", "client_id": client["client_id"],
         "redirect_uri": client["callback"], "scope": "openid profile email"}
    q.update({k: v for k, v in params.items() if v is not None})
    return http.get("/authorize?" + urlencode(q))


def form_fields(html: str) -> dict:
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))


def login(http, target, r, email, password=PASSWORD):
    """From /authorize's redirect to the login page, through the form, to the next redirect."""
    assert r.status_code == 302, r.text
    loc = r.headers["location"]
    assert urlparse(loc).path == "/u/login", loc
    page = http.get(loc if loc.startswith("/") else urlparse(loc)._replace(scheme="", netloc="").geturl())
    assert page.status_code == 200, page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text.lower()
    form = form_fields(page.text)
    form.update({"username": email, "password": password})
    return http.post("/u/login", data=form)


def consented(http, r):
    """Accepts the consent page a third-party application's sign-in shows, if r is one; returns
    the answer that follows (the redirect to the callback)."""
    if r.status_code != 200 or 'action="/u/consent"' not in r.text:
        return r
    form = {k: html.unescape(v) for k, v in form_fields(r.text).items()
            if k in ("state", "csrf_token")}
    return http.post("/u/consent", data={**form, "action": "accept"})


def callback_params(r, client):
    assert r.status_code == 302, r.text
    loc = r.headers["location"]
    assert loc.startswith(client["callback"]), loc
    return {k: v[0] for k, v in parse_qs(urlparse(loc).query).items()}


def exchange(http, client, code, verifier=None, secret=True, redirect_uri=None):
    data = {"grant_type": "authorization_code", "client_id": client["client_id"], "code": code,
            "redirect_uri": redirect_uri or client["callback"]}
    if secret:
        data["client_secret"] = client["client_secret"]
    if verifier:
        data["code_verifier"] = verifier
    return http.post("/oauth/token", data=data)
