/*
 * The gateway's route table: (HTTP method, path) → (bus service, RPC method, request and reply
 * message types, response flags). One const table in routes.c; nothing else in the gateway
 * knows an endpoint by name.
 */
#ifndef TG_GATEWAY_ROUTES_H
#define TG_GATEWAY_ROUTES_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

enum gw_route_flags {
    GW_ROUTE_NO_STORE = 1 << 0,    /* Cache-Control: no-store + Pragma: no-cache (RFC 6749 §5.1) */
    GW_ROUTE_CORS_PUBLIC = 1 << 1, /* Access-Control-Allow-Origin: * (public metadata) */
    /* per client address under --rate-limit password=N/UNIT; X-RateLimit-* on every answer */
    GW_ROUTE_RATE_PASSWORD = 1 << 2,
    /* browser SDKs call it with credentials: a preflight echoes the Origin; the actual response
     * carries Access-Control-Allow-Origin only when the service adds it (README "CORS") */
    GW_ROUTE_CORS_CREDENTIALED = 1 << 3,
};

typedef struct gw_route {
    const char *method;  /* "GET", "POST" */
    const char *path;    /* exact match, no query string */
    const char *service; /* bus service name, e.g. "token" */
    const char *rpc;     /* bus method, e.g. "token.Token" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    unsigned flags;
} gw_route;

typedef enum gw_route_match {
    GW_ROUTE_FOUND = 0,
    GW_ROUTE_NO_PATH,   /* 404 */
    GW_ROUTE_NO_METHOD, /* the path exists with other methods: 405 (or an OPTIONS preflight) */
} gw_route_match;

/* The whole table (static storage). */
const gw_route *gw_routes(size_t *n);

/* Finds the route for method and path (not NUL-terminated). Returns the route, or NULL with
 * *match saying whether the path is unknown or only the method is wrong. */
const gw_route *gw_route_lookup(const char *method, size_t method_len, const char *path,
                                size_t path_len, gw_route_match *match);

/* Writes the Allow header value for path into buf ("GET, OPTIONS"), always listing OPTIONS.
 * Returns the flags shared by every route on the path (so a preflight knows whether the path is
 * public), or 0 when the path is unknown (buf then holds ""). */
unsigned gw_route_allow(const char *path, size_t path_len, char *buf, size_t buflen);

#endif
