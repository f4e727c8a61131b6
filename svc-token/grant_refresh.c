/*
 * grant_type=refresh_token (contract.md §6.4, §21.1).
 *
 * Rotating clients: the presented token is taken with store_take keyed by the bus request id,
 * so of many concurrent uses exactly one wins, and a resent request (same id) wins again (its
 * first successor, which never reached the client, is deleted and a new one issued). The checks
 * run on the record inside the take, which stores the successor in the same step: one read of
 * the token per rotation.
 * A loser, or anyone presenting a rotated token later, is reuse: the whole family is revoked
 * and the newest token dies with it. Exception, Auth0's overlap period (`leeway`): within
 * leeway seconds of the rotation, the immediately previous token (whose successor is still
 * unused) gets a fresh pair instead. Non-rotating clients: the token stays valid, its idle
 * expiry moves on with each use, and the response carries no refresh_token (as Auth0).
 *
 * The rotation mode is the client's current setting. Not modelled: Auth0's migration rules
 * when a client switches between rotating and non-rotating (deleting the other kind's tokens).
 *
 * Scope: absent or empty means the token's scope; a subset narrows the access and ID tokens
 * (the refresh token keeps its scope, RFC 6749 §6). A word outside the token's scope is 403
 * invalid_scope (RFC 6749 §5.2; Auth0 documents no wording for it).
 *
 * The user: svc-token's own copy of what voids a user's tokens (user_state.c, told by
 * svc-users) decides alone when the exchange mints no ID token; with openid svc-users is asked
 * too, for the claims (user_profile below), after the take of a rotating client's token: a
 * user svc-users no longer knows (which svc-token's copy had not heard of) is refused then,
 * with the token already rotated.
 *
 * Every unknown, expired, revoked or foreign token gets the same byte-exact 403 invalid_grant
 * "Unknown or invalid refresh token."; the log says which it was.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define RT_MAX 512
#define SCOPE_TEXT_MAX 4096

static tg_err
invalid_rt(bus_ctx *ctx, const char *why)
{
    LOG_INFO("refresh token refused: %s", why);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                        TOKEN_RT_ERROR);
}

static const char *
doc_str(const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v != NULL ? v : "";
}

/* The scope for this exchange (arena): requested ⊆ original, or the original. */
static tg_err
narrow_scope(bus_ctx *ctx, const char *original, const char *requested, char **out)
{
    char *result = bus_ctx_strdup(ctx, ""), word[256];

    *out = NULL;
    if (requested[strspn(requested, " ")] == '\0') {
        *out = bus_ctx_strdup(ctx, original);
        return *out != NULL ? TG_OK : TG_ENOMEM;
    }
    if (strlen(requested) > SCOPE_TEXT_MAX)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_scope",
                            "Scope is too long");
    for (const char *p = requested + strspn(requested, " "); *p != '\0' && result != NULL;) {
        size_t len = strcspn(p, " ");
        if (len >= sizeof(word))
            return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_scope",
                                "Scope is too long");
        memcpy(word, p, len);
        word[len] = '\0';
        if (!token_scope_has(original, word))
            return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_scope",
                                "The requested scope exceeds the scope of the refresh token.");
        result = token_scope_append(ctx, result, word);
        p += len;
        p += strspn(p, " ");
    }
    if (result == NULL)
        return TG_ENOMEM;
    *out = result;
    return TG_OK;
}

static tg_err
user_gone(bus_ctx *ctx)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                        "The refresh_token was generated for a user who doesn't exist anymore.");
}

static int64_t
doc_int(const json_t *doc, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(doc, key));
}

/*
 * The state of the request as the checks leave it: what the exchange grants, the user, and
 * whether the token's family must be revoked (done by the caller, never inside a store step).
 */
typedef struct refresh_state {
    token_issue_req ir;
    Tollgate__Users__User bare; /* ir.user until svc-users' profile replaces it */
    char *scope;
    bool profile;              /* the exchange mints an ID token: svc-users is asked too */
    const char *revoke_family; /* (arena) to revoke: issued before tokens_valid_after */
} refresh_state;

/* Whether the token's user may still refresh, by svc-token's copy of the user's state
 * (user_state.c): a user gone or blocked is refused as Auth0 does; a token issued before the
 * user's tokens_valid_after (a password reset) is refused and its family marked for revocation.
 * A refresh without openid decides on this alone, with no call to svc-users. */
static tg_err
user_standing(bus_ctx *ctx, const token_app *app, const json_t *doc, refresh_state *rs)
{
    const char *uid = doc_str(doc, "user_id");
    token_user_state st;
    tg_err err;

    if ((err = token_user_state_get(app, uid, &st)) != TG_OK)
        return err;
    if (st.deleted)
        return user_gone(ctx);
    if (st.blocked)
        return token_user_blocked(ctx);
    rs->bare.user_id = (char *)uid;
    rs->ir.user = &rs->bare;
    if (doc_int(doc, "issued_at") < st.tokens_valid_after) {
        if ((rs->revoke_family = bus_ctx_strdup(ctx, doc_str(doc, "family_id"))) == NULL)
            return TG_ENOMEM;
        return invalid_rt(ctx, "issued before the user's tokens_valid_after");
    }
    return TG_OK;
}

/* With openid, svc-users too (the ID token's claims come from there anyway): the user must
 * still exist, and its own tokens_valid_after is honoured beside svc-token's copy. On success
 * rs->ir.user is the profile (*gu, caller frees). */
static tg_err
user_profile(bus_ctx *ctx, const token_app *app, const json_t *doc, refresh_state *rs,
             Tollgate__Users__GetUserReply **gu)
{
    tg_err err = token_grant_user(ctx, app, doc_str(doc, "user_id"), gu);

    if (err != TG_OK)
        return err == TG_ENOTFOUND ? user_gone(ctx) : err;
    if (doc_int(doc, "issued_at") < (*gu)->user->tokens_valid_after) {
        token_refresh_family_revoke(app, doc_str(doc, "family_id"));
        return invalid_rt(ctx, "issued before the user's tokens_valid_after");
    }
    rs->ir.user = (*gu)->user;
    return TG_OK;
}

/* A successor of doc in its family, recorded on the record of `id` (the presented token). */
static tg_err
successor(bus_ctx *ctx, const token_app *app, const config_client *client, const json_t *doc,
          const char *id, char **rt)
{
    char *next_id = NULL;
    json_t *set;
    tg_err err;

    err = token_refresh_issue(ctx, app, client, doc_str(doc, "family_id"),
                              doc_int(doc, "family_expires_at"), doc_str(doc, "user_id"),
                              doc_str(doc, "audience"), doc_str(doc, "scope"), rt, &next_id);
    if (err != TG_OK)
        return err;
    if ((set = json_pack("{s:s}", "successor", next_id)) == NULL)
        return TG_ENOMEM;
    err = store_update(app->st, TOKEN_COLL_REFRESH, id, set);
    json_decref(set);
    return err;
}

/* Whether the token `id` exists and was never used (the newest of its family). */
static bool
is_unused(const token_app *app, const char *id)
{
    json_t *doc = NULL;
    bool unused;

    if (id[0] == '\0' || store_get(app->st, TOKEN_COLL_REFRESH, id, &doc) != TG_OK)
        return false;
    unused = json_object_get(doc, "consumed_by") == NULL;
    json_decref(doc);
    return unused;
}

/*
 * Every check a token's record passes before it is used: this client's token, its family
 * live, its API still in the tenant, offline access still allowed, the requested scope within
 * the token's, its user in good standing. Fills rs; on refusal ctx holds the answer. Reads the
 * store but never writes it, so it can run inside a store_take.
 */
static tg_err
token_checks(bus_ctx *ctx, const token_app *app, const token_client_auth *auth,
             const Tollgate__Token__TokenRequest *req, const json_t *doc, refresh_state *rs)
{
    const char *audience = doc_str(doc, "audience");
    tg_err err;

    if (strcmp(doc_str(doc, "client_id"), auth->client->client_id) != 0)
        return invalid_rt(ctx, "issued to another client");
    if (!token_refresh_family_is_live(app, doc_str(doc, "family_id")))
        return invalid_rt(ctx, "family revoked or expired");
    rs->ir.client = auth->client;
    if (audience[0] != '\0' &&
        (rs->ir.api = config_api_by_identifier(app->cfg, audience)) == NULL)
        return invalid_rt(ctx, "its API is gone from the tenant");
    if (!token_refresh_allowed(auth->client, rs->ir.api, doc_str(doc, "scope")))
        return invalid_rt(ctx, "offline access no longer allowed");
    if ((err = narrow_scope(ctx, doc_str(doc, "scope"), req->scope, &rs->scope)) != TG_OK)
        return err;
    rs->profile = token_scope_has(rs->scope, "openid");
    return user_standing(ctx, app, doc, rs);
}

/* A rotation's take (store_take): the checks on the record as found, then its successor. */
typedef struct rotation {
    bus_ctx *ctx;
    const token_app *app;
    const token_client_auth *auth;
    const Tollgate__Token__TokenRequest *req;
    refresh_state *rs;
    char *rt, *rt_id; /* the successor, minted before the take */
} rotation;

static tg_err
rotation_make(const json_t *doc, void *arg, json_t **set_fields, json_t **new_doc)
{
    rotation *r = arg;
    tg_err err = token_checks(r->ctx, r->app, r->auth, r->req, doc, r->rs);

    if (err != TG_OK)
        return err;
    err = token_refresh_record(r->auth->client, r->rt_id, doc_str(doc, "family_id"),
                               doc_int(doc, "family_expires_at"), doc_str(doc, "user_id"),
                               doc_str(doc, "audience"), doc_str(doc, "scope"), new_doc);
    if (err == TG_OK && (*set_fields = json_pack("{s:s}", "successor", r->rt_id)) == NULL)
        err = TG_ENOMEM;
    return err;
}

/*
 * Rotation: exactly one winner per token (and per request id); see the file comment. The
 * checks run on the record inside the take, which stores the successor in the same step. A
 * token already taken gets the same checks before the overlap period or reuse detection.
 * *doc: the presented token's record (caller decrefs).
 */
static tg_err
rotate(bus_ctx *ctx, const token_app *app, const token_client_auth *auth,
       const Tollgate__Token__TokenRequest *req, const char *id, refresh_state *rs, char **rt,
       json_t **doc)
{
    const config_client *client = auth->client;
    rotation r = {.ctx = ctx, .app = app, .auth = auth, .req = req, .rs = rs};
    bool taken = false;
    tg_err err;

    *rt = NULL;
    if ((err = token_refresh_mint(ctx, &r.rt, &r.rt_id)) != TG_OK)
        return err;
    err = store_take(app->st, TOKEN_COLL_REFRESH, id, bus_ctx_request_id(ctx), rotation_make, &r,
                     &taken, doc);
    if (err == TG_OK && taken) {
        *rt = r.rt;
        return TG_OK;
    }
    if (err == TG_EDENIED) /* refused by the checks inside the take */
        return err;
    if (err == TG_ENOTFOUND)
        return invalid_rt(ctx, "unknown or expired");
    if (err == TG_OK) { /* a resend: its first answer was lost */
        if ((err = token_checks(ctx, app, auth, req, *doc, rs)) != TG_OK)
            return err;
        if (doc_str(*doc, "successor")[0] != '\0')
            store_delete(app->st, TOKEN_COLL_REFRESH, doc_str(*doc, "successor"));
        return successor(ctx, app, client, *doc, id, rt);
    }
    if (err != TG_ECONSUMED)
        return err;
    if ((err = store_get(app->st, TOKEN_COLL_REFRESH, id, doc)) != TG_OK)
        return err == TG_ENOTFOUND ? invalid_rt(ctx, "expired while in use") : err;
    if ((err = token_checks(ctx, app, auth, req, *doc, rs)) != TG_OK)
        return err;
    if (client->refresh_token.leeway > 0 &&
        tg_now_s() - doc_int(*doc, "consumed_at") <= client->refresh_token.leeway &&
        is_unused(app, doc_str(*doc, "successor")))
        return successor(ctx, app, client, *doc, id, rt);
    LOG_WARN("refresh-token reuse detected client_id=%s user_id=%s: family revoked",
             client->client_id, doc_str(*doc, "user_id"));
    if ((err = token_refresh_family_revoke(app, doc_str(*doc, "family_id"))) != TG_OK &&
        err != TG_ENOTFOUND)
        return err;
    return invalid_rt(ctx, "reuse of a rotated token");
}

/* Non-rotating: the idle expiry moves on (never past the family's absolute expiry). */
static tg_err
touch(const token_app *app, const config_client *client, const json_t *doc, const char *id)
{
    const config_refresh_token *rc = &client->refresh_token;
    int64_t expires = tg_now_s() + rc->idle_token_lifetime;
    int64_t family_exp = doc_int(doc, "family_expires_at");
    json_t *set;
    tg_err err;

    if (rc->infinite_idle_token_lifetime)
        return TG_OK;
    if (family_exp != 0 && family_exp < expires)
        expires = family_exp;
    if ((set = json_pack("{s:I}", "expires_at", (json_int_t)expires)) == NULL)
        return TG_ENOMEM;
    err = store_update(app->st, TOKEN_COLL_REFRESH, id, set);
    json_decref(set);
    return err;
}

/* Non-rotating: the record, its checks, and the idle expiry moved on. */
static tg_err
keep(bus_ctx *ctx, const token_app *app, const token_client_auth *auth,
     const Tollgate__Token__TokenRequest *req, const char *id, refresh_state *rs, json_t **doc)
{
    tg_err err = store_get(app->st, TOKEN_COLL_REFRESH, id, doc);

    if (err == TG_ENOTFOUND)
        return invalid_rt(ctx, "unknown or expired");
    if (err == TG_OK)
        err = token_checks(ctx, app, auth, req, *doc, rs);
    if (err == TG_OK)
        err = touch(app, auth->client, *doc, id);
    if (err == TG_ENOTFOUND) /* it expired while this request used it: a client error */
        err = invalid_rt(ctx, "expired while in use");
    return err;
}

tg_err
token_grant_refresh(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                    const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    const config_client *client = auth->client;
    Tollgate__Users__GetUserReply *gu = NULL;
    refresh_state rs = {.bare = TOLLGATE__USERS__USER__INIT};
    char id[65], *rt = NULL;
    json_t *doc = NULL;
    tg_err err;

    if (req->refresh_token[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: refresh_token");
    if (strlen(req->refresh_token) > RT_MAX)
        return invalid_rt(ctx, "too long");
    if ((err = token_refresh_id(req->refresh_token, id)) != TG_OK)
        return err;
    if (client->refresh_token.rotating)
        err = rotate(ctx, app, auth, req, id, &rs, &rt, &doc);
    else
        err = keep(ctx, app, auth, req, id, &rs, &doc);
    if (rs.revoke_family != NULL) /* outside any store step: a write of its own */
        token_refresh_family_revoke(app, rs.revoke_family);
    if (err == TG_OK && rs.profile)
        err = user_profile(ctx, app, doc, &rs, &gu);
    if (err != TG_OK)
        goto out;
    rs.ir.scope = rs.scope;
    rs.ir.family_id = doc_str(doc, "family_id");
    if ((err = token_issue_user_tokens(ctx, app, &rs.ir, reply)) != TG_OK)
        goto out;
    reply->refresh_token = rt != NULL ? rt : "";
    LOG_INFO("refresh_token exchanged client_id=%s user_id=%s rotated=%d", client->client_id,
             rs.ir.user->user_id, rt != NULL);
out:
    if (gu != NULL)
        protobuf_c_message_free_unpacked(&gu->base, NULL);
    json_decref(doc);
    return err;
}
