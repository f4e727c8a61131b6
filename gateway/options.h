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

typedef struct gw_config {
    const char *tls_listen; /* "HOST:PORT"; "" disables the TLS listener */
    const char *h2c_listen; /* "HOST:PORT"; "" disables the cleartext listener */
    const char *cert;       /* PEM chain; NULL with key NULL = in-memory development cert */
    const char *key;
    const char *bus_token;  /* the gateway listens here; svc-token replicas dial it */
    const char *issuer;     /* NULL: derived per request from Host and scheme */
    const char *access_log; /* NULL: stderr */
    int64_t deadline_ms;    /* per request, the bus deadline */
    int64_t max_body;       /* bytes; larger bodies get a JSON 413 */
} gw_config;

typedef enum gw_options_result {
    GW_OPTIONS_OK = 0,
    GW_OPTIONS_HELP,  /* --help: print the usage, exit 0 */
    GW_OPTIONS_USAGE, /* bad option or value: message in errbuf, exit 2 */
} gw_options_result;

typedef const char *(*gw_getenv_fn)(const char *name);

/* Fills *cfg from argv and getenv_fn (getenv in main, a fake in tests). Strings in *cfg point
 * into argv or the environment (borrowed) or static defaults. */
gw_options_result gw_options_parse(int argc, char *const *argv, gw_getenv_fn getenv_fn,
                                   gw_config *cfg, char *errbuf, size_t errlen);
void gw_options_print_usage(FILE *f);

#endif
