/*
 * Typed field readers, error/warning formatting and key derivation shared by the config
 * section loaders. Every message names the file, the entry and the field.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/log.h"
#include "core/util.h"

static void
format(const config_ctx *c, const char *field, char *out, size_t outlen, const char *fmt,
       va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    snprintf(out, outlen, "%s: %s%s%s%s%s", c->name, c->entry, c->entry[0] != '\0' ? ": " : "",
             field != NULL ? field : "", field != NULL ? ": " : "", msg);
}

tg_err
config_fail(config_ctx *c, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (c->errbuf == NULL || c->errlen == 0)
        return TG_ECONFIG;
    va_start(ap, fmt);
    format(c, field, c->errbuf, c->errlen, fmt, ap);
    va_end(ap);
    return TG_ECONFIG;
}

void
config_warn(config_ctx *c, const char *field, const char *fmt, ...)
{
    char line[768];
    va_list ap;

    if (!log_is_enabled(TG_LOG_WARN))
        return;
    va_start(ap, fmt);
    format(c, field, line, sizeof(line), fmt, ap);
    va_end(ap);
    LOG_WARN("%s", line);
}

void
config_set_entry(config_ctx *c, const char *list, size_t i, const char *name)
{
    char clean[64];
    size_t n = 0;

    if (name == NULL || name[0] == '\0') {
        snprintf(c->entry, sizeof(c->entry), "%s[%zu]", list, i);
        return;
    }
    /* Names come from the file: keep messages on one line and bounded. */
    for (const char *p = name; *p != '\0' && n < sizeof(clean) - 4; p++)
        clean[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? (char)'?' : *p;
    if (name[n] != '\0') {
        memcpy(clean + n, "...", 3);
        n += 3;
    }
    clean[n] = '\0';
    snprintf(c->entry, sizeof(c->entry), "%s[%zu] (\"%s\")", list, i, clean);
}

/* The value of key, or NULL when absent, null or a whole-value placeholder string. */
static const json_t *
provided(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (json_is_string(v) && config_is_placeholder(json_string_value(v)))
        return NULL;
    return v;
}

tg_err
config_get_string(config_ctx *c, const json_t *obj, const char *key, char **out)
{
    const json_t *v = provided(obj, key);

    *out = NULL;
    if (v == NULL)
        return TG_OK;
    if (!json_is_string(v))
        return config_fail(c, key, "must be a string");
    if ((*out = strdup(json_string_value(v))) == NULL)
        return config_fail(c, key, "out of memory");
    return TG_OK;
}

tg_err
config_get_bool(config_ctx *c, const json_t *obj, const char *key, bool dflt, bool *out)
{
    const json_t *v = provided(obj, key);

    *out = dflt;
    if (v == NULL)
        return TG_OK;
    if (!json_is_boolean(v))
        return config_fail(c, key, "must be true or false");
    *out = json_is_true(v);
    return TG_OK;
}

tg_err
config_get_int(config_ctx *c, const json_t *obj, const char *key, int64_t dflt, int64_t min,
               int64_t max, int64_t *out)
{
    const json_t *v = provided(obj, key);
    json_int_t i;

    *out = dflt;
    if (v == NULL)
        return TG_OK;
    if (!json_is_integer(v))
        return config_fail(c, key, "must be an integer");
    i = json_integer_value(v);
    if (i < min || i > max)
        return config_fail(c, key, "must be between %lld and %lld", (long long)min, (long long)max);
    *out = (int64_t)i;
    return TG_OK;
}

void
config_strv_fini(config_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

tg_err
config_strv_set(config_strv *v, const char *const *items, size_t n)
{
    config_strv_fini(v);
    if (n == 0)
        return TG_OK;
    if ((v->v = calloc(n, sizeof(char *))) == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((v->v[i] = strdup(items[i])) == NULL) {
            v->n = i;
            config_strv_fini(v);
            return TG_ENOMEM;
        }
    }
    v->n = n;
    return TG_OK;
}

tg_err
config_get_strv(config_ctx *c, const json_t *obj, const char *key, config_strv *out, bool *present)
{
    const json_t *v = provided(obj, key), *item;
    size_t i;

    config_strv_fini(out);
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return TG_OK;
    if (!json_is_array(v))
        return config_fail(c, key, "must be a list of strings");
    json_array_foreach(v, i, item) if (!json_is_string(item)) return config_fail(
        c, key, "must be a list of strings");
    if (json_array_size(v) == 0)
        return TG_OK;
    if ((out->v = calloc(json_array_size(v), sizeof(char *))) == NULL)
        return config_fail(c, key, "out of memory");
    json_array_foreach(v, i, item)
    {
        if ((out->v[i] = strdup(json_string_value(item))) == NULL) {
            config_strv_fini(out);
            return config_fail(c, key, "out of memory");
        }
        out->n = i + 1;
    }
    return TG_OK;
}

tg_err
config_get_object(config_ctx *c, const json_t *obj, const char *key, const json_t **out)
{
    const json_t *v = provided(obj, key);

    *out = NULL;
    if (v == NULL)
        return TG_OK;
    if (!json_is_object(v))
        return config_fail(c, key, "must be an object");
    *out = v;
    return TG_OK;
}

tg_err
config_get_array(config_ctx *c, const json_t *obj, const char *key, const json_t **out)
{
    const json_t *v = provided(obj, key);

    *out = NULL;
    if (v == NULL)
        return TG_OK;
    if (!json_is_array(v))
        return config_fail(c, key, "must be a list");
    *out = v;
    return TG_OK;
}

tg_err
config_seen(json_t *set, const char *key, size_t idx, long long *dup)
{
    const json_t *prev = json_object_get(set, key);

    *dup = -1;
    if (prev != NULL) {
        *dup = (long long)json_integer_value(prev);
        return TG_OK;
    }
    return json_object_set_new(set, key, json_integer((json_int_t)idx)) == 0 ? TG_OK : TG_ENOMEM;
}

bool
config_value_is_set(const json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0 && !config_is_placeholder(json_string_value(v));
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return true;
}

tg_err
config_derive(const char *master, const char *prefix, const char *value, char **out)
{
    size_t plen = strlen(prefix), vlen = strlen(value), maclen = 0;
    unsigned char mac[32];
    char *msg;
    tg_err err = TG_ECRYPTO;

    *out = NULL;
    if ((msg = malloc(plen + vlen + 1)) == NULL)
        return TG_ENOMEM;
    memcpy(msg, prefix, plen);
    memcpy(msg + plen, value, vlen + 1);
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, master, strlen(master),
                  (const unsigned char *)msg, plen + vlen, mac, sizeof(mac), &maclen) != NULL &&
        maclen == sizeof(mac))
        err = tg_b64url_encode(mac, sizeof(mac), out);
    OPENSSL_cleanse(mac, sizeof(mac));
    free(msg);
    return err;
}
