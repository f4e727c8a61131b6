/*
 * The tenant's branding on the server-rendered pages (tenant-format.md): the name is
 * tenant.friendly_name; the logo is the top-level `branding.logo_url`, else tenant.picture_url
 * (Auth0's older setting); the primary colour is `branding.colors.primary`. A tenant file must
 * not be able to put markup or CSS on the pages, so the logo must be an https URL without
 * quotes, spaces or angle brackets, and the colour "#rgb" or "#rrggbb"; anything else stops the
 * load with the field named. Other branding keys (favicon_url, font, colors.page_background,
 * themes) are accepted and not used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* A string field of obj that must pass ok(); *out stays NULL when absent. */
static tg_err
get_checked(config_ctx *c, const json_t *obj, const char *key, bool (*ok)(const char *),
            const char *what, char **out)
{
    tg_err err;

    if ((err = config_get_string(c, obj, key, out)) != TG_OK || *out == NULL)
        return err;
    if ((*out)[0] == '\0') { /* the API's "" means none */
        free(*out);
        *out = NULL;
        return TG_OK;
    }
    if (!ok(*out)) {
        free(*out);
        *out = NULL;
        return config_fail(c, key, "must be %s", what);
    }
    return TG_OK;
}

tg_err
config_branding_load(config_ctx *c, const json_t *tenant, const json_t *branding, config *cfg)
{
    config_tenant *t = &cfg->tenant;
    const json_t *colors = NULL;
    tg_err err;

    snprintf(c->entry, sizeof(c->entry), "tenant");
    if ((err = get_checked(c, tenant, "picture_url", tg_logo_url_is_valid,
                           "an https URL without quotes, spaces or angle brackets",
                           &t->picture_url)) != TG_OK)
        return err;
    snprintf(c->entry, sizeof(c->entry), "branding");
    if (branding != NULL && !json_is_null(branding) && !json_is_object(branding))
        return config_fail(c, NULL, "must be an object");
    if ((err = get_checked(c, branding, "logo_url", tg_logo_url_is_valid,
                           "an https URL without quotes, spaces or angle brackets",
                           &t->logo_url)) != TG_OK ||
        (err = config_get_object(c, branding, "colors", &colors)) != TG_OK)
        return err;
    snprintf(c->entry, sizeof(c->entry), "branding.colors");
    if ((err = get_checked(c, colors, "primary", tg_color_is_valid, "a colour like #0059d6",
                           &t->primary_color)) != TG_OK)
        return err;
    t->branding.name = t->friendly_name;
    t->branding.logo_url = t->logo_url != NULL ? t->logo_url : t->picture_url;
    t->branding.primary_color = t->primary_color;
    return TG_OK;
}
