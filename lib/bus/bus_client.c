/*
 * Bus client: a REQ socket that listens; replicas dial in. An asynchronous call gets its own
 * nng_ctx and aio driven by a two-state machine (SEND, RECV) on NNG's threads. A synchronous
 * call (bus_call: a service's onward calls from its workers) runs on the caller's thread with a
 * context and aio kept for reuse, so a call costs no context setup, no aio reaping and no
 * completion callback hop (bench/RESULTS.md: these were a visible share of every hop).
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

/* A context and aio for one synchronous call at a time; idle ones wait in the client's list. */
typedef struct bus_slot {
    struct bus_slot *next;
    nng_ctx ctx;
    nng_aio *aio; /* no callback: the caller waits on it */
} bus_slot;

struct bus_client {
    nng_socket sock;
    nng_listener listener;
    pthread_mutex_t idle_mu;
    bus_slot *idle;
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
    pthread_mutex_init(&c->idle_mu, NULL);
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
    pthread_mutex_destroy(&c->idle_mu);
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
    pthread_mutex_init(&c->idle_mu, NULL);
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
    pthread_mutex_destroy(&c->idle_mu);
    free(c);
    return bus_err_from_nng(rv);
}

static void
slot_free(bus_slot *sl)
{
    nng_ctx_close(sl->ctx);
    nng_aio_free(sl->aio);
    free(sl);
}

void
bus_client_close(bus_client *c)
{
    if (c == NULL)
        return;
    while (c->idle != NULL) {
        bus_slot *sl = c->idle;
        c->idle = sl->next;
        slot_free(sl);
    }
    (void)bus_nng_close_within(c->sock, BUS_CLOSE_WAIT_MS);
    pthread_mutex_destroy(&c->idle_mu);
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
pack_envelope(const bus_call_opts *opts, const char *rid, int64_t deadline,
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

/* The envelope of a call: opts' request id (a fresh random one when it has none), its deadline
 * (*deadline: opts', else now + the default) and req packed. */
static tg_err
pack_request(const bus_call_opts *opts, const ProtobufCMessage *req, int64_t *deadline,
             nng_msg **out)
{
    const char *rid = opts->request_id;
    char fresh[33];
    tg_err err;

    *out = NULL;
    *deadline = opts->deadline_ms ? opts->deadline_ms : tg_now_ms() + BUS_DEFAULT_DEADLINE_MS;
    if (rid == NULL || rid[0] == '\0') {
        unsigned char raw[16];
        if ((err = tg_random_bytes(raw, sizeof(raw))) != TG_OK)
            return err;
        tg_hex_encode(raw, sizeof(raw), fresh);
        rid = fresh;
    }
    return pack_envelope(opts, rid, *deadline, req, out);
}

tg_err
bus_call_async(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req,
               bus_on_reply on_reply, void *arg)
{
    bus_pending *p = NULL;
    nng_msg *msg = NULL;
    int64_t deadline, left;
    tg_err err;
    int rv;

    if ((err = pack_request(opts, req, &deadline, &msg)) != TG_OK)
        return err;
    left = deadline - tg_now_ms();
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

/* An idle slot of c, or a new one; NULL when NNG has no resources. */
static bus_slot *
slot_take(bus_client *c, int *rv)
{
    bus_slot *sl;

    pthread_mutex_lock(&c->idle_mu);
    if ((sl = c->idle) != NULL)
        c->idle = sl->next;
    pthread_mutex_unlock(&c->idle_mu);
    if (sl != NULL)
        return sl;
    if ((sl = calloc(1, sizeof(*sl))) == NULL) {
        *rv = NNG_ENOMEM;
        return NULL;
    }
    if ((*rv = nng_ctx_open(&sl->ctx, c->sock)) != 0) {
        free(sl);
        return NULL;
    }
    if ((*rv = nng_aio_alloc(&sl->aio, NULL, NULL)) != 0) {
        nng_ctx_close(sl->ctx);
        free(sl);
        return NULL;
    }
    return sl;
}

static void
slot_give(bus_client *c, bus_slot *sl)
{
    pthread_mutex_lock(&c->idle_mu);
    sl->next = c->idle;
    c->idle = sl;
    pthread_mutex_unlock(&c->idle_mu);
}

/* One step of a call on sl's aio, waited for here: a send when msg is set, else a receive. */
static int
slot_step(bus_slot *sl, nng_msg *msg, int64_t deadline)
{
    int64_t left = deadline - tg_now_ms();
    int rv;

    nng_aio_set_timeout(sl->aio, left > 0 ? (nng_duration)left : 1);
    if (msg != NULL) {
        nng_aio_set_msg(sl->aio, msg);
        nng_ctx_send(sl->ctx, sl->aio);
    } else {
        nng_ctx_recv(sl->ctx, sl->aio);
    }
    nng_aio_wait(sl->aio);
    if ((rv = nng_aio_result(sl->aio)) != 0 && msg != NULL)
        nng_msg_free(nng_aio_get_msg(sl->aio)); /* not sent: still ours */
    return rv;
}

tg_err
bus_call(bus_client *c, const bus_call_opts *opts, const ProtobufCMessage *req, bus_result **out)
{
    bus_result *res;
    bus_slot *sl;
    nng_msg *msg = NULL;
    int64_t deadline;
    tg_err err;
    int rv = 0;

    *out = NULL;
    if ((res = calloc(1, sizeof(*res))) == NULL)
        return TG_ENOMEM;
    res->replica = "";
    if ((err = pack_request(opts, req, &deadline, &msg)) != TG_OK) {
        free(res);
        return err;
    }
    if ((sl = slot_take(c, &rv)) == NULL) {
        nng_msg_free(msg);
        free(res);
        return bus_err_from_nng(rv);
    }
    if ((rv = slot_step(sl, msg, deadline)) == 0)
        rv = slot_step(sl, NULL, deadline);
    if (rv != 0) {
        /* A context whose call failed may still expect an old reply: never reused. */
        slot_free(sl);
        res->status = bus_err_from_nng(rv);
    } else {
        msg = nng_aio_get_msg(sl->aio);
        result_from_msg(res, msg);
        nng_msg_free(msg);
        slot_give(c, sl);
    }
    *out = res;
    return res->status;
}
