/*
 * URL allow-lists, URL building and cookie parsing: pure functions over untrusted text.
 *
 * Callback URLs match byte for byte (contract §21.11): no decoding, no case folding, no
 * normalisation, so "https://app.example.com.evil.test/cb", "https://app.example.com@evil.test/cb"
 * or "https://app%2eexample.com/cb" are simply other strings than the registered
 * "https://app.example.com/cb" (security.md: open redirect). The one exception is Auth0's
 * subdomain wildcard: a registered URL whose host starts with the label "*" (as in
 * "https://" "*.example.com/cb") matches one DNS label of letters, digits and '-' in place of
 * the '*' and the rest byte for byte, so a wildcard never spans a dot and never reaches
 * userinfo, port, path or an encoded character.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authorize.h"
#include "core/digest.h"
#include "core/util.h"

bool
authorize_uri_is_safe(const char *uri)
{
    static const char *const refused[] = {"javascript:", "data:", "vbscript:", "file:"};
    const char *colon;
    size_t len;

    if (uri == NULL || (len = strlen(uri)) == 0 || len > AUTHORIZE_MAX_PARAM)
        return false;
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '\\')
            return false;
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    colon = strchr(uri, ':');
    if (colon == NULL || colon == uri ||
        strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                    "NOPQRSTUVWXYZ0123456789+-.") != (size_t)(colon - uri))
        return false;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (strncasecmp(uri, refused[i], strlen(refused[i])) == 0)
            return false;
    return true;
}

/* Whether pattern is a usable subdomain wildcard: "SCHEME://", "*." and a host of at least two
 * labels (so "*.com" is not one), and no other '*' anywhere. The offset of the '*' in *star. */
static bool
wildcard_pattern(const char *pattern, size_t *star)
{
    const char *sep = strstr(pattern, "://"), *host, *end;

    if (sep == NULL || sep == pattern || strncmp(sep + 3, "*.", 2) != 0)
        return false;
    host = sep + 5;
    if (strchr(host, '*') != NULL)
        return false;
    end = host + strcspn(host, ":/?#");
    /* the fixed part of the host: at least "label.label", no empty label, no userinfo */
    if (end == host || memchr(host, '.', (size_t)(end - host)) == NULL || host[0] == '.' ||
        end[-1] == '.' || memchr(host, '@', (size_t)(end - host)) != NULL)
        return false;
    *star = (size_t)(sep + 3 - pattern);
    return true;
}

/* uri against a wildcard pattern: the same bytes before the '*', one DNS label in its place
 * (letters, digits, '-'; no '.', '%', '@', ':' or anything else), the same bytes after it. */
static bool
wildcard_matches(const char *pattern, const char *uri)
{
    size_t star, label;

    if (!wildcard_pattern(pattern, &star) || strncmp(pattern, uri, star) != 0)
        return false;
    label = strspn(uri + star, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
    if (label == 0 || label > 63 || uri[star] == '-' || uri[star + label - 1] == '-')
        return false;
    return strcmp(pattern + star + 1, uri + star + label) == 0;
}

bool
authorize_callback_is_allowed(const config_strv *callbacks, const char *uri)
{
    if (!authorize_uri_is_safe(uri))
        return false;
    for (size_t i = 0; i < callbacks->n; i++)
        if (strcmp(callbacks->v[i], uri) == 0 || wildcard_matches(callbacks->v[i], uri))
            return true;
    return false;
}

/* Splits a URL into scheme+authority ("https://Host:1") and path (up to '?' or '#').
 * false when there is no "scheme://". */
static bool
split_url(const char *url, size_t *auth_len, const char **path, size_t *path_len)
{
    const char *sep = strstr(url, "://"), *p;

    if (sep == NULL || sep == url || !authorize_uri_is_safe(url))
        return false;
    p = sep + 3;
    p += strcspn(p, "/?#");
    *auth_len = (size_t)(p - url);
    *path = p;
    *path_len = strcspn(p, "?#");
    return true;
}

bool
authorize_logout_url_is_allowed(const config_strv *allowed, const char *return_to)
{
    const char *path, *apath;
    size_t alen, plen, aalen, aplen;

    if (!split_url(return_to, &alen, &path, &plen))
        return false;
    for (size_t i = 0; i < allowed->n; i++) {
        if (!split_url(allowed->v[i], &aalen, &apath, &aplen))
            continue;
        if (aalen == alen && strncasecmp(allowed->v[i], return_to, alen) == 0 && aplen == plen &&
            strncmp(apath, path, plen) == 0)
            return true;
    }
    return false;
}

void
authorize_url_put_encoded(FILE *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; p != NULL && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            fputc(*p, f);
        } else {
            fputc('%', f);
            fputc(hex[*p >> 4], f);
            fputc(hex[*p & 15], f);
        }
    }
}

char *
authorize_url_with_params(const char *base, char sep, const char *const (*kv)[2], size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool first = true;

    if (f == NULL)
        return NULL;
    fputs(base, f);
    if (sep == '?' && strchr(base, '?') != NULL)
        sep = '&';
    for (size_t i = 0; i < n; i++) {
        if (kv[i][1] == NULL || kv[i][1][0] == '\0')
            continue;
        fputc(first ? sep : '&', f);
        first = false;
        authorize_url_put_encoded(f, kv[i][0]);
        fputc('=', f);
        authorize_url_put_encoded(f, kv[i][1]);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool
authorize_secret_is_well_formed(const char *s)
{
    /* 32 bytes are 43 base64url characters without padding */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_";

    return s != NULL && strlen(s) == 43 && strspn(s, alphabet) == 43;
}

void
authorize_sha256_hex(const char *s, char out[65])
{
    (void)tg_sha256_hex(s, strlen(s), out); /* "" on failure: matches no stored id */
}
