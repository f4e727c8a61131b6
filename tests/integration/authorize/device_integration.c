/*
 * The device authorization grant (RFC 8628) at the RPC level, over the real bus and a real
 * SQLite store, with svc-users' real handlers behind a real users bus device: DeviceCode's
 * answer and refusals, the activation pages (code form, login through the login page,
 * confirmation, SSO skip, cancel), PollDeviceCode's answers (pending, slow_down, approved
 * exactly once even under parallel polls and for a resent poll, access_denied, expired_token
 * once then invalid_grant, another client's code), CSRF, and user-code guessing limits (per IP,
 * and the failure budget of a device code).
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
#define EMAIL "dora@example.com"
#define PASSWORD "correct horse battery staple"

#include "az_system.h"
#define IP "192.0.2.20"

static const char tenant_yaml[] =
    "tenant:\n"
    "  friendly_name: Tollgate Test\n"
    "  default_directory: Username-Password-Authentication\n"
    "clients:\n"
    "  - name: Living Room TV\n"
    "    app_type: native\n"
    "    client_id: tv-id\n"
    "    token_endpoint_auth_method: none\n"
    "    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', refresh_token]\n"
    "  - name: Other TV\n"
    "    app_type: native\n"
    "    client_id: tv2-id\n"
    "    token_endpoint_auth_method: none\n"
    "    grant_types: ['urn:ietf:params:oauth:grant-type:device_code']\n"
    "  - name: Native Without Grant\n"
    "    app_type: native\n"
    "    client_id: native-id\n"
    "    token_endpoint_auth_method: none\n"
    "    grant_types: [authorization_code]\n"
    "  - name: Web App\n"
    "    app_type: regular_web\n"
    "    client_id: web-id\n"
    "    client_secret: web-secret-value\n"
    "    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', authorization_code]\n"
    "    callbacks: ['https://app.example.com/callback']\n"
    "resourceServers:\n"
    "  - name: API\n"
    "    identifier: https://api.test/\n"
    "    scopes: [{value: 'read:a'}]\n"
    "databases:\n"
    "  - name: Username-Password-Authentication\n";

/* ---- helpers -------------------------------------------------------------------------- */

/* The page's security headers (same as every page). */
static void
assert_page_headers(const Tollgate__Authorize__PageReply *r)
{
    assert_string_equal(header(r, "X-Frame-Options", 0), "DENY");
    assert_string_equal(header(r, "Referrer-Policy", 0), "no-referrer");
    assert_non_null(strstr(header(r, "Content-Security-Policy", 0), "frame-ancestors 'none'"));
}

/* DeviceCode; the reply or NULL with the refusal in *res. */
static Tollgate__Device__DeviceCodeReply *
device_code(const char *client_id, const char *scope, const char *audience, bus_result **res)
{
    Tollgate__Device__DeviceCodeRequest req = TOLLGATE__DEVICE__DEVICE_CODE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    req.web = &web;
    req.client_id = (char *)client_id;
    req.scope = (char *)(scope != NULL ? scope : "");
    req.audience = (char *)(audience != NULL ? audience : "");
    return (void *)call_id("authorize.DeviceCode", NULL, &req.base,
                           &tollgate__device__device_code_reply__descriptor, res);
}

typedef struct dcode {
    char device_code[128], user_code[16];
} dcode;

static void
new_code(const char *client_id, const char *scope, const char *audience, dcode *out)
{
    bus_result *res = NULL;
    Tollgate__Device__DeviceCodeReply *r = device_code(client_id, scope, audience, &res);

    if (r == NULL)
        fail_msg("DeviceCode refused: %s %s", res->error->error, res->error->error_description);
    snprintf(out->device_code, sizeof(out->device_code), "%s", r->device_code);
    snprintf(out->user_code, sizeof(out->user_code), "%s", r->user_code);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* PollDeviceCode as svc-token makes it; the reply or NULL with the refusal in *res. */
static Tollgate__Device__PollDeviceCodeReply *
poll_id(const char *device_code, const char *client_id, const char *request_id, bus_result **res)
{
    Tollgate__Device__PollDeviceCodeRequest req = TOLLGATE__DEVICE__POLL_DEVICE_CODE_REQUEST__INIT;

    req.device_code = (char *)device_code;
    req.client_id = (char *)client_id;
    return (void *)call_id("authorize.PollDeviceCode", request_id, &req.base,
                           &tollgate__device__poll_device_code_reply__descriptor, res);
}

/* A poll that must be refused with error (class cls). */
static void
assert_poll_refused(const char *device_code, const char *client_id, Tollgate__Bus__ErrorClass cls,
                    const char *error, const char *desc)
{
    bus_result *res = NULL;

    assert_null(poll_id(device_code, client_id, NULL, &res));
    assert_non_null(res);
    assert_int_equal(res->error->error_class, cls);
    assert_string_equal(res->error->error, error);
    if (desc != NULL)
        assert_string_equal(res->error->error_description, desc);
    bus_result_free(res);
}

static void
assert_invalid_grant(const char *device_code, const char *client_id)
{
    assert_poll_refused(device_code, client_id, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                        "invalid_grant", "Invalid or expired device code.");
}

static Tollgate__Authorize__PageReply *
activate_page(const char *user_code)
{
    Tollgate__Device__ActivatePageRequest req = TOLLGATE__DEVICE__ACTIVATE_PAGE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    req.web = &web;
    req.user_code = (char *)(user_code != NULL ? user_code : "");
    return page_call("authorize.ActivatePage", &req.base);
}

static Tollgate__Authorize__PageReply *
activate_submit(const char *user_code, const char *csrf, const char *cookie, const char *ip)
{
    Tollgate__Device__ActivateSubmitRequest req = TOLLGATE__DEVICE__ACTIVATE_SUBMIT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    web.cookie = (char *)cookie;
    web.client_ip = (char *)ip;
    req.web = &web;
    req.user_code = (char *)user_code;
    req.csrf_token = (char *)csrf;
    return page_call("authorize.ActivateSubmit", &req.base);
}

static Tollgate__Authorize__PageReply *
confirm_page(const char *state, const char *cookie)
{
    Tollgate__Device__ConfirmPageRequest req = TOLLGATE__DEVICE__CONFIRM_PAGE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    web.cookie = (char *)cookie;
    req.web = &web;
    req.state = (char *)state;
    return page_call("authorize.DeviceConfirmPage", &req.base);
}

static Tollgate__Authorize__PageReply *
confirm_submit(const char *state, const char *csrf, const char *cookie, const char *action)
{
    Tollgate__Device__ConfirmSubmitRequest req = TOLLGATE__DEVICE__CONFIRM_SUBMIT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;

    web.cookie = (char *)cookie;
    req.web = &web;
    req.state = (char *)state;
    req.csrf_token = (char *)csrf;
    req.action = (char *)action;
    return page_call("authorize.DeviceConfirmSubmit", &req.base);
}

/* The code form, then the code: the activation id (302 to the confirmation) into state. */
static void
enter_code(const char *typed, char *state, size_t len)
{
    Tollgate__Authorize__PageReply *r1 = activate_page(NULL), *r2;
    char csrf[128], cookie[200];
    const char *loc;

    assert_int_equal(r1->http->status, 200);
    hidden(body(r1), "csrf_token", csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);
    r2 = activate_submit(typed, csrf, cookie, IP);
    assert_int_equal(r2->http->status, 302);
    loc = r2->http->location;
    assert_true(strncmp(loc, "/activate/confirm?state=", 24) == 0);
    snprintf(state, len, "%s", loc + 24);
    page_free(r1);
    page_free(r2);
}

/* From the confirmation without a session, through the login page, back to the confirmation
 * with a session: the session cookie header into session. */
static void
login_through(const char *state, char *session, size_t len)
{
    Tollgate__Authorize__PageReply *r1 = confirm_page(state, ""), *r2, *r3;
    Tollgate__Authorize__LoginPageRequest lp = TOLLGATE__AUTHORIZE__LOGIN_PAGE_REQUEST__INIT;
    Tollgate__Authorize__LoginSubmitRequest ls = TOLLGATE__AUTHORIZE__LOGIN_SUBMIT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    char txn[128], csrf[128], cookie[200], v[128], expect[200];

    assert_int_equal(r1->http->status, 302);
    assert_true(strncmp(r1->http->location, "/u/login?state=", 15) == 0);
    snprintf(txn, sizeof(txn), "%s", r1->http->location + 15);
    lp.web = &web;
    lp.state = txn;
    r2 = page_call("authorize.LoginPage", &lp.base);
    assert_int_equal(r2->http->status, 200);
    assert_non_null(strstr(body(r2), "Living Room TV"));
    hidden(body(r2), "csrf_token", csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);
    web.cookie = cookie;
    web.client_ip = IP;
    ls.web = &web;
    ls.state = txn;
    ls.csrf_token = csrf;
    ls.username = EMAIL;
    ls.password = PASSWORD;
    r3 = page_call("authorize.LoginSubmit", &ls.base);
    assert_int_equal(r3->http->status, 302);
    snprintf(expect, sizeof(expect), "/activate/confirm?state=%s", state);
    assert_string_equal(r3->http->location, expect); /* no code, no client redirect */
    cookie_value(r3, AUTHORIZE_SESSION_COOKIE, v, sizeof(v));
    snprintf(session, len, AUTHORIZE_SESSION_COOKIE "=%s", v);
    page_free(r1);
    page_free(r2);
    page_free(r3);
}

/* The confirmation page with a session; its csrf into csrf and a Cookie header with the
 * session and the CSRF cookie into cookie. */
static void
open_confirmation(const char *state, const char *session, char *csrf, size_t csrf_len,
                  char *cookie, size_t cookie_len, const char *user_code)
{
    Tollgate__Authorize__PageReply *r = confirm_page(state, session);
    char c[128];

    assert_int_equal(r->http->status, 200);
    assert_page_headers(r);
    assert_null(strstr(body(r), "<script"));
    assert_non_null(strstr(body(r), "Living Room TV"));
    if (user_code != NULL)
        assert_non_null(strstr(body(r), user_code));
    hidden(body(r), "csrf_token", csrf, csrf_len);
    cookie_value(r, AUTHORIZE_CSRF_COOKIE, c, sizeof(c));
    assert_string_equal(c, csrf);
    snprintf(cookie, cookie_len, "%s; " AUTHORIZE_CSRF_COOKIE "=%s", session, csrf);
    page_free(r);
}

static char g_session[200]; /* an SSO session made by test_full_flow, reused by later tests */

/* ---- setup ---------------------------------------------------------------------------- */

static int
setup(void **state)
{
    (void)state;
    az_system_start(tenant_yaml, "device", "tv-id");
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
test_device_code_answer(void **state)
{
    bus_result *res = NULL;
    Tollgate__Device__DeviceCodeReply *r = device_code("tv-id", "openid", NULL, &res);
    char hash[65], norm[9], expect[128];
    json_t *doc = NULL;
    const char *k;
    json_t *v;
    (void)state;

    assert_non_null(r);
    assert_true(authorize_secret_is_well_formed(r->device_code));
    assert_int_equal(strlen(r->user_code), 9);
    assert_true(authorize_user_code_normalise(r->user_code, norm));
    assert_int_equal(r->user_code[4], '-');
    assert_string_equal(r->verification_uri, ISSUER "activate");
    snprintf(expect, sizeof(expect), ISSUER "activate?user_code=%s", r->user_code);
    assert_string_equal(r->verification_uri_complete, expect);
    assert_int_equal(r->expires_in, 900);
    assert_int_equal(r->interval, 5);
    /* only hashes are stored: no field holds either code */
    authorize_sha256_hex(r->device_code, hash);
    assert_int_equal(store_get(fx.az.st, AUTHORIZE_COLL_DEVICE_CODES, hash, &doc), TG_OK);
    json_object_foreach(doc, k, v) {
        if (json_is_string(v)) {
            assert_null(strstr(json_string_value(v), r->device_code));
            assert_null(strstr(json_string_value(v), norm));
            assert_null(strstr(json_string_value(v), r->user_code));
        }
    }
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "pending");
    json_decref(doc);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
assert_device_code_refused(const char *client_id, const char *scope, const char *audience,
                           Tollgate__Bus__ErrorClass cls, const char *error, const char *desc)
{
    bus_result *res = NULL;

    assert_null(device_code(client_id, scope, audience, &res));
    assert_non_null(res);
    assert_int_equal(res->error->error_class, cls);
    assert_string_equal(res->error->error, error);
    assert_string_equal(res->error->error_description, desc);
    bus_result_free(res);
}

static void
test_device_code_refusals(void **state)
{
    static char long_scope[AUTHORIZE_MAX_PARAM + 2];
    const char *not_allowed =
        "Grant type 'urn:ietf:params:oauth:grant-type:device_code' not allowed for the client.";
    (void)state;

    assert_device_code_refused("", NULL, NULL, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                               "invalid_request", "Missing required parameter: client_id");
    assert_device_code_refused("no-such-client", NULL, NULL,
                               TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "access_denied",
                               "Unauthorized");
    /* a web application, even with the grant listed, and a native one without the grant */
    assert_device_code_refused("web-id", NULL, NULL, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                               "unauthorized_client", not_allowed);
    assert_device_code_refused("native-id", NULL, NULL, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                               "unauthorized_client", not_allowed);
    assert_device_code_refused("tv-id", NULL, "https://unknown.test/",
                               TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                               "Service not found: https://unknown.test/");
    memset(long_scope, 'a', sizeof(long_scope) - 1);
    assert_device_code_refused("tv-id", long_scope, NULL, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                               "invalid_request", "Parameter too long: scope");
}

static void
test_full_flow(void **state)
{
    Tollgate__Device__PollDeviceCodeReply *p;
    Tollgate__Authorize__PageReply *r;
    bus_result *res = NULL;
    char act[128], csrf[128], cookie[600], typed[16];
    dcode d;
    (void)state;

    new_code("tv-id", "openid offline_access", "https://api.test/", &d);
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                        "authorization_pending", "User has yet to authorize device code.");
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS,
                        "slow_down",
                        "You are polling faster than the specified interval of 5 seconds.");

    /* the form prefilled from verification_uri_complete, with its CSRF cookie */
    r = activate_page(d.user_code);
    assert_int_equal(r->http->status, 200);
    assert_page_headers(r);
    assert_non_null(strstr(body(r), d.user_code));
    assert_non_null(strstr(header(r, "Set-Cookie", 0),
                           "; Path=/activate; Secure; HttpOnly; SameSite=Strict"));
    page_free(r);

    /* typed in lower case without the dash */
    snprintf(typed, sizeof(typed), "%.4s%s", d.user_code, d.user_code + 5);
    for (char *c = typed; *c; c++)
        *c = (char)(*c - 'A' + 'a');
    enter_code(typed, act, sizeof(act));
    login_through(act, g_session, sizeof(g_session));
    open_confirmation(act, g_session, csrf, sizeof(csrf), cookie, sizeof(cookie), d.user_code);

    /* CSRF: the form token without its cookie, and a wrong token, are refused */
    r = confirm_submit(act, csrf, g_session, "confirm");
    assert_int_equal(r->http->status, 403);
    page_free(r);
    r = confirm_submit(act, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", cookie, "confirm");
    assert_int_equal(r->http->status, 403);
    page_free(r);
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS,
                        "slow_down", NULL);

    r = confirm_submit(act, csrf, cookie, "confirm");
    assert_int_equal(r->http->status, 200);
    assert_non_null(strstr(body(r), "Device connected"));
    page_free(r);
    /* the activation is spent; so is the user code */
    r = confirm_submit(act, csrf, cookie, "confirm");
    assert_int_equal(r->http->status, 400);
    page_free(r);

    /* another client's poll does not take it; the right one does, exactly once */
    assert_invalid_grant(d.device_code, "tv2-id");
    p = poll_id(d.device_code, "tv-id", "poll-request-1", &res);
    assert_non_null(p);
    assert_true(strncmp(p->user_id, "auth0|", 6) == 0);
    assert_string_equal(p->scope, "openid offline_access");
    assert_string_equal(p->audience, "https://api.test/");
    assert_true(p->auth_time > 0 && p->auth_time <= tg_now_s());
    assert_true(p->sid[0] != '\0');
    protobuf_c_message_free_unpacked(&p->base, NULL);
    /* a resend of the same request gets the same answer; any other poll does not */
    p = poll_id(d.device_code, "tv-id", "poll-request-1", &res);
    assert_non_null(p);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    assert_invalid_grant(d.device_code, "tv-id");
}

static void
test_sso_session_skips_login_and_cancel_denies(void **state)
{
    Tollgate__Authorize__PageReply *r;
    char act[128], csrf[128], cookie[600];
    dcode d;
    (void)state;

    assert_true(g_session[0] != '\0');
    new_code("tv-id", "openid", NULL, &d);
    enter_code(d.user_code, act, sizeof(act));
    open_confirmation(act, g_session, csrf, sizeof(csrf), cookie, sizeof(cookie), d.user_code);
    r = confirm_submit(act, csrf, cookie, "bogus");
    assert_int_equal(r->http->status, 400);
    page_free(r);
    r = confirm_submit(act, csrf, cookie, "cancel");
    assert_int_equal(r->http->status, 200);
    assert_non_null(strstr(body(r), "cancelled"));
    page_free(r);
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                        "access_denied", "User cancelled the confirmation prompt.");
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                        "access_denied", "User cancelled the confirmation prompt.");
}

typedef struct answer_arg {
    const char *act, *csrf, *cookie, *action;
    int status;
} answer_arg;

static void *
answer_thread(void *argp)
{
    answer_arg *a = argp;
    Tollgate__Authorize__PageReply *r = confirm_submit(a->act, a->csrf, a->cookie, a->action);

    a->status = r->http->status;
    page_free(r);
    return NULL;
}

static void
test_one_answer_per_code(void **state)
{
    char act[2][128], csrf[2][128], cookie[2][600];
    (void)state;

    /* two browsers enter the same code and answer at the same moment, one Confirm, one
     * Cancel: exactly one answer is taken, and the device sees that one */
    for (int round = 0; round < 5; round++) {
        answer_arg args[2];
        pthread_t t[2];
        bus_result *res = NULL;
        Tollgate__Device__PollDeviceCodeReply *p;
        dcode d;

        new_code("tv-id", "openid", NULL, &d);
        for (int i = 0; i < 2; i++) {
            enter_code(d.user_code, act[i], sizeof(act[i]));
            open_confirmation(act[i], g_session, csrf[i], sizeof(csrf[i]), cookie[i],
                              sizeof(cookie[i]), NULL);
            args[i] = (answer_arg){.act = act[i], .csrf = csrf[i], .cookie = cookie[i],
                                   .action = i == 0 ? "confirm" : "cancel"};
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, answer_thread, &args[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        assert_true((args[0].status == 200) != (args[1].status == 200));
        assert_true(args[0].status == 400 || args[1].status == 400);
        p = poll_id(d.device_code, "tv-id", NULL, &res);
        if (args[0].status == 200) {
            assert_non_null(p);
            protobuf_c_message_free_unpacked(&p->base, NULL);
        } else {
            assert_null(p);
            assert_string_equal(res->error->error, "access_denied");
            bus_result_free(res);
        }
    }
}

typedef struct race_arg {
    const char *device_code;
    int ok;
} race_arg;

static void *
race_poll(void *argp)
{
    race_arg *a = argp;
    bus_result *res = NULL;
    Tollgate__Device__PollDeviceCodeReply *p = poll_id(a->device_code, "tv-id", NULL, &res);

    a->ok = p != NULL;
    if (p != NULL)
        protobuf_c_message_free_unpacked(&p->base, NULL);
    else if (strcmp(res->error->error, "invalid_grant") != 0)
        a->ok = -1;
    bus_result_free(res);
    return NULL;
}

static void
test_parallel_polls_one_winner(void **state)
{
    char act[128], csrf[128], cookie[600];
    pthread_t t[20];
    race_arg args[20];
    Tollgate__Authorize__PageReply *r;
    int winners = 0;
    dcode d;
    (void)state;

    new_code("tv-id", "openid", NULL, &d);
    enter_code(d.user_code, act, sizeof(act));
    open_confirmation(act, g_session, csrf, sizeof(csrf), cookie, sizeof(cookie), NULL);
    r = confirm_submit(act, csrf, cookie, "confirm");
    assert_int_equal(r->http->status, 200);
    page_free(r);
    for (int i = 0; i < 20; i++) {
        args[i] = (race_arg){.device_code = d.device_code};
        assert_int_equal(pthread_create(&t[i], NULL, race_poll, &args[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        pthread_join(t[i], NULL);
        assert_true(args[i].ok >= 0); /* the losers get invalid_grant, nothing else */
        winners += args[i].ok;
    }
    assert_int_equal(winners, 1);
}

static void
test_expired_token_once(void **state)
{
    char hash[65];
    json_t *set;
    dcode d;
    (void)state;

    new_code("tv-id", "openid", NULL, &d);
    authorize_sha256_hex(d.device_code, hash);
    set = json_pack("{s:I}", "device_expires_at", (json_int_t)(tg_now_s() - 1));
    assert_int_equal(store_update(fx.az.st, AUTHORIZE_COLL_DEVICE_CODES, hash, set), TG_OK);
    json_decref(set);
    assert_poll_refused(d.device_code, "tv-id", TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                        "expired_token", NULL);
    assert_invalid_grant(d.device_code, "tv-id");
    /* and its user code no longer activates anything */
    {
        Tollgate__Authorize__PageReply *r1 = activate_page(NULL), *r2;
        char csrf[128], cookie[200];

        hidden(body(r1), "csrf_token", csrf, sizeof(csrf));
        snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);
        r2 = activate_submit(d.user_code, csrf, cookie, "192.0.2.99");
        assert_int_equal(r2->http->status, 400);
        page_free(r1);
        page_free(r2);
    }
}

static void
test_garbage_device_codes(void **state)
{
    static char overlong[4096];
    const char *const bad[] = {"", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               "{\"$gt\":\"\"}", "../../etc/passwd"};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_invalid_grant(bad[i], "tv-id");
    memset(overlong, 'A', sizeof(overlong) - 1);
    assert_invalid_grant(overlong, "tv-id");
}

static void
test_code_form_csrf_and_guessing_limits(void **state)
{
    const char *const wrong[] = {"BBBB-BBBB", "garbage", "", "<script>", "BBBB-BBBB-BBBB-BBBB-B",
                                 "bbbbbbbc", "BBBB-BBBD", "BBBB-BBBF", "BBBB-BBBG", "BBBB-BBBH"};
    const char *ip = "198.51.100.7";
    Tollgate__Authorize__PageReply *r1 = activate_page(NULL), *r;
    char csrf[128], cookie[200], act[128];
    json_t *set;
    dcode d;
    (void)state;

    hidden(body(r1), "csrf_token", csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s", csrf);
    new_code("tv-id", "openid", NULL, &d);
    /* no cookie, or a token that is not the cookie's: refused before the code is looked at */
    r = activate_submit(d.user_code, csrf, "", ip);
    assert_int_equal(r->http->status, 403);
    page_free(r);
    r = activate_submit(d.user_code, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", cookie, ip);
    assert_int_equal(r->http->status, 403);
    page_free(r);
    /* ten wrong codes: the form again with an error each time; then even the right code waits */
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        r = activate_submit(wrong[i], csrf, cookie, ip);
        assert_int_equal(r->http->status, 400);
        assert_non_null(strstr(body(r), "Invalid or expired code"));
        assert_null(strstr(body(r), "<script>"));
        page_free(r);
    }
    r = activate_submit(d.user_code, csrf, cookie, ip);
    assert_int_equal(r->http->status, 429);
    page_free(r);
    /* another IP is not held back */
    enter_code(d.user_code, act, sizeof(act));

    /* the failure budget of a device code: once more than 20000 wrong codes were tried since
     * it was issued, it can no longer be activated */
    new_code("tv-id", "openid", NULL, &d);
    set = json_pack("{s:I}", "count", (json_int_t)1000000);
    assert_int_equal(store_update(fx.az.st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, "total", set), TG_OK);
    json_decref(set);
    r = activate_submit(d.user_code, csrf, cookie, "203.0.113.5");
    assert_int_equal(r->http->status, 400);
    page_free(r);
    page_free(r1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_code_answer),
        cmocka_unit_test(test_device_code_refusals),
        cmocka_unit_test(test_full_flow),
        cmocka_unit_test(test_sso_session_skips_login_and_cancel_denies),
        cmocka_unit_test(test_one_answer_per_code),
        cmocka_unit_test(test_parallel_polls_one_winner),
        cmocka_unit_test(test_expired_token_once),
        cmocka_unit_test(test_garbage_device_codes),
        cmocka_unit_test(test_code_form_csrf_and_guessing_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
