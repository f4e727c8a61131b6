"""What the real-browser suites (tests/e2e/test_browser_*.py) share: headless Debian Chromium
driven by Playwright, and the app whose pages they serve.

The app lives at the e2e tenant's BROWSER_APP origin (https://localhost:<port>, see
make_tenant.py): a small HTTPS server the test runs with the run's certificate, same-site with
the identity server on localhost, as an app and its custom domain would be. Never
`playwright install`: the browser is Debian's chromium (tests/packages.txt)."""
import base64
import hashlib
import html
import http.server
import secrets
import ssl
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
HERE = Path(__file__).resolve().parent


class Browser:
    """One Chromium for a test module. new_context() is a fresh profile (cookies, storage)."""

    def __init__(self):
        self._pw = sync_playwright().start()
        try:
            self.browser = self._pw.chromium.launch(executable_path=CHROMIUM,
                                                    args=CHROMIUM_ARGS, headless=True)
        except Exception:
            self._pw.stop()
            raise

    def new_context(self):
        # the app and the server use the run's self-signed certificate
        return self.browser.new_context(ignore_https_errors=True)

    def close(self):
        self.browser.close()
        self._pw.stop()


class AppServer:
    """The app's origin: `pages` maps a path to (content_type, body as str or bytes); every
    request is recorded in `hits` (path with query); other paths get a 404."""

    def __init__(self, origin: str, cert: str, key: str, pages: dict):
        self.origin = origin.rstrip("/")
        self.pages = dict(pages)
        self.hits = []
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                app.hits.append(self.path)
                page = app.pages.get(urlparse(self.path).path)
                if page is None:
                    self.send_error(404)
                    return
                body = page[1].encode() if isinstance(page[1], str) else page[1]
                self.send_response(200)
                self.send_header("Content-Type", page[0])
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        port = urlparse(self.origin).port
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- helpers the suites share (test_browser_signup.py, test_browser_device.py) ---------------

def pkce():
    """A PKCE (S256) verifier and its challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def query_of(url: str) -> dict:
    """The query parameters of url, one value each."""
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def link_page(title: str, href: str, link_id: str = "login") -> str:
    """An app page with one link (the app's login or signup button)."""
    return (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
            f'<a id="{link_id}" href="{html.escape(href)}">{html.escape(title)}</a></body></html>')


def app_hits(server: AppServer) -> list:
    """The paths the browser asked the app for, favicon requests left out."""
    return [urlparse(u).path for u in server.hits if u != "/favicon.ico"]


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (import this fixture into the module)."""
    b = Browser()
    yield b
    b.close()


def serve_app(target, origin: str, pages: dict) -> AppServer:
    """The app's HTTPS server at origin with the run's certificate; skips the test when the
    run directory (its TLS key) is not at hand, as against a remote deployment."""
    if target.run_dir is None:
        pytest.skip("needs the run's TLS key to serve the app")
    return AppServer(origin, str(target.run_dir / "tls" / "cert.pem"),
                     str(target.run_dir / "tls" / "key.pem"), pages)


# ---- the regular web app of the e2e tenant ("E2E Browser Web") and its sign-in steps ---------

@pytest.fixture(scope="module")
def web(e2e):
    """The browser web app's client, origin, callback and home page."""
    c = e2e["clients"]["E2E Browser Web"]
    app = e2e["browser_app"]
    return {**c, "app": app, "callback": app + "/web/callback", "home": app + "/web/"}


@pytest.fixture(scope="module")
def app(target, web):
    """The web app's HTTPS origin; its home page is set by each test."""
    server = serve_app(target, web["app"], {
        "/web/callback": ("text/html", "<!DOCTYPE html><title>Callback</title>")})
    yield server
    server.close()


def authorize_url(target, web, **params):
    """/authorize for the web app (code flow, scope openid profile email) with params."""
    q = {"response_type": "code", "client_id": web["client_id"], "redirect_uri": web["callback"],
         "scope": "openid profile email"}
    q.update(params)
    return target.base_url + "/authorize?" + urlencode(q)


def sso_then_logout(page, target, web):
    """With the browser's SSO session, prompt=none gets a code silently; after /v2/logout back
    to the app, prompt=none answers login_required."""
    page.goto(authorize_url(target, web, prompt="none", state="sso-1",
                            code_challenge=pkce()[1], code_challenge_method="S256"))
    page.wait_for_url(web["callback"] + "?**")
    silent = query_of(page.url)
    assert silent["state"] == "sso-1" and "code" in silent, silent
    page.goto(target.base_url + "/v2/logout?" + urlencode(
        {"client_id": web["client_id"], "returnTo": web["home"]}))
    page.wait_for_url(web["home"])
    page.goto(authorize_url(target, web, prompt="none", state="after-logout",
                            code_challenge=pkce()[1], code_challenge_method="S256"))
    page.wait_for_url(web["callback"] + "?**")
    after = query_of(page.url)
    assert after["error"] == "login_required", after
    assert after["state"] == "after-logout" and "code" not in after
