/*
 * The gateway's runtime: one object made in main and passed down (no other mutable global
 * state). h2o objects live on the loop thread only; bus replies reach it through
 * h2o_multithread_send_message on bus_receiver.
 */
#ifndef TG_GATEWAY_GATEWAY_H
#define TG_GATEWAY_GATEWAY_H

#include <h2o.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "bus/bus.h"
#include "options.h"
#include "ratelimit.h"

#define GW_MAX_SERVICES GW_OPTIONS_MAX_BUS
#define GW_MAX_LISTENERS 2
/* Our own header limits, answered with a JSON 431 (h2o's own are looser: see docs in http.c). */
#define GW_MAX_REQUEST_HEADERS 64
#define GW_MAX_REQUEST_HEADER_BYTES ((size_t)8 * 1024)
/* h2o's hard body limit: above it h2o answers itself (HTTP/1.1: plain-text 413 and close;
 * HTTP/2: RST_STREAM REFUSED_STREAM). Between --max-body and this, the gateway's JSON 413. */
#define GW_H2O_MIN_ENTITY_LIMIT ((size_t)1024 * 1024)
#define GW_HTTP2_MAX_STREAMS 100 /* h2o 2.2 advertises 100 in SETTINGS; run at most that many */
#define GW_TIMEOUT_MS 10000      /* TLS handshake, HTTP/1 request read, HTTP/2 idle */
/* Client addresses tracked by the rate limiter (per route group); least recently used evicted.
 * About 96 bytes each, allocated at start. */
#define GW_RATELIMIT_MAX_KEYS 65536

typedef struct gw_server gw_server;

typedef struct gw_listener {
    gw_server *srv;
    h2o_socket_t *sock;
    h2o_accept_ctx_t accept;
    bool tls;
} gw_listener;

typedef struct gw_service {
    const char *name; /* route table's service name, borrowed */
    bus_client *client;
} gw_service;

struct gw_server {
    gw_config cfg;
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hostconf;
    h2o_context_t ctx;
    h2o_evloop_t *loop;
    SSL_CTX *ssl_ctx;
    gw_listener listeners[GW_MAX_LISTENERS];
    size_t n_listeners;
    gw_service services[GW_MAX_SERVICES];
    size_t n_services;
    h2o_multithread_receiver_t bus_receiver;
    size_t live_requests;    /* routed requests whose memory pool is not yet released */
    size_t calls_in_flight;  /* bus calls whose completion has not reached the loop */
    FILE *access_log;        /* NULL: stderr through log_write_raw */
    h2o_socket_t *signals;   /* signalfd for SIGTERM/SIGINT */
    gw_ratelimit *ratelimit; /* loop thread only */
    int stop_requests;       /* signals received: 1 = graceful stop, 2 = stop now */
    int64_t stop_deadline;   /* monotonic ms by which the graceful stop gives up */
};

/* ---- http.c: the request pipeline (loop thread) ------------------------------------------- */

/* Registers the gateway's handler, response filter and access logger on pathconf. */
void gw_http_register(gw_server *srv, h2o_pathconf_t *pathconf, bool with_handler);
/* The bus_receiver callback: delivers completed bus calls to their requests. */
void gw_http_on_bus_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/* ---- server.c ------------------------------------------------------------------------------ */

/* Blocks SIGTERM and SIGINT (they are read through a signalfd) and ignores SIGPIPE. Call before
 * any thread starts so that every thread inherits the mask. */
void gw_signals_init(void);
/* h2o configuration with every limit set, loop, context, handler. *out freed with
 * gw_server_free(). cfg is copied (its strings are borrowed). */
tg_err gw_server_new(const gw_config *cfg, gw_server **out);
/* Takes ssl_ctx (freed with the server). */
void gw_server_set_tls(gw_server *srv, SSL_CTX *ssl_ctx);
tg_err gw_server_listen(gw_server *srv);
/* The bound port of the TLS or cleartext listener (useful with port 0), or -1. */
int gw_server_port(const gw_server *srv, bool tls);
/* Opens the bus client for a service: the gateway listens on url and replicas dial in. */
tg_err gw_server_add_service(gw_server *srv, const char *name, const char *url);
/* Checks that every route's service has a bus client. */
tg_err gw_server_check_routes(const gw_server *srv);
/* Runs the loop until SIGTERM/SIGINT, then stops gracefully: listeners closed, HTTP/2 GOAWAY,
 * in-flight requests finish (bounded by deadline + 1 s). */
tg_err gw_server_run(gw_server *srv);
void gw_server_free(gw_server *srv);

/* The bus client for a service, or NULL. */
bus_client *gw_server_bus(const gw_server *srv, const char *service);

/* ---- tls.c --------------------------------------------------------------------------------- */

/* A TLS 1.2+ server context with ALPN h2 / http/1.1. With cert and key NULL, an in-memory
 * self-signed RSA certificate for CN=localhost (logged as a warning). *out freed with
 * SSL_CTX_free(). */
tg_err gw_tls_new(const char *cert, const char *key, SSL_CTX **out);

#endif
