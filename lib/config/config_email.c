/*
 * `emailProvider` (tenant-format.md "emailProvider"): only `name: smtp` is implemented. Any
 * other provider, `enabled: false`, or an smtp entry whose host is not given (an export with
 * unresolved ##SMTP_HOSTNAME##) is warned about and leaves cfg->email.enabled false, which
 * makes services write mail to their outbox instead of sending it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/util.h"

#define MAX_EMAIL_FIELD 320

/* A header-safe string: no CR, LF or other controls (they would let a value add headers or
 * SMTP commands), at most MAX_EMAIL_FIELD bytes. */
static bool
is_header_safe(const char *s)
{
    if (s == NULL)
        return true;
    if (strlen(s) > MAX_EMAIL_FIELD)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

tg_err
config_email_load(config_ctx *c, const json_t *ep, config *cfg)
{
    config_email *e = &cfg->email;
    const json_t *cred = NULL;
    char *name = NULL;
    bool enabled = true;
    tg_err err;

    e->enabled = false;
    e->smtp_port = 587;
    snprintf(c->entry, sizeof(c->entry), "emailProvider");
    if (ep == NULL || json_is_null(ep))
        return TG_OK;
    if (!json_is_object(ep))
        return config_fail(c, NULL, "must be an object");
    if ((err = config_get_string(c, ep, "name", &name)) != TG_OK ||
        (err = config_get_bool(c, ep, "enabled", true, &enabled)) != TG_OK ||
        (err = config_get_string(c, ep, "default_from_address", &e->default_from_address)) !=
            TG_OK ||
        (err = config_get_object(c, ep, "credentials", &cred)) != TG_OK)
        goto out;
    if (name == NULL || strcmp(name, "smtp") != 0) {
        config_warn(c, "name", "provider \"%s\" is not supported (only smtp); mail goes to the "
                    "outbox", name != NULL ? name : "");
        goto out;
    }
    snprintf(c->entry, sizeof(c->entry), "emailProvider.credentials");
    if ((err = config_get_string(c, cred, "smtp_host", &e->smtp_host)) != TG_OK ||
        (err = config_get_int(c, cred, "smtp_port", 587, 1, 65535, &e->smtp_port)) != TG_OK ||
        (err = config_get_string(c, cred, "smtp_user", &e->smtp_user)) != TG_OK ||
        (err = config_get_string(c, cred, "smtp_pass", &e->smtp_pass)) != TG_OK)
        goto out;
    snprintf(c->entry, sizeof(c->entry), "emailProvider");
    if (!is_header_safe(e->default_from_address) || !is_header_safe(e->smtp_host) ||
        !is_header_safe(e->smtp_user)) {
        err = config_fail(c, NULL, "values must be single lines of at most %d bytes",
                          MAX_EMAIL_FIELD);
        goto out;
    }
    if (e->smtp_user != NULL && e->smtp_user[0] == '\0') {
        free(e->smtp_user);
        e->smtp_user = NULL;
    }
    if (!enabled) {
        config_warn(c, "enabled", "false; mail goes to the outbox");
        goto out;
    }
    if (e->smtp_host == NULL || e->smtp_host[0] == '\0') {
        config_warn(c, "credentials.smtp_host", "not given; mail goes to the outbox");
        goto out;
    }
    if (e->default_from_address == NULL || strchr(e->default_from_address, '@') == NULL) {
        err = config_fail(c, "default_from_address", "an email address is required for smtp");
        goto out;
    }
    e->enabled = true;
out:
    free(name);
    return err;
}

void
config_email_fini(config_email *e)
{
    free(e->smtp_host);
    free(e->smtp_user);
    tg_free_secret_str(e->smtp_pass);
    free(e->default_from_address);
    memset(e, 0, sizeof(*e));
}
