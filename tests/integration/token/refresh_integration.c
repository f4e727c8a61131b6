/*
 * Refresh tokens and /oauth/revoke over the real bus and a real SQLite store, without HTTP
 * (contract.md §4.4, §6.4, §7, §21.1).
 *
 * svc-users is a bus-level stand-in here, as in password_integration.c: the real svc-users
 * does not block or delete users through any RPC yet, and these tests must flip both (and
 * tokens_valid_after) between calls. svc-token's own store is the real one. What svc-users
 * tells svc-token (token.UserState, svc-token/user_state.c) is sent here by the tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"
#include "token_system.h"

#define ISSUER "https://issuer.test/"
#define REALM_GRANT "http://auth0.com/oauth/grant-type/password-realm"
#define DB "Username-Password-Authentication"
#define GRANTS "[password, 'http://auth0.com/oauth/grant-type/password-realm', refresh_token]"

static const char tenant_yaml[] =
    "clients:\n"
    "  - {name: Web, client_id: web-id, client_secret: web-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: " GRANTS "}\n"
    "  - {name: Other, client_id: other-id, client_secret: other-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: " GRANTS "}\n"
    "  - {name: NoRT, client_id: nort-id, client_secret: nort-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: [password]}\n"
    "  - {name: Rot, client_id: rot-id, app_type: native, token_endpoint_auth_method: none,\n"
    "     grant_types: " GRANTS ",\n"
    "     refresh_token: {rotation_type: rotating, expiration_type: expiring}}\n"
    "  - {name: Overlap, client_id: overlap-id, client_secret: overlap-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: " GRANTS ",\n"
    "     refresh_token: {rotation_type: rotating, expiration_type: expiring, leeway: 30}}\n"
    "  - {name: Idle, client_id: idle-id, client_secret: idle-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: " GRANTS ",\n"
    "     refresh_token: {expiration_type: expiring, token_lifetime: 100,\n"
    "                     idle_token_lifetime: 3}}\n"
    "  - {name: Abs, client_id: abs-id, client_secret: abs-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post, grant_types: " GRANTS ",\n"
    "     refresh_token: {rotation_type: rotating, expiration_type: expiring,\n"
    "                     token_lifetime: 6, idle_token_lifetime: 5}}\n"
    "resourceServers:\n"
    "  - {name: API, identifier: 'https://api.test/', allow_offline_access: true,\n"
    "     scopes: [{value: 'read:a'}]}\n"
    "  - {name: Closed, identifier: 'https://closed.test/', scopes: [{value: 'read:b'}]}\n";

/* ---- the svc-users stand-in, with switches the tests flip ---------------------------------- */

static _Atomic int64_t valid_after;
static atomic_bool user_blocked, user_deleted;
static atomic_int get_user_calls;

static void
fill_jane(Tollgate__Users__User *u)
{
    tollgate__users__user__init(u);
    u->user_id = "auth0|jane";
    u->connection = DB;
    u->email = "jane@example.com";
    u->email_verified = true;
    u->name = "Jane Doe";
    u->blocked = atomic_load(&user_blocked);
    u->tokens_valid_after = atomic_load(&valid_after);
}

static tg_err
on_verify(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__VerifyPasswordRequest *r = (const void *)reqm;
    Tollgate__Users__VerifyPasswordReply *reply = (void *)replym;
    Tollgate__Users__User *u;

    if (strcmp(r->username, "jane@example.com") != 0 || strcmp(r->password, "Passw0rd!") != 0)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                            "Wrong email or password.");
    if ((u = bus_ctx_alloc(ctx, sizeof(*u))) == NULL)
        return TG_ENOMEM;
    fill_jane(u);
    reply->user = u;
    return TG_OK;
}

static tg_err
on_get_user(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__GetUserRequest *r = (const void *)reqm;
    Tollgate__Users__GetUserReply *reply = (void *)replym;
    Tollgate__Users__User *u;

    atomic_fetch_add(&get_user_calls, 1);
    if (strcmp(r->user_id, "auth0|jane") != 0 || atomic_load(&user_deleted))
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND, "inexistent_user",
                            "The user does not exist.");
    if ((u = bus_ctx_alloc(ctx, sizeof(*u))) == NULL)
        return TG_ENOMEM;
    fill_jane(u);
    reply->user = u;
    return TG_OK;
}

static const bus_method users_methods[] = {
    {"users.VerifyPassword", &tollgate__users__verify_password_request__descriptor,
     &tollgate__users__verify_password_reply__descriptor, on_verify},
    {"users.GetUser", &tollgate__users__get_user_request__descriptor,
     &tollgate__users__get_user_reply__descriptor, on_get_user},
};

/* ---- fixture ------------------------------------------------------------------------------ */

static token_system fx;

static const token_system_opts fx_opts = {
    .tenant_yaml = tenant_yaml,
    .db_name = "token-rt",
    .workers = 8,
    .users_methods = users_methods,
    .n_users_methods = 2,
    .users_workers = 4,
};

static int
setup(void **state)
{
    (void)state;
    token_system_start(&fx, &fx_opts);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    token_system_stop(&fx);
    return 0;
}

static int
reset_user(void **state)
{
    (void)state;
    atomic_store(&valid_after, 0);
    atomic_store(&user_blocked, false);
    atomic_store(&user_deleted, false);
    store_delete(fx.app.st, TOKEN_COLL_USER_STATES, "auth0|jane"); /* what svc-users said */
    return 0;
}

/* ---- calls -------------------------------------------------------------------------------- */

typedef struct call {
    const char *grant_type, *client_id, *secret, *audience, *scope, *refresh_token,
        *request_id, *redirect_uri;
} call;

static const char *
secret_of(const char *client_id)
{
    const config_client *c = config_client_by_id(fx.cfg, client_id);
    return c->auth_method == CONFIG_AUTH_NONE ? "" : c->client_secret;
}

/* token.Token; the reply (caller frees) or NULL with *res holding the refusal. */
static Tollgate__Token__TokenReply *
token(const call *c, bus_result **res)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Token", .issuer = ISSUER,
                       .request_id = c->request_id, .deadline_ms = tg_now_ms() + 5000};

    web.client_ip = "192.0.2.1";
    req.web = &web;
    req.grant_type = (char *)(c->grant_type ? c->grant_type : "refresh_token");
    req.client_id = (char *)c->client_id;
    req.client_secret = (char *)(c->secret ? c->secret : secret_of(c->client_id));
    req.username = "jane@example.com";
    req.password = "Passw0rd!";
    req.realm = DB;
    req.audience = (char *)(c->audience ? c->audience : "");
    req.scope = (char *)(c->scope ? c->scope : "");
    req.refresh_token = (char *)(c->refresh_token ? c->refresh_token : "");
    req.redirect_uri = (char *)(c->redirect_uri ? c->redirect_uri : "");
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    return tollgate__token__token_reply__unpack(NULL, (*res)->payload.len, (*res)->payload.data);
}

static Tollgate__Token__TokenReply *
ok(const call *c)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r = token(c, &res);

    char why[512];

    if (r == NULL) {
        snprintf(why, sizeof(why), "%s %s", res->error->error, res->error->error_description);
        bus_result_free(res);
        fail_msg("refused: %s", why);
    }
    bus_result_free(res);
    return r;
}

static void
refused(const call *c, Tollgate__Bus__ErrorClass cls, const char *error, const char *text)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r = token(c, &res);

    if (r != NULL)
        fail_msg("accepted, but should be refused with %s", text);
    assert_string_equal(res->error->error, error);
    assert_string_equal(res->error->error_description, text);
    assert_int_equal(res->error->error_class, cls);
    bus_result_free(res);
}

#define INVALID_RT(...)                                                                        \
    refused(&(call){__VA_ARGS__}, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",     \
            "Unknown or invalid refresh token.")

/* A login with offline_access; *rt gets a heap copy of the refresh token. */
static Tollgate__Token__TokenReply *
login(const char *client_id, const char *audience, char **rt)
{
    Tollgate__Token__TokenReply *r =
        ok(&(call){.grant_type = REALM_GRANT, .client_id = client_id, .audience = audience,
                   .scope = "openid email offline_access"});

    assert_true(strncmp(r->refresh_token, "v1.", 3) == 0);
    assert_true(token_scope_has(r->scope, "offline_access"));
    *rt = strdup(r->refresh_token);
    return r;
}

static char *
login_rt(const char *client_id)
{
    char *rt;

    tollgate__token__token_reply__free_unpacked(login(client_id, NULL, &rt), NULL);
    return rt;
}

/* Refreshes rt; returns a heap copy of the new refresh token ("" when none came). */
static char *
refresh(const char *client_id, const char *rt)
{
    Tollgate__Token__TokenReply *r = ok(&(call){.client_id = client_id, .refresh_token = rt});
    char *next = strdup(r->refresh_token);

    assert_true(r->id_token[0] != '\0'); /* openid was granted: spa-js needs it */
    assert_true(r->access_token[0] != '\0');
    tollgate__token__token_reply__free_unpacked(r, NULL);
    return next;
}

/* The same for a token without openid: no ID token comes. */
static char *
refresh_plain(const char *rt)
{
    Tollgate__Token__TokenReply *r = ok(&(call){.client_id = "web-id", .refresh_token = rt});
    char *next = strdup(r->refresh_token);

    assert_string_equal(r->id_token, "");
    assert_true(r->access_token[0] != '\0');
    tollgate__token__token_reply__free_unpacked(r, NULL);
    return next;
}

/* token.Revoke: asserts the empty 200 answer. */
static void
revoke_token(const char *client_id, const char *token_)
{
    Tollgate__Token__RevokeRequest req = TOLLGATE__TOKEN__REVOKE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Revoke", .issuer = ISSUER,
                       .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Token__RevokeReply *reply;
    bus_result *res = NULL;

    req.web = &web;
    req.client_id = (char *)client_id;
    req.client_secret = (char *)secret_of(client_id);
    req.token = (char *)token_;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    if (token_[0] == '\0') {
        assert_non_null(res->error);
        assert_string_equal(res->error->error, "invalid_request");
        assert_string_equal(res->error->error_description, "Missing required parameter: token");
        bus_result_free(res);
        return;
    }
    assert_null(res->error);
    reply = tollgate__token__revoke_reply__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(reply->http);
    assert_int_equal(reply->http->status, 200);
    assert_int_equal(reply->http->body.len, 0);
    tollgate__token__revoke_reply__free_unpacked(reply, NULL);
    bus_result_free(res);
}

/* token.Userinfo with this access token: true when 200. */
static bool
userinfo_accepts(const char *access_token)
{
    Tollgate__Token__Empty req = TOLLGATE__TOKEN__EMPTY__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Userinfo", .issuer = ISSUER,
                       .deadline_ms = tg_now_ms() + 5000};
    char auth[1024];
    bus_result *res = NULL;
    bool accepted;

    snprintf(auth, sizeof(auth), "Bearer %s", access_token);
    web.authorization = auth;
    req.web = &web;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    accepted = res->error == NULL;
    if (!accepted) {
        assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED);
        assert_string_equal(res->error->headers[0]->key, "WWW-Authenticate");
    }
    bus_result_free(res);
    return accepted;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_issued_only_when_allowed(void **state)
{
    Tollgate__Token__TokenReply *r;
    char *rt;
    (void)state;

    r = login("web-id", NULL, &rt);
    assert_string_equal(r->scope, "openid email offline_access");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    free(rt);
    r = login("web-id", "https://api.test/", &rt); /* the API allows offline access */
    assert_string_equal(r->scope, "openid email offline_access read:a");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    /* and the refresh keeps the audience: a JWT access token again */
    r = ok(&(call){.client_id = "web-id", .refresh_token = rt});
    assert_non_null(strchr(r->access_token, '.'));
    assert_string_equal(r->scope, "openid email offline_access read:a");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    free(rt);

    /* no refresh_token grant on the client; an API without allow_offline_access */
    r = ok(&(call){.grant_type = "password", .client_id = "nort-id",
                   .scope = "openid offline_access"});
    assert_string_equal(r->refresh_token, "");
    assert_string_equal(r->scope, "openid");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    r = ok(&(call){.grant_type = REALM_GRANT, .client_id = "web-id",
                   .audience = "https://closed.test/", .scope = "openid offline_access"});
    assert_string_equal(r->refresh_token, "");
    assert_string_equal(r->scope, "openid read:b");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    /* without offline_access: none either */
    r = ok(&(call){.grant_type = REALM_GRANT, .client_id = "web-id", .scope = "openid"});
    assert_string_equal(r->refresh_token, "");
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_non_rotating_reuse_and_form_extras(void **state)
{
    char *rt = login_rt("web-id"), *next;
    (void)state;

    for (int i = 0; i < 3; i++) {
        /* spa-js sends redirect_uri along; python sends scope "" */
        Tollgate__Token__TokenReply *r =
            ok(&(call){.client_id = "web-id", .refresh_token = rt, .scope = "",
                       .redirect_uri = "https://app.test/cb"});
        assert_string_equal(r->refresh_token, ""); /* non-rotating: Auth0 sends none */
        assert_string_equal(r->scope, "openid email offline_access");
        assert_string_equal(r->token_type, "Bearer");
        assert_true(userinfo_accepts(r->access_token));
        tollgate__token__token_reply__free_unpacked(r, NULL);
    }
    next = refresh("web-id", rt);
    assert_string_equal(next, "");
    free(next);
    free(rt);
}

static void
test_refusals(void **state)
{
    char *rt = login_rt("web-id");
    (void)state;

    INVALID_RT(.client_id = "web-id", .refresh_token = "v1.unknown");
    INVALID_RT(.client_id = "other-id", .refresh_token = rt); /* another client's token */
    refused(&(call){.client_id = "web-id"}, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
            "invalid_request", "Missing required parameter: refresh_token");
    refused(&(call){.client_id = "web-id", .refresh_token = rt, .secret = "wrong"},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "access_denied", "Unauthorized");
    refused(&(call){.client_id = "nort-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "unauthorized_client",
            "Grant type 'refresh_token' not allowed for the client.");
    /* the foreign attempt changed nothing */
    free(refresh("web-id", rt));
    free(rt);
}

static void
test_scope_narrowing(void **state)
{
    char *rt = login_rt("web-id");
    Tollgate__Token__TokenReply *r;
    (void)state;

    r = ok(&(call){.client_id = "web-id", .refresh_token = rt, .scope = "openid"});
    assert_string_equal(r->scope, "openid");
    assert_true(r->id_token[0] != '\0');
    tollgate__token__token_reply__free_unpacked(r, NULL);
    r = ok(&(call){.client_id = "web-id", .refresh_token = rt, .scope = "email"});
    assert_string_equal(r->scope, "email");
    assert_string_equal(r->id_token, ""); /* no openid, no ID token */
    tollgate__token__token_reply__free_unpacked(r, NULL);
    refused(&(call){.client_id = "web-id", .refresh_token = rt, .scope = "openid profile"},
            TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_scope",
            "The requested scope exceeds the scope of the refresh token.");
    /* narrowing one exchange does not narrow the token */
    r = ok(&(call){.client_id = "web-id", .refresh_token = rt});
    assert_string_equal(r->scope, "openid email offline_access");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    free(rt);
}

static void
test_rotation_and_reuse_detection(void **state)
{
    char *rt1 = login_rt("rot-id"), *rt2, *rt3;
    (void)state;

    rt2 = refresh("rot-id", rt1); /* public client: client_id only */
    assert_true(strncmp(rt2, "v1.", 3) == 0);
    assert_string_not_equal(rt1, rt2);
    rt3 = refresh("rot-id", rt2);
    INVALID_RT(.client_id = "rot-id", .refresh_token = rt1); /* reuse: the family goes */
    INVALID_RT(.client_id = "rot-id", .refresh_token = rt3); /* so the newest dies too */
    INVALID_RT(.client_id = "rot-id", .refresh_token = rt2);
    free(rt1);
    free(rt2);
    free(rt3);
}

static void
test_resent_request_wins_again(void **state)
{
    char *rt1 = login_rt("rot-id");
    Tollgate__Token__TokenReply *a, *b;
    (void)state;

    a = ok(&(call){.client_id = "rot-id", .refresh_token = rt1, .request_id = "resend-1"});
    b = ok(&(call){.client_id = "rot-id", .refresh_token = rt1, .request_id = "resend-1"});
    /* the first answer is taken as lost: its token is void, the second one lives */
    INVALID_RT(.client_id = "rot-id", .refresh_token = a->refresh_token);
    free(refresh("rot-id", b->refresh_token));
    tollgate__token__token_reply__free_unpacked(a, NULL);
    tollgate__token__token_reply__free_unpacked(b, NULL);
    free(rt1);
}

static void
test_overlap_period(void **state)
{
    char *rt1 = login_rt("overlap-id"), *rt2, *again, *rt3;
    (void)state;

    rt2 = refresh("overlap-id", rt1);
    again = refresh("overlap-id", rt1); /* within leeway, the previous token: a fresh pair */
    assert_true(strncmp(again, "v1.", 3) == 0);
    rt3 = refresh("overlap-id", again);
    /* rt1 is now second-to-last: reuse detection, whatever the leeway */
    INVALID_RT(.client_id = "overlap-id", .refresh_token = rt1);
    INVALID_RT(.client_id = "overlap-id", .refresh_token = rt3);
    free(rt1);
    free(rt2);
    free(again);
    free(rt3);
}

#define RACERS 8

typedef struct racer {
    pthread_t th;
    const char *rt;
    char *won; /* the new refresh token, or NULL */
    char error[64];
} racer;

static atomic_int race_gate;

static void *
race(void *arg)
{
    racer *r = arg;
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *reply;

    while (atomic_load(&race_gate) == 0)
        ;
    reply = token(&(call){.client_id = "rot-id", .refresh_token = r->rt}, &res);
    if (reply != NULL) {
        r->won = strdup(reply->refresh_token);
        tollgate__token__token_reply__free_unpacked(reply, NULL);
    } else {
        snprintf(r->error, sizeof(r->error), "%s", res->error->error_description);
    }
    bus_result_free(res);
    return NULL;
}

static void
test_concurrent_use_has_one_winner(void **state)
{
    racer racers[RACERS] = {0};
    char *rt = login_rt("rot-id");
    int winners = 0;
    (void)state;

    atomic_store(&race_gate, 0);
    for (int i = 0; i < RACERS; i++) {
        racers[i].rt = rt;
        assert_int_equal(pthread_create(&racers[i].th, NULL, race, &racers[i]), 0);
    }
    atomic_store(&race_gate, 1);
    for (int i = 0; i < RACERS; i++) {
        pthread_join(racers[i].th, NULL);
        if (racers[i].won != NULL) {
            assert_true(strncmp(racers[i].won, "v1.", 3) == 0);
            winners++;
        } else {
            assert_string_equal(racers[i].error, "Unknown or invalid refresh token.");
        }
        free(racers[i].won);
    }
    assert_int_equal(winners, 1);
    free(rt);
}

static void
test_idle_expiry(void **state)
{
    char *rt = login_rt("idle-id");
    (void)state;

    /* Expiry has one-second resolution: an idle time of 3 s with uses at ~1 s and ~2 s and a
     * check ~5 s after the last use keeps about a second of margin on every side. */
    sleep(1);
    free(refresh("idle-id", rt)); /* use moves the idle expiry on */
    sleep(1);
    free(refresh("idle-id", rt));
    sleep(5);
    INVALID_RT(.client_id = "idle-id", .refresh_token = rt);
    free(rt);
}

static void
test_absolute_expiry_survives_rotation(void **state)
{
    char *rt = login_rt("abs-id"), *next;
    (void)state;

    /* At least a second of margin on every side, so a slow (sanitizer, shared CI) machine
     * cannot turn this into a race: refreshed at ~3 s (idle 5 s, absolute 6 s), checked at
     * ~7 s, when the idle time alone would still allow it (3 + 5 = 8) but the family is
     * past its absolute 6 s. */
    sleep(3);
    next = refresh("abs-id", rt);
    free(rt);
    sleep(4);
    INVALID_RT(.client_id = "abs-id", .refresh_token = next);
    free(next);
}

static void
test_revoke(void **state)
{
    Tollgate__Token__TokenReply *r;
    char *mine, *theirs;
    (void)state;

    r = login("web-id", NULL, &mine);
    assert_true(userinfo_accepts(r->access_token));
    revoke_token("web-id", mine);
    INVALID_RT(.client_id = "web-id", .refresh_token = mine);
    assert_false(userinfo_accepts(r->access_token)); /* its /userinfo token went with it */
    tollgate__token__token_reply__free_unpacked(r, NULL);
    revoke_token("web-id", mine);            /* again: still 200 */
    revoke_token("web-id", "v1.never-seen"); /* unknown: 200 */
    revoke_token("web-id", "");              /* missing: 400 */

    theirs = login_rt("other-id");
    revoke_token("web-id", theirs); /* another client's: 200, nothing revoked */
    free(refresh("other-id", theirs));
    free(mine);
    free(theirs);
}

static void
test_tokens_valid_after_voids_everything(void **state)
{
    Tollgate__Token__TokenReply *r, *jwt;
    char *rt, *rt_api;
    (void)state;

    r = login("web-id", NULL, &rt);
    jwt = login("web-id", "https://api.test/", &rt_api);
    assert_true(userinfo_accepts(r->access_token));
    assert_true(userinfo_accepts(jwt->access_token));
    atomic_store(&valid_after, tg_now_s() + 1); /* a password reset, say */
    assert_false(userinfo_accepts(r->access_token));
    assert_false(userinfo_accepts(jwt->access_token));
    INVALID_RT(.client_id = "web-id", .refresh_token = rt);
    /* and the family is revoked for good, even once the clock passes the mark */
    atomic_store(&valid_after, 0);
    INVALID_RT(.client_id = "web-id", .refresh_token = rt);
    free(refresh("web-id", rt_api)); /* untouched: never presented while void */
    tollgate__token__token_reply__free_unpacked(r, NULL);
    tollgate__token__token_reply__free_unpacked(jwt, NULL);
    free(rt);
    free(rt_api);
}

static void
test_deleted_and_blocked_users(void **state)
{
    char *rt = login_rt("web-id");
    (void)state;

    atomic_store(&user_deleted, true);
    refused(&(call){.client_id = "web-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
            "The refresh_token was generated for a user who doesn't exist anymore.");
    atomic_store(&user_deleted, false);
    atomic_store(&user_blocked, true);
    refused(&(call){.client_id = "web-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    atomic_store(&user_blocked, false);
    free(refresh("web-id", rt));
    free(rt);
}

/* token.UserState as svc-users sends it; returns the refusal's error code, or "" when taken. */
static const char *
user_state(const char *user_id, int64_t valid_after, bool blocked, bool deleted)
{
    static char code[64];
    Tollgate__Token__UserStateRequest req = TOLLGATE__TOKEN__USER_STATE_REQUEST__INIT;
    bus_call_opts o = {.method = "token.UserState", .deadline_ms = tg_now_ms() + 5000};
    bus_result *res = NULL;

    req.user_id = (char *)user_id;
    req.tokens_valid_after = valid_after;
    req.blocked = blocked;
    req.deleted = deleted;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    snprintf(code, sizeof(code), "%s", res->error != NULL ? res->error->error : "");
    bus_result_free(res);
    return code;
}

/* A refresh that mints no ID token decides on svc-token's copy of the user state alone. */
static void
test_user_state_without_openid(void **state)
{
    Tollgate__Token__TokenReply *r;
    char *rt, *rt2;
    int calls;
    (void)state;

    r = ok(&(call){.grant_type = REALM_GRANT, .client_id = "web-id", .scope = "offline_access"});
    rt = strdup(r->refresh_token);
    tollgate__token__token_reply__free_unpacked(r, NULL);

    calls = atomic_load(&get_user_calls);
    r = ok(&(call){.client_id = "web-id", .refresh_token = rt});
    assert_string_equal(r->id_token, "");
    assert_true(r->access_token[0] != '\0');
    tollgate__token__token_reply__free_unpacked(r, NULL);
    assert_int_equal(atomic_load(&get_user_calls), calls); /* no call to svc-users */

    /* blocked, then deleted, as svc-users says; the stand-in knows nothing of either */
    assert_string_equal(user_state("auth0|jane", 0, true, false), "");
    refused(&(call){.client_id = "web-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    assert_string_equal(user_state("auth0|jane", 0, false, true), "");
    refused(&(call){.client_id = "web-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
            "The refresh_token was generated for a user who doesn't exist anymore.");
    /* unblocked and back: the token works again (neither state revoked it) */
    assert_string_equal(user_state("auth0|jane", 0, false, false), "");
    free(refresh_plain(rt));

    /* a password reset: tokens issued before it are void, their family for good */
    assert_string_equal(user_state("auth0|jane", tg_now_s() + 1, false, false), "");
    INVALID_RT(.client_id = "web-id", .refresh_token = rt);
    /* an older tokens_valid_after arriving late does not move the mark back */
    assert_string_equal(user_state("auth0|jane", 1, false, false), "");
    r = ok(&(call){.grant_type = REALM_GRANT, .client_id = "web-id", .scope = "offline_access"});
    rt2 = strdup(r->refresh_token);
    tollgate__token__token_reply__free_unpacked(r, NULL);
    INVALID_RT(.client_id = "web-id", .refresh_token = rt2); /* issued in the void second */
    assert_int_equal(atomic_load(&get_user_calls), calls);

    /* the copy is honoured with openid too, beside svc-users' own answer */
    sleep(2);
    free(rt2);
    rt2 = login_rt("web-id");
    assert_string_equal(user_state("auth0|jane", tg_now_s() - 1, true, false), "");
    refused(&(call){.client_id = "web-id", .refresh_token = rt2},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    assert_string_equal(user_state("auth0|jane", 0, false, false), "");
    free(refresh("web-id", rt2));

    /* hostile messages change nothing */
    assert_string_equal(user_state("", 0, true, true), "invalid_request");
    assert_string_equal(user_state("auth0|jane", -5, true, true), "invalid_request");
    free(refresh("web-id", rt2));
    free(rt);
    free(rt2);
}

/* A rotating client's token: svc-token's copy of the user is checked inside the take, which a
 * refusal abandons (the token stays usable); svc-users, asked for the ID token's claims, only
 * after it, so a user that only svc-users knows is gone is refused with the token spent. */
static void
test_rotating_user_checks(void **state)
{
    char *rt = login_rt("rot-id"), *next;
    (void)state;

    assert_string_equal(user_state("auth0|jane", 0, true, false), "");
    refused(&(call){.client_id = "rot-id", .refresh_token = rt},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    assert_string_equal(user_state("auth0|jane", 0, false, false), "");
    next = refresh("rot-id", rt); /* not taken by the refusal */

    atomic_store(&user_deleted, true);
    refused(&(call){.client_id = "rot-id", .refresh_token = next},
            TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
            "The refresh_token was generated for a user who doesn't exist anymore.");
    atomic_store(&user_deleted, false);
    INVALID_RT(.client_id = "rot-id", .refresh_token = next); /* spent: now a reuse */
    free(next);
    free(rt);
}

/* Whether rt is "v1." + 16 lowercase hex digits + "." + a base64url secret of 32 bytes. */
static bool
is_stamped(const char *rt)
{
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    return strncmp(rt, "v1.", 3) == 0 && strspn(rt + 3, "0123456789abcdef") == 16 &&
           rt[19] == '.' && strlen(rt + 20) == 43 && strspn(rt + 20, b64) == 43;
}

static void
test_stamped_tokens_and_ids(void **state)
{
    char *rt1 = login_rt("rot-id"), *rt2, id1[65], id2[65], hash[65], forged[128];
    json_t *doc = NULL;
    (void)state;

    rt2 = refresh("rot-id", rt1);
    assert_true(is_stamped(rt1));
    assert_true(is_stamped(rt2));
    /* the id: the stamp, then the first 48 hex digits of the token's SHA-256 */
    assert_int_equal(token_refresh_id(rt1, id1), TG_OK);
    assert_int_equal(token_refresh_id(rt2, id2), TG_OK);
    assert_int_equal(token_hash_id(rt1, hash), TG_OK);
    assert_memory_equal(id1, rt1 + 3, 16);
    assert_memory_equal(id1 + 16, hash, 48);
    assert_true(strcmp(id1, id2) < 0); /* issued later, stored after */
    assert_int_equal(store_get(fx.app.st, TOKEN_COLL_REFRESH, id2, &doc), TG_OK);
    json_decref(doc);

    /* a stamp changed, a secret changed, a secret cut, an upper-case stamp: all unknown */
    snprintf(forged, sizeof(forged), "%s", rt2);
    forged[18] = forged[18] == '0' ? '1' : '0';
    INVALID_RT(.client_id = "rot-id", .refresh_token = forged);
    snprintf(forged, sizeof(forged), "%s", rt2);
    forged[40] = forged[40] == 'A' ? 'B' : 'A';
    INVALID_RT(.client_id = "rot-id", .refresh_token = forged);
    snprintf(forged, sizeof(forged), "%.20s", rt2);
    INVALID_RT(.client_id = "rot-id", .refresh_token = forged);
    snprintf(forged, sizeof(forged), "v1.ABCDEF0123456789.%s", rt2 + 20);
    INVALID_RT(.client_id = "rot-id", .refresh_token = forged);
    /* none of that touched the chain */
    free(refresh("rot-id", rt2));
    free(rt1);
    free(rt2);
}

/* A token of the older form ("v1." + secret, stored under its whole hash), as a store written
 * before stamped tokens holds it: it still refreshes, rotates into a stamped one, and revokes. */
static void
test_older_tokens_still_work(void **state)
{
    const char *legacy = "v1.LegacyLegacyLegacyLegacyLegacyLegacyLega";
    const char *legacy2 = "v1.OtherOtherOtherOtherOtherOtherOtherOther";
    char *rt = login_rt("rot-id"), *next, id[65], legacy_id[65];
    json_t *doc = NULL;
    (void)state;

    assert_int_equal(token_refresh_id(rt, id), TG_OK);
    assert_int_equal(store_get(fx.app.st, TOKEN_COLL_REFRESH, id, &doc), TG_OK);
    assert_int_equal(token_refresh_id(legacy, legacy_id), TG_OK);
    assert_int_equal(token_hash_id(legacy, id), TG_OK);
    assert_string_equal(legacy_id, id); /* no stamp: the whole hash */
    json_object_set_new(doc, "_id", json_string(legacy_id));
    assert_int_equal(store_insert(fx.app.st, TOKEN_COLL_REFRESH, doc), TG_OK);
    next = refresh("rot-id", legacy);
    assert_true(is_stamped(next));
    INVALID_RT(.client_id = "rot-id", .refresh_token = legacy); /* rotated: reuse */
    free(next);
    free(rt);

    /* and /oauth/revoke finds one */
    rt = login_rt("web-id");
    assert_int_equal(token_refresh_id(rt, id), TG_OK);
    json_decref(doc);
    assert_int_equal(store_get(fx.app.st, TOKEN_COLL_REFRESH, id, &doc), TG_OK);
    assert_int_equal(token_hash_id(legacy2, legacy_id), TG_OK);
    json_object_set_new(doc, "_id", json_string(legacy_id));
    assert_int_equal(store_insert(fx.app.st, TOKEN_COLL_REFRESH, doc), TG_OK);
    revoke_token("web-id", legacy2);
    INVALID_RT(.client_id = "web-id", .refresh_token = legacy2);
    INVALID_RT(.client_id = "web-id", .refresh_token = rt); /* the same family */
    json_decref(doc);
    free(rt);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_issued_only_when_allowed, reset_user),
        cmocka_unit_test_setup(test_non_rotating_reuse_and_form_extras, reset_user),
        cmocka_unit_test_setup(test_refusals, reset_user),
        cmocka_unit_test_setup(test_scope_narrowing, reset_user),
        cmocka_unit_test_setup(test_rotation_and_reuse_detection, reset_user),
        cmocka_unit_test_setup(test_resent_request_wins_again, reset_user),
        cmocka_unit_test_setup(test_overlap_period, reset_user),
        cmocka_unit_test_setup(test_concurrent_use_has_one_winner, reset_user),
        cmocka_unit_test_setup(test_idle_expiry, reset_user),
        cmocka_unit_test_setup(test_absolute_expiry_survives_rotation, reset_user),
        cmocka_unit_test_setup(test_revoke, reset_user),
        cmocka_unit_test_setup(test_tokens_valid_after_voids_everything, reset_user),
        cmocka_unit_test_setup(test_deleted_and_blocked_users, reset_user),
        cmocka_unit_test_setup(test_user_state_without_openid, reset_user),
        cmocka_unit_test_setup(test_rotating_user_checks, reset_user),
        cmocka_unit_test_setup(test_stamped_tokens_and_ids, reset_user),
        cmocka_unit_test_setup(test_older_tokens_still_work, reset_user),
    };
    log_init("token-rt-test", TG_LOG_ERROR);
    return cmocka_run_group_tests_name("svc-token refresh tokens", tests, setup, teardown);
}
