/*
 * svc-users -> svc-token (token.UserState, through the token bus device): a change to a user
 * that voids tokens is told to svc-token before it is written here. svc-token keeps its own
 * copy of that state so a refresh grant without openid needs no call back to us
 * (svc-token/user_state.c). The order is the failure story: when svc-token does not take the
 * message, the caller gives the change up (the user tries again), so svc-token's copy is never
 * behind ours; when our own write fails after svc-token took it, the tokens are void all the
 * same, which errs on the safe side.
 */
#include "core/log.h"
#include "token.pb-c.h"
#include "users.h"

tg_err
users_token_tell_state(bus_ctx *ctx, const users_app *app, const json_t *user,
                       int64_t tokens_valid_after)
{
    Tollgate__Token__UserStateRequest req = TOLLGATE__TOKEN__USER_STATE_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    bus_result *refusal = NULL;
    tg_err err;

    if (app->token == NULL) /* a svc-users with no svc-token beside it: no tokens to void */
        return TG_OK;
    if ((req.user_id = users_public_id(ctx, user)) == NULL)
        return TG_ENOMEM;
    req.tokens_valid_after = tokens_valid_after;
    req.blocked = json_is_true(json_object_get(user, "blocked"));
    err = bus_call_onward(ctx, app->token, "token.UserState", &req.base,
                          &tollgate__token__user_state_reply__descriptor, &reply, &refusal);
    if (err != TG_OK)
        LOG_WARN("svc-token did not take the new state of user %s: %s", req.user_id,
                 refusal != NULL && refusal->error != NULL ? refusal->error->error_description
                                                           : tg_strerror(err));
    if (reply != NULL)
        protobuf_c_message_free_unpacked(reply, NULL);
    bus_result_free(refusal);
    return err;
}
