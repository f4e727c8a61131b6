/*
 * Gateway options: a declared table {option, environment variable, type, default, min, max}.
 * The command line wins over the environment, which wins over the default.
 */
#ifndef TG_GATEWAY_OPTIONS_H
#define TG_GATEWAY_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "client_ip.h"
#include "ratelimit.h"

#define GW_OPTIONS_MAX_BUS 8 /* services (matches GW_MAX_SERVICES) */
#define GW_BUS_NAME_MAX 31   /* service name: [a-z][a-z0-9_]*, at most this long */

/* Where a service's replicas dial in: `--bus SERVICE=URL` (repeatable; `--bus-token URL` is
 * `--bus token=URL`), else TG_BUS_<SERVICE upper-case>, else the default (token:
 * tcp://127.0.0.1:7101, users: tcp://127.0.0.1:7102). Services without a default are opened
 * only when named on the command line. */
typedef struct gw_bus_addr {
    char name[GW_BUS_NAME_MAX + 1];
    const char *url; /* borrowed: argv, the environment or a static default */
} gw_bus_addr;

typedef struct gw_config {
    const char *tls_listen; /* "HOST:PORT"; "" disables the TLS listener */
    const char *h2c_listen; /* "HOST:PORT"; "" disables the cleartext listener */
    const char *cert;       /* PEM chain; NULL with key NULL = in-memory development cert */
    const char *key;
    gw_bus_addr bus[GW_OPTIONS_MAX_BUS]; /* one per service; the gateway listens on each */
    size_t n_bus;
    const char *issuer;     /* NULL: derived per request from Host and scheme */
    const char *access_log; /* NULL: stderr */
    int64_t deadline_ms;    /* per request, the bus deadline */
    int64_t max_body;       /* bytes; larger bodies get a JSON 413 */
    /* `--rate-limit password=N/UNIT` (UNIT s, min or h; N 0 disables), else
     * TG_RATE_LIMIT_PASSWORD=N/UNIT, else 300/min: per client address on the routes flagged
     * GW_ROUTE_RATE_PASSWORD, with a burst of N. */
    gw_rate rate_password;
    /* 1: per-address limits also on the cleartext port. Default 0: that port normally sits
     * behind an ingress, whose address every request shares; with --trusted-proxies set the
     * client is known there too and the limits apply on both ports. */
    int64_t rate_limit_cleartext;
    /* `--trusted-proxies CIDR,...` (TG_TRUSTED_PROXIES): peers whose X-Forwarded-For names the
     * client (client_ip.h); parsed into proxies. Empty: the peer is the client. */
    const char *trusted_proxies;
    gw_proxies proxies;
} gw_config;

typedef enum gw_options_result {
    GW_OPTIONS_OK = 0,
    GW_OPTIONS_HELP,  /* --help: print the usage, exit 0 */
    GW_OPTIONS_USAGE, /* bad option or value: message in errbuf, exit 2 */
} gw_options_result;

typedef const char *(*gw_getenv_fn)(const char *name);

/* Fills *cfg from argv and getenv_fn (getenv in main, a fake in tests). Strings in *cfg point
 * into argv or the environment (borrowed) or static defaults; service names are copied. */
gw_options_result gw_options_parse(int argc, char *const *argv, gw_getenv_fn getenv_fn,
                                   gw_config *cfg, char *errbuf, size_t errlen);
void gw_options_print_usage(FILE *f);
/* The address of service in cfg, or NULL. */
const char *gw_options_bus_url(const gw_config *cfg, const char *service);

#endif
