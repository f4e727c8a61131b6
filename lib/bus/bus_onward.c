/* Calls a service makes to its neighbours while serving a request (bus.h). */
#include "bus/bus.h"

#include "core/log.h"
#include "core/util.h"

/* Kept back from the incoming deadline so our answer beats the caller's own timeout. */
#define ONWARD_DEADLINE_MARGIN_MS 100

static int64_t
onward_deadline(const bus_ctx *ctx)
{
    int64_t d = bus_ctx_deadline_ms(ctx), now = tg_now_ms();

    if (d == 0)
        return 0; /* the bus default */
    d -= ONWARD_DEADLINE_MARGIN_MS;
    return d > now ? d : now + 1;
}

tg_err
bus_call_onward(bus_ctx *ctx, bus_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out,
                bus_result **refusal)
{
    bus_call_opts o = {.method = method, .request_id = bus_ctx_request_id(ctx),
                       .issuer = bus_ctx_issuer(ctx), .deadline_ms = onward_deadline(ctx)};
    bus_result *res = NULL;
    tg_err err;

    *out = NULL;
    if (refusal != NULL)
        *refusal = NULL;
    if (c == NULL)
        return TG_EUNAVAILABLE;
    err = bus_call(c, &o, req, &res);
    switch (err) {
    case TG_OK: break;
    case TG_ETIMEDOUT:
    case TG_EUNAVAILABLE:
    case TG_ECLOSED:
    case TG_EIO:
        LOG_WARN("no answer to %s: %s", method, tg_strerror(err));
        err = TG_EUNAVAILABLE;
        goto out;
    default: LOG_ERROR("%s failed: %s", method, tg_strerror(err)); goto out;
    }
    if (res->error != NULL) {
        LOG_INFO("%s refused: %s", method, res->error->error);
        if (refusal != NULL) {
            *refusal = res;
            res = NULL;
        }
        err = TG_EDENIED;
        goto out;
    }
    *out = protobuf_c_message_unpack(reply_desc, NULL, res->payload.len, res->payload.data);
    if (*out == NULL) {
        LOG_ERROR("%s: undecodable reply", method);
        err = TG_EPROTO;
    }
out:
    bus_result_free(res);
    return err;
}

tg_err
bus_ctx_fail_from(bus_ctx *ctx, const Tollgate__Bus__Error *e)
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
