/*
 * Bus client: a REQ socket that listens; replicas dial in. Each call gets its own nng_ctx and
 * aio driven by a two-state machine (SEND, RECV) on NNG's threads.
 */
#include "bus/bus.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus_nng.h"
#include "core/log.h"
#include "core/util.h"

#define BUS_DEFAULT_DEADLINE_MS 5000
/* Longer than any deadline: a slow replica is never asked twice by the timer; requests are
 * still resent at once when a replica's connection drops. */
#define BUS_RESEND_MS (10 * 60 * 1000)

struct bus_client {
    nng_socket sock;
    nng_listener listener;
};

typedef enum call_state { CALL_SEND, CALL_RECV } call_state;

typedef struct bus_pending {
    nng_ctx ctx;
    nng_aio *aio;
    call_state state;
    int64_t deadline_ms;
    bus_on_reply on_reply;
    void *arg;
    bus_result *res; /* allocated up front so completion never needs memory */
} bus_pending;

tg_err
bus_client_open(const char *url, bus_client **out)
{
    bus_client *c;
    int rv;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TG_ENOMEM;
    if ((rv = nng_req0_open(&c->sock)) != 0)
        goto fail;
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, BUS_RESEND_MS);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, BUS_MAX_MESSAGE);
    if ((rv = nng_listen(c->sock, url, &c->listener, 0)) != 0) {
        LOG_ERROR("bus: cannot listen on %s: %s", url, nng_strerror(rv));
        nng_close(c->sock);
        goto fail;
    }
    *out = c;
    return TG_OK;
fail:
    free(c);
    return bus_err_from_nng(rv);
}

tg_err
bus_client_open_dial(const char *const *urls, bus_client **out)
{
    bus_client *c;
    int rv = NNG_EINVAL;

    *out = NULL;
    if (urls == NULL || urls[0] == NULL)
        return TG_EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TG_ENOMEM;
    if ((rv = nng_req0_open(&c->sock)) != 0)
        goto fail;
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, BUS_RESEND_MS);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, BUS_MAX_MESSAGE);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
    for (const char *const *u = urls; *u != NULL; u++) {
        if ((rv = nng_dial(c->sock, *u, NULL, NNG_FLAG_NONBLOCK)) != 0) {
            LOG_ERROR("bus: cannot dial %s: %s", *u, nng_strerror(rv));
            nng_close(c->sock);
            goto fail;
        }
    }
    *out = c;
    return TG_OK;
fail:
    free(c);
    return bus_err_from_nng(rv);
}

void
bus_client_close(bus_client *c)
{
    if (c == NULL)
        return;
    nng_close(c->sock);
    free(c);
}

void
bus_result_free(bus_result *res)
{
    if (res == NULL)
        return;
    if (res->reply_ != NULL)
        tollgate__bus__reply__free_unpacked(res->reply_, NULL);
    free(res);
}

static void
pending_finish(bus_pending *p)
{
    bus_on_reply cb = p->on_reply;
    void *arg = p->arg;
    bus_result *res = p->res;

    nng_ctx_close(p->ctx);
    nng_aio_reap(p->aio);
    free(p);
    cb(arg, res);
}

static void
result_from_msg(bus_result *res, nng_msg *msg)
{
    res->reply_ =
        tollgate__bus__reply__unpack(NULL, nng_msg_len(msg), (const uint8_t *)nng_msg_body(msg));
    if (res->reply_ == NULL) {
        LOG_ERROR("bus: undecodable reply (%zu bytes)", nng_msg_len(msg));
        res->status = TG_EPROTO;
        return;
    }
    res->status = (tg_err)res->reply_->status;
    res->error = res->reply_->error;
    res->payload = res->reply_->payload;
    res->replica = res->reply_->replica;
}

static void
on_aio(void *arg)
{
    bus_pending *p = arg;
    int rv = nng_aio_result(p->aio);

    if (rv == 0 && p->state == CALL_SEND) {
        int64_t left = p->deadline_ms - tg_now_ms();
        p->state = CALL_RECV;
        nng_aio_set_timeout(p->aio, left > 0 ? (nng_duration)left : 1);
        nng_ctx_recv(p->ctx, p->aio);
        return;
    }
    if (rv != 0) {
        if (p->state == CALL_SEND)
            nng_msg_free(nng_aio_get_msg(p->aio));
        p->res->status = bus_err_from_nng(rv);
    } else {
        nng_msg *msg = nng_aio_get_msg(p->aio);
        result_from_msg(p->res, msg);
        nng_msg_free(msg);
    }
    pending_finish(p);
}

static tg_err
pack_request(const bus_call_opts *opts, const char *rid, int64_t deadline,
             const ProtobufCMessage *req, nng_msg **out)
{
    Tollgate__Bus__Request env = TOLLGATE__BUS__REQUEST__INIT;
    size_t plen = protobuf_c_message_get_packed_size(req), elen;
    uint8_t *payload;
    nng_msg *msg;
    tg_err err = TG_OK;

    *out = NULL;
    if (plen > BUS_MAX_MESSAGE - 1024)
        return TG_ETOOBIG;
    payload = malloc(plen ? plen : 1);
    if (payload == NULL)
        return TG_ENOMEM;
    protobuf_c_message_pack(req, payload);
    env.method = (char *)opts->method;
    env.request_id = (char *)rid;
    env.deadline_ms = deadline;
    env.issuer = (char *)(opts->issuer ? opts->issuer : "");
    env.payload.data = payload;
    env.payload.len = plen;
    elen = tollgate__bus__request__get_packed_size(&env);
    if (nng_msg_alloc(&msg, elen) != 0) {
        err = TG_ENOMEM;
        goto out;
    }
    tollgate__bus__request__pack(&env, nng_msg_body(msg));
    *out = msg;
out:
    tg_free_secret(payload, plen);
    return err;
}

tg_err
bus_call_async(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req,
               bus_on_reply on_reply, void *arg)
{
    bus_pending *p = NULL;
    nng_msg *msg = NULL;
    char rid[33];
    const char *use_rid = opts->request_id;
    int64_t deadline =
        opts->deadline_ms ? opts->deadline_ms : tg_now_ms() + BUS_DEFAULT_DEADLINE_MS;
    int64_t left = deadline - tg_now_ms();
    tg_err err;
    int rv;

    if (use_rid == NULL || use_rid[0] == '\0') {
        unsigned char raw[16];
        if ((err = tg_random_bytes(raw, sizeof(raw))) != TG_OK)
            return err;
        tg_hex_encode(raw, sizeof(raw), rid);
        use_rid = rid;
    }
    if ((err = pack_request(opts, use_rid, deadline, req, &msg)) != TG_OK)
        return err;
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->res = calloc(1, sizeof(*p->res))) == NULL) {
        err = TG_ENOMEM;
        goto fail;
    }
    p->res->replica = "";
    p->deadline_ms = deadline;
    p->on_reply = on_reply;
    p->arg = arg;
    p->state = CALL_SEND;
    if ((rv = nng_ctx_open(&p->ctx, c->sock)) != 0) {
        err = bus_err_from_nng(rv);
        goto fail;
    }
    if ((rv = nng_aio_alloc(&p->aio, on_aio, p)) != 0) {
        nng_ctx_close(p->ctx);
        err = bus_err_from_nng(rv);
        goto fail;
    }
    nng_aio_set_timeout(p->aio, left > 0 ? (nng_duration)left : 1);
    nng_aio_set_msg(p->aio, msg);
    nng_ctx_send(p->ctx, p->aio);
    return TG_OK;
fail:
    nng_msg_free(msg);
    if (p != NULL)
        free(p->res);
    free(p);
    return err;
}

typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    bus_result *res;
} sync_wait;

static void
on_sync_reply(void *arg, bus_result *res)
{
    sync_wait *w = arg;

    pthread_mutex_lock(&w->mu);
    w->res = res;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

tg_err
bus_call(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req, bus_result **out)
{
    sync_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    tg_err err;

    *out = NULL;
    if ((err = bus_call_async(c, opts, req, on_sync_reply, &w)) != TG_OK)
        return err;
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    if (w.res == NULL)
        return TG_ENOMEM;
    *out = w.res;
    return w.res->status;
}
