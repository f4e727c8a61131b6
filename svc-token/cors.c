/*
 * CORS on the answers of /oauth/token, /userinfo and /oauth/revoke (contract.md §1.6): the
 * gateway answers preflights and adds `Vary: Origin` on these routes, but only the service
 * knows which client a request belongs to, so only here is the Origin checked against the
 * client's Allowed Web Origins, Allowed Origins (CORS) and the origins of its Allowed Callback
 * URLs (Auth0's "*." subdomain wildcards included, lib/core/origin.c), and echoed with
 * credentials allowed. Clients registered at /oidc/register count as tenant ones. An origin
 * that is not listed gets no Access-Control-Allow-Origin, so the browser withholds the answer
 * from the page.
 */
#include <string.h>

#include "config/config_registered.h"
#include "core/log.h"
#include "core/origin.h"
#include "token.h"

bool
token_cors_origin_is_allowed(const config_client *client, const char *origin)
{
    if (client == NULL || origin == NULL || origin[0] == '\0')
        return false;
    return tg_origin_is_listed(origin, client->web_origins.v, client->web_origins.n) ||
           tg_origin_is_listed(origin, client->allowed_origins.v, client->allowed_origins.n) ||
           tg_origin_is_listed(origin, client->callbacks.v, client->callbacks.n);
}

/* Appends the two CORS headers to the directive *http (made with status 0, "JSON as usual
 * plus these headers", when the reply has none yet). */
static tg_err
add_to_directive(bus_ctx *ctx, Tollgate__Web__Directive **http, const char *origin)
{
    Tollgate__Web__Directive *d = *http;
    Tollgate__Web__Header *h = bus_ctx_alloc(ctx, 2 * sizeof(*h));
    Tollgate__Web__Header **hp;
    size_t n;

    if (h == NULL)
        return TG_ENOMEM;
    if (d == NULL) {
        if ((d = bus_ctx_alloc(ctx, sizeof(*d))) == NULL)
            return TG_ENOMEM;
        tollgate__web__directive__init(d); /* status 0 */
    }
    n = d->n_headers;
    if ((hp = bus_ctx_alloc(ctx, (n + 2) * sizeof(*hp))) == NULL)
        return TG_ENOMEM;
    if (n > 0)
        memcpy(hp, d->headers, n * sizeof(*hp));
    tollgate__web__header__init(&h[0]);
    tollgate__web__header__init(&h[1]);
    h[0].name = "Access-Control-Allow-Origin";
    if ((h[0].value = bus_ctx_strdup(ctx, origin)) == NULL)
        return TG_ENOMEM;
    h[1].name = "Access-Control-Allow-Credentials";
    h[1].value = "true";
    hp[n] = &h[0];
    hp[n + 1] = &h[1];
    d->headers = hp;
    d->n_headers = n + 2;
    *http = d;
    return TG_OK;
}

/* The client of client_id: the tenant file's, else one registered at /oidc/register (its
 * callbacks' origins count as for tenant clients, contract.md §1.6). An error answer only
 * looks in the registered-client cache, which the request's own client lookup filled: asking
 * svc-authorize could replace the Auth0 error in ctx with a 503. NULL when unknown. */
static const config_client *
cors_client(bus_ctx *ctx, const token_app *app, const char *client_id, tg_err result)
{
    const config_client *client = config_client_by_id(app->cfg, client_id);
    const config_registered *r;

    if (client != NULL)
        return client;
    if (result != TG_OK) {
        r = config_registered_cache_get(client_id);
        return r != NULL ? &r->client : NULL;
    }
    if (token_client_find(ctx, app, client_id, &client, &r) != TG_OK)
        return NULL;
    return client;
}

tg_err
token_cors_finish(bus_ctx *ctx, const token_app *app, const Tollgate__Web__Context *web,
                  const char *client_id, Tollgate__Web__Directive **http, tg_err result)
{
    const config_client *client;
    const char *origin = web != NULL ? web->origin : NULL;
    tg_err err;

    if ((client_id == NULL || client_id[0] == '\0') && web != NULL && web->has_basic)
        client_id = web->basic_user; /* client_secret_basic */
    if (origin == NULL || origin[0] == '\0' || client_id == NULL || client_id[0] == '\0')
        return result;
    if (result != TG_OK && result != TG_EDENIED)
        return result; /* a 500 carries no Auth0 body worth showing */
    client = cors_client(ctx, app, client_id, result);
    if (!token_cors_origin_is_allowed(client, origin)) {
        LOG_INFO("cors: origin not allowed for client_id=%.100s", client_id);
        return result;
    }
    if (result == TG_EDENIED) {
        bus_ctx_fail_header(ctx, "Access-Control-Allow-Origin", origin);
        bus_ctx_fail_header(ctx, "Access-Control-Allow-Credentials", "true");
        return result;
    }
    if ((err = add_to_directive(ctx, http, origin)) != TG_OK)
        return err;
    return result;
}
