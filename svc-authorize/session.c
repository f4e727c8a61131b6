/*
 * SSO sessions (contract §21.12). The browser holds a random cookie value; the store holds
 * only its SHA-256, so a leaked database does not hand out sessions. Two cookies carry the same
 * value, as Auth0's auth0 / auth0_compat do: tg_session with SameSite=None (needed for
 * prompt=none in an iframe) and tg_session_compat without SameSite, for old browsers that
 * reject SameSite=None. Every login starts a new session with a new id and cookie (no
 * session fixation) and ends the one the browser brought.
 */
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/web.h"
#include "core/log.h"
#include "core/util.h"

#define SID_BYTES 16

/* The stored session for one cookie value; TG_ENOTFOUND for a malformed or unknown one. */
static tg_err
find_by_cookie(const authorize_app *app, const char *header, const char *name, json_t **out)
{
    char value[64], hash[65];

    if (!tg_cookie_get(header, name, value, sizeof(value)) ||
        !authorize_secret_is_well_formed(value))
        return TG_ENOTFOUND;
    authorize_sha256_hex(value, hash);
    explicit_bzero(value, sizeof(value));
    return store_get(app->st, AUTHORIZE_COLL_SESSIONS, hash, out);
}

tg_err
authorize_session_find(const authorize_app *app, const char *cookie_header, json_t **out)
{
    json_t *doc = NULL, *set = NULL;
    int64_t now = tg_now_s(), absolute, exp;
    tg_err err;

    *out = NULL;
    if (cookie_header == NULL || cookie_header[0] == '\0')
        return TG_ENOTFOUND;
    err = find_by_cookie(app, cookie_header, AUTHORIZE_SESSION_COOKIE, &doc);
    if (err == TG_ENOTFOUND)
        err = find_by_cookie(app, cookie_header, AUTHORIZE_SESSION_COOKIE_COMPAT, &doc);
    if (err != TG_OK)
        return err;
    /* the idle expiry moves with use, never past the absolute one */
    absolute = json_integer_value(json_object_get(doc, "absolute_expires_at"));
    exp = now + app->session_idle_s < absolute ? now + app->session_idle_s : absolute;
    set = json_pack("{s:I, s:I}", "last_used_at", (json_int_t)now, "expires_at", (json_int_t)exp);
    if (set == NULL || store_update(app->st, AUTHORIZE_COLL_SESSIONS,
                                    json_string_value(json_object_get(doc, "_id")), set) != TG_OK)
        LOG_WARN("session use not recorded");
    json_decref(set);
    *out = doc;
    return TG_OK;
}

void
authorize_session_end(const authorize_app *app, const char *cookie_header)
{
    static const char *const names[] = {AUTHORIZE_SESSION_COOKIE, AUTHORIZE_SESSION_COOKIE_COMPAT};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *doc = NULL;

        if (find_by_cookie(app, cookie_header, names[i], &doc) == TG_OK)
            (void)store_delete(app->st, AUTHORIZE_COLL_SESSIONS,
                               json_string_value(json_object_get(doc, "_id")));
        json_decref(doc);
    }
}

tg_err
authorize_session_start(bus_ctx *ctx, const authorize_app *app, const char *cookie_header,
                        const char *user_id, int64_t auth_time, char **sid_out, char **cookie_out)
{
    char *cookie = NULL, *sid = NULL, hash[65];
    int64_t now = tg_now_s();
    int64_t absolute = now + app->session_lifetime_s;
    int64_t idle = now + app->session_idle_s < absolute ? now + app->session_idle_s : absolute;
    json_t *doc = NULL;
    tg_err err;

    *sid_out = NULL;
    *cookie_out = NULL;
    if (cookie_header != NULL)
        authorize_session_end(app, cookie_header);
    if ((err = tg_random_token(AUTHORIZE_SECRET_BYTES, &cookie)) != TG_OK ||
        (err = tg_random_token(SID_BYTES, &sid)) != TG_OK)
        goto out;
    authorize_sha256_hex(cookie, hash);
    doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "_id", hash, "sid", sid, "user_id",
                    user_id, "auth_time", (json_int_t)auth_time, "created_at", (json_int_t)now,
                    "last_used_at", (json_int_t)now, "absolute_expires_at", (json_int_t)absolute,
                    "expires_at", (json_int_t)idle);
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, AUTHORIZE_COLL_SESSIONS, doc)) != TG_OK)
        goto out;
    if ((*sid_out = bus_ctx_strdup(ctx, sid)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    *cookie_out = cookie;
    cookie = NULL;
out:
    json_decref(doc);
    tg_free_secret_str(cookie);
    free(sid);
    return err;
}

void
authorize_session_settings(authorize_app *app, const config *cfg)
{
    app->session_lifetime_s = cfg->tenant.session_lifetime_s;
    app->session_idle_s = cfg->tenant.idle_session_lifetime_s;
}

tg_err
authorize_session_cookies(bus_ctx *ctx, const authorize_app *app, const char *value,
                          authorize_cookies *out)
{
    char buf[256], max_age[40] = "";
    long long age = value != NULL ? (long long)app->session_lifetime_s : 0;

    out->n = 0;
    /* session_cookie.mode non-persistent: a browser-session cookie (no Max-Age); clearing
     * always says Max-Age=0 */
    if (value == NULL || app->cfg == NULL || app->cfg->tenant.session_cookie_persistent)
        snprintf(max_age, sizeof(max_age), " Max-Age=%lld;", age);
    snprintf(buf, sizeof(buf),
             AUTHORIZE_SESSION_COOKIE "=%s; Path=/;%s Secure; HttpOnly; SameSite=None",
             value != NULL ? value : "", max_age);
    if ((out->v[out->n++] = bus_ctx_strdup(ctx, buf)) == NULL)
        return TG_ENOMEM;
    snprintf(buf, sizeof(buf), AUTHORIZE_SESSION_COOKIE_COMPAT "=%s; Path=/;%s Secure; HttpOnly",
             value != NULL ? value : "", max_age);
    if ((out->v[out->n++] = bus_ctx_strdup(ctx, buf)) == NULL)
        return TG_ENOMEM;
    explicit_bzero(buf, sizeof(buf));
    return TG_OK;
}
