/*
 * The password grants and /userinfo over the real bus and a real SQLite store, without HTTP.
 *
 * svc-users is a neighbouring service still being written, so here it is a test double: a
 * small bus server on svc-token's --users-bus address that answers users.VerifyPassword and
 * users.GetUser from fixed data over the real NNG bus. That is a stand-in for a SERVICE, not a
 * mocked store (svc-token's own store is the real SQLite one); when svc-users' library is
 * ready this file should run it in-process instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <pthread.h>
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

static const char tenant_yaml[] =
    "clients:\n"
    "  - name: Web\n"
    "    app_type: regular_web\n"
    "    client_id: web-id\n"
    "    client_secret: web-secret-value\n"
    "    token_endpoint_auth_method: client_secret_post\n"
    "    grant_types: [password, 'http://auth0.com/oauth/grant-type/password-realm']\n"
    "    jwt_configuration: {alg: RS256, lifetime_in_seconds: 3600}\n"
    "  - name: Legacy\n"
    "    app_type: regular_web\n"
    "    client_id: legacy-id\n"
    "    client_secret: legacy-secret-value-0123456789\n"
    "    token_endpoint_auth_method: client_secret_post\n"
    "    grant_types: [password]\n"
    "    jwt_configuration: {alg: HS256}\n"
    "  - name: Native\n"
    "    app_type: native\n"
    "    client_id: native-id\n"
    "    token_endpoint_auth_method: none\n"
    "    grant_types: [password]\n"
    "  - name: Plain\n"
    "    app_type: regular_web\n"
    "    client_id: plain-id\n"
    "    client_secret: plain-secret-value\n"
    "    token_endpoint_auth_method: client_secret_post\n"
    "resourceServers:\n"
    "  - name: API\n"
    "    identifier: https://api.test/\n"
    "    token_lifetime: 600\n"
    "    scopes: [{value: 'read:a'}, {value: 'write:a'}]\n"
    "  - name: HS\n"
    "    identifier: https://hs.test/\n"
    "    signing_alg: HS256\n"
    "    signing_secret: hs-secret-for-tests-0123456789\n";

/* ---- the svc-users double ---------------------------------------------------------------- */

typedef struct users_seen {
    pthread_mutex_t mu;
    char connection[128];
    char client_ip[128];
    char client_id[128];
} users_seen;

static users_seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
fill_jane(Tollgate__Users__User *u)
{
    tollgate__users__user__init(u);
    u->user_id = "auth0|jane";
    u->connection = DB;
    u->email = "jane@example.com";
    u->email_verified = true;
    u->name = "Jane Doe";
    u->given_name = "Jane";
    u->nickname = "jane";
    u->updated_at = "2024-01-02T03:04:05.000Z";
}

static tg_err
on_verify(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__VerifyPasswordRequest *r = (const void *)reqm;
    Tollgate__Users__VerifyPasswordReply *reply = (void *)replym;
    Tollgate__Users__User *u;
    tg_err err;

    pthread_mutex_lock(&seen.mu);
    snprintf(seen.connection, sizeof(seen.connection), "%s", r->connection);
    snprintf(seen.client_ip, sizeof(seen.client_ip), "%s", r->client_ip);
    snprintf(seen.client_id, sizeof(seen.client_id), "%s", r->client_id);
    pthread_mutex_unlock(&seen.mu);
    if (r->connection[0] != '\0' && strcmp(r->connection, DB) != 0)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "the connection was not found");
    if (strcmp(r->username, "blocked@example.com") == 0)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized",
                            "user is blocked");
    if (strcmp(r->username, "locked@example.com") == 0) {
        err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS,
                           "too_many_attempts", "Your account has been blocked.");
        bus_ctx_fail_header(ctx, "X-RateLimit-Limit", "10");
        return err;
    }
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

    if (strcmp(r->user_id, "auth0|jane") != 0)
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
    .db_name = "token-pw",
    .workers = 2,
    .users_methods = users_methods,
    .n_users_methods = 2,
    .users_workers = 2,
};

static void
start_users(void)
{
    token_system_start_users(&fx, &fx_opts);
}

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

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct login {
    const char *grant_type, *client_id, *secret, *username, *password, *realm, *audience,
        *scope, *forwarded_for;
    int64_t deadline_ms;
} login;

/* Calls token.Token; returns the reply (caller frees) or NULL with *res holding the error. */
static Tollgate__Token__TokenReply *
token(const login *l, bus_result **res)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Token", .issuer = ISSUER,
                       .deadline_ms = l->deadline_ms ? l->deadline_ms : tg_now_ms() + 5000};
    Tollgate__Token__TokenReply *reply = NULL;

    web.client_ip = "192.0.2.1";
    web.forwarded_for = (char *)(l->forwarded_for ? l->forwarded_for : "");
    req.web = &web;
    req.grant_type = (char *)(l->grant_type ? l->grant_type : REALM_GRANT);
    req.client_id = (char *)(l->client_id ? l->client_id : "web-id");
    req.client_secret = (char *)(l->secret ? l->secret : "");
    req.username = (char *)(l->username ? l->username : "");
    req.password = (char *)(l->password ? l->password : "");
    req.realm = (char *)(l->realm ? l->realm : "");
    req.audience = (char *)(l->audience ? l->audience : "");
    req.scope = (char *)(l->scope ? l->scope : "");
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error == NULL)
        reply = tollgate__token__token_reply__unpack(NULL, (*res)->payload.len,
                                                     (*res)->payload.data);
    return reply;
}

/* JANE(...) is a valid login whose fields a test overrides by designated initializer. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define JANE(...)                                                                              \
    (login)                                                                                    \
    {                                                                                          \
        .secret = "web-secret-value", .username = "jane@example.com", .password = "Passw0rd!", \
        .realm = DB, __VA_ARGS__                                                               \
    }

static Tollgate__Token__TokenReply *
login_ok(const login *l)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r = token(l, &res);

    if (r == NULL)
        fail_msg("login refused: %s %s", res->error ? res->error->error : "?",
                 res->error ? res->error->error_description : "");
    bus_result_free(res);
    return r;
}

static void
expect_error(const login *l, Tollgate__Bus__ErrorClass cls, const char *error,
             const char *description)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r = token(l, &res);

    assert_null(r);
    assert_non_null(res->error);
    assert_string_equal(res->error->error, error);
    assert_string_equal(res->error->error_description, description);
    assert_int_equal(res->error->error_class, cls);
    bus_result_free(res);
}

/* Verifies jwt with key or secret and returns its payload (caller decrefs). */
static json_t *
verified(const char *jwt, const jose_key *key, const char *secret)
{
    jose_jws *jws = NULL;
    json_t *claims;

    assert_int_equal(jose_jws_parse(jwt, &jws), TG_OK);
    assert_int_equal(jose_jws_verify(jws, key, secret, secret ? strlen(secret) : 0), TG_OK);
    claims = json_incref(jws->payload);
    jose_jws_free(jws);
    return claims;
}

static const char *
str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(absent)";
}

static const jose_key *
rs256(void)
{
    return token_keys_get(&fx.app.keys, JOSE_ALG_RS256);
}

static void
seen_copy(char *conn, char *ip, size_t n)
{
    pthread_mutex_lock(&seen.mu);
    snprintf(conn, n, "%s", seen.connection);
    snprintf(ip, n, "%s", seen.client_ip);
    pthread_mutex_unlock(&seen.mu);
}

/* Calls token.Userinfo with this Authorization header (NULL: none). On 200 returns the body
 * (caller decrefs); on a refusal checks Auth0's plain-text 401 and its WWW-Authenticate. */
static json_t *
userinfo(const char *authorization, const char *want_www_authenticate)
{
    Tollgate__Token__Empty req = TOLLGATE__TOKEN__EMPTY__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Userinfo", .issuer = ISSUER,
                       .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Token__UserinfoReply *reply;
    bus_result *res = NULL;
    json_t *body = NULL;

    web.authorization = (char *)(authorization ? authorization : "");
    req.web = &web;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    if (want_www_authenticate != NULL) {
        assert_non_null(res->error);
        assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED);
        assert_int_equal(res->error->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_TEXT);
        assert_string_equal(res->error->error_description, "Unauthorized");
        assert_int_equal(res->error->n_headers, 1);
        assert_string_equal(res->error->headers[0]->key, "WWW-Authenticate");
        assert_string_equal(res->error->headers[0]->value, want_www_authenticate);
        bus_result_free(res);
        return NULL;
    }
    if (res->error != NULL)
        fail_msg("userinfo refused: %s", res->error->headers[0]->value);
    reply = tollgate__token__userinfo_reply__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(reply);
    assert_non_null(reply->http);
    assert_int_equal(reply->http->status, 200);
    assert_string_equal(reply->http->content_type, "application/json");
    body = json_loadb((const char *)reply->http->body.data, reply->http->body.len, 0, NULL);
    assert_non_null(body);
    tollgate__token__userinfo_reply__free_unpacked(reply, NULL);
    bus_result_free(res);
    return body;
}

static json_t *
userinfo_ok(const char *access_token)
{
    char auth[4096];

    snprintf(auth, sizeof(auth), "Bearer %s", access_token);
    return userinfo(auth, NULL);
}

#define INVALID(why)                                                                           \
    "Bearer realm=\"Users\", error=\"invalid_token\", error_description=\"" why "\""

static void
userinfo_refused(const char *access_token, const char *www_authenticate)
{
    char auth[4096];

    snprintf(auth, sizeof(auth), "Bearer %s", access_token);
    assert_null(userinfo(auth, www_authenticate));
}

/* ---- token endpoint -------------------------------------------------------------------- */

static void
test_realm_with_audience_and_openid(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *at, *id, *aud;
    char conn[128], ip[128];
    (void)state;

    r = login_ok(&JANE(.audience = "https://api.test/", .scope = "openid profile email",
                       .forwarded_for = "198.51.100.7"));
    assert_string_equal(r->token_type, "Bearer");
    assert_int_equal(r->expires_in, 600);
    assert_string_equal(r->scope, "openid profile email read:a write:a");
    at = verified(r->access_token, rs256(), NULL);
    assert_string_equal(str(at, "iss"), ISSUER);
    assert_string_equal(str(at, "sub"), "auth0|jane");
    assert_string_equal(str(at, "azp"), "web-id");
    assert_string_equal(str(at, "gty"), "password");
    assert_string_equal(str(at, "scope"), "openid profile email read:a write:a");
    aud = json_pack("[s, s]", "https://api.test/", ISSUER "userinfo");
    assert_true(json_equal(json_object_get(at, "aud"), aud));
    json_decref(aud);
    assert_int_equal(json_integer_value(json_object_get(at, "exp")) -
                         json_integer_value(json_object_get(at, "iat")),
                     600);
    id = verified(r->id_token, rs256(), NULL);
    assert_string_equal(str(id, "iss"), ISSUER);
    assert_string_equal(str(id, "sub"), "auth0|jane");
    assert_string_equal(str(id, "aud"), "web-id");
    assert_int_equal(json_integer_value(json_object_get(id, "exp")) -
                         json_integer_value(json_object_get(id, "iat")),
                     3600);
    assert_true(json_is_integer(json_object_get(id, "auth_time")));
    assert_string_equal(str(id, "name"), "Jane Doe");
    assert_string_equal(str(id, "given_name"), "Jane");
    assert_string_equal(str(id, "nickname"), "jane");
    assert_string_equal(str(id, "updated_at"), "2024-01-02T03:04:05.000Z");
    assert_null(json_object_get(id, "family_name")); /* empty: not emitted */
    assert_null(json_object_get(id, "picture"));
    assert_string_equal(str(id, "email"), "jane@example.com");
    assert_true(json_is_true(json_object_get(id, "email_verified")));
    assert_null(json_object_get(id, "phone_number"));
    seen_copy(conn, ip, sizeof(conn));
    assert_string_equal(conn, DB);
    assert_string_equal(ip, "198.51.100.7"); /* confidential client: auth0-forwarded-for */
    json_decref(at);
    json_decref(id);
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_password_without_audience_is_opaque(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *body, *id;
    char conn[128], ip[128];
    (void)state;

    r = login_ok(&JANE(.grant_type = "password", .realm = NULL, .scope = "openid email"));
    assert_null(strchr(r->access_token, '.')); /* opaque, not a JWT */
    assert_int_equal(r->expires_in, 86400);
    assert_string_equal(r->scope, "openid email");
    seen_copy(conn, ip, sizeof(conn));
    assert_string_equal(conn, ""); /* default directory: svc-users resolves "" */
    id = verified(r->id_token, rs256(), NULL);
    assert_null(json_object_get(id, "name")); /* no profile scope */
    assert_string_equal(str(id, "email"), "jane@example.com");
    body = userinfo_ok(r->access_token);
    assert_string_equal(str(body, "sub"), "auth0|jane");
    assert_string_equal(str(body, "email"), "jane@example.com");
    assert_true(json_is_true(json_object_get(body, "email_verified")));
    assert_null(json_object_get(body, "name"));
    json_decref(body);
    json_decref(id);
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_audience_without_openid(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *at;
    (void)state;

    r = login_ok(&JANE(.audience = "https://api.test/", .scope = "read:a offline_access bogus"));
    assert_string_equal(r->scope, "read:a");
    assert_string_equal(r->id_token, "");
    assert_string_equal(r->refresh_token, ""); /* refresh tokens come with their own work */
    at = verified(r->access_token, rs256(), NULL);
    assert_string_equal(str(at, "aud"), "https://api.test/");
    json_decref(at);
    /* no openid and no userinfo audience: useless at /userinfo */
    userinfo_refused(r->access_token, INVALID("Invalid token"));
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_hs256_client_and_public_client(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *id;
    char conn[128], ip[128];
    (void)state;

    r = login_ok(&JANE(.grant_type = "password", .client_id = "legacy-id",
                       .secret = "legacy-secret-value-0123456789", .scope = "openid profile"));
    id = verified(r->id_token, NULL, "legacy-secret-value-0123456789");
    assert_string_equal(str(id, "aud"), "legacy-id");
    assert_string_equal(str(id, "name"), "Jane Doe");
    json_decref(id);
    tollgate__token__token_reply__free_unpacked(r, NULL);
    /* public client: client_id only; auth0-forwarded-for is not trusted from it */
    r = login_ok(&JANE(.grant_type = "password", .client_id = "native-id", .secret = "",
                       .scope = "openid", .forwarded_for = "198.51.100.7"));
    seen_copy(conn, ip, sizeof(conn));
    assert_string_equal(ip, "192.0.2.1");
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_error(&JANE(.username = ""), TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                 "invalid_request", "Missing required parameter: username");
    expect_error(&JANE(.password = ""), TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                 "invalid_request", "Missing required parameter: password");
    expect_error(&JANE(.realm = ""), TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                 "Missing required parameter: realm");
    expect_error(&JANE(.audience = "https://nope.test/"), TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                 "access_denied", "Service not enabled within domain: https://nope.test/");
    expect_error(&JANE(.secret = "wrong"), TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED,
                 "access_denied", "Unauthorized");
    expect_error(&JANE(.client_id = "plain-id", .secret = "plain-secret-value"),
                 TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "unauthorized_client",
                 "Grant type 'http://auth0.com/oauth/grant-type/password-realm' not allowed for "
                 "the client.");
}

static void
test_svc_users_errors_pass_through(void **state)
{
    bus_result *res = NULL;
    (void)state;

    expect_error(&JANE(.password = "wrong"), TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN,
                 "invalid_grant", "Wrong email or password.");
    expect_error(&JANE(.username = "blocked@example.com"),
                 TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    expect_error(&JANE(.realm = "Other"), TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                 "invalid_request", "the connection was not found");
    assert_null(token(&JANE(.username = "locked@example.com"), &res));
    assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS);
    assert_string_equal(res->error->error, "too_many_attempts");
    assert_int_equal(res->error->n_headers, 1);
    assert_string_equal(res->error->headers[0]->key, "X-RateLimit-Limit");
    bus_result_free(res);
}

static void
test_svc_users_down_is_unavailable(void **state)
{
    (void)state;
    bus_server_close(fx.users_srv);
    fx.users_srv = NULL;
    expect_error(&JANE(.deadline_ms = tg_now_ms() + 1500), TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE,
                 "temporarily_unavailable",
                 "The service is temporarily unavailable. Please try again later.");
    start_users();
    usleep(300 * 1000); /* let the double dial back in */
}

/* ---- /userinfo ----------------------------------------------------------------------------- */

static void
test_userinfo_with_jwt(void **state)
{
    Tollgate__Token__TokenReply *r;
    char auth[4096];
    json_t *body;
    (void)state;

    r = login_ok(&JANE(.audience = "https://api.test/", .scope = "openid profile"));
    body = userinfo_ok(r->access_token);
    assert_string_equal(str(body, "sub"), "auth0|jane");
    assert_string_equal(str(body, "name"), "Jane Doe");
    assert_string_equal(str(body, "updated_at"), "2024-01-02T03:04:05.000Z");
    assert_null(json_object_get(body, "email")); /* no email scope */
    json_decref(body);
    /* the scheme is case-insensitive */
    snprintf(auth, sizeof(auth), "bEARER %s", r->access_token);
    body = userinfo(auth, NULL);
    json_decref(body);
    /* an ID token is not an access token (its aud is the client) */
    userinfo_refused(r->id_token, INVALID("Invalid token"));
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static char *
sign_rs256(const char *aud, int64_t exp, const char *scope)
{
    json_t *c = json_pack("{s:s, s:s, s:[s, s], s:I, s:I, s:s}", "iss", ISSUER, "sub",
                          "auth0|jane", "aud", aud, ISSUER "userinfo", "iat",
                          (json_int_t)(exp - 600), "exp", (json_int_t)exp, "scope", scope);
    char *jwt = NULL;

    assert_int_equal(jose_sign(JOSE_ALG_RS256, rs256(), NULL, 0, c, &jwt), TG_OK);
    json_decref(c);
    return jwt;
}

static void
test_userinfo_refuses_bad_tokens(void **state)
{
    const char *hs = "hs-secret-for-tests-0123456789";
    char *jwt;
    json_t *c;
    (void)state;

    assert_null(userinfo(NULL, "Bearer realm=\"Users\""));
    assert_null(userinfo("Basic d2ViOnNlY3JldA==", INVALID("Invalid authorization header")));
    assert_null(userinfo("Bearer  two-spaces", INVALID("Invalid authorization header")));
    userinfo_refused("garbage", INVALID("Invalid token"));
    userinfo_refused("a.b.c", INVALID("Invalid token"));
    /* a well-signed token is accepted... */
    jwt = sign_rs256("https://api.test/", tg_now_s() + 600, "openid");
    json_decref(userinfo_ok(jwt));
    free(jwt);
    /* ...but not once expired */
    jwt = sign_rs256("https://api.test/", tg_now_s() - 5, "openid");
    userinfo_refused(jwt, INVALID("The token has expired"));
    free(jwt);
    /* ...nor without openid */
    jwt = sign_rs256("https://api.test/", tg_now_s() + 600, "read:a");
    userinfo_refused(jwt, INVALID("Insufficient scope, expected openid"));
    free(jwt);
    /* HS256 (an API's shared secret) never verifies here, even with perfect claims */
    c = json_pack("{s:s, s:s, s:[s, s], s:I, s:I, s:s}", "iss", ISSUER, "sub", "auth0|jane",
                  "aud", "https://hs.test/", ISSUER "userinfo", "iat", (json_int_t)tg_now_s(),
                  "exp", (json_int_t)(tg_now_s() + 600), "scope", "openid");
    assert_int_equal(jose_sign(JOSE_ALG_HS256, NULL, hs, strlen(hs), c, &jwt), TG_OK);
    userinfo_refused(jwt, INVALID("Invalid token"));
    free(jwt);
    json_decref(c);
}

/* Stores an opaque token as svc-token would (by SHA-256), with the given fields. */
static void
store_opaque(const char *token, const char *sub, int64_t expires_at)
{
    unsigned char d[32];
    char id[65];
    json_t *doc;

    assert_int_equal(EVP_Digest(token, strlen(token), d, NULL, EVP_sha256(), NULL), 1);
    tg_hex_encode(d, sizeof(d), id);
    doc = json_pack("{s:s, s:s, s:s, s:s, s:I}", "_id", id, "sub", sub, "client_id", "web-id",
                    "scope", "openid profile", "expires_at", (json_int_t)expires_at);
    assert_int_equal(store_insert(fx.app.st, TOKEN_COLL_USERINFO, doc), TG_OK);
    json_decref(doc);
}

static void
test_userinfo_opaque_expiry_and_gone_user(void **state)
{
    (void)state;
    store_opaque("fresh-token-for-jane", "auth0|jane", tg_now_s() + 60);
    json_decref(userinfo_ok("fresh-token-for-jane"));
    store_opaque("expired-token-for-jane", "auth0|jane", tg_now_s() - 1);
    userinfo_refused("expired-token-for-jane", INVALID("Invalid token"));
    store_opaque("token-of-a-deleted-user", "auth0|gone", tg_now_s() + 60);
    userinfo_refused("token-of-a-deleted-user", INVALID("Invalid token"));
}

static void
test_userinfo_svc_users_down(void **state)
{
    Tollgate__Token__Empty req = TOLLGATE__TOKEN__EMPTY__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Userinfo", .issuer = ISSUER,
                       .deadline_ms = tg_now_ms() + 1500};
    bus_result *res = NULL;
    (void)state;

    store_opaque("token-while-users-is-down", "auth0|jane", tg_now_s() + 60);
    bus_server_close(fx.users_srv);
    fx.users_srv = NULL;
    web.authorization = "Bearer token-while-users-is-down";
    req.web = &web;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    assert_non_null(res->error);
    assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE);
    bus_result_free(res);
    start_users();
    usleep(300 * 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realm_with_audience_and_openid),
        cmocka_unit_test(test_password_without_audience_is_opaque),
        cmocka_unit_test(test_audience_without_openid),
        cmocka_unit_test(test_hs256_client_and_public_client),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_svc_users_errors_pass_through),
        cmocka_unit_test(test_svc_users_down_is_unavailable),
        cmocka_unit_test(test_userinfo_with_jwt),
        cmocka_unit_test(test_userinfo_refuses_bad_tokens),
        cmocka_unit_test(test_userinfo_opaque_expiry_and_gone_user),
        cmocka_unit_test(test_userinfo_svc_users_down),
    };
    log_init("token-pw-test", TG_LOG_WARN);
    return cmocka_run_group_tests_name("svc-token password grants", tests, setup, teardown);
}
