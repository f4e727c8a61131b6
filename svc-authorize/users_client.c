/*
 * svc-authorize's bus client to svc-users (proto/users.proto), through the users bus device
 * (docs/architecture.md): both services scale on their own. Every call carries the incoming
 * request's id, issuer and deadline (less a margin, so our own answer still reaches the
 * browser when svc-users is silent). svc-token's users_client.c does the same for its
 * callers; the difference is that refusals come back to the caller here, to be shown on the
 * login page rather than passed through as OAuth errors.
 */
#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

#define DEADLINE_MARGIN_MS 100

static int64_t
call_deadline(const bus_ctx *ctx)
{
    int64_t d = bus_ctx_deadline_ms(ctx);

    if (d == 0)
        return 0; /* the bus default */
    d -= DEADLINE_MARGIN_MS;
    return d > tg_now_ms() ? d : tg_now_ms() + 1;
}

tg_err
authorize_users_call(bus_ctx *ctx, const authorize_app *app, const char *method,
                     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                     ProtobufCMessage **out, bus_result **refusal)
{
    bus_call_opts o = {.method = method,
                       .request_id = bus_ctx_request_id(ctx),
                       .issuer = bus_ctx_issuer(ctx),
                       .deadline_ms = call_deadline(ctx)};
    bus_result *res = NULL;
    tg_err err;

    *out = NULL;
    if (refusal != NULL)
        *refusal = NULL;
    if (app->users == NULL)
        return TG_EUNAVAILABLE;
    err = bus_call(app->users, &o, req, &res);
    switch (err) {
    case TG_OK: break;
    case TG_ETIMEDOUT:
    case TG_EUNAVAILABLE:
    case TG_ECLOSED:
    case TG_EIO:
        LOG_WARN("svc-users did not answer %s: %s", method, tg_strerror(err));
        err = TG_EUNAVAILABLE;
        goto out;
    default: LOG_ERROR("svc-users %s failed: %s", method, tg_strerror(err)); goto out;
    }
    if (res->error != NULL) {
        LOG_INFO("svc-users refused %s: %s", method, res->error->error);
        if (refusal != NULL) {
            *refusal = res;
            res = NULL;
        }
        err = TG_EDENIED;
        goto out;
    }
    *out = protobuf_c_message_unpack(reply_desc, NULL, res->payload.len, res->payload.data);
    if (*out == NULL) {
        LOG_ERROR("svc-users %s: undecodable reply", method);
        err = TG_EPROTO;
    }
out:
    bus_result_free(res);
    return err;
}
