#include "routes.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "authorize.pb-c.h"
#include "device.pb-c.h"
#include "token.pb-c.h"
#include "users.pb-c.h"

/* Discovery is served by svc-token for now (design.md gives it to svc-authorize later; moving
 * it is a one-line change here). */
static const gw_route routes[] = {
    {"POST", "/oauth/token", "token", "token.Token", &tollgate__token__token_request__descriptor,
     &tollgate__token__token_reply__descriptor,
     GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
    {"GET", "/.well-known/jwks.json", "token", "token.Jwks", &tollgate__token__empty__descriptor,
     &tollgate__token__jwks__descriptor, GW_ROUTE_CORS_PUBLIC},
    {"GET", "/.well-known/openid-configuration", "token", "token.Discovery",
     &tollgate__token__empty__descriptor, &tollgate__token__open_id_configuration__descriptor,
     GW_ROUTE_CORS_PUBLIC},
    {"GET", "/.well-known/oauth-authorization-server", "token", "token.Discovery",
     &tollgate__token__empty__descriptor, &tollgate__token__open_id_configuration__descriptor,
     GW_ROUTE_CORS_PUBLIC},
    /* OIDC Core §5.3.1: GET and POST both. The token comes in Authorization: Bearer (web). */
    {"GET", "/userinfo", "token", "token.Userinfo", &tollgate__token__empty__descriptor,
     &tollgate__token__userinfo_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_CORS_CREDENTIALED},
    {"POST", "/userinfo", "token", "token.Userinfo", &tollgate__token__empty__descriptor,
     &tollgate__token__userinfo_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_CORS_CREDENTIALED},
    {"POST", "/oauth/revoke", "token", "token.Revoke", &tollgate__token__revoke_request__descriptor,
     &tollgate__token__revoke_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_CORS_CREDENTIALED},
    {"POST", "/dbconnections/change_password", "users", "users.ChangePassword",
     &tollgate__users__change_password_request__descriptor,
     &tollgate__users__change_password_reply__descriptor,
     GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
    {"GET", "/u/reset-password", "users", "users.ResetPage",
     &tollgate__users__reset_page_request__descriptor,
     &tollgate__users__reset_page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/u/reset-password", "users", "users.ResetSubmit",
     &tollgate__users__reset_submit_request__descriptor,
     &tollgate__users__reset_page_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    {"GET", "/authorize", "authorize", "authorize.Authorize",
     &tollgate__authorize__authorize_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"GET", "/u/login", "authorize", "authorize.LoginPage",
     &tollgate__authorize__login_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/u/login", "authorize", "authorize.LoginSubmit",
     &tollgate__authorize__login_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    {"GET", "/u/signup", "authorize", "authorize.SignupPage",
     &tollgate__authorize__login_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/u/signup", "authorize", "authorize.SignupSubmit",
     &tollgate__authorize__signup_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    /* RFC 8628: the device asks here (no browser, so no CORS; the per-IP limit of the password
     * endpoints, so codes are not minted in bulk); the user activates below */
    {"POST", "/oauth/device/code", "authorize", "authorize.DeviceCode",
     &tollgate__device__device_code_request__descriptor,
     &tollgate__device__device_code_reply__descriptor,
     GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    {"GET", "/activate", "authorize", "authorize.ActivatePage",
     &tollgate__device__activate_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/activate", "authorize", "authorize.ActivateSubmit",
     &tollgate__device__activate_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    {"GET", "/activate/confirm", "authorize", "authorize.DeviceConfirmPage",
     &tollgate__device__confirm_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/activate/confirm", "authorize", "authorize.DeviceConfirmSubmit",
     &tollgate__device__confirm_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"GET", "/v2/logout", "authorize", "authorize.Logout",
     &tollgate__authorize__logout_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/u/consent", "authorize", "authorize.ConsentSubmit",
     &tollgate__authorize__consent_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"GET", "/oidc/logout", "authorize", "authorize.OidcLogout",
     &tollgate__authorize__oidc_logout_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    {"POST", "/oidc/logout", "authorize", "authorize.OidcLogout",
     &tollgate__authorize__oidc_logout_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE},
    /* RFC 7591; open registration when the tenant enables it, so rate limited per address */
    {"POST", "/oidc/register", "authorize", "authorize.Register",
     &tollgate__authorize__register_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD},
    {"POST", "/dbconnections/signup", "users", "users.Signup",
     &tollgate__users__signup_request__descriptor, &tollgate__users__signup_reply__descriptor,
     GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
};

static bool
str_is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

const gw_route *
gw_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

const gw_route *
gw_route_lookup(const char *method, size_t method_len, const char *path, size_t path_len,
                gw_route_match *match)
{
    bool path_known = false;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!str_is(path, path_len, routes[i].path))
            continue;
        path_known = true;
        if (str_is(method, method_len, routes[i].method)) {
            *match = GW_ROUTE_FOUND;
            return &routes[i];
        }
    }
    *match = path_known ? GW_ROUTE_NO_METHOD : GW_ROUTE_NO_PATH;
    return NULL;
}

unsigned
gw_route_allow(const char *path, size_t path_len, char *buf, size_t buflen)
{
    unsigned flags = ~0u;
    size_t off = 0;
    bool any = false;

    if (buflen > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        int n;

        if (!str_is(path, path_len, routes[i].path))
            continue;
        any = true;
        flags &= routes[i].flags;
        n = snprintf(buf + off, buflen - off, "%s, ", routes[i].method);
        if (n > 0 && (size_t)n < buflen - off)
            off += (size_t)n;
    }
    if (!any)
        return 0;
    snprintf(buf + off, buflen - off, "OPTIONS");
    return flags;
}
