/*
 * Bus server: one REP socket that dials every caller, and a fixed pool of worker threads, each
 * with its own nng_ctx doing RECV -> WORK -> SEND. A slow handler holds one worker only.
 * Decoding, method lookup and the deadline check happen here, once, before any handler runs.
 */
#include "bus/bus.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus_nng.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"

#define BUS_DEFAULT_WORKERS 8
#define BUS_RECONNECT_MIN_MS 50
#define BUS_RECONNECT_MAX_MS 1000
#define BUS_SEND_TIMEOUT_MS 5000

struct bus_ctx {
    arena arena;
    const Tollgate__Bus__Request *env;
    bus_server *srv;
    Tollgate__Bus__Error *error;
};

typedef struct bus_worker {
    bus_server *srv;
    pthread_t thread;
    nng_ctx ctx;
    nng_aio *aio;
    bool started;
    pthread_mutex_t mu; /* receiving, and the start of a receive, against stop_workers */
    bool receiving;
} bus_worker;

struct bus_server {
    nng_socket sock;
    const bus_method *methods;
    size_t n_methods;
    void *app;
    char replica[128];
    bus_worker *workers;
    size_t n_workers;
    atomic_bool closing;
    atomic_uint_fast64_t served;
    atomic_uint slow;  /* requests inside bus_ctx_slow_enter() */
    unsigned slow_max; /* bus_slow_limit(n_workers) */
};

const char *
bus_ctx_request_id(const bus_ctx *ctx)
{
    return ctx->env->request_id;
}

const char *
bus_ctx_issuer(const bus_ctx *ctx)
{
    return ctx->env->issuer;
}

int64_t
bus_ctx_deadline_ms(const bus_ctx *ctx)
{
    return ctx->env->deadline_ms;
}

void *
bus_ctx_app(const bus_ctx *ctx)
{
    return ctx->srv->app;
}

void *
bus_ctx_alloc(bus_ctx *ctx, size_t size)
{
    return arena_alloc(&ctx->arena, size);
}

char *
bus_ctx_strdup(bus_ctx *ctx, const char *s)
{
    return s == NULL ? NULL : arena_strdup(&ctx->arena, s);
}

tg_err
bus_ctx_fail(bus_ctx *ctx, Tollgate__Bus__ErrorClass cls, const char *error,
             const char *description)
{
    Tollgate__Bus__Error *e = ctx->error;

    if (e == NULL) {
        e = arena_alloc(&ctx->arena, sizeof(*e));
        if (e == NULL)
            return TG_ENOMEM;
        tollgate__bus__error__init(e);
        ctx->error = e;
    }
    e->error_class = cls;
    e->error = bus_ctx_strdup(ctx, error ? error : "");
    e->error_description = bus_ctx_strdup(ctx, description ? description : "");
    if (e->error == NULL || e->error_description == NULL)
        return TG_ENOMEM;
    return TG_EDENIED;
}

static Tollgate__Bus__KeyValue *
new_kv(bus_ctx *ctx, const char *key, const char *value)
{
    Tollgate__Bus__KeyValue *kv = arena_alloc(&ctx->arena, sizeof(*kv));

    if (kv == NULL)
        return NULL;
    tollgate__bus__key_value__init(kv);
    kv->key = bus_ctx_strdup(ctx, key);
    kv->value = bus_ctx_strdup(ctx, value);
    return kv->key && kv->value ? kv : NULL;
}

/* Appends kv to a repeated KeyValue field held in the arena. */
static void
kv_append(bus_ctx *ctx, Tollgate__Bus__KeyValue ***list, size_t *n, const char *key,
          const char *value)
{
    Tollgate__Bus__KeyValue **grown, *kv = new_kv(ctx, key, value);

    if (kv == NULL)
        return;
    grown = arena_alloc(&ctx->arena, (*n + 1) * sizeof(*grown));
    if (grown == NULL)
        return;
    if (*n > 0)
        memcpy(grown, *list, *n * sizeof(*grown));
    grown[(*n)++] = kv;
    *list = grown;
}

void
bus_ctx_fail_extra(bus_ctx *ctx, const char *key, const char *value)
{
    if (ctx->error != NULL)
        kv_append(ctx, &ctx->error->extra, &ctx->error->n_extra, key, value);
}

void
bus_ctx_fail_header(bus_ctx *ctx, const char *name, const char *value)
{
    if (ctx->error != NULL)
        kv_append(ctx, &ctx->error->headers, &ctx->error->n_headers, name, value);
}

void
bus_ctx_fail_shape(bus_ctx *ctx, Tollgate__Bus__ErrorShape shape, const char *name)
{
    if (ctx->error == NULL)
        return;
    ctx->error->shape = shape;
    if (name != NULL && (name = bus_ctx_strdup(ctx, name)) != NULL)
        ctx->error->name = (char *)name;
}

tg_err
bus_ctx_fail_busy(bus_ctx *ctx)
{
    tg_err err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS,
                              "too_many_requests", BUS_BUSY_TEXT);

    bus_ctx_fail_header(ctx, "Retry-After", "1");
    return err;
}

unsigned
bus_slow_limit(size_t workers)
{
    size_t free_kept = workers / 4 > 2 ? workers / 4 : 2;

    return workers > free_kept ? (unsigned)(workers - free_kept) : 1;
}

bool
bus_ctx_slow_enter(bus_ctx *ctx)
{
    bus_server *srv = ctx->srv;

    if (atomic_fetch_add(&srv->slow, 1) < srv->slow_max)
        return true;
    atomic_fetch_sub(&srv->slow, 1);
    return false;
}

void
bus_ctx_slow_leave(bus_ctx *ctx)
{
    atomic_fetch_sub(&ctx->srv->slow, 1);
}

static const bus_method *
find_method(const bus_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->n_methods; i++)
        if (strcmp(srv->methods[i].name, name) == 0)
            return &srv->methods[i];
    return NULL;
}

/* Runs the method and fills reply (status, error or payload). Strings point into ctx's arena. */
static void
dispatch(bus_ctx *ctx, Tollgate__Bus__Reply *reply)
{
    const Tollgate__Bus__Request *env = ctx->env;
    const bus_method *m = find_method(ctx->srv, env->method);
    ProtobufCMessage *req, *out;
    tg_err err;

    if (m == NULL) {
        LOG_WARN("bus: unknown method %s", env->method);
        reply->status = TOLLGATE__BUS__STATUS__ENOTFOUND;
        return;
    }
    if (env->deadline_ms != 0 && tg_now_ms() > env->deadline_ms) {
        LOG_WARN("bus: %s arrived after its deadline; dropped", env->method);
        reply->status = TOLLGATE__BUS__STATUS__ETIMEDOUT;
        return;
    }
    req =
        protobuf_c_message_unpack(m->request, &ctx->arena.pb, env->payload.len, env->payload.data);
    if (req == NULL) {
        LOG_WARN("bus: %s: undecodable request", env->method);
        reply->status = TOLLGATE__BUS__STATUS__EPROTO;
        return;
    }
    out = arena_alloc(&ctx->arena, m->reply->sizeof_message);
    if (out == NULL) {
        reply->status = TOLLGATE__BUS__STATUS__ENOMEM;
        return;
    }
    m->reply->message_init(out);
    err = m->handler(ctx, req, out);
    if (ctx->error != NULL && ctx->error->error_class != TOLLGATE__BUS__ERROR_CLASS__ERROR_NONE) {
        reply->error = ctx->error;
        return;
    }
    if (err != TG_OK) {
        LOG_ERROR("bus: %s failed: %s", env->method, tg_strerror(err));
        reply->status = (Tollgate__Bus__Status)err;
        return;
    }
    reply->payload.len = protobuf_c_message_get_packed_size(out);
    reply->payload.data = arena_alloc(&ctx->arena, reply->payload.len + 1);
    if (reply->payload.data == NULL) {
        reply->status = TOLLGATE__BUS__STATUS__ENOMEM;
        reply->payload.len = 0;
        return;
    }
    protobuf_c_message_pack(out, reply->payload.data);
}

/* Decodes one request message and builds the reply message; NULL when even that failed. */
static nng_msg *
serve_one(bus_server *srv, nng_msg *in)
{
    Tollgate__Bus__Reply reply = TOLLGATE__BUS__REPLY__INIT;
    bus_ctx ctx = {.srv = srv};
    nng_msg *out = NULL;
    size_t len;

    arena_init(&ctx.arena, 0);
    ctx.env = tollgate__bus__request__unpack(&ctx.arena.pb, nng_msg_len(in), nng_msg_body(in));
    if (ctx.env == NULL) {
        LOG_WARN("bus: undecodable envelope (%zu bytes)", nng_msg_len(in));
        reply.status = TOLLGATE__BUS__STATUS__EPROTO;
    } else {
        log_set_request_id(ctx.env->request_id);
        dispatch(&ctx, &reply);
    }
    reply.replica = srv->replica;
    len = tollgate__bus__reply__get_packed_size(&reply);
    if (nng_msg_alloc(&out, len) == 0)
        tollgate__bus__reply__pack(&reply, nng_msg_body(out));
    else
        out = NULL;
    atomic_fetch_add(&srv->served, 1);
    log_set_request_id(NULL);
    arena_fini(&ctx.arena);
    return out;
}

/* Starts a receive unless the server is closing: under w->mu, so stop_workers either sees the
 * receive and cancels it or the worker sees closing before it starts one. */
static bool
recv_start(bus_worker *w)
{
    bool started = false;

    pthread_mutex_lock(&w->mu);
    if (!atomic_load(&w->srv->closing)) {
        w->receiving = started = true;
        nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
        nng_ctx_recv(w->ctx, w->aio);
    }
    pthread_mutex_unlock(&w->mu);
    return started;
}

static void
recv_done(bus_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->receiving = false;
    pthread_mutex_unlock(&w->mu);
}

/* An idle worker blocks in its receive until a request comes or stop_workers cancels that
 * receive; only a receive is ever cancelled, so a reply being sent is never cut off. */
static void *
worker_main(void *arg)
{
    bus_worker *w = arg;
    bus_server *srv = w->srv;
    int rv;

    while (recv_start(w)) {
        nng_msg *in, *out;

        nng_aio_wait(w->aio);
        recv_done(w);
        if ((rv = nng_aio_result(w->aio)) != 0) {
            if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
                break;
            LOG_WARN("bus: receive failed: %s", nng_strerror(rv));
            continue;
        }
        in = nng_aio_get_msg(w->aio);
        out = serve_one(srv, in);
        nng_msg_free(in);
        if (out == NULL)
            continue; /* the caller's deadline answers for us */
        nng_aio_set_timeout(w->aio, BUS_SEND_TIMEOUT_MS);
        nng_aio_set_msg(w->aio, out);
        nng_ctx_send(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        if ((rv = nng_aio_result(w->aio)) != 0) {
            nng_msg_free(out);
            if (rv == NNG_ECLOSED)
                break;
        }
    }
    return NULL;
}

static tg_err
start_workers(bus_server *srv, size_t n)
{
    int rv;

    srv->workers = calloc(n, sizeof(*srv->workers));
    if (srv->workers == NULL)
        return TG_ENOMEM;
    srv->n_workers = n;
    srv->slow_max = bus_slow_limit(n);
    for (size_t i = 0; i < n; i++)
        pthread_mutex_init(&srv->workers[i].mu, NULL); /* stop_workers takes every one */
    for (size_t i = 0; i < n; i++) {
        bus_worker *w = &srv->workers[i];
        w->srv = srv;
        if ((rv = nng_ctx_open(&w->ctx, srv->sock)) != 0 ||
            (rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0)
            return bus_err_from_nng(rv);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return TG_ENOMEM;
        w->started = true;
    }
    return TG_OK;
}

static void
stop_workers(bus_server *srv)
{
    atomic_store(&srv->closing, true); /* workers finish their request, then stop */
    for (size_t i = 0; i < srv->n_workers; i++) {
        bus_worker *w = &srv->workers[i];

        pthread_mutex_lock(&w->mu);
        if (w->receiving)
            nng_aio_cancel(w->aio);
        pthread_mutex_unlock(&w->mu);
    }
    for (size_t i = 0; i < srv->n_workers; i++) {
        bus_worker *w = &srv->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        if (w->aio != NULL)
            nng_aio_free(w->aio);
        nng_ctx_close(w->ctx);
        pthread_mutex_destroy(&w->mu);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->n_workers = 0;
}

tg_err
bus_server_open(const bus_server_opts *opts, bus_server **out)
{
    bus_server *srv;
    tg_err err;
    int rv;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return TG_ENOMEM;
    srv->methods = opts->methods;
    srv->n_methods = opts->n_methods;
    srv->app = opts->app;
    if (opts->replica_id != NULL && opts->replica_id[0] != '\0') {
        snprintf(srv->replica, sizeof(srv->replica), "%s", opts->replica_id);
    } else {
        char host[64] = "";
        gethostname(host, sizeof(host) - 1);
        snprintf(srv->replica, sizeof(srv->replica), "%ld@%s", (long)getpid(), host);
    }
    if ((rv = nng_rep0_open(&srv->sock)) != 0) {
        free(srv);
        return bus_err_from_nng(rv);
    }
    nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, BUS_MAX_MESSAGE);
    nng_socket_set_ms(srv->sock, NNG_OPT_RECONNMINT, BUS_RECONNECT_MIN_MS);
    nng_socket_set_ms(srv->sock, NNG_OPT_RECONNMAXT, BUS_RECONNECT_MAX_MS);
    for (const char *const *u = opts->dial_urls; u != NULL && *u != NULL; u++) {
        /* Non-blocking: the caller may not be up yet; NNG keeps redialling. */
        if ((rv = nng_dial(srv->sock, *u, NULL, NNG_FLAG_NONBLOCK)) != 0) {
            LOG_ERROR("bus: cannot dial %s: %s", *u, nng_strerror(rv));
            err = bus_err_from_nng(rv);
            goto fail;
        }
    }
    if ((err = start_workers(srv, opts->workers ? opts->workers : BUS_DEFAULT_WORKERS)) != TG_OK)
        goto fail;
    *out = srv;
    return TG_OK;
fail:
    stop_workers(srv);
    nng_close(srv->sock);
    free(srv);
    return err;
}

void
bus_server_close(bus_server *srv)
{
    if (srv == NULL)
        return;
    stop_workers(srv);
    (void)bus_nng_close_within(srv->sock, BUS_CLOSE_WAIT_MS);
    free(srv);
}

uint64_t
bus_server_served(const bus_server *srv)
{
    return atomic_load(&((bus_server *)srv)->served);
}
