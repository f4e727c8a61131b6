/*
 * response_mode=web_message (contract.md §5.3): the answer is a page that posts
 * {type: "authorization_response", response: {...}} to the window that opened it (a popup's
 * opener, or the parent of auth0-spa-js's hidden silent-authentication iframe), as Auth0's
 * page does. The target origin is the redirect_uri's origin, and only an origin the client
 * lists in its Allowed Web Origins gets a page at all: authorize_on_authorize checks it right
 * after the redirect_uri itself and shows an error page otherwise. The page may be framed by
 * that origin only, and its one constant script runs by CSP hash; every value sits in a JSON
 * block (html.c), never in script text.
 */
#include <stdio.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/origin.h"

bool
authorize_web_message_origin(const config_client *client, const char *redirect_uri, char *origin,
                             size_t len)
{
    if (!tg_origin_of(redirect_uri, origin, len))
        return false;
    return tg_origin_is_listed(origin, client->web_origins.v, client->web_origins.n);
}

tg_err
authorize_reply_web_message(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                            const authorize_target *t, const char *const (*kv)[2], size_t n,
                            const authorize_cookies *cookies)
{
    char origin[TG_ORIGIN_MAX + 1], csp[TG_ORIGIN_MAX + 200];
    int w;

    /* checked against the client's web origins before; an origin-less target is a bug */
    if (!tg_origin_of(t->redirect_uri, origin, sizeof(origin))) {
        LOG_ERROR("web_message: target without an origin");
        return TG_EINTERNAL;
    }
    w = snprintf(csp, sizeof(csp),
                 "default-src 'none'; script-src " AUTHORIZE_WEB_MESSAGE_SCRIPT_HASH
                 "; frame-ancestors %s; base-uri 'none'; form-action 'none'",
                 origin);
    if (w < 0 || (size_t)w >= sizeof(csp))
        return TG_EINTERNAL;
    return authorize_reply_framed_html(ctx, reply, 200, authorize_web_message_html(origin, kv, n),
                                       csp, cookies);
}
