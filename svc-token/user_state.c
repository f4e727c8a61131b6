/*
 * svc-token's copy of the user state that voids tokens (proto/token.proto UserStateRequest):
 * tokens_valid_after, blocked, deleted, per user, in the collection user_states. svc-users
 * sends every change here before it writes it (and gives the change up when this call fails),
 * so a refresh grant that mints no ID token can decide on this copy alone, without a call to
 * svc-users. A user with no record has nothing against them.
 *
 * tokens_valid_after only ever moves forward here, whatever order two changes arrive in.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define USER_ID_MAX 512

tg_err
token_user_blocked(bus_ctx *ctx)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized",
                        "user is blocked");
}

tg_err
token_user_state_get(const token_app *app, const char *user_id, token_user_state *out)
{
    json_t *doc = NULL;
    tg_err err;

    memset(out, 0, sizeof(*out));
    err = store_get(app->st, TOKEN_COLL_USER_STATES, user_id, &doc);
    if (err == TG_ENOTFOUND)
        return TG_OK;
    if (err != TG_OK)
        return err;
    out->blocked = json_is_true(json_object_get(doc, "blocked"));
    out->deleted = json_is_true(json_object_get(doc, "deleted"));
    out->tokens_valid_after = json_integer_value(json_object_get(doc, "tokens_valid_after"));
    json_decref(doc);
    return TG_OK;
}

/* Writes the state, keeping the later tokens_valid_after of the stored and the new one. */
static tg_err
record(const token_app *app, const char *user_id, const token_user_state *st)
{
    int64_t valid_after = st->tokens_valid_after;
    json_t *old = NULL, *doc;
    tg_err err = TG_OK;
    bool exists;

    /* a second round only when another replica wrote it between our read and our write */
    for (int round = 0; round < 2; round++) {
        err = store_get(app->st, TOKEN_COLL_USER_STATES, user_id, &old);
        if (err != TG_OK && err != TG_ENOTFOUND)
            return err;
        if ((exists = old != NULL)) {
            int64_t was = json_integer_value(json_object_get(old, "tokens_valid_after"));
            valid_after = was > valid_after ? was : valid_after;
            json_decref(old);
            old = NULL;
        }
        doc = json_pack("{s:I, s:b, s:b, s:I}", "tokens_valid_after", (json_int_t)valid_after,
                        "blocked", st->blocked, "deleted", st->deleted, "updated_at",
                        (json_int_t)tg_now_s());
        if (doc == NULL)
            return TG_ENOMEM;
        if (exists)
            err = store_update(app->st, TOKEN_COLL_USER_STATES, user_id, doc);
        else if (json_object_set_new(doc, "_id", json_string(user_id)) != 0)
            err = TG_ENOMEM;
        else
            err = store_insert(app->st, TOKEN_COLL_USER_STATES, doc);
        json_decref(doc);
        if (err != TG_EEXIST && err != TG_ENOTFOUND)
            return err;
    }
    return err;
}

tg_err
token_on_user_state(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__UserStateRequest *req = (const void *)reqm;
    const token_app *app = bus_ctx_app(ctx);
    const char *user_id = req->user_id != NULL ? req->user_id : "";
    token_user_state st = {.blocked = req->blocked,
                           .deleted = req->deleted,
                           .tokens_valid_after = req->tokens_valid_after};
    tg_err err;

    (void)replym;
    if (user_id[0] == '\0' || strlen(user_id) > USER_ID_MAX || req->tokens_valid_after < 0)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "user_id and a non-negative tokens_valid_after are required");
    if ((err = record(app, user_id, &st)) != TG_OK) {
        LOG_ERROR("user state of %s not recorded: %s", user_id, tg_strerror(err));
        return err;
    }
    LOG_INFO("user state of %s: tokens_valid_after=%lld blocked=%d deleted=%d", user_id,
             (long long)st.tokens_valid_after, st.blocked, st.deleted);
    return TG_OK;
}
