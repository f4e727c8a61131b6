/*
 * POST /oauth/revoke (contract.md §7, RFC 7009 as Auth0 does it): the client authenticates as
 * at the token endpoint; a refresh token it owns has its whole family revoked (the token, its
 * rotated relatives and the /userinfo tokens minted with them). Unknown, expired or another
 * client's tokens get the same 200 and nothing changes, so the answer reveals nothing.
 *
 * Auth0's tenant toggle "Refresh Token Revocation Deletes Grant" (revoke every token of the
 * user+application+audience) is not modelled: revocation always covers one family.
 */
#include <string.h>

#include "core/log.h"
#include "token.h"

#define TOKEN_MAX 512

/* 200 with an empty body (node-auth0 expects ""; spa-js checks only response.ok). */
static tg_err
ok(bus_ctx *ctx, Tollgate__Token__RevokeReply *reply)
{
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));

    if (d == NULL)
        return TG_ENOMEM;
    tollgate__web__directive__init(d);
    d->status = 200;
    reply->http = d;
    return TG_OK;
}

static void
revoke_owned(const token_app *app, const config_client *client, const char *token)
{
    const char *owner, *family;
    json_t *doc = NULL;
    char id[65];

    if (strlen(token) > TOKEN_MAX || token_refresh_id(token, id) != TG_OK ||
        store_get(app->st, TOKEN_COLL_REFRESH, id, &doc) != TG_OK) {
        LOG_INFO("revoke: unknown or expired token from client_id=%s", client->client_id);
        return;
    }
    owner = json_string_value(json_object_get(doc, "client_id"));
    family = json_string_value(json_object_get(doc, "family_id"));
    if (owner == NULL || family == NULL || strcmp(owner, client->client_id) != 0)
        LOG_WARN("revoke: client_id=%s presented another client's token; ignored",
                 client->client_id);
    else if (token_refresh_family_revoke(app, family) != TG_OK)
        LOG_INFO("revoke: the token's family is already gone");
    json_decref(doc);
}

tg_err
token_on_revoke(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__RevokeRequest *req = (const void *)reqm;
    token_client_creds creds = {.web = req->web, .client_id = req->client_id,
                                .client_secret = req->client_secret,
                                .client_assertion = req->client_assertion,
                                .client_assertion_type = req->client_assertion_type};
    const token_app *app = bus_ctx_app(ctx);
    Tollgate__Token__RevokeReply *reply = (void *)replym;
    token_client_auth auth;
    tg_err err;

    if ((err = token_client_authenticate(ctx, app, &creds, &auth)) != TG_OK)
        goto out;
    if (req->token[0] == '\0') {
        err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                           "Missing required parameter: token");
        goto out;
    }
    revoke_owned(app, auth.client, req->token);
    err = ok(ctx, reply);
out:
    /* spa-js revokes refresh tokens from the browser on logout */
    return token_cors_finish(ctx, app, req->web, req->client_id, &reply->http, err);
}
