/*
 * The tokens a user grant hands out (contract.md §4.3, §4.5): an access token (a JWT for the
 * audience's API, or an opaque /userinfo-only token when there is none) and an ID token when
 * openid was granted. Every grant acting for a user (password, refresh_token,
 * authorization_code) issues through here, so they never disagree on shape or claims.
 */
#include <string.h>

#include "core/util.h"
#include "token.h"

/* An API access token's lifetime: the front channel's (implicit, hybrid) or the API's. */
static int64_t
lifetime(const token_issue_req *ir)
{
    return ir->for_web ? ir->api->token_lifetime_for_web : ir->api->token_lifetime;
}

/* An opaque /userinfo token's lifetime (contract.md §4.3): 7200 s from the authorization
 * endpoint without a code (implicit), else 86400 s (code exchanges, hybrid, the other grants). */
static int64_t
userinfo_lifetime(const token_issue_req *ir)
{
    return ir->for_web && (ir->code == NULL || ir->code[0] == '\0')
               ? TOKEN_USERINFO_LIFETIME_IMPLICIT
               : TOKEN_USERINFO_LIFETIME;
}

/* The JWT access token for api (§4.3): aud is [api, <issuer>userinfo] when openid was granted. */
static tg_err
api_access_token(bus_ctx *ctx, const token_app *app, const token_issue_req *ir, char **out)
{
    const config_resource_server *api = ir->api;
    char userinfo[512];
    int64_t now = tg_now_s();
    json_t *claims, *aud;
    tg_err err;

    snprintf(userinfo, sizeof(userinfo), "%suserinfo", bus_ctx_issuer(ctx));
    aud = token_scope_has(ir->scope, "openid") ? json_pack("[s, s]", api->identifier, userinfo)
                                               : json_string(api->identifier);
    claims = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "iss", bus_ctx_issuer(ctx), "sub",
                       ir->user->user_id, "aud", aud, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + lifetime(ir)), "azp", ir->client->client_id);
    if (claims == NULL)
        return TG_ENOMEM;
    if (ir->scope[0] != '\0')
        json_object_set_new(claims, "scope", json_string(ir->scope));
    if (ir->gty != NULL)
        json_object_set_new(claims, "gty", json_string(ir->gty));
    err = token_sign_for_api(app, api, claims, out);
    json_decref(claims);
    return err;
}

tg_err
token_api_for_audience(const token_app *app, const char *audience,
                       const config_resource_server **api)
{
    *api = NULL;
    if (audience[0] == '\0' && app->cfg->tenant.default_audience != NULL)
        audience = app->cfg->tenant.default_audience;
    if (audience[0] == '\0')
        return TG_OK;
    return (*api = config_api_by_identifier(app->cfg, audience)) != NULL ? TG_OK : TG_ENOTFOUND;
}

tg_err
token_issue_access_token(bus_ctx *ctx, const token_app *app, const token_issue_req *ir,
                         char **out, int64_t *expires_in)
{
    *expires_in = ir->api != NULL ? lifetime(ir) : userinfo_lifetime(ir);
    if (ir->api != NULL)
        return api_access_token(ctx, app, ir, out);
    return token_userinfo_token_issue(app, ir->user->user_id, ir->client->client_id, ir->scope,
                                      ir->family_id, *expires_in, out);
}

tg_err
token_issue_user_tokens(bus_ctx *ctx, const token_app *app, const token_issue_req *ir,
                        Tollgate__Token__TokenReply *reply)
{
    char *access = NULL, *id_token = NULL;
    int64_t expires_in = 0;
    tg_err err;

    err = token_issue_access_token(ctx, app, ir, &access, &expires_in);
    if (err == TG_OK && token_scope_has(ir->scope, "openid"))
        err = token_id_token_sign(app, ir, bus_ctx_issuer(ctx), access, &id_token);
    if (err != TG_OK)
        goto out;
    reply->access_token = bus_ctx_strdup(ctx, access);
    reply->id_token = bus_ctx_strdup(ctx, id_token != NULL ? id_token : "");
    reply->scope = bus_ctx_strdup(ctx, ir->scope);
    if (reply->access_token == NULL || reply->id_token == NULL || reply->scope == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    reply->token_type = "Bearer";
    reply->expires_in = expires_in;
out:
    tg_free_secret_str(access);
    tg_free_secret_str(id_token);
    return err;
}

/* Drops offline_access from *scope (arena) when no refresh token may be issued, so the
 * response never claims a grant it did not make. */
static tg_err
settle_offline_access(bus_ctx *ctx, const config_client *client,
                      const config_resource_server *api, const char **scope)
{
    if (!token_scope_has(*scope, "offline_access") || token_refresh_allowed(client, api, *scope))
        return TG_OK;
    return token_scope_drop_offline(ctx, scope);
}

tg_err
token_scope_drop_offline(bus_ctx *ctx, const char **scope)
{
    char *kept = bus_ctx_strdup(ctx, ""), word[256];

    if (!token_scope_has(*scope, "offline_access"))
        return TG_OK;
    for (const char *p = *scope; *p != '\0' && kept != NULL;) {
        size_t len = strcspn(p, " ");
        if (len > 0 && len < sizeof(word)) { /* the grants bounded every word already */
            memcpy(word, p, len);
            word[len] = '\0';
            if (strcmp(word, "offline_access") != 0)
                kept = token_scope_append(ctx, kept, word);
        }
        p += len;
        p += strspn(p, " ");
    }
    if (kept == NULL)
        return TG_ENOMEM;
    *scope = kept;
    return TG_OK;
}

tg_err
token_issue_with_refresh(bus_ctx *ctx, const token_app *app, token_issue_req *ir,
                         Tollgate__Token__TokenReply *reply)
{
    const config_client *client = ir->client;
    const config_refresh_token *rc = &client->refresh_token;
    const char *aud = ir->api != NULL ? ir->api->identifier : "";
    char *family = NULL, *rt = NULL;
    tg_err err;

    ir->family_id = NULL;
    if ((err = settle_offline_access(ctx, client, ir->api, &ir->scope)) != TG_OK)
        return err;
    if (token_scope_has(ir->scope, "offline_access")) {
        int64_t family_exp = rc->infinite_token_lifetime ? 0 : tg_now_s() + rc->token_lifetime;
        const char *uid = ir->user->user_id;

        if ((err = token_refresh_family_new(ctx, app, client, uid, &family)) != TG_OK)
            return err;
        err = token_refresh_issue(ctx, app, client, family, family_exp, uid, aud, ir->scope, &rt,
                                  NULL);
        if (err != TG_OK)
            return err;
        ir->family_id = family;
    }
    if ((err = token_issue_user_tokens(ctx, app, ir, reply)) != TG_OK)
        return err;
    reply->refresh_token = rt != NULL ? rt : "";
    return TG_OK;
}
