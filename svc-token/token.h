/*
 * svc-token: mints every OAuth/OIDC token. This header is the service's internal contract
 * between its files; nothing outside svc-token includes it.
 */
#ifndef TG_SVC_TOKEN_H
#define TG_SVC_TOKEN_H

#include "bus/bus.h"
#include "config/config.h"
#include "jose/jose.h"
#include "store/store.h"
#include "token.pb-c.h"
#include "users.pb-c.h"

#define TOKEN_MAX_KEYS 4

/* Signing keys shared by every replica (persisted in the store, generated on first start). */
typedef struct token_keys {
    jose_key *keys[TOKEN_MAX_KEYS]; /* one per asymmetric alg in use; RS256 always first */
    size_t n;
} token_keys;

/* The one runtime object, made in main and passed to handlers as the bus app pointer.
 * Immutable after start. */
typedef struct token_app {
    const config *cfg;
    store *st;
    token_keys keys;
    bus_client *users; /* svc-users (we listen, its replicas dial); NULL: none configured */
} token_app;

/* Loads (or creates, once for all replicas) the keys for every alg the tenant needs.
 * cn names the certificate subject. Freed with token_keys_fini(). */
tg_err token_keys_init(token_keys *keys, store *st, const config *cfg, const char *cn);
void token_keys_fini(token_keys *keys);
/* The key for alg, or NULL. Borrowed. */
const jose_key *token_keys_get(const token_keys *keys, jose_alg alg);

/* Collections svc-token owns. */
#define TOKEN_COLL_KEYS "signing_keys"
#define TOKEN_COLL_JTI "client_assertion_jti"
#define TOKEN_COLL_USERINFO "userinfo_tokens"
tg_err token_store_ensure(store *st);

/* The authenticated caller of the token endpoint. */
typedef struct token_client_auth {
    const config_client *client;
    const char *method; /* "client_secret_post", "client_secret_basic", "private_key_jwt", "none" */
} token_client_auth;

/* Authenticates the client of req as its token_endpoint_auth_method demands. On refusal fills
 * ctx's error (401 access_denied "Unauthorized" or 400 invalid_request) and returns TG_EDENIED. */
tg_err token_client_authenticate(bus_ctx *ctx, const token_app *app,
                                 const Tollgate__Token__TokenRequest *req,
                                 token_client_auth *out);

/* Whether the client may use grant_type (its grant_types, or Auth0's defaults by app_type). */
bool token_client_allows_grant(const config_client *client, const char *grant_type);

/* Grants: each fills reply or ctx's error. */
tg_err token_grant_client_credentials(bus_ctx *ctx, const token_app *app,
                                      const Tollgate__Token__TokenRequest *req,
                                      const token_client_auth *auth,
                                      Tollgate__Token__TokenReply *reply);

tg_err token_grant_password(bus_ctx *ctx, const token_app *app,
                            const Tollgate__Token__TokenRequest *req,
                            const token_client_auth *auth, Tollgate__Token__TokenReply *reply);

/* ---- svc-users client (users_client.c) ----
 * Calls method on svc-users with ctx's request id, issuer and deadline. On success *out is
 * the unpacked reply (reply_desc), freed by the caller with protobuf_c_message_free_unpacked(
 * *out, NULL). When svc-users refuses, TG_EDENIED is returned and, if pass_refusal, its
 * Auth0 error (class, error, description, extras, headers, shape) is copied into ctx
 * unchanged. When no replica answers in time, ctx gets 503 temporarily_unavailable and
 * TG_EUNAVAILABLE is returned.
 * Other failures return their code (the bus renders them as 500). */
tg_err token_users_call(bus_ctx *ctx, const token_app *app, const char *method,
                        const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *reply_desc, bool pass_refusal,
                        ProtobufCMessage **out);

/* ---- scopes (scope.c): space-separated lists in arena memory ---- */
/* Whether the space-separated list has word (exact, whole word). */
bool token_scope_has(const char *list, const char *word);
/* list + " " + word unless already present; list may be NULL or "". Arena memory; NULL on
 * exhaustion. */
char *token_scope_append(bus_ctx *ctx, char *list, const char *word);

/* ---- user claims (claims.c): the one place ID tokens and /userinfo take claims from ---- */
/* Adds to obj the profile/email/phone claims of user that scope grants (only non-empty
 * values; email_verified/phone_verified as JSON booleans; updated_at as Auth0's ISO string).
 * obj is borrowed. TG_ENOMEM on allocation failure. */
tg_err token_claims_add_user(json_t *obj, const Tollgate__Users__User *user, const char *scope);

/* ---- ID tokens (id_token.c) ----
 * Signs an ID token for client about user with the client's jwt_configuration.alg (RS256 with
 * the tenant key, HS256 keyed with the client secret). *out is a heap string the caller
 * frees. */
tg_err token_id_token_sign(const token_app *app, const config_client *client, const char *issuer,
                           const Tollgate__Users__User *user, const char *scope, char **out);

/* ---- opaque /userinfo tokens (userinfo_token.c) ----
 * Stored only as the hex SHA-256 of the token, with {sub, client_id, scope, expires_at}. */
#define TOKEN_USERINFO_LIFETIME 86400
/* Mints a token for sub; *out is a heap string the caller frees (tg_free_secret_str). */
tg_err token_userinfo_token_issue(const token_app *app, const char *sub, const char *client_id,
                                  const char *scope, char **out);
/* Looks the token up; *out is the stored document (caller decrefs). TG_ENOTFOUND when unknown
 * or expired. */
tg_err token_userinfo_token_find(const token_app *app, const char *token, json_t **out);

/* Signs claims for an API (its signing_alg: RS256/PS256/ES256 with the tenant keys, HS256 with
 * the API's signing secret). *out is a heap string the caller frees. */
tg_err token_sign_for_api(const token_app *app, const config_resource_server *api,
                          const json_t *claims, char **out);

/* Bus handlers (methods table in token_methods.c). */
tg_err token_on_token(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_jwks(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_discovery(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_userinfo(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

extern const bus_method token_methods[];
extern const size_t token_n_methods;

#endif
