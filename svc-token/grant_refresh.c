/*
 * grant_type=refresh_token (contract.md §6.4, §21.1).
 *
 * Rotating clients: the presented token is taken with store_consume keyed by the bus request
 * id, so of many concurrent uses exactly one wins, and a resent request (same id) wins again
 * (its first successor, which never reached the client, is deleted and a new one issued).
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
 * too, for the claims (user_standing below).
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
 * Whether the token's user may still refresh. svc-token's copy of the user's state
 * (user_state.c) is always asked; svc-users too when the exchange mints an ID token (whose
 * claims come from there anyway), so a refresh without openid makes no call to svc-users. A
 * user gone or blocked is refused as Auth0 does; a token issued before the user's
 * tokens_valid_after (a password reset) revokes its family. On success ir->user is the
 * profile from svc-users (*gu, caller frees) or `bare`, which carries only the id.
 */
static tg_err
user_standing(bus_ctx *ctx, const token_app *app, const json_t *doc, bool profile,
              Tollgate__Users__GetUserReply **gu, Tollgate__Users__User *bare,
              token_issue_req *ir)
{
    const char *uid = doc_str(doc, "user_id");
    int64_t valid_after;
    token_user_state st;
    tg_err err;

    if ((err = token_user_state_get(app, uid, &st)) != TG_OK)
        return err;
    if (st.deleted)
        return user_gone(ctx);
    if (st.blocked)
        return token_user_blocked(ctx);
    valid_after = st.tokens_valid_after;
    if (profile) {
        err = token_grant_user(ctx, app, uid, gu);
        if (err != TG_OK)
            return err == TG_ENOTFOUND ? user_gone(ctx) : err;
        if ((*gu)->user->tokens_valid_after > valid_after)
            valid_after = (*gu)->user->tokens_valid_after;
        ir->user = (*gu)->user;
    } else {
        bare->user_id = (char *)uid;
        ir->user = bare;
    }
    if (doc_int(doc, "issued_at") < valid_after) {
        token_refresh_family_revoke(app, doc_str(doc, "family_id"));
        return invalid_rt(ctx, "issued before the user's tokens_valid_after");
    }
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

/* Rotation: exactly one winner per token (and per request id); see the file comment. The
 * successor is made first, so the take, its record on the taken token and its insert are one
 * store step (store_consume_insert). cur is the presented token's record as read before. */
static tg_err
rotate(bus_ctx *ctx, const token_app *app, const config_client *client, const char *id,
       const json_t *cur, char **rt)
{
    json_t *doc = NULL, *next_doc = NULL, *set = NULL;
    char *next = NULL, *next_id = NULL;
    const char *family;
    bool taken = false;
    tg_err err;

    *rt = NULL;
    err = token_refresh_new(ctx, client, doc_str(cur, "family_id"),
                            doc_int(cur, "family_expires_at"), doc_str(cur, "user_id"),
                            doc_str(cur, "audience"), doc_str(cur, "scope"), &next, &next_id,
                            &next_doc);
    if (err == TG_OK && (set = json_pack("{s:s}", "successor", next_id)) == NULL)
        err = TG_ENOMEM;
    if (err == TG_OK)
        err = store_consume_insert(app->st, TOKEN_COLL_REFRESH, id, bus_ctx_request_id(ctx), set,
                                   next_doc, &taken, &doc);
    json_decref(set);
    json_decref(next_doc);
    if (err == TG_OK && taken) {
        *rt = next;
        goto out;
    }
    if (err == TG_OK) { /* a resend: its first answer was lost */
        if (doc_str(doc, "successor")[0] != '\0')
            store_delete(app->st, TOKEN_COLL_REFRESH, doc_str(doc, "successor"));
        err = successor(ctx, app, client, doc, id, rt);
        goto out;
    }
    if (err == TG_ENOTFOUND)
        return invalid_rt(ctx, "expired while in use");
    if (err != TG_ECONSUMED)
        return err;
    if ((err = store_get(app->st, TOKEN_COLL_REFRESH, id, &doc)) != TG_OK)
        return err == TG_ENOTFOUND ? invalid_rt(ctx, "expired while in use") : err;
    if (client->refresh_token.leeway > 0 &&
        tg_now_s() - doc_int(doc, "consumed_at") <= client->refresh_token.leeway &&
        is_unused(app, doc_str(doc, "successor"))) {
        err = successor(ctx, app, client, doc, id, rt);
        goto out;
    }
    family = doc_str(doc, "family_id");
    LOG_WARN("refresh-token reuse detected client_id=%s user_id=%s: family revoked",
             client->client_id, doc_str(doc, "user_id"));
    if ((err = token_refresh_family_revoke(app, family)) != TG_OK && err != TG_ENOTFOUND)
        goto out;
    err = invalid_rt(ctx, "reuse of a rotated token");
out:
    json_decref(doc);
    return err;
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

/* The token's record if this client may use it (else ctx's error). Caller decrefs *out. */
static tg_err
usable_token(bus_ctx *ctx, const token_app *app, const token_client_auth *auth,
             const char *token, char id[65], json_t **out)
{
    json_t *doc = NULL;
    tg_err err;

    *out = NULL;
    if (strlen(token) > RT_MAX)
        return invalid_rt(ctx, "too long");
    if ((err = token_refresh_id(token, id)) != TG_OK)
        return err;
    err = store_get(app->st, TOKEN_COLL_REFRESH, id, &doc);
    if (err == TG_ENOTFOUND)
        return invalid_rt(ctx, "unknown or expired");
    if (err != TG_OK)
        return err;
    if (strcmp(doc_str(doc, "client_id"), auth->client->client_id) != 0)
        err = invalid_rt(ctx, "issued to another client");
    else if (!token_refresh_family_is_live(app, doc_str(doc, "family_id")))
        err = invalid_rt(ctx, "family revoked or expired");
    if (err != TG_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return TG_OK;
}

tg_err
token_grant_refresh(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                    const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    const config_client *client = auth->client;
    Tollgate__Users__GetUserReply *gu = NULL;
    Tollgate__Users__User bare = TOLLGATE__USERS__USER__INIT;
    token_issue_req ir = {.client = client};
    const char *audience;
    char id[65], *scope = NULL, *rt = NULL;
    json_t *doc = NULL;
    tg_err err;

    if (req->refresh_token[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: refresh_token");
    if ((err = usable_token(ctx, app, auth, req->refresh_token, id, &doc)) != TG_OK)
        return err;
    audience = doc_str(doc, "audience");
    if (audience[0] != '\0' && (ir.api = config_api_by_identifier(app->cfg, audience)) == NULL) {
        err = invalid_rt(ctx, "its API is gone from the tenant");
        goto out;
    }
    if (!token_refresh_allowed(client, ir.api, doc_str(doc, "scope"))) {
        err = invalid_rt(ctx, "offline access no longer allowed");
        goto out;
    }
    if ((err = narrow_scope(ctx, doc_str(doc, "scope"), req->scope, &scope)) != TG_OK)
        goto out;
    err = user_standing(ctx, app, doc, token_scope_has(scope, "openid"), &gu, &bare, &ir);
    if (err != TG_OK)
        goto out;
    if (client->refresh_token.rotating)
        err = rotate(ctx, app, client, id, doc, &rt);
    else
        err = touch(app, client, doc, id);
    if (err == TG_ENOTFOUND) /* it expired while this request used it: a client error, not ours */
        err = invalid_rt(ctx, "expired while in use");
    if (err != TG_OK)
        goto out;
    ir.scope = scope;
    ir.family_id = doc_str(doc, "family_id");
    if ((err = token_issue_user_tokens(ctx, app, &ir, reply)) != TG_OK)
        goto out;
    reply->refresh_token = rt != NULL ? rt : "";
    LOG_INFO("refresh_token exchanged client_id=%s user_id=%s rotated=%d", client->client_id,
             ir.user->user_id, rt != NULL);
out:
    if (gu != NULL)
        protobuf_c_message_free_unpacked(&gu->base, NULL);
    json_decref(doc);
    return err;
}
