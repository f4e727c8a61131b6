#include "client_ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parses a numeric address (IPv4, IPv6, or IPv6 in brackets with an optional :port, or IPv4
 * with :port: the forms proxies write) of len bytes. */
static bool
parse_addr(const char *s, size_t len, int *family, unsigned char addr[16])
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *colon;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        *end = '\0';
        *family = AF_INET6;
        return inet_pton(AF_INET6, buf + 1, addr) == 1;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = AF_INET6;
        if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) { /* ::ffff:a.b.c.d */
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        }
        return true;
    }
    if ((colon = strchr(buf, ':')) != NULL) /* IPv4:port */
        buf[colon - buf] = '\0';
    *family = AF_INET;
    return inet_pton(AF_INET, buf, addr) == 1;
}

static bool
cidr_has(const gw_cidr *c, int family, const unsigned char addr[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;

    if (c->family != family)
        return false;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    return rest == 0 || ((c->addr[full] ^ addr[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

static bool
has(const gw_proxies *p, int family, const unsigned char addr[16])
{
    for (size_t i = 0; i < p->n; i++)
        if (cidr_has(&p->v[i], family, addr))
            return true;
    return false;
}

static tg_err
parse_one(const char *s, size_t len, gw_cidr *c, char *err, size_t errlen)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    char abuf[INET6_ADDRSTRLEN];
    unsigned max;
    char *end;
    long bits;

    memset(c, 0, sizeof(*c));
    if (alen == 0 || alen >= sizeof(abuf)) {
        snprintf(err, errlen, "trusted proxy \"%.*s\": not an IP address or CIDR", (int)len, s);
        return TG_EINVAL;
    }
    memcpy(abuf, s, alen);
    abuf[alen] = '\0';
    if (inet_pton(AF_INET6, abuf, c->addr) == 1) {
        c->family = AF_INET6;
    } else if (inet_pton(AF_INET, abuf, c->addr) == 1) {
        c->family = AF_INET;
    } else {
        snprintf(err, errlen, "trusted proxy \"%.*s\": not an IP address or CIDR", (int)len, s);
        return TG_EINVAL;
    }
    max = c->family == AF_INET ? 32 : 128;
    c->bits = max;
    if (slash != NULL) {
        char num[8];
        size_t nlen = len - alen - 1;
        if (nlen == 0 || nlen >= sizeof(num)) {
            snprintf(err, errlen, "trusted proxy \"%.*s\": bad prefix length", (int)len, s);
            return TG_EINVAL;
        }
        memcpy(num, slash + 1, nlen);
        num[nlen] = '\0';
        bits = strtol(num, &end, 10);
        if (*end != '\0' || num[0] < '0' || num[0] > '9' || bits < 0 || bits > (long)max) {
            snprintf(err, errlen, "trusted proxy \"%.*s\": bad prefix length", (int)len, s);
            return TG_EINVAL;
        }
        c->bits = (unsigned)bits;
    }
    for (unsigned i = c->bits; i < max; i++) /* the network address: host bits cleared */
        c->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    return TG_OK;
}

tg_err
gw_proxies_parse(const char *list, gw_proxies *out, char *err, size_t errlen)
{
    const char *s = list;

    memset(out, 0, sizeof(*out));
    if (list == NULL)
        return TG_OK;
    while (*s != '\0') {
        const char *end = strchr(s, ',');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        tg_err rc;

        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (out->n == GW_MAX_TRUSTED_PROXIES) {
                snprintf(err, errlen, "at most %d trusted proxies", GW_MAX_TRUSTED_PROXIES);
                return TG_EINVAL;
            }
            if ((rc = parse_one(s, len, &out->v[out->n], err, errlen)) != TG_OK)
                return rc;
            out->n++;
        } else if (end != NULL || s != list) {
            snprintf(err, errlen, "trusted proxies: empty entry");
            return TG_EINVAL;
        }
        if (end == NULL)
            break;
        s = end + 1;
    }
    return TG_OK;
}

bool
gw_proxies_has(const gw_proxies *p, const char *ip)
{
    unsigned char addr[16];
    int family;

    return p->n > 0 && parse_addr(ip, strlen(ip), &family, addr) && has(p, family, addr);
}

void
gw_client_ip(const gw_proxies *p, const char *peer, const char *xff, size_t xff_len, char *out,
             size_t outlen)
{
    unsigned char best[16];
    int best_family = 0;
    size_t end = xff_len;

    snprintf(out, outlen, "%s", peer);
    if (p->n == 0 || xff == NULL || xff_len == 0 || !gw_proxies_has(p, peer))
        return;
    for (int hops = 0; hops < GW_MAX_FORWARDED_HOPS && end > 0; hops++) {
        size_t start = end, a, b;
        unsigned char addr[16];
        int family;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        a = start;
        b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        if (!parse_addr(xff + a, b - a, &family, addr))
            break; /* forged or broken: trust nothing further left */
        memcpy(best, addr, sizeof(best));
        best_family = family;
        if (!has(p, family, addr))
            break; /* the first untrusted hop: the client */
        end = start > 0 ? start - 1 : 0;
    }
    /* written in its canonical form, never as the header had it */
    if (best_family != 0 && inet_ntop(best_family, best, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "%s", peer);
}
