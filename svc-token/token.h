/*
 * svc-token: mints every OAuth/OIDC token. This header is the service's internal contract
 * between its files; nothing outside svc-token includes it.
 */
#ifndef TG_SVC_TOKEN_H
#define TG_SVC_TOKEN_H

#include "bus/bus.h"
#include "authorize.pb-c.h"
#include "device.pb-c.h"
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
    bus_client *users;     /* svc-users' bus device (we dial it); NULL: none configured */
    bus_client *authorize; /* svc-authorize's bus device (we dial it); NULL: none configured */
} token_app;

/* Loads (or creates, once for all replicas) the keys for every alg the tenant needs.
 * cn names the certificate subject. Freed with token_keys_fini(). */
tg_err token_keys_init(token_keys *keys, store *st, const config *cfg, const char *cn);
/* Same, storing new private keys sealed under the master key (borrowed; NULL = unsealed, with a
 * warning) and opening sealed ones with it. */
tg_err token_keys_init_sealed(token_keys *keys, store *st, const config *cfg, const char *cn,
                              const char *master);
void token_keys_fini(token_keys *keys);
/* The key for alg, or NULL. Borrowed. */
const jose_key *token_keys_get(const token_keys *keys, jose_alg alg);

/* Collections svc-token owns. */
#define TOKEN_COLL_KEYS "signing_keys"
#define TOKEN_COLL_JTI "client_assertion_jti"
#define TOKEN_COLL_USERINFO "userinfo_tokens"
#define TOKEN_COLL_REFRESH "refresh_tokens"
#define TOKEN_COLL_FAMILIES "refresh_families"
#define TOKEN_COLL_REFRESH_LEDGERS "refresh_ledgers" /* refresh_cap.c */
#define TOKEN_COLL_CODE_GRANTS "code_grants"
#define TOKEN_COLL_USER_STATES "user_states" /* user_state.c */
tg_err token_store_ensure(store *st);

/* The authenticated caller of the token endpoint. */
typedef struct token_client_auth {
    const config_client *client;
    const char *method; /* "client_secret_post", "client_secret_basic", "private_key_jwt", "none" */
} token_client_auth;

/* The client-authentication fields every endpoint that authenticates clients carries (token,
 * revoke). All borrowed; strings are "" when absent, web is never NULL for a gateway call. */
typedef struct token_client_creds {
    const Tollgate__Web__Context *web;
    const char *client_id;
    const char *client_secret;
    const char *client_assertion;
    const char *client_assertion_type;
} token_client_creds;

/* Authenticates the client as its token_endpoint_auth_method demands. On refusal fills ctx's
 * error (401 access_denied "Unauthorized" or 400 invalid_request) and returns TG_EDENIED. */
tg_err token_client_authenticate(bus_ctx *ctx, const token_app *app,
                                 const token_client_creds *creds, token_client_auth *out);

/* The client named client_id (client_lookup.c): the tenant file's, else one registered at
 * /oidc/register, asked of svc-authorize (authorize.GetClient) and cached for the life of the
 * process, or built in ctx's arena past the cache's bound. *registered is that registration
 * (its secret hash) or NULL for a tenant client. TG_ENOTFOUND when unknown; TG_EUNAVAILABLE
 * (ctx's error already set) when svc-authorize did not answer or failed. */
typedef struct config_registered config_registered;
tg_err token_client_find(bus_ctx *ctx, const token_app *app, const char *client_id,
                         const config_client **out, const config_registered **registered);

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

tg_err token_grant_refresh(bus_ctx *ctx, const token_app *app,
                           const Tollgate__Token__TokenRequest *req,
                           const token_client_auth *auth, Tollgate__Token__TokenReply *reply);

tg_err token_grant_code(bus_ctx *ctx, const token_app *app,
                        const Tollgate__Token__TokenRequest *req, const token_client_auth *auth,
                        Tollgate__Token__TokenReply *reply);

/* urn:ietf:params:oauth:grant-type:device_code (grant_device.c): svc-authorize's
 * authorize.PollDeviceCode decides; an approved code's tokens as a login issues them. */
tg_err token_grant_device(bus_ctx *ctx, const token_app *app,
                          const Tollgate__Token__TokenRequest *req, const token_client_auth *auth,
                          Tollgate__Token__TokenReply *reply);

/* ---- user-token issuance (issue.c), shared by every grant that acts for a user ---- */
/* What a grant decided; everything borrowed. family_id: the refresh-token family the tokens
 * come from ("" or NULL: none). gty: the access token's gty claim, NULL for none. The ID
 * token's session facts come from an authorization code: nonce and sid (NULL or "": omitted)
 * and auth_time (0: now, the user authenticated in this very request). */
typedef struct token_issue_req {
    const config_resource_server *api; /* NULL: opaque /userinfo token */
    const config_client *client;
    const Tollgate__Users__User *user;
    const char *scope;
    const char *family_id;
    const char *gty;
    const char *nonce;
    const char *sid;
    int64_t auth_time;
    bool for_web;     /* from the authorization endpoint (implicit/hybrid): an API's access
                       * token lives token_lifetime_for_web (Auth0: 7200 s by default) */
    const char *code; /* the code issued with the ID token (NULL or "": none): its c_hash */
} token_issue_req;
/* The API tokens for audience are for: audience, or the tenant's default_audience when it is
 * "" (*api NULL when there is neither: an opaque /userinfo token). TG_ENOTFOUND when the
 * audience names no API of the tenant; each grant words that refusal itself. */
tg_err token_api_for_audience(const token_app *app, const char *audience,
                              const config_resource_server **api);
/* The access token alone: a JWT for ir->api, else an opaque /userinfo token. *out is a heap
 * string the caller frees (tg_free_secret_str); *expires_in its lifetime in seconds. */
tg_err token_issue_access_token(bus_ctx *ctx, const token_app *app, const token_issue_req *ir,
                                char **out, int64_t *expires_in);
/* *scope (arena) without the word offline_access. */
tg_err token_scope_drop_offline(bus_ctx *ctx, const char **scope);
/* Fills reply's access_token, id_token (when openid), token_type, expires_in and scope (arena
 * copies). The refresh token is the caller's business. */
tg_err token_issue_user_tokens(bus_ctx *ctx, const token_app *app, const token_issue_req *ir,
                               Tollgate__Token__TokenReply *reply);
/* A login's tokens (password, authorization_code): as token_issue_user_tokens, plus a refresh
 * token of a new family when offline_access stands in ir->scope and token_refresh_allowed();
 * otherwise offline_access is dropped from the granted scope. On success ir->scope is the
 * granted scope and ir->family_id the new family (NULL: none), both arena strings. */
tg_err token_issue_with_refresh(bus_ctx *ctx, const token_app *app, token_issue_req *ir,
                                Tollgate__Token__TokenReply *reply);

/* ---- refresh tokens (store_refresh.c; contract.md §4.4, §21.1) ----
 * Tokens are "v1." + their issue time (16 hex digits, epoch microseconds) + "." +
 * base64url(32 random bytes); the store keeps only an id made of that time and 192 bits of the
 * token's hex SHA-256 (token_refresh_id) as _id of TOKEN_COLL_REFRESH, with {family_id, client_id, user_id, audience, scope, issued_at,
 * family_expires_at?, expires_at?, rotating}. A family {_id, revoked, client_id, user_id,
 * expires_at?} groups a token and all its rotated successors; revoking it voids them all. */
#define TOKEN_RT_ERROR "Unknown or invalid refresh token."
/* Whether this grant may hand out a refresh token (offline_access in the granted scope, the
 * client has the refresh_token grant, and the API, if any, allows offline access). */
bool token_refresh_allowed(const config_client *client, const config_resource_server *api,
                           const char *scope);
/* A new refresh token and its id (both arena strings), bound to nothing yet: what
 * token_refresh_new makes first, minted apart where the record is made later (a rotation
 * mints before its take, so the random bytes and the hash are not made inside it). */
tg_err token_refresh_mint(bus_ctx *ctx, char **token, char **id);
/* The record for TOKEN_COLL_REFRESH of token id in the family (*doc_out: caller decrefs). */
tg_err token_refresh_record(const config_client *client, const char *id, const char *family_id,
                            int64_t family_expires_at, const char *user_id,
                            const char *audience, const char *scope, json_t **doc_out);
/* A new refresh token of the family, not yet stored: *out (arena) the token, *id_out (arena,
 * may be NULL) its id, *doc_out its record (caller decrefs) for TOKEN_COLL_REFRESH. */
tg_err token_refresh_new(bus_ctx *ctx, const config_client *client, const char *family_id,
                         int64_t family_expires_at, const char *user_id, const char *audience,
                         const char *scope, char **out, char **id_out, json_t **doc_out);
/* Starts a new family for client and user; *family_id is an arena copy. */
tg_err token_refresh_family_new(bus_ctx *ctx, const token_app *app, const config_client *client,
                                const char *user_id, char **family_id);
/* Mints a token of family (family_expires_at: 0 = never). *out is an arena string (wiped by
 * nobody: it lives only as long as the request) and *id_out (may be NULL) its hex id. */
tg_err token_refresh_issue(bus_ctx *ctx, const token_app *app, const config_client *client,
                           const char *family_id, int64_t family_expires_at, const char *user_id,
                           const char *audience, const char *scope, char **out, char **id_out);
/* The hex SHA-256 id of a token (userinfo tokens, codes). */
tg_err token_hash_id(const char *token, char id[65]);
/* The id of a refresh token in TOKEN_COLL_REFRESH: its issue time then its hash, so tokens
 * issued together are stored together; tokens of the older "v1.<secret>" form by hash alone. */
tg_err token_refresh_id(const char *token, char id[65]);
/* Marks family revoked. TG_ENOTFOUND when it does not exist (any more). */
tg_err token_refresh_family_revoke(const token_app *app, const char *family_id);
/* Auth0's limit (refresh_cap.c): at most TOKEN_REFRESH_CAP live refresh-token families per
 * user and client. Admitting a new family revokes the oldest beyond cap; forgetting drops a
 * revoked family from the count. */
#define TOKEN_REFRESH_CAP 200
/* Marks the family revoked without touching the count (the cap's own eviction). */
tg_err token_refresh_family_mark_revoked(const token_app *app, const char *family_id);
tg_err token_refresh_cap_admit(const token_app *app, const char *client_id, const char *user_id,
                               const char *family_id, int64_t family_expires_at, size_t cap);
tg_err token_refresh_cap_forget(const token_app *app, const char *client_id, const char *user_id,
                                const char *family_id);
/* Whether family exists and is not revoked. */
bool token_refresh_family_is_live(const token_app *app, const char *family_id);

/* ---- neighbour services (neighbour_client.c) ----
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
/* The same for svc-authorize (proto/authorize.proto), through app->authorize. */
/* The user behind a grant (users.GetUser): TG_OK with *out (caller frees with
 * protobuf_c_message_free_unpacked); TG_ENOTFOUND when the user no longer exists (the grant
 * answers with its own Auth0 error); for a blocked user ctx's error is 401 unauthorized "user
 * is blocked" and the return TG_EDENIED; a silent svc-users is the usual 503. */
tg_err token_grant_user(bus_ctx *ctx, const token_app *app, const char *user_id,
                        Tollgate__Users__GetUserReply **out);
tg_err token_authorize_call(bus_ctx *ctx, const token_app *app, const char *method,
                            const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *reply_desc, bool pass_refusal,
                            ProtobufCMessage **out);

/* ---- scopes (scope.c): space-separated lists in arena memory ---- */
/* Whether the space-separated list has word (exact, whole word). */
bool token_scope_has(const char *list, const char *word);
/* list + " " + word unless already present; list may be NULL or "". Arena memory; NULL on
 * exhaustion. */
char *token_scope_append(bus_ctx *ctx, char *list, const char *word);

/* ---- svc-token's copy of the user state that voids tokens (user_state.c) ---- */
typedef struct token_user_state {
    bool blocked;
    bool deleted;
    int64_t tokens_valid_after; /* epoch seconds; 0: none */
} token_user_state;
/* What svc-users last told us about user_id (all zero when nothing). */
tg_err token_user_state_get(const token_app *app, const char *user_id, token_user_state *out);
/* ctx's error for a blocked user (Auth0: 401 unauthorized "user is blocked"); TG_EDENIED. */
tg_err token_user_blocked(bus_ctx *ctx);
tg_err token_on_user_state(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

/* ---- user claims (claims.c): the one place ID tokens and /userinfo take claims from ---- */
/* Adds to obj the profile/email/phone claims of user that scope grants (only non-empty
 * values; email_verified/phone_verified as JSON booleans; updated_at as Auth0's ISO string).
 * obj is borrowed. TG_ENOMEM on allocation failure. */
tg_err token_claims_add_user(json_t *obj, const Tollgate__Users__User *user, const char *scope);

/* ---- ID tokens (id_token.c) ----
 * Signs an ID token for ir's client about ir's user with the client's jwt_configuration.alg
 * (RS256 with the tenant key, HS256 keyed with the client secret), with ir's nonce, sid and
 * auth_time, and at_hash of access_token (borrowed; NULL: none). *out is a heap string the
 * caller frees. */
tg_err token_id_token_sign(const token_app *app, const token_issue_req *ir, const char *issuer,
                           const char *access_token, char **out);
/* The left-most half of the SHA-256 of value, base64url: at_hash and c_hash (OIDC Core
 * §3.1.3.6, §3.3.2.11) for every alg we sign ID tokens with. *out heap, caller frees. */
tg_err token_half_hash(const char *value, char **out);
/* Signs claims as a token for client: its jwt_configuration.alg, RS256/PS256 with the tenant
 * key, HS256 keyed with the client secret; header typ is typ ("JWT" for ID tokens).
 * *out heap, caller frees. */
tg_err token_sign_for_client(const token_app *app, const config_client *client, const char *typ,
                             const json_t *claims, char **out);

/* ---- opaque /userinfo tokens (userinfo_token.c) ----
 * Stored only as the hex SHA-256 of the token, with {sub, client_id, scope, iat, family_id?,
 * expires_at}. */
#define TOKEN_USERINFO_LIFETIME 86400
#define TOKEN_USERINFO_LIFETIME_IMPLICIT 7200 /* straight from /authorize without a code */
/* Mints a token for sub living lifetime_s, tied to family_id (NULL or "": none) so revoking
 * the family voids it; *out is a heap string the caller frees (tg_free_secret_str). */
tg_err token_userinfo_token_issue(const token_app *app, const char *sub, const char *client_id,
                                  const char *scope, const char *family_id, int64_t lifetime_s,
                                  char **out);
/* Looks the token up; *out is the stored document (caller decrefs). TG_ENOTFOUND when unknown
 * or expired. */
tg_err token_userinfo_token_find(const token_app *app, const char *token, json_t **out);

/* Signs claims for an API (its signing_alg: RS256/PS256/ES256 with the tenant keys, HS256 with
 * the API's signing secret). *out is a heap string the caller frees. */
tg_err token_sign_for_api(const token_app *app, const config_resource_server *api,
                          const json_t *claims, char **out);

/* ---- CORS on browser-called endpoints (cors.c; contract.md §1.6) ----
 * Whether origin (an Origin header value) is one of client's Allowed Web Origins, Allowed
 * Origins (CORS) or the origin of one of its Allowed Callback URLs; exact origin match (scheme,
 * host, port), no wildcards. client may be NULL (false). */
bool token_cors_origin_is_allowed(const config_client *client, const char *origin);
/* Called by a handler with its result (TG_OK or TG_EDENIED after bus_ctx_fail) as the last
 * step: when web's Origin is allowed for client_id's client (NULL or "": web's HTTP Basic user,
 * if any), adds Access-Control-Allow-Origin: <origin> and Access-Control-Allow-Credentials: true
 * to the error (TG_EDENIED) or to the reply's directive *http (a status-0 directive is made
 * when *http is NULL). Returns result, or TG_ENOMEM. All borrowed; new memory is ctx's. */
tg_err token_cors_finish(bus_ctx *ctx, const token_app *app, const Tollgate__Web__Context *web,
                         const char *client_id, Tollgate__Web__Directive **http, tg_err result);

/* Bus handlers (methods table in token_methods.c). */
tg_err token_on_token(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_jwks(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_discovery(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_userinfo(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err token_on_revoke(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
/* Internal, for svc-authorize through the token bus device (issue_authorize.c). */
tg_err token_on_issue_for_authorize(bus_ctx *ctx, const ProtobufCMessage *req,
                                    ProtobufCMessage *reply);
tg_err token_on_logout_token(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
/* The claims of a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.4): iss, aud,
 * iat, exp (iat + 120), jti, sub, sid, events; never a nonce. New reference. */
json_t *token_logout_claims(const char *issuer, const char *client_id, const char *user_id,
                            const char *sid, const char *jti, int64_t now);

extern const bus_method token_methods[];
extern const size_t token_n_methods;

#endif
