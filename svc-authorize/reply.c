/*
 * Directives: HTML pages with their security headers, redirects, and answers sent back to a
 * trusted redirect_uri in the request's response mode (query, fragment, form_post). Every
 * answer to the client carries `iss` (RFC 9207, mix-up protection) and `state` when sent.
 * (The gateway adds Cache-Control: no-store on every authorize route.)
 */
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/origin.h"
#include "core/util.h"

#define CSP_PAGE                                                                                   \
    "default-src 'none'; img-src https:; style-src 'unsafe-inline'; form-action 'self'; "          \
    "frame-ancestors 'none'; base-uri 'none'"
/* form_post: the one constant script by hash; the form targets the (trusted) redirect_uri on
 * another origin, so form-action is not restricted here. */
#define CSP_FORM_POST                                                                              \
    "default-src 'none'; script-src " AUTHORIZE_FORM_POST_SCRIPT_HASH                              \
    "; frame-ancestors 'none'; base-uri 'none'"
#define MAX_PARAMS 8

/* A directive with status and the given headers; NULL on exhaustion. */
static Tollgate__Web__Directive *
directive_new(bus_ctx *ctx, int status, const char *const (*fixed)[2], size_t n_fixed,
              const authorize_cookies *cookies)
{
    size_t n_cookies = cookies != NULL ? cookies->n : 0, n = n_fixed + n_cookies;
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    Tollgate__Web__Header *h = bus_ctx_alloc(ctx, (n + 1) * sizeof(*h));
    Tollgate__Web__Header **hp = bus_ctx_alloc(ctx, (n + 1) * sizeof(*hp));

    if (d == NULL || h == NULL || hp == NULL)
        return NULL;
    tollgate__web__directive__init(d);
    for (size_t i = 0; i < n; i++) {
        tollgate__web__header__init(&h[i]);
        h[i].name = (char *)(i < n_fixed ? fixed[i][0] : "Set-Cookie");
        h[i].value = bus_ctx_strdup(ctx, i < n_fixed ? fixed[i][1] : cookies->v[i - n_fixed]);
        if (h[i].value == NULL)
            return NULL;
        hp[i] = &h[i];
    }
    d->status = status;
    d->headers = hp;
    d->n_headers = n;
    return d;
}

/* The page html (taken) with the fixed headers (n_fixed pairs). */
static tg_err
reply_page(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, int status, char *html,
           const char *const (*fixed)[2], size_t n_fixed, const authorize_cookies *cookies)
{
    Tollgate__Web__Directive *d;
    tg_err err = TG_ENOMEM;

    if (html == NULL)
        goto out;
    d = directive_new(ctx, status, fixed, n_fixed, cookies);
    if (d == NULL)
        goto out;
    d->content_type = "text/html; charset=utf-8";
    d->body.len = strlen(html);
    if ((d->body.data = bus_ctx_alloc(ctx, d->body.len + 1)) == NULL)
        goto out;
    memcpy(d->body.data, html, d->body.len);
    reply->http = d;
    err = TG_OK;
out:
    tg_free_secret_str(html); /* a form_post page carries a code */
    return err;
}

tg_err
authorize_reply_html(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, int status, char *html,
                     const char *csp, const authorize_cookies *cookies)
{
    const char *const fixed[][2] = {
        {"Content-Security-Policy", csp != NULL ? csp : CSP_PAGE},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Content-Type-Options", "nosniff"},
    };

    return reply_page(ctx, reply, status, html, fixed, sizeof(fixed) / sizeof(fixed[0]), cookies);
}

char *
authorize_form_csp(bus_ctx *ctx, const char *redirect_uri)
{
    char origin[TG_ORIGIN_MAX + 1], csp[TG_ORIGIN_MAX + 200];
    size_t scheme;
    int w;

    /* a native app's callback (com.example.app://callback) is allowed by its scheme */
    if (!tg_origin_of(redirect_uri, origin, sizeof(origin))) {
        scheme = redirect_uri != NULL ? strspn(redirect_uri, "abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
                                      : 0;
        if (scheme == 0 || scheme > 64 || redirect_uri[scheme] != ':')
            return NULL;
        snprintf(origin, sizeof(origin), "%.*s", (int)scheme + 1, redirect_uri);
    }
    w = snprintf(csp, sizeof(csp),
                 "default-src 'none'; img-src https:; style-src 'unsafe-inline'; "
                 "form-action 'self' %s; "
                 "frame-ancestors 'none'; base-uri 'none'",
                 origin);
    if (w < 0 || (size_t)w >= sizeof(csp))
        return NULL;
    return bus_ctx_strdup(ctx, csp);
}

tg_err
authorize_reply_framed_html(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, int status,
                            char *html, const char *csp, const authorize_cookies *cookies)
{
    const char *const fixed[][2] = {
        {"Content-Security-Policy", csp},
        {"Referrer-Policy", "no-referrer"},
        {"X-Content-Type-Options", "nosniff"},
    };

    return reply_page(ctx, reply, status, html, fixed, sizeof(fixed) / sizeof(fixed[0]), cookies);
}

tg_err
authorize_reply_redirect(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, const char *location,
                         const authorize_cookies *cookies)
{
    static const char *const fixed[][2] = {{"Referrer-Policy", "no-referrer"}};
    Tollgate__Web__Directive *d = directive_new(ctx, 302, fixed, 1, cookies);

    if (d == NULL || (d->location = bus_ctx_strdup(ctx, location)) == NULL)
        return TG_ENOMEM;
    reply->http = d;
    return TG_OK;
}

tg_err
authorize_reply_error_page(bus_ctx *ctx, const authorize_app *app,
                           Tollgate__Authorize__PageReply *reply, int status, const char *error,
                           const char *description)
{
    return authorize_reply_html(ctx, reply, status,
                                authorize_message_html(&app->cfg->tenant.branding,
                                                       "Something went wrong", error, description),
                                NULL, NULL);
}

tg_err
authorize_reply_to_client(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                          const authorize_target *t, const char *const (*kv)[2], size_t n,
                          const authorize_cookies *cookies)
{
    const char *all[MAX_PARAMS + 2][2];
    size_t m = 0;
    char *url;
    tg_err err;

    if (n > MAX_PARAMS)
        return TG_EINTERNAL;
    for (size_t i = 0; i < n; i++, m++) {
        all[m][0] = kv[i][0];
        all[m][1] = kv[i][1];
    }
    all[m][0] = "state";
    all[m++][1] = t->state;
    all[m][0] = "iss";
    all[m++][1] = bus_ctx_issuer(ctx);
    if (t->mode == AUTHORIZE_MODE_WEB_MESSAGE)
        return authorize_reply_web_message(ctx, reply, t, all, m, cookies);
    if (t->mode == AUTHORIZE_MODE_FORM_POST)
        return authorize_reply_html(ctx, reply, 200,
                                    authorize_form_post_html(t->redirect_uri, all, m),
                                    CSP_FORM_POST, cookies);
    url = authorize_url_with_params(t->redirect_uri, t->mode == AUTHORIZE_MODE_FRAGMENT ? '#' : '?',
                                    all, m);
    if (url == NULL)
        return TG_ENOMEM;
    err = authorize_reply_redirect(ctx, reply, url, cookies);
    tg_free_secret_str(url);
    return err;
}

tg_err
authorize_reply_oauth_error(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                            const authorize_target *t, const char *error, const char *description)
{
    const char *const kv[][2] = {{"error", error}, {"error_description", description}};

    return authorize_reply_to_client(ctx, reply, t, kv, 2, NULL);
}
