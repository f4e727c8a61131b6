/*
 * Web origins (RFC 6454): the scheme, host and port a browser names in the Origin header and
 * in postMessage targets. svc-authorize checks response_mode=web_message targets with them and
 * svc-token its CORS answers, against a client's allowed origins.
 */
#ifndef TG_CORE_ORIGIN_H
#define TG_CORE_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

/* Longest origin handled (scheme, host and port); longer ones have no origin here. */
#define TG_ORIGIN_MAX 300

/* Writes the origin of url into out (outlen bytes, at least TG_ORIGIN_MAX + 1) the way
 * browsers serialise it: "scheme://host[:port]" with scheme and host lower-cased and the
 * scheme's default port (http 80, https 443) dropped; any path, query or fragment is ignored.
 * Only http and https URLs whose host is a DNS name, an IPv4 address or a bracketed IPv6
 * address have an origin: userinfo, percent-encoding, wildcards, an empty host or a bad port
 * give none. Returns false (out "") when url has no origin. url may be NULL. */
bool tg_origin_of(const char *url, char *out, size_t outlen);

/* Whether origin (an Origin header value) is a canonical origin equal to the origin of one of
 * the n urls (web origins, allowed origins or callback URLs: their paths are ignored). A
 * value that is not exactly a serialised origin ("null", a trailing slash, a path, upper
 * case) matches nothing. A url "scheme://" "*." host [":" port] is Auth0's subdomain wildcard:
 * it lists the origins with exactly one more DNS label in place of the '*' (see origin.c for
 * what the fixed part must be). All borrowed. */
bool tg_origin_is_listed(const char *origin, char *const *urls, size_t n);

#endif
