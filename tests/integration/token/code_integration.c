/*
 * grant_type=authorization_code over the real bus and a real SQLite store, without HTTP
 * (contract.md §4.2, §5.5, §6.1; security.md T-72…T-80).
 *
 * svc-authorize is a stand-in here: a small bus server answering authorize.RedeemCode from a
 * table of codes, with the one-time semantics of the real one (a code is taken once; the same
 * bus request id gets the same answer again). It is a neighbouring service's double over the
 * real bus, so svc-token's client path (request id, deadline, refusal pass-through, 503) is
 * the real one. svc-users is the same bus-level stand-in as in refresh_integration.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three above, which it needs */

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
#define CB "https://app.test/cb"
/* RFC 7636 appendix B */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define AUTH_TIME 1700000000
#define BAD_VERIFIER "Failed to verify code verifier"
#define BAD_CODE "Invalid authorization code"

static const char tenant_yaml[] =
    "clients:\n"
    "  - {name: Web, client_id: web-id, client_secret: web-secret-value,\n"
    "     token_endpoint_auth_method: client_secret_post,\n"
    "     grant_types: [authorization_code, refresh_token]}\n"
    "  - {name: Spa, client_id: spa-id, app_type: native, token_endpoint_auth_method: none,\n"
    "     grant_types: [authorization_code, refresh_token]}\n"
    "resourceServers:\n"
    "  - {name: API, identifier: 'https://api.test/', allow_offline_access: true,\n"
    "     scopes: [{value: 'read:a'}]}\n";

/* ---- the svc-authorize stand-in ----------------------------------------------------------- */

typedef struct code_row {
    const char *code, *client_id, *scope, *audience, *challenge;
    char taken_by[128]; /* the request id that took it; "" while unused */
} code_row;

static code_row codes[] = {
    {"c-pkce", "spa-id", "openid email offline_access", "", CHALLENGE, ""},
    {"c-api", "web-id", "openid profile read:a", "https://api.test/", "", ""},
    {"c-wrong", "spa-id", "openid", "", CHALLENGE, ""},
    {"c-missing", "spa-id", "openid", "", CHALLENGE, ""},
    {"c-downgrade", "web-id", "openid", "", "", ""},
    {"c-public", "spa-id", "openid", "", "", ""},
    {"c-secret", "web-id", "openid", "", "", ""},
    {"c-replay", "web-id", "openid email offline_access", "", "", ""},
    {"c-resend", "web-id", "openid offline_access", "", "", ""},
};
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;

/* The row for a request, taken by this request id; NULL when refused. */
static const code_row *
take_code(const Tollgate__Authorize__RedeemCodeRequest *r, const char *request_id)
{
    const code_row *found = NULL;

    pthread_mutex_lock(&codes_lock);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        code_row *c = &codes[i];
        if (strcmp(c->code, r->code) != 0 || strcmp(c->client_id, r->client_id) != 0 ||
            strcmp(r->redirect_uri, CB) != 0)
            continue;
        if (c->taken_by[0] == '\0')
            snprintf(c->taken_by, sizeof(c->taken_by), "%s", request_id);
        if (strcmp(c->taken_by, request_id) == 0)
            found = c;
    }
    pthread_mutex_unlock(&codes_lock);
    return found;
}

static tg_err
on_redeem(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__RedeemCodeRequest *r = (const void *)reqm;
    Tollgate__Authorize__RedeemCodeReply *reply = (void *)replym;
    const code_row *c = take_code(r, bus_ctx_request_id(ctx));

    if (c == NULL)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant", BAD_CODE);
    reply->user_id = "auth0|jane";
    reply->scope = (char *)c->scope;
    reply->audience = (char *)c->audience;
    reply->nonce = "n-0S6_WzA2Mj";
    reply->auth_time = AUTH_TIME;
    reply->sid = "sid-123";
    reply->code_challenge = (char *)c->challenge;
    reply->code_challenge_method = c->challenge[0] != '\0' ? "S256" : "";
    return TG_OK;
}

static const bus_method authorize_methods[] = {
    {"authorize.RedeemCode", &tollgate__authorize__redeem_code_request__descriptor,
     &tollgate__authorize__redeem_code_reply__descriptor, on_redeem},
};

/* ---- the svc-users stand-in ---------------------------------------------------------------- */

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
    tollgate__users__user__init(u);
    u->user_id = "auth0|jane";
    u->email = "jane@example.com";
    u->email_verified = true;
    u->name = "Jane Doe";
    reply->user = u;
    return TG_OK;
}

static const bus_method users_methods[] = {
    {"users.GetUser", &tollgate__users__get_user_request__descriptor,
     &tollgate__users__get_user_reply__descriptor, on_get_user},
};

/* ---- fixture ------------------------------------------------------------------------------ */

static token_system fx;

static const token_system_opts fx_opts = {
    .tenant_yaml = tenant_yaml,
    .db_name = "token-code",
    .workers = 8,
    .users_methods = users_methods,
    .n_users_methods = 1,
    .users_workers = 4,
    .authorize_methods = authorize_methods,
    .n_authorize_methods = 1,
    .authorize_workers = 4,
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

/* ---- calls -------------------------------------------------------------------------------- */

typedef struct call {
    const char *grant_type, *client_id, *secret, *code, *verifier, *refresh_token, *request_id;
    int64_t timeout_ms; /* 0: 5 s */
} call;

static Tollgate__Token__TokenReply *
token(const call *c, bus_result **res)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Token",
                       .issuer = ISSUER,
                       .request_id = c->request_id,
                       .deadline_ms = tg_now_ms() + (c->timeout_ms ? c->timeout_ms : 5000)};
    bool web_client = strcmp(c->client_id, "web-id") == 0;

    web.client_ip = "192.0.2.1";
    req.web = &web;
    req.grant_type = (char *)(c->grant_type ? c->grant_type : "authorization_code");
    req.client_id = (char *)c->client_id;
    req.client_secret = (char *)(c->secret ? c->secret : web_client ? "web-secret-value" : "");
    req.code = (char *)(c->code ? c->code : "");
    req.code_verifier = (char *)(c->verifier ? c->verifier : "");
    req.redirect_uri = CB;
    req.refresh_token = (char *)(c->refresh_token ? c->refresh_token : "");
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

#define INVALID_GRANT(text, ...)                                                                   \
    refused(&(call){__VA_ARGS__}, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant", text)

/* token.Userinfo with this access token: true when 200. */
static bool
userinfo_accepts(const char *access_token)
{
    Tollgate__Token__Empty req = TOLLGATE__TOKEN__EMPTY__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {
        .method = "token.Userinfo", .issuer = ISSUER, .deadline_ms = tg_now_ms() + 5000};
    char auth[1024];
    bus_result *res = NULL;
    bool accepted;

    snprintf(auth, sizeof(auth), "Bearer %s", access_token);
    web.authorization = auth;
    req.web = &web;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    accepted = res->error == NULL;
    bus_result_free(res);
    return accepted;
}

/* The verified payload of an RS256 ID token (caller decrefs). */
static json_t *
id_claims(const char *jwt)
{
    jose_jws *jws = NULL;
    json_t *claims;

    assert_int_equal(jose_jws_parse(jwt, &jws), TG_OK);
    assert_int_equal(jose_jws_verify(jws, token_keys_get(&fx.app.keys, JOSE_ALG_RS256), NULL, 0),
                     TG_OK);
    claims = json_incref(jws->payload);
    jose_jws_free(jws);
    return claims;
}

/* at_hash as a relying party computes it (OIDC Core §3.1.3.6), independently of svc-token. */
static void
assert_at_hash(const json_t *id, const char *access_token)
{
    unsigned char digest[32];
    unsigned int len = 0;
    char *want = NULL;

    assert_int_equal(
        EVP_Digest(access_token, strlen(access_token), digest, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(tg_b64url_encode(digest, 16, &want), TG_OK);
    assert_string_equal(json_string_value(json_object_get(id, "at_hash")), want);
    free(want);
}

static void
assert_session_claims(const json_t *id)
{
    assert_string_equal(json_string_value(json_object_get(id, "nonce")), "n-0S6_WzA2Mj");
    assert_string_equal(json_string_value(json_object_get(id, "sid")), "sid-123");
    assert_int_equal(json_integer_value(json_object_get(id, "auth_time")), AUTH_TIME);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_pkce_success(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *id;
    (void)state;

    r = ok(&(call){.client_id = "spa-id", .code = "c-pkce", .verifier = VERIFIER});
    assert_string_equal(r->scope, "openid email offline_access");
    assert_string_equal(r->token_type, "Bearer");
    assert_null(strchr(r->access_token, '.')); /* no audience: an opaque /userinfo token */
    assert_true(strncmp(r->refresh_token, "v1.", 3) == 0);
    assert_true(userinfo_accepts(r->access_token));
    id = id_claims(r->id_token);
    assert_string_equal(json_string_value(json_object_get(id, "aud")), "spa-id");
    assert_string_equal(json_string_value(json_object_get(id, "email")), "jane@example.com");
    assert_session_claims(id);
    assert_at_hash(id, r->access_token);
    json_decref(id);
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_confidential_with_api(void **state)
{
    Tollgate__Token__TokenReply *r;
    json_t *id;
    (void)state;

    r = ok(&(call){.client_id = "web-id", .code = "c-api"});
    assert_non_null(strchr(r->access_token, '.')); /* a JWT for the API */
    assert_string_equal(r->scope, "openid profile read:a");
    assert_string_equal(r->refresh_token, ""); /* no offline_access */
    assert_int_equal(r->expires_in, 86400);
    id = id_claims(r->id_token);
    assert_session_claims(id);
    assert_at_hash(id, r->access_token);
    json_decref(id);
    tollgate__token__token_reply__free_unpacked(r, NULL);
}

static void
test_pkce_refusals(void **state)
{
    (void)state;
    INVALID_GRANT(BAD_VERIFIER, .client_id = "spa-id", .code = "c-wrong",
                  .verifier = "wrong-verifier-wrong-verifier-wrong-verifier-0");
    INVALID_GRANT(BAD_CODE, .client_id = "spa-id", .code = "c-wrong", .verifier = VERIFIER);
    INVALID_GRANT(BAD_VERIFIER, .client_id = "spa-id", .code = "c-missing");
    INVALID_GRANT(BAD_VERIFIER, .client_id = "web-id", .code = "c-downgrade", .verifier = VERIFIER);
    INVALID_GRANT(BAD_VERIFIER, .client_id = "spa-id", .code = "c-public");
}

static void
test_request_refusals(void **state)
{
    (void)state;
    refused(&(call){.client_id = "web-id", .code = "c-secret", .secret = "not-the-secret"},
            TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "access_denied", "Unauthorized");
    refused(&(call){.client_id = "web-id"}, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
            "invalid_request", "Missing required parameter: code");
    INVALID_GRANT(BAD_CODE, .client_id = "web-id", .code = "no-such-code");
    /* another client's code */
    INVALID_GRANT(BAD_CODE, .client_id = "web-id", .code = "c-pkce", .verifier = VERIFIER);
}

static void
test_replay_revokes(void **state)
{
    Tollgate__Token__TokenReply *r;
    char *rt, *at;
    (void)state;

    r = ok(&(call){.client_id = "web-id", .code = "c-replay"});
    rt = strdup(r->refresh_token);
    at = strdup(r->access_token);
    tollgate__token__token_reply__free_unpacked(r, NULL);
    assert_true(strncmp(rt, "v1.", 3) == 0);
    assert_true(userinfo_accepts(at));

    INVALID_GRANT(BAD_CODE, .client_id = "web-id", .code = "c-replay");
    INVALID_GRANT("Unknown or invalid refresh token.", .grant_type = "refresh_token",
                  .client_id = "web-id", .refresh_token = rt);
    assert_false(userinfo_accepts(at));
    free(rt);
    free(at);
}

/* A resend (same request id) is answered again; only the last answer's tokens stay valid. */
static void
test_resend_is_idempotent(void **state)
{
    Tollgate__Token__TokenReply *first, *second;
    (void)state;

    first = ok(&(call){.client_id = "web-id", .code = "c-resend", .request_id = "req-resend"});
    second = ok(&(call){.client_id = "web-id", .code = "c-resend", .request_id = "req-resend"});
    assert_string_not_equal(first->refresh_token, second->refresh_token);
    assert_false(userinfo_accepts(first->access_token));
    assert_true(userinfo_accepts(second->access_token));
    tollgate__token__token_reply__free_unpacked(first, NULL);
    tollgate__token__token_reply__free_unpacked(second, NULL);
}

static void
test_authorize_down(void **state)
{
    bus_client *real = fx.app.authorize, *nobody = NULL;
    (void)state;

    assert_int_equal(bus_client_open(fx.spare_url, &nobody), TG_OK);
    fx.app.authorize = nobody; /* no request in flight: the workers see one or the other */
    refused(&(call){.client_id = "web-id", .code = "c-secret", .timeout_ms = 1000},
            TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, "temporarily_unavailable",
            "The service is temporarily unavailable. Please try again later.");
    fx.app.authorize = real;
    bus_client_close(nobody);
}

/* Discovery announces the code flow, S256 only, and no end_session_endpoint yet. */
static void
test_discovery(void **state)
{
    Tollgate__Token__Empty req = TOLLGATE__TOKEN__EMPTY__INIT;
    bus_call_opts o = {
        .method = "token.Discovery", .issuer = ISSUER, .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Token__OpenIdConfiguration *d;
    bus_result *res = NULL;
    bool code_grant = false;
    (void)state;

    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    assert_null(res->error);
    d = tollgate__token__open_id_configuration__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(d);
    assert_string_equal(d->authorization_endpoint, ISSUER "authorize");
    assert_string_equal(d->end_session_endpoint, ISSUER "oidc/logout");
    assert_int_equal(d->n_code_challenge_methods_supported, 1);
    assert_string_equal(d->code_challenge_methods_supported[0], "S256");
    /* code, plus the implicit and hybrid types svc-authorize answers (issue #4) */
    assert_int_equal(d->n_response_types_supported, 7);
    assert_string_equal(d->response_types_supported[0], "code");
    assert_string_equal(d->response_types_supported[6], "code id_token token");
    assert_true(d->backchannel_logout_supported);
    assert_true(d->backchannel_logout_session_supported);
    assert_int_equal(d->n_response_modes_supported, 4);
    assert_string_equal(d->response_modes_supported[3], "web_message");
    for (size_t i = 0; i < d->n_grant_types_supported; i++)
        code_grant |= strcmp(d->grant_types_supported[i], "authorization_code") == 0;
    assert_true(code_grant);
    tollgate__token__open_id_configuration__free_unpacked(d, NULL);
    bus_result_free(res);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce_success),   cmocka_unit_test(test_confidential_with_api),
        cmocka_unit_test(test_pkce_refusals),  cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_replay_revokes), cmocka_unit_test(test_resend_is_idempotent),
        cmocka_unit_test(test_authorize_down), cmocka_unit_test(test_discovery),
    };

    log_init("code-integration", TG_LOG_WARN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
