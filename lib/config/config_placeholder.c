/*
 * Keyword replacement exactly as the Deploy CLI does it (tenant-format.md §2.2), over the raw
 * text before any YAML parsing, with the process environment as the mappings:
 *   1. @@KEY@@, together with surrounding '' or "" when both sides carry the same quote, becomes
 *      JSON.stringify(value): the value as a JSON string, or, when the value itself is a JSON
 *      array or object, that JSON.
 *   2. ##KEY## becomes the value literally.
 * Keys absent from the environment are left as they are. Each pass scans left to right once;
 * text produced by a replacement is not scanned again by the same pass (the Deploy CLI's
 * per-key loop could, in contrived key orders).
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define KEY_MAX 256

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static tg_err
buf_add(buf *b, const char *s, size_t n)
{
    if (n > CONFIG_MAX_TEXT || b->len + n > CONFIG_MAX_TEXT)
        return TG_ETOOBIG;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((p = realloc(b->p, cap)) == NULL)
            return TG_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return TG_OK;
}

/* The environment value for text[0..n) when it is a plausible variable name that is set. */
static const char *
lookup(const char *text, size_t n)
{
    char key[KEY_MAX + 1];

    if (n == 0 || n > KEY_MAX || memchr(text, '=', n) != NULL || memchr(text, '\n', n) != NULL ||
        memchr(text, '\0', n) != NULL)
        return NULL;
    memcpy(key, text, n);
    key[n] = '\0';
    return getenv(key);
}

/* JSON.stringify of an environment value; *out is heap. */
static tg_err
stringify(config_ctx *c, const char *key, size_t keylen, const char *value, char **out)
{
    const char *p = value;
    json_t *j = NULL;

    *out = NULL;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '[' || *p == '{')
        j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL)
        j = json_string(value);
    if (j == NULL)
        return config_fail(c, NULL, "environment variable %.*s used by @@%.*s@@ is not valid UTF-8",
                           (int)keylen, key, (int)keylen, key);
    /* Flags 0: one line with ", " and ": " separators, which YAML flow syntax always accepts. */
    *out = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    return *out == NULL ? TG_ENOMEM : TG_OK;
}

/* One pass over text for marker ("@@" or "##"). */
static tg_err
pass(config_ctx *c, const char *text, size_t len, const char *marker, buf *out)
{
    size_t i = 0, replaced_end = 0; /* text before replaced_end was consumed by a replacement */
    tg_err err;

    while (i < len) {
        const char *open = memmem(text + i, len - i, marker, 2), *close, *value;
        size_t p, q;
        char *json = NULL;
        bool quoted;

        if (open == NULL)
            break;
        p = (size_t)(open - text);
        close = memmem(text + p + 2, len - p - 2, marker, 2);
        if (close == NULL)
            break;
        q = (size_t)(close - text);
        value = lookup(text + p + 2, q - p - 2);
        if (value == NULL) {
            /* Not a set key: keep the text and retry one character on, as a regex scan
             * would ("@@@KEY@@" and "@@X@@KEY@@" both still find KEY). */
            if ((err = buf_add(out, text + i, p + 1 - i)) != TG_OK)
                return err;
            i = p + 1;
            continue;
        }
        quoted = marker[0] == '@' && p > replaced_end &&
                 (text[p - 1] == '\'' || text[p - 1] == '"') && q + 2 < len &&
                 text[q + 2] == text[p - 1];
        if ((err = buf_add(out, text + i, p - i)) != TG_OK)
            return err;
        if (quoted) /* the opening quote, copied just now or by an earlier step, goes */
            out->p[--out->len] = '\0';
        if (marker[0] == '@') {
            if ((err = stringify(c, text + p + 2, q - p - 2, value, &json)) != TG_OK)
                return err;
            err = buf_add(out, json, strlen(json));
            free(json);
        } else {
            err = buf_add(out, value, strlen(value));
        }
        if (err != TG_OK)
            return err;
        i = replaced_end = q + 2 + (quoted ? 1 : 0);
    }
    return buf_add(out, text + i, len - i);
}

tg_err
config_placeholders_expand(config_ctx *c, const char *text, size_t len, char **out, size_t *out_len)
{
    buf first = {0}, second = {0};
    tg_err err;

    *out = NULL;
    *out_len = 0;
    if ((err = pass(c, text, len, "@@", &first)) != TG_OK ||
        (err = pass(c, first.p == NULL ? "" : first.p, first.len, "##", &second)) != TG_OK)
        goto fail;
    free(first.p);
    if (second.p == NULL && (err = buf_add(&second, "", 0)) != TG_OK)
        goto fail;
    *out = second.p;
    *out_len = second.len;
    return TG_OK;
fail:
    free(first.p);
    free(second.p);
    if (err == TG_ETOOBIG)
        config_fail(c, NULL, "text after placeholder replacement exceeds 4 MiB");
    else if (err == TG_ENOMEM)
        config_fail(c, NULL, "out of memory");
    return err;
}

bool
config_is_placeholder(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strlen(s);
    if (n < 5 || !((s[0] == '#' && s[1] == '#' && s[n - 2] == '#' && s[n - 1] == '#') ||
                   (s[0] == '@' && s[1] == '@' && s[n - 2] == '@' && s[n - 1] == '@')))
        return false;
    for (size_t i = 2; i < n - 2; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}
