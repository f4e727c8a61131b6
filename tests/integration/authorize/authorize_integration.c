/*
 * svc-authorize's handlers over the real bus and a real SQLite store, with svc-users' real
 * handlers in-process behind a real users bus device (the production topology, without
 * HTTP): the whole authorization code flow at the RPC level (Authorize -> /u/login ->
 * LoginPage -> LoginSubmit -> code at the redirect_uri -> RedeemCode once), the redemption
 * race, SSO (prompt=none with and without a session, prompt=login, max_age), the
 * non-redirectable errors (unknown client, unregistered or look-alike redirect_uri), errors
 * sent back to the client (PKCE, response_type, audience), form_post, CSRF, session fixation
 * and logout.
 */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authorize.h"
#include "core/util.h"
#include "users.h"

#define ISSUER "https://tenant.test/"
#define CALLBACK "https://app.example.com/callback"
#define SPA_CALLBACK "http://localhost:3000/cb"
#define EMAIL "alice@example.com"
#define PASSWORD "correct horse battery staple"

#include "az_system.h"
/* base64url(SHA-256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")), RFC 7636 appendix B */
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static const char tenant_yaml[] =
    "tenant:\n"
    "  friendly_name: Tollgate Test\n"
    "  default_directory: Username-Password-Authentication\n"
    "  allowed_logout_urls: ['https://tenant-wide.example.com/bye']\n"
    "clients:\n"
    "  - name: Web App\n"
    "    app_type: regular_web\n"
    "    client_id: web-id\n"
    "    client_secret: web-secret-value\n"
    "    token_endpoint_auth_method: client_secret_post\n"
    "    grant_types: [authorization_code, refresh_token]\n"
    "    callbacks: ['" CALLBACK "', 'https://app.example.com/other']\n"
    "    allowed_logout_urls: ['https://app.example.com/logged-out']\n"
    "  - name: SPA\n"
    "    app_type: spa\n"
    "    client_id: spa-id\n"
    "    token_endpoint_auth_method: none\n"
    "    callbacks: ['" SPA_CALLBACK "']\n"
    "  - name: M2M\n"
    "    app_type: non_interactive\n"
    "    client_id: m2m-id\n"
    "    client_secret: m2m-secret-value\n"
    "    grant_types: [client_credentials]\n"
    "    callbacks: ['https://m2m.example.com/cb']\n"
    "resourceServers:\n"
    "  - name: API\n"
    "    identifier: https://api.test/\n"
    "    scopes: [{value: 'read:a'}]\n"
    "databases:\n"
    "  - name: Username-Password-Authentication\n";

/* ---- helpers -------------------------------------------------------------------------- */

/* Percent-decoded value of parameter name in the query or fragment of url; false if absent. */
static bool
param(const char *url, const char *name, char *out, size_t len)
{
    const char *p = strpbrk(url, "?#");
    size_t n = strlen(name), o = 0;

    while (p != NULL && *p) {
        p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            for (p += n + 1; *p && *p != '&' && *p != '#' && o + 1 < len; p++) {
                if (*p == '%' && tg_hex_value(p[1]) >= 0 && tg_hex_value(p[2]) >= 0) {
                    out[o++] = (char)(tg_hex_value(p[1]) * 16 + tg_hex_value(p[2]));
                    p += 2;
                } else {
                    out[o++] = *p == '+' ? ' ' : *p;
                }
            }
            out[o] = '\0';
            return true;
        }
        p = strpbrk(p, "&#");
    }
    return false;
}

typedef struct az_args {
    const char *client_id, *redirect_uri, *response_type, *state, *nonce, *scope, *audience,
        *prompt, *max_age, *response_mode, *code_challenge, *code_challenge_method, *cookie;
    const char *organization, *invitation;
} az_args;

static Tollgate__Authorize__PageReply *
authorize(const az_args *a)
{
    Tollgate__Authorize__AuthorizeRequest req = TOLLGATE__AUTHORIZE__AUTHORIZE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

#define SET(f, v) req.f = (char *)((v) != NULL ? (v) : "")
    SET(client_id, a->client_id != NULL ? a->client_id : "web-id");
    SET(redirect_uri, a->redirect_uri != NULL ? a->redirect_uri : CALLBACK);
    SET(response_type, a->response_type != NULL ? a->response_type : "code");
    SET(state, a->state);
    SET(nonce, a->nonce);
    SET(scope, a->scope);
    SET(audience, a->audience);
    SET(prompt, a->prompt);
    SET(max_age, a->max_age);
    SET(response_mode, a->response_mode);
    SET(code_challenge, a->code_challenge);
    SET(code_challenge_method, a->code_challenge_method);
    SET(organization, a->organization);
    SET(invitation, a->invitation);
#undef SET
    web.cookie = (char *)(a->cookie != NULL ? a->cookie : "");
    web.client_ip = "192.0.2.10";
    req.web = &web;
    return page_call("authorize.Authorize", &req.base);
}

static Tollgate__Authorize__PageReply *
login_page(const char *txn)
{
    Tollgate__Authorize__LoginPageRequest req = TOLLGATE__AUTHORIZE__LOGIN_PAGE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    req.web = &web;
    req.state = (char *)txn;
    return page_call("authorize.LoginPage", &req.base);
}

static Tollgate__Authorize__PageReply *
login_submit(const char *txn, const char *csrf, const char *cookie, const char *user,
             const char *pw)
{
    Tollgate__Authorize__LoginSubmitRequest req = TOLLGATE__AUTHORIZE__LOGIN_SUBMIT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    web.cookie = (char *)cookie;
    web.client_ip = "192.0.2.10";
    req.web = &web;
    req.state = (char *)txn;
    req.csrf_token = (char *)csrf;
    req.username = (char *)user;
    req.password = (char *)pw;
    return page_call("authorize.LoginSubmit", &req.base);
}

/* RedeemCode; returns the reply or NULL with *res holding the refusal (caller frees). */
static Tollgate__Authorize__RedeemCodeReply *
redeem(const char *code, const char *client_id, const char *redirect_uri, bus_result **res)
{
    Tollgate__Authorize__RedeemCodeRequest req = TOLLGATE__AUTHORIZE__REDEEM_CODE_REQUEST__INIT;

    req.code = (char *)code;
    req.client_id = (char *)client_id;
    req.redirect_uri = (char *)redirect_uri;
    return (void *)call_id("authorize.RedeemCode", NULL, &req.base,
                        &tollgate__authorize__redeem_code_reply__descriptor, res);
}

static void
assert_invalid_code(const char *code, const char *client_id, const char *redirect_uri)
{
    bus_result *res = NULL;

    assert_null(redeem(code, client_id, redirect_uri, &res));
    assert_non_null(res);
    assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN);
    assert_string_equal(res->error->error, "invalid_grant");
    assert_string_equal(res->error->error_description, "Invalid authorization code");
    bus_result_free(res);
}

/* A 302 to the login page: the transaction id into txn. */
static void
assert_login_redirect(const Tollgate__Authorize__PageReply *r, char *txn, size_t len)
{
    assert_int_equal(r->http->status, 302);
    assert_true(strncmp(r->http->location, "/u/login?state=", 15) == 0);
    assert_true(param(r->http->location, "state", txn, len));
}

/* A 302 to redirect_uri (query) carrying error and description, state and iss. */
static void
assert_error_redirect(const Tollgate__Authorize__PageReply *r, const char *redirect_uri,
                      const char *error, const char *desc, const char *state)
{
    char v[512];

    assert_int_equal(r->http->status, 302);
    assert_true(strncmp(r->http->location, redirect_uri, strlen(redirect_uri)) == 0);
    assert_int_equal(r->http->location[strlen(redirect_uri)], '?');
    assert_true(param(r->http->location, "error", v, sizeof(v)));
    assert_string_equal(v, error);
    assert_true(param(r->http->location, "error_description", v, sizeof(v)));
    assert_string_equal(v, desc);
    assert_true(param(r->http->location, "iss", v, sizeof(v)));
    assert_string_equal(v, ISSUER);
    if (state != NULL) {
        assert_true(param(r->http->location, "state", v, sizeof(v)));
        assert_string_equal(v, state);
    }
    assert_false(param(r->http->location, "code", v, sizeof(v)));
}

/* An HTML error page and no redirect anywhere. */
static void
assert_error_page(const Tollgate__Authorize__PageReply *r, const char *text)
{
    assert_int_equal(r->http->status, 400);
    assert_true(r->http->location == NULL || r->http->location[0] == '\0');
    assert_string_equal(r->http->content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(body(r), text));
    assert_non_null(header(r, "Content-Security-Policy", 0));
    assert_string_equal(header(r, "X-Frame-Options", 0), "DENY");
}

typedef struct login_result {
    char code[128];
    char session[200]; /* "tg_session=...; tg_session_compat=..." for a Cookie header */
    char state[128];
    char set_cookie[300]; /* the Set-Cookie header of tg_session */
} login_result;

/* The interactive journey from a 302 to the login page to the code at redirect_uri. */
static void
login_via(const Tollgate__Authorize__PageReply *r1, const char *cookie_in, const char *redirect,
          login_result *out)
{
    Tollgate__Authorize__PageReply *r2, *r3;
    char txn[128], csrf[128], csrf_cookie[200], cookie[600], v[128], compat[128];

    assert_login_redirect(r1, txn, sizeof(txn));
    r2 = login_page(txn);
    assert_int_equal(r2->http->status, 200);
    hidden(body(r2), "csrf_token", csrf, sizeof(csrf));
    cookie_value(r2, AUTHORIZE_CSRF_COOKIE, csrf_cookie, sizeof(csrf_cookie));
    assert_string_equal(csrf, csrf_cookie);
    snprintf(cookie, sizeof(cookie), "%s%s" AUTHORIZE_CSRF_COOKIE "=%s",
             cookie_in != NULL ? cookie_in : "", cookie_in != NULL ? "; " : "", csrf);
    r3 = login_submit(txn, csrf, cookie, EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 302);
    assert_true(strncmp(r3->http->location, redirect, strlen(redirect)) == 0);
    assert_int_equal(r3->http->location[strlen(redirect)], '?');
    assert_true(param(r3->http->location, "code", out->code, sizeof(out->code)));
    assert_true(param(r3->http->location, "iss", v, sizeof(v)));
    assert_string_equal(v, ISSUER);
    out->state[0] = '\0';
    param(r3->http->location, "state", out->state, sizeof(out->state));
    cookie_value(r3, AUTHORIZE_SESSION_COOKIE, v, sizeof(v));
    cookie_value(r3, AUTHORIZE_SESSION_COOKIE_COMPAT, compat, sizeof(compat));
    assert_string_equal(v, compat);
    snprintf(out->session, sizeof(out->session), AUTHORIZE_SESSION_COOKIE "=%s", v);
    snprintf(out->set_cookie, sizeof(out->set_cookie), "%s",
             set_cookie(r3, AUTHORIZE_SESSION_COOKIE));
    page_free(r2);
    page_free(r3);
}

/* A fresh login of the web client (no session); the code and session into out. */
static void
login_web(const char *state, login_result *out)
{
    az_args a = {.state = state, .nonce = "n-0S6_WzA2Mj"};
    Tollgate__Authorize__PageReply *r = authorize(&a);

    login_via(r, NULL, CALLBACK, out);
    page_free(r);
}

/* ---- setup ---------------------------------------------------------------------------- */

static int
setup(void **state)
{
    (void)state;
    az_system_start(tenant_yaml, "authorize", "web-id");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    az_system_stop();
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_code_flow(void **state)
{
    Tollgate__Authorize__PageReply *r1, *r2, *r3;
    Tollgate__Authorize__RedeemCodeReply *rc;
    bus_result *res = NULL;
    char txn[128], csrf[128], cookie[300], v[128];
    const char *sc;
    az_args a = {.state = "xyz=1&2",
                 .nonce = "n-0S6_WzA2Mj",
                 .scope = "openid profile",
                 .audience = "https://api.test/"};
    (void)state;

    r1 = authorize(&a);
    assert_login_redirect(r1, txn, sizeof(txn));
    r2 = login_page(txn);
    assert_int_equal(r2->http->status, 200);
    assert_non_null(strstr(body(r2), "Tollgate Test"));
    assert_non_null(strstr(body(r2), "Web App"));
    assert_null(strstr(body(r2), "<script"));
    /* form-action also governs the redirect after the post: the callback's origin, no other */
    assert_string_equal(header(r2, "Content-Security-Policy", 0),
                        "default-src 'none'; img-src https:; style-src 'unsafe-inline'; "
                        "form-action 'self' "
                        "https://app.example.com; frame-ancestors 'none'; base-uri 'none'");
    assert_string_equal(header(r2, "X-Frame-Options", 0), "DENY");
    assert_string_equal(header(r2, "Referrer-Policy", 0), "no-referrer");
    hidden(body(r2), "csrf_token", csrf, sizeof(csrf));
    sc = set_cookie(r2, AUTHORIZE_CSRF_COOKIE);
    assert_non_null(sc);
    assert_non_null(strstr(sc, "; Path=/u/login; Secure; HttpOnly; SameSite=Strict"));
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);

    /* a wrong password: the page again with svc-users' words, no code */
    r3 = login_submit(txn, csrf, cookie, EMAIL, "wrong password");
    assert_int_equal(r3->http->status, 401);
    assert_non_null(strstr(body(r3), "Wrong email or password."));
    assert_null(set_cookie(r3, AUTHORIZE_SESSION_COOKIE));
    page_free(r3);

    r3 = login_submit(txn, csrf, cookie, EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 302);
    assert_true(strncmp(r3->http->location, CALLBACK "?code=", strlen(CALLBACK) + 6) == 0);
    assert_true(param(r3->http->location, "state", v, sizeof(v)));
    assert_string_equal(v, "xyz=1&2");
    assert_true(param(r3->http->location, "iss", v, sizeof(v)));
    assert_string_equal(v, ISSUER);
    sc = set_cookie(r3, AUTHORIZE_SESSION_COOKIE);
    assert_non_null(sc);
    assert_non_null(strstr(sc, "; Path=/; "));
    assert_non_null(strstr(sc, "; Secure; HttpOnly; SameSite=None"));
    sc = set_cookie(r3, AUTHORIZE_SESSION_COOKIE_COMPAT);
    assert_non_null(sc);
    assert_null(strstr(sc, "SameSite"));
    assert_true(param(r3->http->location, "code", v, sizeof(v)));

    /* the transaction is spent */
    page_free(r2);
    r2 = login_page(txn);
    assert_int_equal(r2->http->status, 400);

    /* the code: once, with what it stands for; then never again */
    rc = redeem(v, "web-id", CALLBACK, &res);
    assert_null(res);
    assert_true(strncmp(rc->user_id, "auth0|", 6) == 0);
    assert_string_equal(rc->scope, "openid profile");
    assert_string_equal(rc->audience, "https://api.test/");
    assert_string_equal(rc->nonce, "n-0S6_WzA2Mj");
    assert_true(rc->auth_time > 0 && rc->auth_time <= tg_now_s());
    assert_true(rc->sid[0] != '\0');
    assert_string_equal(rc->code_challenge, "");
    protobuf_c_message_free_unpacked(&rc->base, NULL);
    assert_invalid_code(v, "web-id", CALLBACK);
    page_free(r1);
    page_free(r2);
    page_free(r3);
}

static void
test_code_bound_to_client_and_redirect_uri(void **state)
{
    login_result l;
    (void)state;

    login_web(NULL, &l);
    assert_invalid_code(l.code, "spa-id", CALLBACK);
    /* spent by the wrong presentation: the right one fails too */
    assert_invalid_code(l.code, "web-id", CALLBACK);
    login_web(NULL, &l);
    assert_invalid_code(l.code, "web-id", "https://app.example.com/other");
    assert_invalid_code("not-a-code", "web-id", CALLBACK);
    assert_invalid_code("", "web-id", CALLBACK);
}

typedef struct race_arg {
    const char *code;
    int ok;
} race_arg;

static void *
race_redeem(void *p)
{
    race_arg *a = p;
    bus_result *res = NULL;
    Tollgate__Authorize__RedeemCodeReply *rc = redeem(a->code, "web-id", CALLBACK, &res);

    a->ok = rc != NULL;
    if (rc != NULL)
        protobuf_c_message_free_unpacked(&rc->base, NULL);
    bus_result_free(res);
    return NULL;
}

static void
test_redeem_race_one_winner(void **state)
{
    pthread_t t[8];
    race_arg args[8];
    login_result l;
    int winners = 0;
    (void)state;

    login_web(NULL, &l);
    for (int i = 0; i < 8; i++) {
        args[i] = (race_arg){.code = l.code};
        assert_int_equal(pthread_create(&t[i], NULL, race_redeem, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        winners += args[i].ok;
    }
    assert_int_equal(winners, 1);
}

static void
test_prompt_none(void **state)
{
    Tollgate__Authorize__PageReply *r;
    login_result l;
    char v[128];
    bus_result *res = NULL;
    Tollgate__Authorize__RedeemCodeReply *rc;
    (void)state;

    az_args none = {.prompt = "none", .state = "s1"};
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", "s1");
    page_free(r);

    login_web(NULL, &l);
    none.cookie = l.session;
    none.nonce = "n2";
    r = authorize(&none);
    assert_int_equal(r->http->status, 302);
    assert_true(strncmp(r->http->location, CALLBACK "?code=", strlen(CALLBACK) + 6) == 0);
    assert_true(param(r->http->location, "code", v, sizeof(v)));
    rc = redeem(v, "web-id", CALLBACK, &res);
    assert_non_null(rc);
    assert_string_equal(rc->nonce, "n2");
    assert_string_equal(rc->scope, "openid");
    protobuf_c_message_free_unpacked(&rc->base, NULL);
    page_free(r);

    /* the compat cookie alone works too (browsers that drop SameSite=None cookies) */
    char compat[128];
    const char *sid_value = l.session + strlen(AUTHORIZE_SESSION_COOKIE "=");
    size_t sid_len = strcspn(sid_value, ";");
    assert_true(sid_len < 64); /* a session id is 43 base64url characters */
    snprintf(compat, sizeof(compat), AUTHORIZE_SESSION_COOKIE_COMPAT "=%.*s", (int)sid_len,
             sid_value);
    none.cookie = compat;
    r = authorize(&none);
    assert_true(param(r->http->location, "code", v, sizeof(v)));
    page_free(r);

    /* a forged cookie is no session */
    none.cookie = AUTHORIZE_SESSION_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", "s1");
    page_free(r);
}

static void
test_prompt_login_and_max_age(void **state)
{
    Tollgate__Authorize__PageReply *r;
    login_result l, l2;
    char txn[128], v[128];
    (void)state;

    login_web(NULL, &l);
    az_args a = {.prompt = "login", .cookie = l.session};
    r = authorize(&a);
    assert_login_redirect(r, txn, sizeof(txn));
    page_free(r);

    az_args m = {.max_age = "3600", .cookie = l.session};
    r = authorize(&m);
    assert_true(param(r->http->location, "code", v, sizeof(v)));
    page_free(r);
    m.max_age = "0";
    r = authorize(&m);
    assert_login_redirect(r, txn, sizeof(txn));
    page_free(r);
    m.max_age = "3600";

    sleep(2);
    m.max_age = "1";
    r = authorize(&m);
    assert_login_redirect(r, txn, sizeof(txn));
    /* logging in again with a session: a new session, the old cookie is dead (no fixation) */
    login_via(r, l.session, CALLBACK, &l2);
    assert_string_not_equal(l.session, l2.session);
    page_free(r);
    az_args none = {.prompt = "none", .cookie = l.session};
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", NULL);
    page_free(r);
    none.cookie = l2.session;
    r = authorize(&none);
    assert_true(param(r->http->location, "code", v, sizeof(v)));
    page_free(r);

    m.max_age = "abc";
    r = authorize(&m);
    assert_error_redirect(r, CALLBACK, "invalid_request", "Invalid max_age", NULL);
    page_free(r);
}

static void
test_untrusted_redirect_uri_never_redirected(void **state)
{
    static const char *const bad[] = {
        "https://evil.test/callback",
        "https://app.example.com.evil.test/callback",
        "https://app.example.com@evil.test/callback",
        "https://app%2eexample.com/callback",
        "https://app.example.com/callback/../x",
        "https://app.example.com/callback?x=1",
        "javascript:alert(1)",
    };
    Tollgate__Authorize__PageReply *r;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        az_args a = {.redirect_uri = bad[i], .state = "s", .response_type = "token"};
        r = authorize(&a);
        assert_error_page(r, "Callback URL mismatch. The provided redirect_uri is not in the "
                             "list of allowed callback URLs.");
        page_free(r);
    }
    /* two callbacks and none named: no default */
    az_args none = {.redirect_uri = ""};
    r = authorize(&none);
    assert_error_page(r, "Callback URL mismatch.");
    page_free(r);
    /* one callback and none named: that one */
    az_args spa = {.client_id = "spa-id",
                   .redirect_uri = "",
                   .code_challenge = CHALLENGE,
                   .code_challenge_method = "S256",
                   .prompt = "none"};
    r = authorize(&spa);
    assert_error_redirect(r, SPA_CALLBACK, "login_required", "Login required", NULL);
    page_free(r);

    az_args unknown = {.client_id = "nobody"};
    r = authorize(&unknown);
    assert_error_page(r, "Unknown client: nobody");
    page_free(r);
    az_args missing = {.client_id = ""};
    r = authorize(&missing);
    assert_error_page(r, "Missing required parameter: client_id");
    page_free(r);
}

static void
test_errors_go_back_to_client(void **state)
{
    Tollgate__Authorize__PageReply *r;
    (void)state;

    /* token and id_token are answered now (implicit.c); a word outside the three is not */
    az_args rt = {.response_type = "code none", .state = "st"};
    r = authorize(&rt);
    assert_error_redirect(r, CALLBACK, "unsupported_response_type",
                          "Unsupported response type: code none", "st");
    page_free(r);

    az_args aud = {.audience = "https://nope.test/", .state = "st"};
    r = authorize(&aud);
    assert_error_redirect(r, CALLBACK, "access_denied", "Service not found: https://nope.test/",
                          "st");
    page_free(r);

    az_args m2m = {.client_id = "m2m-id", .redirect_uri = "https://m2m.example.com/cb"};
    r = authorize(&m2m);
    assert_error_redirect(r, "https://m2m.example.com/cb", "unauthorized_client",
                          "Grant type 'authorization_code' not allowed for the client.", NULL);
    page_free(r);

    az_args mode = {.response_mode = "web_messages"};
    r = authorize(&mode);
    assert_error_redirect(r, CALLBACK, "invalid_request", "Unsupported response_mode: web_messages",
                          NULL);
    page_free(r);

    /* web_message to an origin the client does not list as a web origin: an error page, never
     * a post (web_message.c) */
    az_args wm = {.response_mode = "web_message"};
    r = authorize(&wm);
    assert_int_equal(r->http->status, 400);
    assert_true(r->http->location == NULL || r->http->location[0] == '\0');
    assert_non_null(strstr(body(r), "does not have a registered origin"));
    assert_null(strstr(body(r), "<script"));
    page_free(r);
}

static void
test_public_client_needs_pkce_s256(void **state)
{
    Tollgate__Authorize__PageReply *r;
    login_result l;
    bus_result *res = NULL;
    Tollgate__Authorize__RedeemCodeReply *rc;
    (void)state;

    az_args a = {.client_id = "spa-id", .redirect_uri = SPA_CALLBACK, .state = "p"};
    r = authorize(&a);
    assert_error_redirect(r, SPA_CALLBACK, "invalid_request",
                          "Missing required parameter: code_challenge", "p");
    page_free(r);

    a.code_challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    a.code_challenge_method = "plain";
    r = authorize(&a);
    assert_error_redirect(r, SPA_CALLBACK, "invalid_request",
                          "code_challenge_method plain not supported", "p");
    page_free(r);

    a.code_challenge_method = "S256";
    a.code_challenge = "short";
    r = authorize(&a);
    assert_error_redirect(r, SPA_CALLBACK, "invalid_request", "Invalid code_challenge", "p");
    page_free(r);

    a.code_challenge = CHALLENGE;
    r = authorize(&a);
    login_via(r, NULL, SPA_CALLBACK, &l);
    page_free(r);
    assert_string_equal(l.state, "p");
    rc = redeem(l.code, "spa-id", SPA_CALLBACK, &res);
    assert_non_null(rc);
    assert_string_equal(rc->code_challenge, CHALLENGE);
    assert_string_equal(rc->code_challenge_method, "S256");
    protobuf_c_message_free_unpacked(&rc->base, NULL);
}

static void
test_form_post(void **state)
{
    Tollgate__Authorize__PageReply *r;
    const char *csp;
    (void)state;

    az_args a = {.prompt = "none", .response_mode = "form_post", .state = "\"><b>x</b>"};
    r = authorize(&a);
    assert_int_equal(r->http->status, 200);
    assert_true(r->http->location == NULL || r->http->location[0] == '\0');
    assert_non_null(strstr(body(r), "<form method=\"post\" action=\"" CALLBACK "\">"));
    assert_non_null(strstr(body(r), "name=\"error\" value=\"login_required\""));
    assert_non_null(strstr(body(r), "name=\"state\" value=\"&quot;&gt;&lt;b&gt;x&lt;/b&gt;\""));
    assert_non_null(strstr(body(r), "name=\"iss\" value=\"" ISSUER "\""));
    assert_non_null(strstr(body(r), "<noscript>"));
    csp = header(r, "Content-Security-Policy", 0);
    assert_non_null(csp);
    assert_non_null(strstr(csp, "script-src " AUTHORIZE_FORM_POST_SCRIPT_HASH));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    page_free(r);
}

static void
test_fragment_mode(void **state)
{
    Tollgate__Authorize__PageReply *r;
    char v[64];
    (void)state;

    az_args a = {.prompt = "none", .response_mode = "fragment", .state = "f"};
    r = authorize(&a);
    assert_int_equal(r->http->status, 302);
    assert_true(
        strncmp(r->http->location, CALLBACK "#error=login_required&", strlen(CALLBACK) + 22) == 0);
    assert_true(param(r->http->location, "state", v, sizeof(v)));
    assert_string_equal(v, "f");
    page_free(r);
}

static void
test_idle_session_expires(void **state)
{
    Tollgate__Authorize__PageReply *r;
    login_result l;
    (void)state;

    fx.az.session_idle_s = 1; /* handlers read it per request; tests run one at a time */
    login_web(NULL, &l);
    fx.az.session_idle_s = AUTHORIZE_SESSION_IDLE_S;
    sleep(3); /* expiry has one-second resolution: keep a second of margin */
    az_args none = {.prompt = "none", .cookie = l.session};
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", NULL);
    page_free(r);
}

/* The tenant file's session settings, applied as svc-authorize's main applies them: the stored
 * session expires after the file's idle lifetime (within its absolute one), the cookie is a
 * browser-session cookie with session_cookie.mode non-persistent, and once the idle lifetime
 * has passed (the stored expiry moved back to now, instead of waiting a minute) prompt=none
 * gets login_required. */
static void
test_tenant_session_settings(void **state)
{
    static const char head[] = "tenant:\n"
                               "  idle_session_lifetime_in_minutes: 1\n"
                               "  session_lifetime: 2\n"
                               "  session_cookie: {mode: non-persistent}\n";
    const authorize_app saved = fx.az;
    char text[sizeof(head) + sizeof(tenant_yaml)], errbuf[256], hash[65];
    const char *value;
    config *cfg = NULL;
    json_t *doc = NULL, *set;
    login_result l;
    int64_t now = tg_now_s(), created, idle, absolute;
    Tollgate__Authorize__PageReply *r;
    (void)state;

    snprintf(text, sizeof(text), "%s%s", head, tenant_yaml + strlen("tenant:\n"));
    assert_int_equal(config_load_text("tenant.yaml", text, strlen(text), "test-master-key", &cfg,
                                      errbuf, sizeof(errbuf)),
                     TG_OK);
    fx.az.cfg = cfg; /* handlers read the app per request; tests run one at a time */
    authorize_session_settings(&fx.az, cfg);
    assert_int_equal(fx.az.session_idle_s, 60);
    assert_int_equal(fx.az.session_lifetime_s, 7200);
    login_web(NULL, &l);
    assert_null(strstr(l.set_cookie, "Max-Age"));
    value = l.session + strlen(AUTHORIZE_SESSION_COOKIE "=");
    authorize_sha256_hex(value, hash);
    assert_int_equal(store_get(fx.az.st, AUTHORIZE_COLL_SESSIONS, hash, &doc), TG_OK);
    created = json_integer_value(json_object_get(doc, "created_at"));
    idle = json_integer_value(json_object_get(doc, "expires_at"));
    absolute = json_integer_value(json_object_get(doc, "absolute_expires_at"));
    assert_true(created >= now && created <= now + 5);
    assert_int_equal(idle - created, 60);
    assert_int_equal(absolute - created, 7200);
    json_decref(doc);
    /* a minute without use */
    set = json_pack("{s:I}", "expires_at", (json_int_t)tg_now_s() - 1);
    assert_int_equal(store_update(fx.az.st, AUTHORIZE_COLL_SESSIONS, hash, set), TG_OK);
    json_decref(set);
    az_args none = {.prompt = "none", .cookie = l.session};
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", NULL);
    page_free(r);
    fx.az = saved;
    config_free(cfg);
}

/* A tenant file without organizations has none to log in to: organization and invitation go
 * back to the client as invalid_request (the redirect_uri is trusted by then). */
static void
test_organization_without_organizations(void **state)
{
    Tollgate__Authorize__PageReply *r;
    (void)state;

    az_args org = {.organization = "org_W4ZC2xXkzGBYhJfe", .state = "o"};
    r = authorize(&org);
    assert_error_redirect(r, CALLBACK, "invalid_request",
                          "parameter organization is invalid: org_W4ZC2xXkzGBYhJfe", "o");
    page_free(r);
    az_args inv = {.invitation = "inv-ticket-1"};
    r = authorize(&inv);
    assert_error_redirect(r, CALLBACK, "invalid_request",
                          "parameter invitation is invalid: inv-ticket-1", NULL);
    page_free(r);
    /* never before the client is known: an unknown client still gets the page */
    az_args unknown = {.client_id = "nobody", .organization = "org_x"};
    r = authorize(&unknown);
    assert_int_equal(r->http->status, 400);
    assert_true(r->http->location == NULL || r->http->location[0] == '\0');
    page_free(r);
}

static void
test_csrf_refused(void **state)
{
    Tollgate__Authorize__PageReply *r1, *r2, *r3;
    char txn[128], csrf[128], cookie[300];
    az_args a = {0};
    (void)state;

    r1 = authorize(&a);
    assert_login_redirect(r1, txn, sizeof(txn));
    r2 = login_page(txn);
    hidden(body(r2), "csrf_token", csrf, sizeof(csrf));
    /* no cookie, a wrong cookie, a wrong field: 403 and no login */
    r3 = login_submit(txn, csrf, "", EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 403);
    page_free(r3);
    r3 = login_submit(txn, csrf, AUTHORIZE_CSRF_COOKIE "=other", EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 403);
    page_free(r3);
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);
    r3 = login_submit(txn, "other", cookie, EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 403);
    assert_null(set_cookie(r3, AUTHORIZE_SESSION_COOKIE));
    page_free(r3);
    /* unknown transactions */
    r3 = login_submit("nope", csrf, cookie, EMAIL, PASSWORD);
    assert_int_equal(r3->http->status, 400);
    page_free(r3);
    page_free(r1);
    page_free(r2);
}

static Tollgate__Authorize__PageReply *
logout(const char *client_id, const char *return_to, const char *cookie)
{
    Tollgate__Authorize__LogoutRequest req = TOLLGATE__AUTHORIZE__LOGOUT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    web.cookie = (char *)cookie;
    req.web = &web;
    req.client_id = (char *)client_id;
    req.returnto = (char *)return_to;
    return page_call("authorize.Logout", &req.base);
}

static void
test_logout(void **state)
{
    Tollgate__Authorize__PageReply *r;
    login_result l;
    const char *sc;
    (void)state;

    login_web(NULL, &l);
    /* an unlisted returnTo: Auth0's page, no redirect, the session stays */
    r = logout("web-id", "https://evil.test/", l.session);
    assert_error_page(r, "The \"returnTo\" querystring parameter \"https://evil.test/\" is "
                         "not defined as a valid URL in \"Allowed Logout URLs\". To add a new "
                         "URL, please do it here: "
                         "https://manage.auth0.com/#/applications/web-id/settings");
    page_free(r);
    r = logout("", "https://app.example.com/logged-out", l.session); /* app URL, tenant list */
    assert_error_page(r, "https://manage.auth0.com/#/tenant/advanced");
    page_free(r);
    az_args none = {.prompt = "none", .cookie = l.session};
    r = authorize(&none);
    assert_non_null(strstr(r->http->location, "code="));
    page_free(r);

    r = logout("web-id", "https://app.example.com/logged-out?x=1", l.session);
    assert_int_equal(r->http->status, 302);
    assert_string_equal(r->http->location, "https://app.example.com/logged-out?x=1");
    sc = set_cookie(r, AUTHORIZE_SESSION_COOKIE);
    assert_non_null(sc);
    assert_non_null(strstr(sc, "Max-Age=0"));
    sc = set_cookie(r, AUTHORIZE_SESSION_COOKIE_COMPAT);
    assert_non_null(sc);
    assert_non_null(strstr(sc, "Max-Age=0"));
    page_free(r);
    r = authorize(&none);
    assert_error_redirect(r, CALLBACK, "login_required", "Login required", NULL);
    page_free(r);

    /* client_id without returnTo: the app's first URL; neither: a page */
    r = logout("web-id", "", "");
    assert_string_equal(r->http->location, "https://app.example.com/logged-out");
    page_free(r);
    r = logout("", "https://tenant-wide.example.com/bye", "");
    assert_string_equal(r->http->location, "https://tenant-wide.example.com/bye");
    page_free(r);
    r = logout("", "", "");
    assert_int_equal(r->http->status, 200);
    assert_non_null(strstr(body(r), "You have been logged out."));
    page_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_flow),
        cmocka_unit_test(test_code_bound_to_client_and_redirect_uri),
        cmocka_unit_test(test_redeem_race_one_winner),
        cmocka_unit_test(test_prompt_none),
        cmocka_unit_test(test_prompt_login_and_max_age),
        cmocka_unit_test(test_untrusted_redirect_uri_never_redirected),
        cmocka_unit_test(test_errors_go_back_to_client),
        cmocka_unit_test(test_public_client_needs_pkce_s256),
        cmocka_unit_test(test_form_post),
        cmocka_unit_test(test_fragment_mode),
        cmocka_unit_test(test_idle_session_expires),
        cmocka_unit_test(test_tenant_session_settings),
        cmocka_unit_test(test_organization_without_organizations),
        cmocka_unit_test(test_csrf_refused),
        cmocka_unit_test(test_logout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
