/*
 * The one client lookup of svc-token for a client_id that comes from a request: the tenant
 * file, else a client registered at /oidc/register, which svc-authorize owns and answers for
 * (authorize.GetClient through the authorize bus device). Registered clients are immutable, so
 * each one is fetched once per process and kept in config/config_registered.h's bounded cache.
 */
#include <jansson.h>

#include "config/config_registered.h"
#include "core/log.h"
#include "token.h"

static void *
ctx_alloc(void *ud, size_t size)
{
    return bus_ctx_alloc(ud, size);
}

tg_err
token_client_find(bus_ctx *ctx, const token_app *app, const char *client_id,
                  const config_client **out, const config_registered **registered)
{
    Tollgate__Authorize__GetClientRequest greq = TOLLGATE__AUTHORIZE__GET_CLIENT_REQUEST__INIT;
    Tollgate__Authorize__GetClientReply *greply = NULL;
    const config_registered *r;
    json_t *doc;
    tg_err err;

    *out = NULL;
    *registered = NULL;
    if ((*out = config_client_by_id(app->cfg, client_id)) != NULL)
        return TG_OK;
    if (!config_registered_id_is_plausible(client_id) || app->authorize == NULL)
        return TG_ENOTFOUND;
    if ((r = config_registered_cache_get(client_id)) == NULL) {
        greq.client_id = (char *)client_id;
        err = token_authorize_call(ctx, app, "authorize.GetClient", &greq.base,
                                   &tollgate__authorize__get_client_reply__descriptor, false,
                                   (ProtobufCMessage **)&greply);
        if (err == TG_EDENIED) {
            /* GetClient answers found=false for unknown ids; a refusal is svc-authorize failing
             * (its store), which must not read as a wrong secret */
            LOG_WARN("svc-authorize refused authorize.GetClient");
            bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, "temporarily_unavailable",
                         "The service is temporarily unavailable. Please try again later.");
            return TG_EUNAVAILABLE;
        }
        if (err != TG_OK)
            return err; /* TG_EUNAVAILABLE: ctx already holds the 503 */
        doc = greply->found ? json_loads(greply->document, 0, NULL) : NULL;
        protobuf_c_message_free_unpacked(&greply->base, NULL);
        if (doc == NULL)
            return TG_ENOTFOUND;
        r = config_registered_adopt(doc, ctx_alloc, ctx);
        json_decref(doc);
        if (r == NULL) {
            LOG_ERROR("registered client %s: unusable document from svc-authorize", client_id);
            return TG_ENOTFOUND;
        }
    }
    *out = &r->client;
    *registered = r;
    return TG_OK;
}
