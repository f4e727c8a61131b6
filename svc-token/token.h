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

/* Signs claims for an API (its signing_alg: RS256/PS256/ES256 with the tenant keys, HS256 with
 * the API's signing secret). *out is a heap string the caller frees. */
tg_err token_sign_for_api(const token_app *app, const config_resource_server *api,
                          const json_t *claims, char **out);

/* Bus handlers (methods table in token_methods.c). */
tg_err token_on_token(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_jwks(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_discovery(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

extern const bus_method token_methods[];
extern const size_t token_n_methods;

#endif
