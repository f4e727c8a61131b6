/*
 * POST /oauth/token: common checks, client authentication, then the grant from one table.
 * Grants that are not implemented yet are answered as unsupported, never half-served.
 */
#include <string.h>

#include "core/log.h"
#include "token.h"

typedef tg_err (*grant_fn)(bus_ctx *ctx, const token_app *app,
                           const Tollgate__Token__TokenRequest *req, const token_client_auth *auth,
                           Tollgate__Token__TokenReply *reply);

static const struct {
    const char *grant_type;
    grant_fn fn;
} grants[] = {
    {"client_credentials", token_grant_client_credentials},
    {"password", token_grant_password},
    {"http://auth0.com/oauth/grant-type/password-realm", token_grant_password},
    {"refresh_token", token_grant_refresh},
    {"authorization_code", token_grant_code},
    {"urn:ietf:params:oauth:grant-type:device_code", token_grant_device},
};

static tg_err
serve(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
      Tollgate__Token__TokenReply *reply)
{
    token_client_creds creds = {.web = req->web, .client_id = req->client_id,
                                .client_secret = req->client_secret,
                                .client_assertion = req->client_assertion,
                                .client_assertion_type = req->client_assertion_type};
    token_client_auth auth;
    char text[300];
    grant_fn fn = NULL;
    tg_err err;

    if (req->grant_type[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: grant_type");
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
        if (strcmp(grants[i].grant_type, req->grant_type) == 0)
            fn = grants[i].fn;
    if (fn == NULL) {
        snprintf(text, sizeof(text), "Unsupported grant type: %.200s", req->grant_type);
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__NOT_IMPLEMENTED,
                            "unsupported_grant_type", text);
    }
    if ((err = token_client_authenticate(ctx, app, &creds, &auth)) != TG_OK)
        return err;
    if (!token_client_allows_grant(auth.client, req->grant_type) ||
        (strcmp(req->grant_type, "client_credentials") == 0 && strcmp(auth.method, "none") == 0)) {
        snprintf(text, sizeof(text), "Grant type '%s' not allowed for the client.",
                 req->grant_type);
        err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "unauthorized_client",
                           text);
        bus_ctx_fail_extra(ctx, "error_uri", "https://auth0.com/docs/clients/client-grant-types");
        return err;
    }
    return fn(ctx, app, req, &auth, reply);
}

tg_err
token_on_token(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__TokenRequest *req = (const void *)reqm;
    Tollgate__Token__TokenReply *reply = (void *)replym;
    const token_app *app = bus_ctx_app(ctx);

    /* browsers (spa-js) call this endpoint directly: its answers, refusals too, carry CORS */
    return token_cors_finish(ctx, app, req->web, req->client_id, &reply->http,
                             serve(ctx, app, req, reply));
}
