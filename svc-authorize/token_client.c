/*
 * svc-authorize's bus client to svc-token (proto/token.proto), through the token bus device
 * (docs/architecture.md): only svc-token holds the signing keys, and both services scale on
 * their own. Calls carry the incoming request's id, issuer and deadline (bus_call_onward), so
 * the tokens name the issuer the browser reached.
 */
#include "authorize.h"

tg_err
authorize_token_call(bus_ctx *ctx, const authorize_app *app, const char *method,
                     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                     ProtobufCMessage **out, bus_result **refusal)
{
    return bus_call_onward(ctx, app->token, method, req, reply_desc, out, refusal);
}
