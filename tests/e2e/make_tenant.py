"""Writes the end-to-end test tenant (Auth0 tenant.yaml format) and the secrets the harness
needs into RUN_DIR: tenant.yaml, e2e_clients.json and the private_key_jwt client's key."""
import json
import os
import secrets
import sys
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

API = "https://api.e2e.test/"
API_HS = "https://hs.e2e.test/"
API_ES = "https://es.e2e.test/"
API_NOGRANT = "https://nogrant.e2e.test/"
API_OFFLINE = "https://offline.e2e.test/"
WEB_CALLBACK = "https://app.e2e.test/callback"
SPA_CALLBACK = "https://spa.e2e.test/"
DB_CONNECTION = "Username-Password-Authentication"
DB_USERNAME_CONNECTION = "e2e-usernames"
DB_NO_SIGNUP_CONNECTION = "e2e-no-signup"
DB_FLEX_CONNECTION = "e2e-flexible"            # password_options (test_password_options.py)
DB_FLEX_TRUNCATE_CONNECTION = "e2e-flexible-truncate"
IMPLICIT_CALLBACK = "https://implicit.e2e.test/callback"
BACKCHANNEL_CALLBACK = "https://rp.e2e.test/callback"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The origin of the real-browser suites' app pages (test_browser_*.py, served over HTTPS by the
# test itself on this port): same-site with the server on localhost, like an app and its
# custom domain. TG_BROWSER_APP_PORT pins it; by default a port that is free now.
def browser_app_port() -> int:
    if os.environ.get("TG_BROWSER_APP_PORT"):
        return int(os.environ["TG_BROWSER_APP_PORT"])
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BROWSER_APP = "https://localhost:%d" % browser_app_port()


def pem_pair(key):
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return priv, pub


def main(run_dir: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwt_priv, jwt_pub = pem_pair(rsa_key)
    other_priv, _ = pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def client(name, method, **extra):
        c = {"name": name, "app_type": "non_interactive", "client_id": "e2e-" + secrets.token_hex(8),
             "client_secret": secrets.token_urlsafe(32), "token_endpoint_auth_method": method,
             "grant_types": ["client_credentials"]}
        c.update(extra)
        return c

    clients = [
        client("Demo M2M", "client_secret_post"),
        client("E2E Post", "client_secret_post"),
        client("E2E Basic", "client_secret_basic",
               # characters that oauth4webapi form-encodes before Base64 (RFC 6749 §2.3.1)
               client_secret="s3cr-et_~.!*'()+/=%:" + secrets.token_hex(8)),
        client("E2E No Grant", "client_secret_post"),
        client("E2E No CC", "client_secret_post", grant_types=["authorization_code"]),
        client("E2E SPA", "none", app_type="spa", grant_types=["authorization_code"],
               callbacks=[SPA_CALLBACK], allowed_logout_urls=[SPA_CALLBACK],
               web_origins=["https://spa.e2e.test"]),
    ]
    jwt_client = {"name": "E2E JWT", "app_type": "non_interactive",
                  "client_id": "e2e-jwt-" + secrets.token_hex(6),
                  "grant_types": ["client_credentials"],
                  "client_authentication_methods": {"private_key_jwt": {"credentials": [
                      {"name": "e2e-key", "credential_type": "public_key", "pem": jwt_pub}]}}}
    clients.append(jwt_client)
    del clients[5]["client_secret"]  # public client: no secret
    # Applications that log users in with a password (issue #3).
    password_grants = ["password", "http://auth0.com/oauth/grant-type/password-realm",
                       "authorization_code", "refresh_token"]
    clients.append(client("E2E Web", "client_secret_post", app_type="regular_web",
                          grant_types=list(password_grants),
                          callbacks=[WEB_CALLBACK, "http://localhost:3000/callback"],
                          allowed_logout_urls=["https://app.e2e.test/"]))
    clients.append(client("E2E Web Not Enabled", "client_secret_post", app_type="regular_web",
                          grant_types=list(password_grants)))
    # Rotating, expiring refresh tokens with short lifetimes (contract.md §21.1).
    clients.append(client("E2E Rotating", "client_secret_post", app_type="regular_web",
                          grant_types=list(password_grants),
                          refresh_token={"rotation_type": "rotating", "expiration_type": "expiring",
                                         "leeway": 0, "token_lifetime": 3600,
                                         "idle_token_lifetime": 1800}))

    # The real-browser suites (test_browser_login.py, test_browser_spa.py).
    clients.append(client("E2E Browser Web", "client_secret_post", app_type="regular_web",
                          grant_types=["authorization_code", "refresh_token"],
                          callbacks=[BROWSER_APP + "/web/callback"],
                          allowed_logout_urls=[BROWSER_APP + "/web/"]))
    browser_spa = client("E2E Browser SPA", "none", app_type="spa",
                         grant_types=["authorization_code", "refresh_token"],
                         callbacks=[BROWSER_APP + "/spa/"], allowed_logout_urls=[BROWSER_APP + "/spa/"],
                         web_origins=[BROWSER_APP],
                         refresh_token={"rotation_type": "rotating", "expiration_type": "expiring",
                                        "leeway": 0, "token_lifetime": 3600,
                                        "idle_token_lifetime": 1800})
    del browser_spa["client_secret"]  # public client: no secret
    clients.append(browser_spa)

    # Implicit and hybrid response types (issue #4): a confidential web app and a public SPA
    # with Auth0's implicit grant; back-channel logout receivers on a local port the suite binds
    # (both spellings of the Deploy CLI field; the legacy one with HS256 ID/logout tokens).
    implicit_grants = ["authorization_code", "implicit", "refresh_token"]
    clients.append(client("E2E Implicit", "client_secret_post", app_type="regular_web",
                          grant_types=list(implicit_grants), callbacks=[IMPLICIT_CALLBACK]))
    clients.append(client("E2E Implicit SPA", "none", app_type="spa",
                          grant_types=list(implicit_grants), callbacks=[IMPLICIT_CALLBACK]))
    del clients[-1]["client_secret"]
    bc_port = free_port()
    bc_url = f"http://127.0.0.1:{bc_port}"
    clients.append(client("E2E Backchannel", "client_secret_post", app_type="regular_web",
                          grant_types=list(implicit_grants), callbacks=[BACKCHANNEL_CALLBACK],
                          allowed_logout_urls=["https://rp.e2e.test/"],
                          oidc_logout={"backchannel_logout_urls": [bc_url + "/bc/new"]}))
    clients.append(client("E2E Backchannel Legacy", "client_secret_post", app_type="regular_web",
                          grant_types=list(implicit_grants), callbacks=[BACKCHANNEL_CALLBACK],
                          jwt_configuration={"alg": "HS256"},
                          oidc_backchannel_logout={"backchannel_logout_urls": [bc_url + "/bc/old"]}))

    # The device authorization grant (RFC 8628, test_device_flow.py): public native apps, one
    # with refresh tokens; and a native app without the grant.
    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    for name, grants in (("E2E Device", [device_grant, "refresh_token"]),
                         ("E2E Device Other", [device_grant]),
                         ("E2E Native No Device", ["authorization_code"])):
        clients.append(client(name, "none", app_type="native", grant_types=grants))
        del clients[-1]["client_secret"]

    grant = lambda name, aud, scope: {"client_id": name, "audience": aud, "scope": scope}
    tenant = {
        "tenant": {"friendly_name": "E2E", "default_audience": API,
                   "default_directory": DB_CONNECTION},
        "clients": clients,
        "databases": [
            {"name": DB_CONNECTION, "is_domain_connection": True,
             "enabled_clients": ["E2E Web", "E2E SPA", "Demo M2M", "E2E Post", "E2E Rotating",
                                 "E2E Implicit", "E2E Implicit SPA", "E2E Backchannel",
                                 "E2E Backchannel Legacy"],
             "options": {"passwordPolicy": "good", "brute_force_protection": True,
                         "password_dictionary": {"enable": True, "dictionary": ["tollgate2026"]},
                         "password_no_personal_info": {"enable": True},
                         "requires_username": False, "disable_signup": False}},
            {"name": DB_USERNAME_CONNECTION,
             "enabled_clients": ["E2E Web"],
             "options": {"passwordPolicy": "low", "requires_username": True,
                         "validation": {"username": {"min": 3, "max": 20}}}},
            {"name": DB_NO_SIGNUP_CONNECTION,
             "enabled_clients": ["E2E Web"],
             "options": {"passwordPolicy": "none", "disable_signup": True}},
        ],
        "resourceServers": [
            {"name": "E2E API", "identifier": API, "signing_alg": "RS256", "token_lifetime": 3600,
             "scopes": [{"value": "read:items"}, {"value": "write:items"}, {"value": "admin"}]},
            {"name": "E2E HS API", "identifier": API_HS, "signing_alg": "HS256",
             "signing_secret": secrets.token_urlsafe(32), "scopes": [{"value": "read:hs"}]},
            {"name": "E2E ES API", "identifier": API_ES, "signing_alg": "ES256",
             "scopes": [{"value": "read:es"}]},
            {"name": "E2E No Grant API", "identifier": API_NOGRANT, "signing_alg": "RS256"},
            {"name": "E2E Offline API", "identifier": API_OFFLINE, "signing_alg": "RS256",
             "allow_offline_access": True, "scopes": [{"value": "read:rt"}]},
        ],
        "clientGrants": [
            grant("Demo M2M", API, ["read:items", "write:items"]),
            grant("E2E Post", API, ["read:items", "write:items"]),
            grant("E2E Basic", API, ["read:items"]),
            grant("E2E JWT", API, ["read:items"]),
            grant("E2E Post", API_HS, ["read:hs"]),
            grant("E2E Post", API_ES, ["read:es"]),
        ],
    }
    tenant["databases"][0]["enabled_clients"] += ["E2E Browser Web", "E2E Browser SPA"]
    tenant["databases"][0]["enabled_clients"] += ["E2E Device", "E2E Device Other"]
    # Dynamic client registration (test_dynamic_registration.py) and a web app with Auth0's
    # subdomain wildcard callback.
    tenant["tenant"]["flags"] = {"enable_dynamic_client_registration": True}
    clients.append(client("E2E Wildcard", "client_secret_post", app_type="regular_web",
                          grant_types=["authorization_code"],
                          callbacks=["https://*.wild.e2e.test/callback"]))
    tenant["databases"][0]["enabled_clients"] += ["E2E Wildcard"]
    # A third-party application (is_first_party false): its users are asked for consent
    # (test_authorize_consent.py).
    clients.append(client("E2E Third Party", "client_secret_post", app_type="regular_web",
                          grant_types=["authorization_code"], is_first_party=False,
                          callbacks=["https://third.e2e.test/callback"]))
    tenant["databases"][0]["enabled_clients"] += ["E2E Third Party"]
    # Auth0's flexible password policy (test_password_options.py): every part on, and one that
    # only sets max_length_exceeded truncate.
    tenant["databases"].append(
        {"name": DB_FLEX_CONNECTION, "enabled_clients": ["E2E Web"],
         "options": {"password_options": {
             "complexity": {"min_length": 10,
                            "character_types": ["lowercase", "uppercase", "number", "special"],
                            "character_type_rule": "three_of_four",
                            "identical_characters": "block", "sequential_characters": "block",
                            "max_length_exceeded": "error"},
             "history": {"active": True, "size": 3},
             "dictionary": {"active": True, "default": "en_100k",
                            "custom": ["Tollgate-Flex-2026"]},
             "profile_data": {"active": True,
                              "blocked_fields": ["nickname", "user_metadata.pet", "email"]}}}})
    tenant["databases"].append(
        {"name": DB_FLEX_TRUNCATE_CONNECTION, "enabled_clients": ["E2E Web"],
         "options": {"password_options": {
             "complexity": {"min_length": 8, "max_length_exceeded": "truncate"}}}})
    # Mail goes to the test SMTP sink that tests/run starts (SMTP_PORT); without it, to the
    # outbox folder.
    if os.environ.get("SMTP_PORT"):
        tenant["emailProvider"] = {
            "name": "smtp", "enabled": True, "default_from_address": "no-reply@e2e.test",
            "credentials": {"smtp_host": "127.0.0.1", "smtp_port": int(os.environ["SMTP_PORT"])}}
        info_smtp = {"port": int(os.environ["SMTP_PORT"]), "dir": os.environ.get("SMTP_DIR", "")}
    else:
        info_smtp = None
    run_dir.mkdir(parents=True, exist_ok=True)
    # No anchors or aliases: the loader refuses them (alias bombs), as it should.
    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    (run_dir / "tenant.yaml").write_text(yaml.dump(tenant, Dumper=NoAliases, sort_keys=False))
    (run_dir / "e2e_jwt_key.pem").write_text(jwt_priv)
    (run_dir / "e2e_other_key.pem").write_text(other_priv)
    info = {
        "clients": {c["name"]: {"client_id": c["client_id"], "client_secret": c.get("client_secret", "")}
                    for c in clients},
        "apis": {"rs": API, "hs": API_HS, "es": API_ES, "nogrant": API_NOGRANT,
                 "offline": API_OFFLINE},
        "hs_secret": tenant["resourceServers"][1]["signing_secret"],
        "smtp": info_smtp,
        "callbacks": {"web": WEB_CALLBACK, "spa": SPA_CALLBACK, "implicit": IMPLICIT_CALLBACK,
                      "backchannel": BACKCHANNEL_CALLBACK},
        "backchannel_port": bc_port,
        "connections": {"default": DB_CONNECTION, "usernames": DB_USERNAME_CONNECTION,
                        "no_signup": DB_NO_SIGNUP_CONNECTION},
        "jwt_key": str(run_dir / "e2e_jwt_key.pem"),
        "other_key": str(run_dir / "e2e_other_key.pem"),
    }
    info["browser_app"] = BROWSER_APP
    info["callbacks"]["third"] = "https://third.e2e.test/callback"
    info["connections"]["flexible"] = DB_FLEX_CONNECTION
    info["connections"]["flexible_truncate"] = DB_FLEX_TRUNCATE_CONNECTION
    (run_dir / "e2e_clients.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
