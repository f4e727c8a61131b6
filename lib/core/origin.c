/*
 * Web origins: parsing just enough of a URL to serialise its origin, and nothing more. Anything
 * unusual in the authority has no origin, so it can never match an allowed one by accident.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/origin.h"

/* The scheme's default port, or 0 for schemes that have no web origin here. */
static int
default_port(const char *url, size_t *scheme_len)
{
    if (strncasecmp(url, "https://", 8) == 0) {
        *scheme_len = 5;
        return 443;
    }
    if (strncasecmp(url, "http://", 7) == 0) {
        *scheme_len = 4;
        return 80;
    }
    return 0;
}

static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

/* Length of the host at s (a DNS name / IPv4 address, or a bracketed IPv6 address), or 0. */
static size_t
host_len(const char *s)
{
    size_t n = 0;

    if (s[0] == '[') {
        n = 1 + strspn(s + 1, "0123456789abcdefABCDEF:.");
        return s[n] == ']' && n > 2 ? n + 1 : 0;
    }
    while (is_name_char(s[n]))
        n++;
    return n;
}

bool
tg_origin_of(const char *url, char *out, size_t outlen)
{
    size_t scheme_len = 0, hlen, plen = 0;
    const char *host, *end;
    long port;
    int dport, w;

    if (outlen > 0)
        out[0] = '\0';
    if (url == NULL || outlen == 0 || (dport = default_port(url, &scheme_len)) == 0)
        return false;
    host = url + scheme_len + 3;
    if ((hlen = host_len(host)) == 0 || hlen > TG_ORIGIN_MAX - 16)
        return false;
    end = host + hlen;
    port = dport;
    if (*end == ':') {
        plen = strspn(end + 1, "0123456789");
        if (plen == 0 || plen > 5)
            return false;
        port = 0;
        for (size_t i = 1; i <= plen; i++)
            port = port * 10 + (end[i] - '0');
        if (port < 1 || port > 65535)
            return false;
        end += 1 + plen;
    }
    if (*end != '\0' && *end != '/' && *end != '?' && *end != '#')
        return false; /* userinfo ('@'), percent-encoding, wildcards, backslashes, spaces */
    if (port == dport)
        w = snprintf(out, outlen, "%.*s://%.*s", (int)scheme_len, url, (int)hlen, host);
    else
        w = snprintf(out, outlen, "%.*s://%.*s:%ld", (int)scheme_len, url, (int)hlen, host, port);
    if (w < 0 || (size_t)w >= outlen) {
        out[0] = '\0';
        return false;
    }
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return true;
}

/* Auth0's subdomain wildcard in an allowed origin: "scheme://" "*." host [":" port], any path
 * ignored. The pattern's origin is serialised with a placeholder label in place of the '*',
 * which then stands for exactly one DNS label of the candidate (letters, digits, '-', not at
 * either end; never a '.', so "a.b.example.com" does not match), and the fixed part must have
 * at least two labels ("https://" "*.com" matches nothing) and not end in digits (no wildcard
 * over IPv4 addresses). Both serialisations are canonical
 * (lower case, default port dropped), so the rest compares byte for byte. */
static bool
wildcard_is_listed(const char *origin, const char *pattern)
{
    static const char placeholder[] = "wildcard";
    char url[TG_ORIGIN_MAX + 16], have[TG_ORIGIN_MAX + 1];
    const char *sep, *rest, *suffix, *label, *tld;
    size_t scheme_len, n;
    int w;

    if ((sep = strstr(pattern, "://")) == NULL || strncmp(sep + 3, "*.", 2) != 0)
        return false;
    scheme_len = (size_t)(sep - pattern);
    rest = sep + 4; /* ".example.com..." */
    if (scheme_len > 5 || strlen(rest) > TG_ORIGIN_MAX)
        return false;
    w = snprintf(url, sizeof(url), "%.*s://%s%s", (int)scheme_len, pattern, placeholder, rest);
    if (w < 0 || (size_t)w >= sizeof(url) || !tg_origin_of(url, have, sizeof(have)))
        return false;
    /* have = "scheme://wildcard.example.com[:port]"; suffix = ".example.com[:port]" */
    sep = strstr(have, "://");
    suffix = sep + 3 + sizeof(placeholder) - 1;
    n = strcspn(suffix, ":"); /* the host part of the suffix */
    tld = suffix + n;
    while (tld > suffix && tld[-1] != '.')
        tld--;
    /* at least two fixed labels, none empty, and a name, not an IPv4 address's tail */
    if (memchr(suffix + 1, '.', n - 1) == NULL || strstr(suffix, "..") != NULL ||
        suffix[n - 1] == '.' || strspn(tld, "0123456789") == (size_t)(suffix + n - tld))
        return false;
    n = (size_t)(sep + 3 - have);
    if (strncmp(origin, have, n) != 0)
        return false;
    label = origin + n;
    n = strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
        return false;
    return strcmp(label + n, suffix) == 0;
}

bool
tg_origin_is_listed(const char *origin, char *const *urls, size_t n)
{
    char want[TG_ORIGIN_MAX + 1], have[TG_ORIGIN_MAX + 1];

    /* the header must already be in canonical form: the browser never sends anything else */
    if (!tg_origin_of(origin, want, sizeof(want)) || strcmp(want, origin) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tg_origin_of(urls[i], have, sizeof(have)) ? strcmp(have, want) == 0
                                                      : wildcard_is_listed(want, urls[i]))
            return true;
    }
    return false;
}
