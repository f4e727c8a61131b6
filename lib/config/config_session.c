/*
 * The tenant's SSO session settings (tenant-format.md, tenant): `session_lifetime` and
 * `idle_session_lifetime` in hours (numbers; the Management API also returns fractions, e.g.
 * 3.0166666666666666), or the `*_in_minutes` integers the Deploy CLI converts them to, and
 * `session_cookie.mode` (persistent | non-persistent). Auth0's defaults: 168 h absolute, 72 h
 * idle, persistent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define DEFAULT_ABSOLUTE_H 168
#define DEFAULT_IDLE_H 72
#define MAX_H 8760 /* Auth0's ceiling: one year */

/* A lifetime given as hours (key) or minutes (key_in_minutes) into *out_s; dflt_h when
 * neither is set. At least one minute, at most MAX_H hours. */
static tg_err
get_lifetime(config_ctx *c, const json_t *t, const char *key, int64_t dflt_h, int64_t *out_s)
{
    char minutes_key[64];
    const json_t *h = json_object_get(t, key), *m;
    double hours;
    int64_t minutes;
    tg_err err;

    *out_s = dflt_h * 3600;
    snprintf(minutes_key, sizeof(minutes_key), "%s_in_minutes", key);
    m = json_object_get(t, minutes_key);
    if (config_value_is_set(h) && config_value_is_set(m))
        return config_fail(c, key, "give either %s or %s, not both", key, minutes_key);
    if (config_value_is_set(m)) {
        if ((err = config_get_int(c, t, minutes_key, 0, 1, (int64_t)MAX_H * 60, &minutes)) !=
            TG_OK)
            return err;
        *out_s = minutes * 60;
        return TG_OK;
    }
    if (!config_value_is_set(h))
        return TG_OK;
    if (!json_is_number(h))
        return config_fail(c, key, "must be a number of hours");
    hours = json_number_value(h);
    if (!isfinite(hours) || hours * 60 < 1 || hours > MAX_H)
        return config_fail(c, key, "must be between 1 minute (0.0167) and %d hours", MAX_H);
    *out_s = (int64_t)(hours * 60 + 0.5) * 60; /* the Deploy CLI: Math.round(h * 60) minutes */
    return TG_OK;
}

tg_err
config_session_load(config_ctx *c, const json_t *t, config_tenant *out)
{
    const json_t *cookie;
    char *mode = NULL;
    tg_err err;

    out->session_cookie_persistent = true;
    if ((err = get_lifetime(c, t, "session_lifetime", DEFAULT_ABSOLUTE_H,
                            &out->session_lifetime_s)) != TG_OK ||
        (err = get_lifetime(c, t, "idle_session_lifetime", DEFAULT_IDLE_H,
                            &out->idle_session_lifetime_s)) != TG_OK ||
        (err = config_get_object(c, t, "session_cookie", &cookie)) != TG_OK)
        return err;
    if (cookie == NULL)
        return TG_OK;
    snprintf(c->entry, sizeof(c->entry), "tenant.session_cookie");
    if ((err = config_get_string(c, cookie, "mode", &mode)) != TG_OK)
        return err;
    if (mode != NULL && strcmp(mode, "non-persistent") == 0)
        out->session_cookie_persistent = false;
    else if (mode != NULL && strcmp(mode, "persistent") != 0)
        err = config_fail(c, "mode", "must be persistent or non-persistent");
    free(mode);
    snprintf(c->entry, sizeof(c->entry), "tenant");
    return err;
}
