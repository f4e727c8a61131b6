/*
 * svc-authorize's bus client to svc-users (proto/users.proto), through the users bus device
 * (docs/architecture.md): both services scale on their own. Every call carries the incoming
 * request's id, issuer and deadline (less a margin, so our own answer still reaches the
 * browser when svc-users is silent): bus_call_onward. Refusals come back to the caller, to be
 * shown on the login page rather than passed through as OAuth errors.
 */
#include "authorize.h"

tg_err
authorize_users_call(bus_ctx *ctx, const authorize_app *app, const char *method,
                     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                     ProtobufCMessage **out, bus_result **refusal)
{
    return bus_call_onward(ctx, app->users, method, req, reply_desc, out, refusal);
}
