/*
 * grant_type=client_credentials (contract.md §6.2, §4.3): a machine-to-machine token for an API
 * the client holds a client grant for. Scopes are the requested ones, all of which must be
 * granted, or every granted scope when none are requested.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define SCOPE_MAX 64
#define SCOPE_TEXT_MAX 4096

static tg_err
access_denied(bus_ctx *ctx, const char *text)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied", text);
}

static bool
api_has_scope(const config_resource_server *api, const char *s)
{
    for (size_t i = 0; i < api->n_scopes; i++)
        if (strcmp(api->scopes[i].value, s) == 0)
            return true;
    return false;
}

static bool
grant_has_scope(const config_client_grant *g, const config_resource_server *api, const char *s)
{
    return g->allow_all_scopes ? api_has_scope(api, s) : config_strv_has(&g->scope, s);
}

/* Appends s to the space-separated list in buf (arena string), skipping duplicates. */
static char *
scope_append(bus_ctx *ctx, char *buf, const char *s)
{
    size_t blen = buf ? strlen(buf) : 0, slen = strlen(s);
    char *out;

    if (buf != NULL) {
        for (const char *p = buf; (p = strstr(p, s)) != NULL; p += slen)
            if ((p == buf || p[-1] == ' ') && (p[slen] == ' ' || p[slen] == '\0'))
                return buf;
    }
    out = bus_ctx_alloc(ctx, blen + slen + 2);
    if (out == NULL)
        return NULL;
    if (blen > 0) {
        memcpy(out, buf, blen);
        out[blen++] = ' ';
    }
    memcpy(out + blen, s, slen + 1);
    return out;
}

/* The granted scope string (arena memory; "" when nothing is granted). On a refusal fills
 * ctx's error and returns TG_EDENIED. */
static tg_err
granted_scopes(bus_ctx *ctx, const config_client_grant *g, const config_resource_server *api,
               const char *requested, char **out)
{
    char *result = bus_ctx_strdup(ctx, ""), *missing = NULL;
    char word[256];
    size_t n = 0;

    *out = NULL;
    if (result == NULL)
        return TG_ENOMEM;
    if (strlen(requested) > SCOPE_TEXT_MAX)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_scope",
                            "Scope is too long");
    if (requested[0] == '\0') {
        if (g->allow_all_scopes) {
            for (size_t i = 0; i < api->n_scopes && result != NULL; i++)
                result = scope_append(ctx, result, api->scopes[i].value);
        } else {
            for (size_t i = 0; i < g->scope.n && result != NULL; i++)
                result = scope_append(ctx, result, g->scope.v[i]);
        }
        *out = result;
        return result != NULL ? TG_OK : TG_ENOMEM;
    }
    for (const char *p = requested; *p != '\0';) {
        size_t len = strcspn(p, " ");
        if (len > 0) {
            if (len >= sizeof(word) || ++n > SCOPE_MAX)
                return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                                    "invalid_scope", "Scope is too long");
            memcpy(word, p, len);
            word[len] = '\0';
            if (grant_has_scope(g, api, word))
                result = scope_append(ctx, result, word);
            else
                missing = scope_append(ctx, missing, word);
            if (result == NULL)
                return TG_ENOMEM;
        }
        p += len;
        p += strspn(p, " ");
    }
    if (missing != NULL) {
        char text[SCOPE_TEXT_MAX + 64];
        snprintf(text, sizeof(text), "Client has not been granted scopes: %s", missing);
        return access_denied(ctx, text);
    }
    *out = result;
    return TG_OK;
}

tg_err
token_grant_client_credentials(bus_ctx *ctx, const token_app *app,
                               const Tollgate__Token__TokenRequest *req,
                               const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    const config_client *client = auth->client;
    const char *audience = req->audience;
    const config_resource_server *api;
    const config_client_grant *grant;
    char text[1024], sub[300], *scope = NULL, *jwt = NULL;
    json_t *claims = NULL;
    int64_t now = tg_now_s();
    tg_err err;

    if (token_api_for_audience(app, audience, &api) != TG_OK) {
        snprintf(text, sizeof(text), "Service not enabled within domain: %s",
                 audience[0] != '\0' ? audience : app->cfg->tenant.default_audience);
        return access_denied(ctx, text);
    }
    if (api == NULL)
        return access_denied(ctx, "No audience parameter was provided, and no default audience "
                                  "has been configured");
    grant = config_grant_find(app->cfg, client->client_id, api->identifier);
    if (grant == NULL) {
        snprintf(text, sizeof(text),
                 "Client is not authorized to access \"%s\". You need to create a "
                 "\"client-grant\" associated to this API. See: "
                 "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants",
                 api->identifier);
        return access_denied(ctx, text);
    }
    if ((err = granted_scopes(ctx, grant, api, req->scope, &scope)) != TG_OK)
        return err;

    snprintf(sub, sizeof(sub), "%s@clients", client->client_id);
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", bus_ctx_issuer(ctx), "sub", sub,
                       "aud", api->identifier, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + api->token_lifetime));
    if (claims == NULL)
        return TG_ENOMEM;
    if (scope[0] != '\0')
        json_object_set_new(claims, "scope", json_string(scope));
    json_object_set_new(claims, "gty", json_string("client-credentials"));
    json_object_set_new(claims, "azp", json_string(client->client_id));
    err = token_sign_for_api(app, api, claims, &jwt);
    json_decref(claims);
    if (err != TG_OK)
        return err;
    reply->access_token = bus_ctx_strdup(ctx, jwt);
    free(jwt);
    if (reply->access_token == NULL)
        return TG_ENOMEM;
    reply->token_type = "Bearer";
    reply->expires_in = api->token_lifetime;
    reply->scope = scope[0] != '\0' ? scope : "";
    LOG_INFO("client_credentials token issued client_id=%s audience=%s", client->client_id,
             api->identifier);
    return TG_OK;
}
