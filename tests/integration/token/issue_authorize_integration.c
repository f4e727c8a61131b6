/*
 * token.IssueForAuthorize and token.LogoutToken (svc-authorize -> svc-token) over the real bus
 * and a real SQLite store, without HTTP: the front-channel tokens of the implicit and hybrid
 * response types (OIDC Core §3.2, §3.3) and back-channel logout tokens (OIDC Back-Channel
 * Logout 1.0 §2.4). svc-users is a bus-level stand-in answering users.GetUser, as in
 * code_integration.c, so svc-token's own client path is the real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three above, which it needs */

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "token.h"
#include "token_system.h"

#define ISSUER "https://issuer.test/"
#define API "https://api.test/"
#define AUTH_TIME 1700000000
#define EVENT "http://schemas.openid.net/event/backchannel-logout"

static const char tenant_yaml[] =
    "clients:\n"
    "  - {name: Web, client_id: web-id, client_secret: web-secret-value,\n"
    "     grant_types: [authorization_code, implicit, refresh_token]}\n"
    "  - {name: Legacy, client_id: hs-id, client_secret: hs-secret-value-0123456789,\n"
    "     grant_types: [implicit], jwt_configuration: {alg: HS256}}\n"
    "resourceServers:\n"
    "  - {name: API, identifier: '" API "', token_lifetime: 86400, allow_offline_access: true,\n"
    "     scopes: [{value: 'read:a'}]}\n";

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
    .db_name = "token-issue-authorize",
    .workers = 4,
    .users_methods = users_methods,
    .n_users_methods = 1,
    .users_workers = 2,
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

typedef struct issue {
    const char *client_id, *user_id, *scope, *audience, *nonce, *code;
    bool access, id;
} issue;

/* token.IssueForAuthorize; NULL with *res holding the refusal. */
static Tollgate__Token__IssueForAuthorizeReply *
call_issue(const issue *i, bus_result **res)
{
    Tollgate__Token__IssueForAuthorizeRequest req =
        TOLLGATE__TOKEN__ISSUE_FOR_AUTHORIZE_REQUEST__INIT;
    bus_call_opts o = {
        .method = "token.IssueForAuthorize", .issuer = ISSUER, .deadline_ms = tg_now_ms() + 5000};

    req.client_id = (char *)(i->client_id ? i->client_id : "web-id");
    req.user_id = (char *)(i->user_id ? i->user_id : "auth0|jane");
    req.scope = (char *)(i->scope ? i->scope : "openid email offline_access");
    req.audience = (char *)(i->audience ? i->audience : "");
    req.nonce = (char *)(i->nonce ? i->nonce : "n-0S6_WzA2Mj");
    req.auth_time = AUTH_TIME;
    req.sid = "sid-123";
    req.want_access_token = i->access;
    req.want_id_token = i->id;
    req.code = (char *)(i->code ? i->code : "");
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    return tollgate__token__issue_for_authorize_reply__unpack(NULL, (*res)->payload.len,
                                                              (*res)->payload.data);
}

static Tollgate__Token__IssueForAuthorizeReply *
issued(const issue *i)
{
    bus_result *res = NULL;
    Tollgate__Token__IssueForAuthorizeReply *r = call_issue(i, &res);

    if (r == NULL)
        fail_msg("refused: %s %s", res->error->error, res->error->error_description);
    bus_result_free(res);
    return r;
}

static void
refused(const issue *i, const char *error)
{
    bus_result *res = NULL;

    if (call_issue(i, &res) != NULL)
        fail_msg("issued, but should be refused with %s", error);
    assert_string_equal(res->error->error, error);
    bus_result_free(res);
}

/* The verified payload of a JWS signed with the tenant's RS256 key or an HS256 secret. */
static json_t *
verified(const char *jwt, const char *hs_secret)
{
    const jose_key *key = hs_secret ? NULL : token_keys_get(&fx.app.keys, JOSE_ALG_RS256);
    jose_jws *jws = NULL;
    json_t *claims;

    assert_int_equal(jose_jws_parse(jwt, &jws), TG_OK);
    assert_int_equal(jose_jws_verify(jws, key, hs_secret, hs_secret ? strlen(hs_secret) : 0),
                     TG_OK);
    claims = json_incref(jws->payload);
    jose_jws_free(jws);
    return claims;
}

/* The half-hash a relying party computes (OIDC Core §3.1.3.6), independently of svc-token. */
static void
assert_half_hash(const json_t *id, const char *claim, const char *value)
{
    unsigned char digest[32];
    unsigned int len = 0;
    char *want = NULL;

    assert_int_equal(EVP_Digest(value, strlen(value), digest, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(tg_b64url_encode(digest, 16, &want), TG_OK);
    assert_string_equal(json_string_value(json_object_get(id, claim)), want);
    free(want);
}

static const char *
str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_implicit_tokens(void **state)
{
    Tollgate__Token__IssueForAuthorizeReply *r =
        issued(&(issue){.access = true, .id = true, .audience = API});
    json_t *id, *at;
    (void)state;

    assert_int_equal(r->expires_in, 7200);         /* the API's token_lifetime_for_web */
    assert_string_equal(r->scope, "openid email"); /* no refresh from the front channel */
    id = verified(r->id_token, NULL);
    assert_string_equal(str(id, "iss"), ISSUER);
    assert_string_equal(str(id, "aud"), "web-id");
    assert_string_equal(str(id, "sub"), "auth0|jane");
    assert_string_equal(str(id, "nonce"), "n-0S6_WzA2Mj");
    assert_string_equal(str(id, "sid"), "sid-123");
    assert_string_equal(str(id, "email"), "jane@example.com");
    assert_int_equal(json_integer_value(json_object_get(id, "auth_time")), AUTH_TIME);
    assert_half_hash(id, "at_hash", r->access_token);
    assert_null(json_object_get(id, "c_hash"));
    at = verified(r->access_token, NULL);
    assert_int_equal(json_integer_value(json_object_get(at, "exp")) -
                         json_integer_value(json_object_get(at, "iat")),
                     7200);
    assert_string_equal(str(at, "scope"), "openid email");
    json_decref(id);
    json_decref(at);
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);

    /* no audience: an opaque /userinfo token, which lives 7200 s from the implicit flow */
    r = issued(&(issue){.access = true, .id = true});
    assert_int_equal(r->expires_in, TOKEN_USERINFO_LIFETIME_IMPLICIT);
    assert_int_equal(token_userinfo_token_find(&fx.app, r->access_token, &at), TG_OK);
    assert_int_equal(json_integer_value(json_object_get(at, "expires_at")) -
                         json_integer_value(json_object_get(at, "iat")),
                     TOKEN_USERINFO_LIFETIME_IMPLICIT);
    json_decref(at);
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);
}

static void
test_hybrid_and_id_token_only(void **state)
{
    Tollgate__Token__IssueForAuthorizeReply *r =
        issued(&(issue){.id = true, .code = "SplxlOBeZQQYbYS6WxSbIA"});
    json_t *id;
    (void)state;

    assert_string_equal(r->access_token, "");
    id = verified(r->id_token, NULL);
    assert_half_hash(id, "c_hash", "SplxlOBeZQQYbYS6WxSbIA");
    assert_null(json_object_get(id, "at_hash"));
    json_decref(id);
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);

    /* code id_token token; no audience: an opaque /userinfo token */
    r = issued(&(issue){.access = true, .id = true, .code = "c0de"});
    assert_int_equal(r->expires_in, TOKEN_USERINFO_LIFETIME); /* hybrid: 86400 s */
    id = verified(r->id_token, NULL);
    assert_half_hash(id, "c_hash", "c0de");
    assert_half_hash(id, "at_hash", r->access_token);
    json_decref(id);
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);

    /* a token alone (code token): no ID token */
    r = issued(&(issue){.access = true, .scope = "read:a", .audience = API});
    assert_string_equal(r->id_token, "");
    assert_true(r->access_token[0] != '\0');
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);
}

static void
test_hs256_client(void **state)
{
    Tollgate__Token__IssueForAuthorizeReply *r = issued(&(issue){.client_id = "hs-id", .id = true});
    json_t *id;
    (void)state;

    id = verified(r->id_token, "hs-secret-value-0123456789");
    assert_string_equal(str(id, "aud"), "hs-id");
    json_decref(id);
    tollgate__token__issue_for_authorize_reply__free_unpacked(r, NULL);
}

static void
test_refusals(void **state)
{
    (void)state;
    refused(&(issue){.client_id = "nobody", .id = true}, "invalid_request");
    refused(&(issue){.id = false, .access = false}, "invalid_request");
    refused(&(issue){.id = true, .scope = "email"}, "invalid_request");
    refused(&(issue){.access = true, .audience = "https://nope.test/"}, "access_denied");
    refused(&(issue){.access = true, .user_id = "auth0|ghost"}, "access_denied");
    refused(&(issue){.access = true, .user_id = ""}, "invalid_request");
}

/* token.LogoutToken; NULL with *res holding the refusal. */
static Tollgate__Token__LogoutTokenReply *
logout_token(const char *client_id, const char *sid, bus_result **res)
{
    Tollgate__Token__LogoutTokenRequest req = TOLLGATE__TOKEN__LOGOUT_TOKEN_REQUEST__INIT;
    bus_call_opts o = {
        .method = "token.LogoutToken", .issuer = ISSUER, .deadline_ms = tg_now_ms() + 5000};

    req.client_id = (char *)client_id;
    req.user_id = "auth0|jane";
    req.sid = (char *)sid;
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    return tollgate__token__logout_token_reply__unpack(NULL, (*res)->payload.len,
                                                       (*res)->payload.data);
}

static void
test_logout_tokens(void **state)
{
    static const struct {
        const char *client_id, *secret;
    } clients[] = {{"web-id", NULL}, {"hs-id", "hs-secret-value-0123456789"}};
    char first_jti[64] = "";
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        bus_result *res = NULL;
        Tollgate__Token__LogoutTokenReply *r = logout_token(clients[i].client_id, "sid-9", &res);
        json_t *c, *events;

        assert_non_null(r);
        c = verified(r->logout_token, clients[i].secret);
        assert_string_equal(str(c, "iss"), ISSUER);
        assert_string_equal(str(c, "aud"), clients[i].client_id);
        assert_string_equal(str(c, "sub"), "auth0|jane");
        assert_string_equal(str(c, "sid"), "sid-9");
        assert_null(json_object_get(c, "nonce"));
        assert_true(strlen(str(c, "jti")) >= 16);
        assert_string_not_equal(str(c, "jti"), first_jti); /* fresh every time */
        snprintf(first_jti, sizeof(first_jti), "%s", str(c, "jti"));
        events = json_object_get(json_object_get(c, "events"), EVENT);
        assert_true(json_is_object(events));
        json_decref(c);
        tollgate__token__logout_token_reply__free_unpacked(r, NULL);
        bus_result_free(res);
    }
    for (size_t i = 0; i < 2; i++) {
        bus_result *res = NULL;

        assert_null(logout_token(i == 0 ? "nobody" : "web-id", i == 0 ? "sid-9" : "", &res));
        assert_string_equal(res->error->error, "invalid_request");
        bus_result_free(res);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implicit_tokens), cmocka_unit_test(test_hybrid_and_id_token_only),
        cmocka_unit_test(test_hs256_client),    cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_logout_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
