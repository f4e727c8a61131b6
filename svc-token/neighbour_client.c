/*
 * svc-token's calls to its neighbour services: svc-users (proto/users.proto) and
 * svc-authorize (proto/authorize.proto). svc-token dials each one's bus device (--users-bus,
 * --authorize-bus), whose back the service's replicas also dial (docs/architecture.md). Every
 * call carries the incoming request's id, issuer and deadline, so a resent request stays
 * idempotent end to end and nobody works past the client's deadline.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

/* Time kept back from the incoming deadline so our own 503 still reaches the caller when
 * the neighbour does not answer (otherwise both calls would expire at the same instant). */
#define DEADLINE_MARGIN_MS 100

static tg_err
unavailable(bus_ctx *ctx, const char *service, const char *method, tg_err why)
{
    LOG_WARN("%s did not answer %s: %s", service, method, tg_strerror(why));
    bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, "temporarily_unavailable",
                 "The service is temporarily unavailable. Please try again later.");
    return TG_EUNAVAILABLE;
}

/* Copies the neighbour's Auth0 error into ctx as it is: the client sees what it said. */
static tg_err
pass_through(bus_ctx *ctx, const Tollgate__Bus__Error *e)
{
    tg_err err = bus_ctx_fail(ctx, e->error_class, e->error, e->error_description);

    for (size_t i = 0; i < e->n_extra; i++)
        bus_ctx_fail_extra(ctx, e->extra[i]->key, e->extra[i]->value);
    for (size_t i = 0; i < e->n_headers; i++)
        bus_ctx_fail_header(ctx, e->headers[i]->key, e->headers[i]->value);
    if (e->shape != TOLLGATE__BUS__ERROR_SHAPE__SHAPE_OAUTH || e->name[0] != '\0')
        bus_ctx_fail_shape(ctx, e->shape, e->name[0] != '\0' ? e->name : NULL);
    return err;
}

static int64_t
call_deadline(const bus_ctx *ctx)
{
    int64_t d = bus_ctx_deadline_ms(ctx);

    if (d == 0)
        return 0; /* the bus default */
    d -= DEADLINE_MARGIN_MS;
    return d > tg_now_ms() ? d : tg_now_ms() + 1;
}

/* The one call path for every neighbour; service names it in the logs. */
static tg_err
neighbour_call(bus_ctx *ctx, bus_client *bc, const char *service, const char *method,
               const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
               bool pass_refusal, ProtobufCMessage **out)
{
    bus_call_opts o = {.method = method, .request_id = bus_ctx_request_id(ctx),
                       .issuer = bus_ctx_issuer(ctx), .deadline_ms = call_deadline(ctx)};
    bus_result *res = NULL;
    tg_err err;

    *out = NULL;
    if (bc == NULL)
        return unavailable(ctx, service, method, TG_ECONFIG);
    err = bus_call(bc, &o, req, &res);
    switch (err) {
    case TG_OK:
        break;
    case TG_ETIMEDOUT:
    case TG_EUNAVAILABLE:
    case TG_ECLOSED:
    case TG_EIO:
        err = unavailable(ctx, service, method, err);
        goto out;
    default:
        LOG_ERROR("%s %s failed: %s", service, method, tg_strerror(err));
        goto out;
    }
    if (res->error != NULL) {
        LOG_INFO("%s refused %s: %s", service, method, res->error->error);
        err = pass_refusal ? pass_through(ctx, res->error) : TG_EDENIED;
        goto out;
    }
    *out = protobuf_c_message_unpack(reply_desc, NULL, res->payload.len, res->payload.data);
    if (*out == NULL) {
        LOG_ERROR("%s %s: undecodable reply", service, method);
        err = TG_EPROTO;
    }
out:
    bus_result_free(res);
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
