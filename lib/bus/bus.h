/*
 * Typed RPC over NNG req/rep.
 *
 * Topology (docs/architecture.md), two shapes:
 *   - direct: the CALLER listens, replicas DIAL (the gateway and each service). A replica that
 *     starts joins the round-robin at once; one that dies drops out and NNG resends its pending
 *     requests to the others. Fits a caller that is not itself replicated.
 *   - device: a caller that is itself replicated (svc-token calling svc-users) DIALS a bus
 *     device, which every replica of the called service also dials (bus_device_open). Either
 *     side scales on its own; a request held by a replica that dies is lost and answered by
 *     the caller's deadline.
 * The resend timer is set longer than any deadline so a slow replica is never asked twice; a
 * request id travels with every call so one-time operations stay idempotent across resends.
 *
 * Every call carries an absolute deadline. A call nobody answers in time completes with
 * TG_ETIMEDOUT ("no replica answered"), which the gateway renders as 503.
 */
#ifndef TG_BUS_BUS_H
#define TG_BUS_BUS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.pb-c.h"
#include "core/err.h"

/* ---- client ---------------------------------------------------------------------------- */

typedef struct bus_client bus_client;

/* Opens a REQ socket listening on url ("tcp://127.0.0.1:7101", "ipc:///path"). Thread-safe:
 * any number of threads may call concurrently. *out freed with bus_client_close(). */
tg_err bus_client_open(const char *url, bus_client **out);
/* Opens a REQ socket that DIALS every url (NULL-terminated; NNG keeps redialling in the
 * background): the caller side of a bus device. Same use and ownership as bus_client_open. */
tg_err bus_client_open_dial(const char *const *urls, bus_client **out);
/* Fails every pending call with TG_ECLOSED (callbacks still run) and frees. NULL is fine. */
void bus_client_close(bus_client *c);

typedef struct bus_result {
    tg_err status;                /* TG_OK when a reply arrived (even an error reply) */
    Tollgate__Bus__Error *error;  /* non-NULL when the service refused the request */
    ProtobufCBinaryData payload;  /* the reply message bytes when error is NULL */
    const char *replica;          /* which replica answered ("" if unknown) */
    Tollgate__Bus__Reply *reply_; /* owner of the above */
} bus_result;

void bus_result_free(bus_result *res); /* NULL is fine */

/* Runs on an NNG thread, never on the caller's; the callback owns res and frees it with
 * bus_result_free(). It must not block. */
typedef void (*bus_on_reply)(void *arg, bus_result *res);

typedef struct bus_call_opts {
    const char *method;     /* "token.Token" */
    const char *request_id; /* borrowed; may be NULL (one is generated) */
    const char *issuer;     /* borrowed; "https://host/" */
    int64_t deadline_ms;    /* absolute epoch ms; 0 = now + 5000 */
} bus_call_opts;

/* Sends req asynchronously; on_reply runs exactly once, also on failure (status set). req is
 * borrowed (packed before return). Returns an error only if the call could not be started, in
 * which case on_reply never runs. */
tg_err bus_call_async(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req,
                      bus_on_reply on_reply, void *arg);
/* Blocking variant for services and tests. *out freed with bus_result_free(). Returns the
 * result's status. */
tg_err bus_call(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req,
                bus_result **out);

/* ---- device ---------------------------------------------------------------------------- */

typedef struct bus_device bus_device;

/* A stateless meeting point for one service: listens on `front` for callers (which use
 * bus_client_open_dial) and on `back` for replicas (which dial it like any caller) and
 * forwards requests and replies between them on its own thread (nng_device over raw
 * sockets). Run two for redundancy: callers and replicas then dial both. *out freed with
 * bus_device_close(). */
tg_err bus_device_open(const char *front, const char *back, bus_device **out);
void bus_device_close(bus_device *dev); /* NULL is fine */

/* ---- server ---------------------------------------------------------------------------- */

typedef struct bus_server bus_server;

/* Per-request context handed to a handler. Memory from bus_ctx_alloc/strdup lives until the
 * reply is sent; use it for every string the handler puts in the reply. */
typedef struct bus_ctx bus_ctx;
const char *bus_ctx_request_id(const bus_ctx *ctx);
const char *bus_ctx_issuer(const bus_ctx *ctx);
int64_t bus_ctx_deadline_ms(const bus_ctx *ctx);
void *bus_ctx_app(const bus_ctx *ctx);          /* the app pointer given to bus_server_open */
void *bus_ctx_alloc(bus_ctx *ctx, size_t size); /* zeroed; NULL on exhaustion */
char *bus_ctx_strdup(bus_ctx *ctx, const char *s);
/* Fills the error reply: class, Auth0 error code and text (both copied). Returns TG_EDENIED
 * so a handler can `return bus_ctx_fail(...)`. */
tg_err bus_ctx_fail(bus_ctx *ctx, Tollgate__Bus__ErrorClass cls, const char *error,
                    const char *description);
/* Adds an extra string field to the error body (e.g. error_uri). */
void bus_ctx_fail_extra(bus_ctx *ctx, const char *key, const char *value);
/* Sets the body shape of the error (default SHAPE_OAUTH) and, for SHAPE_DBCONN, its "name"
 * (e.g. "BadRequestError"); name may be NULL. Call after bus_ctx_fail(). */
void bus_ctx_fail_shape(bus_ctx *ctx, Tollgate__Bus__ErrorShape shape, const char *name);
/* Adds a response header to the error reply (WWW-Authenticate, X-RateLimit-*). */
void bus_ctx_fail_header(bus_ctx *ctx, const char *name, const char *value);

/* The refusal of a request turned away because too many like it are in progress: 429
 * too_many_requests with Retry-After: 1 and BUS_BUSY_TEXT. Returns TG_EDENIED. */
#define BUS_BUSY_TEXT "Too many requests in progress. Try again in a moment."
tg_err bus_ctx_fail_busy(bus_ctx *ctx);
/* Admission for work that holds a worker a long time while another service computes (a
 * password check waits for svc-users' hashing): true while fewer such calls are inside than
 * the server allows (its workers less a quarter, at least two left free), and then the
 * caller calls bus_ctx_slow_leave() when done. With false the caller refuses the request
 * (bus_ctx_fail_busy), so a flood of slow requests cannot hold every worker. */
bool bus_ctx_slow_enter(bus_ctx *ctx);
void bus_ctx_slow_leave(bus_ctx *ctx);
/* How many of `workers` slow requests may hold: the workers less a quarter, at least two
 * left free, at least one. */
unsigned bus_slow_limit(size_t workers);

/* A handler reads req (already unpacked and checked) and fills reply (already initialised
 * with the method's reply descriptor). Return TG_OK for a normal reply, or after
 * bus_ctx_fail() for an Auth0 error; any other code becomes a 500 with the detail logged. */
typedef tg_err (*bus_handler)(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

typedef struct bus_method {
    const char *name; /* "token.Token" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    bus_handler handler;
} bus_method;

typedef struct bus_server_opts {
    const char *const *dial_urls; /* callers to serve (NULL-terminated) */
    const bus_method *methods;    /* borrowed; must outlive the server */
    size_t n_methods;
    size_t workers; /* worker threads, each with its own nng_ctx; 0 = 8 */
    void *app;
    const char *replica_id; /* borrowed; "" = pid@hostname */
} bus_server_opts;

/* Opens a REP socket, dials every url (retrying in the background until the caller is
 * up) and starts the workers. *out freed with bus_server_close(). */
tg_err bus_server_open(const bus_server_opts *opts, bus_server **out);
/* Stops receiving, lets in-flight handlers finish and reply, then frees. NULL is fine. */
void bus_server_close(bus_server *srv);
/* Requests served so far by this replica (counter for tests and metrics). */
uint64_t bus_server_served(const bus_server *srv);

/* ---- calls made while serving a request -------------------------------------------------- */

/* Calls a neighbour service on behalf of the request ctx is serving: the call carries ctx's
 * request id (so a resent request stays idempotent end to end), its issuer, and its deadline
 * less a small margin (so this service's own answer still reaches its caller when the
 * neighbour is silent). Returns TG_OK with *out (unpacked with reply_desc; free with
 * protobuf_c_message_free_unpacked); TG_EUNAVAILABLE when no replica answered (logged);
 * TG_EDENIED when the neighbour refused, handing the result to *refusal when refusal is not
 * NULL (free with bus_result_free; its ->error is the neighbour's Auth0 error); other codes on
 * local failures. c may be NULL (not configured: TG_EUNAVAILABLE). */
tg_err bus_call_onward(bus_ctx *ctx, bus_client *c, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                       ProtobufCMessage **out, bus_result **refusal);

/* Fills ctx's error with a neighbour's Auth0 error as it is (class, code, text, extra fields,
 * headers, shape), so the client sees what the neighbour said. Returns TG_EDENIED. */
tg_err bus_ctx_fail_from(bus_ctx *ctx, const Tollgate__Bus__Error *e);

#endif
