/*
 * svc-token's calls to its neighbour services: svc-users (proto/users.proto) and
 * svc-authorize (proto/authorize.proto). svc-token dials each one's bus device (--users-bus,
 * --authorize-bus), whose back the service's replicas also dial (docs/architecture.md). Every
 * call carries the incoming request's id, issuer and deadline, so a resent request stays
 * idempotent end to end and nobody works past the client's deadline.
 */
#include <string.h>

#include "core/log.h"
#include "token.h"

static tg_err
unavailable(bus_ctx *ctx, const char *service, const char *method)
{
    LOG_WARN("%s did not answer %s", service, method);
    bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, "temporarily_unavailable",
                 "The service is temporarily unavailable. Please try again later.");
    return TG_EUNAVAILABLE;
}

/* The one call path for every neighbour; service names it in the logs. */
static tg_err
neighbour_call(bus_ctx *ctx, bus_client *bc, const char *service, const char *method,
               const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
               bool pass_refusal, ProtobufCMessage **out)
{
    bus_result *refusal = NULL;
    tg_err err = bus_call_onward(ctx, bc, method, req, reply_desc, out, &refusal);

    if (err == TG_EUNAVAILABLE)
        return unavailable(ctx, service, method);
    if (err == TG_EDENIED && refusal != NULL && pass_refusal)
        err = bus_ctx_fail_from(ctx, refusal->error);
    bus_result_free(refusal);
    return err;
}

tg_err
token_users_call(bus_ctx *ctx, const token_app *app, const char *method,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                 bool pass_refusal, ProtobufCMessage **out)
{
    return neighbour_call(ctx, app->users, "svc-users", method, req, reply_desc, pass_refusal,
                          out);
}

tg_err
token_authorize_call(bus_ctx *ctx, const token_app *app, const char *method,
                     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                     bool pass_refusal, ProtobufCMessage **out)
{
    return neighbour_call(ctx, app->authorize, "svc-authorize", method, req, reply_desc,
                          pass_refusal, out);
}

tg_err
token_grant_user(bus_ctx *ctx, const token_app *app, const char *user_id,
                 Tollgate__Users__GetUserReply **out)
{
    Tollgate__Users__GetUserRequest gr = TOLLGATE__USERS__GET_USER_REQUEST__INIT;
    tg_err err;

    gr.user_id = (char *)user_id;
    err = token_users_call(ctx, app, "users.GetUser", &gr.base,
                           &tollgate__users__get_user_reply__descriptor, false,
                           (ProtobufCMessage **)out);
    if (err == TG_OK && (*out)->user == NULL) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        err = TG_EDENIED;
    }
    if (err == TG_EDENIED)
        return TG_ENOTFOUND; /* svc-users refused: the user is gone */
    if (err != TG_OK)
        return err;
    if ((*out)->user->blocked) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        return token_user_blocked(ctx);
    }
    return TG_OK;
}
