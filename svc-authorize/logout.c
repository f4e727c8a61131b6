/*
 * authorize.Logout (GET /v2/logout, contract §14.1). returnTo must be one of the
 * application's Allowed Logout URLs when client_id is given, else one of the tenant's; an
 * unlisted returnTo gets Auth0's error page and no redirect (and the session stays: the
 * request was not one the tenant agreed to). Otherwise the SSO session is deleted, both
 * session cookies are cleared, and the browser goes to returnTo; with client_id and no
 * returnTo to the application's first Allowed Logout URL; with neither, a small page.
 * `federated` needs upstream identity providers, which do not exist yet: ignored. Clients of
 * the ended session with back-channel logout URLs get logout tokens (backchannel.c).
 */
#include <stdio.h>
#include <string.h>

#include "authorize.h"

#define MSG_RETURN_TO_CLIENT                                                                       \
    "The \"returnTo\" querystring parameter \"%.1024s\" is not defined as a valid URL in "         \
    "\"Allowed Logout URLs\". To add a new URL, please do it here: "                               \
    "https://manage.auth0.com/#/applications/%.200s/settings"
#define MSG_RETURN_TO_TENANT                                                                       \
    "The \"returnTo\" querystring parameter \"%.1024s\" is not defined as a valid URL in "         \
    "\"Allowed Logout URLs\". To add a new URL, please do it here: "                               \
    "https://manage.auth0.com/#/tenant/advanced"

tg_err
authorize_logout_finish(bus_ctx *ctx, const authorize_app *app,
                        Tollgate__Authorize__PageReply *reply, const Tollgate__Web__Context *web,
                        const char *target)
{
    authorize_cookies cookies = {0};
    tg_err err;

    if (web != NULL) {
        json_t *session = NULL;

        (void)authorize_session_find(app, web->cookie, &session); /* none: nothing to tell */
        authorize_session_end(app, web->cookie);
        authorize_session_ended(ctx, app, session); /* back-channel logout tokens */
        json_decref(session);
    }
    if ((err = authorize_session_cookies(ctx, app, NULL, &cookies)) != TG_OK)
        return err;
    if (target != NULL && target[0] != '\0')
        return authorize_reply_redirect(ctx, reply, target, &cookies);
    return authorize_reply_html(ctx, reply, 200,
                                authorize_message_html(&app->cfg->tenant.branding, "Logged out",
                                                       NULL, "You have been logged out."),
                                NULL, &cookies);
}

tg_err
authorize_on_logout(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__LogoutRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const config_strv *allowed = &app->cfg->tenant.allowed_logout_urls;
    const config_client *client = NULL;
    const char *target = req->returnto;
    char desc[1536];

    if (req->client_id[0] != '\0') {
        if ((client = authorize_client_find(ctx, app, req->client_id)) == NULL) {
            snprintf(desc, sizeof(desc), "Unknown client: %.200s", req->client_id);
            return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request", desc);
        }
        allowed = &client->allowed_logout_urls;
    }
    if (target[0] != '\0' && !authorize_logout_url_is_allowed(allowed, target)) {
        if (client != NULL)
            snprintf(desc, sizeof(desc), MSG_RETURN_TO_CLIENT, target, client->client_id);
        else
            snprintf(desc, sizeof(desc), MSG_RETURN_TO_TENANT, target);
        return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request", desc);
    }
    if (target[0] == '\0' && client != NULL && allowed->n > 0 &&
        authorize_uri_is_safe(allowed->v[0]))
        target = allowed->v[0];
    return authorize_logout_finish(ctx, app, reply, req->web, target);
}
