/*
 * The client's address behind trusted proxies. A deployment behind an ingress or load balancer
 * sees the proxy as the peer of every request, so per-address rate limits and brute-force
 * protection would lump all clients together. With `--trusted-proxies CIDR,...` the gateway
 * believes X-Forwarded-For only when the peer is one of those proxies, and then takes the
 * right-most address in it that is not a trusted proxy (each proxy appends the address it saw;
 * anything left of the first untrusted hop may be forged by the client).
 */
#ifndef TG_GATEWAY_CLIENT_IP_H
#define TG_GATEWAY_CLIENT_IP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define GW_MAX_TRUSTED_PROXIES 32
#define GW_MAX_FORWARDED_HOPS 32 /* X-Forwarded-For entries examined, right to left */

typedef struct gw_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network address, host bits zero */
    unsigned bits;           /* prefix length */
} gw_cidr;

typedef struct gw_proxies {
    gw_cidr v[GW_MAX_TRUSTED_PROXIES];
    size_t n;
} gw_proxies;

/* Parses "CIDR,CIDR,..." (an address alone is a /32 or /128; spaces around entries allowed;
 * NULL or "" is the empty list). TG_EINVAL with a message in err for anything else. */
tg_err gw_proxies_parse(const char *list, gw_proxies *out, char *err, size_t errlen);
/* Whether the numeric address ip is inside one of the trusted networks. */
bool gw_proxies_has(const gw_proxies *p, const char *ip);
/* The client's address into out: peer itself unless peer is a trusted proxy; then the
 * right-most X-Forwarded-For entry (xff, xff_len bytes; the values of every such header joined
 * with ",") that is not a trusted proxy. A malformed entry, or more than GW_MAX_FORWARDED_HOPS
 * trusted ones, stops the walk at the last trusted hop found. */
void gw_client_ip(const gw_proxies *p, const char *peer, const char *xff, size_t xff_len,
                  char *out, size_t outlen);

#endif
