/*
 * The one client lookup of svc-authorize: the tenant file first, then the clients registered
 * at /oidc/register (collection AUTHORIZE_COLL_CLIENTS, config/config_registered.h), and the
 * internal authorize.GetClient that lets svc-token resolve a registered client the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "config/config_registered.h"
#include "core/log.h"

static void *
ctx_alloc(void *ud, size_t size)
{
    return bus_ctx_alloc(ud, size);
}

const config_client *
authorize_client_find(bus_ctx *ctx, const authorize_app *app, const char *client_id)
{
    const config_client *client = config_client_by_id(app->cfg, client_id);
    const config_registered *r;
    json_t *doc = NULL;
    tg_err err;

    if (client != NULL || !config_registered_id_is_plausible(client_id))
        return client;
    if ((r = config_registered_cache_get(client_id)) != NULL)
        return &r->client;
    if ((err = store_get(app->st, AUTHORIZE_COLL_CLIENTS, client_id, &doc)) != TG_OK) {
        if (err != TG_ENOTFOUND)
            LOG_WARN("registered client lookup failed: %s", tg_strerror(err));
        return NULL;
    }
    r = config_registered_adopt(doc, ctx_alloc, ctx);
    if (r == NULL)
        LOG_ERROR("registered client %s: unusable stored document", client_id);
    json_decref(doc);
    return r != NULL ? &r->client : NULL;
}

bool
authorize_client_is_registered(const authorize_app *app, const config_client *client)
{
    return config_client_by_id(app->cfg, client->client_id) != client;
}

tg_err
authorize_on_get_client(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__GetClientRequest *req = (const void *)reqm;
    Tollgate__Authorize__GetClientReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    json_t *doc = NULL;
    char *text;
    tg_err err;

    if (!config_registered_id_is_plausible(req->client_id))
        return TG_OK; /* found = false */
    err = store_get(app->st, AUTHORIZE_COLL_CLIENTS, req->client_id, &doc);
    if (err == TG_ENOTFOUND)
        return TG_OK;
    if (err != TG_OK)
        return err;
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL || (reply->document = bus_ctx_strdup(ctx, text)) == NULL) {
        free(text);
        return TG_ENOMEM;
    }
    free(text);
    reply->found = true;
    return TG_OK;
}
