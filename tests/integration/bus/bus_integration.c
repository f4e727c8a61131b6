/*
 * The bus over real NNG on loopback TCP: typed round trips, errors, deadlines with no replica,
 * a worker pool that a slow request cannot block, concurrency from many threads, a second
 * replica joining without restarting the caller, spreading over replicas, a replica that
 * dies under load losing nothing but the requests it was holding (which NNG resends), idle
 * workers that sleep until a request comes, and a close that still answers the request being
 * served.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three it needs */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../ports.h"
#include "bus/bus.h"
#include "core/log.h"
#include "core/util.h"
#include "token.pb-c.h"

static char url[64];
/* A "slow" request holds its worker until the test lets it go (no timing in the test). */
static atomic_int slow_release;

/* token.Token's messages double as test messages: scope in, access_token out. */
static tg_err
on_echo(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__TokenRequest *req = (const void *)reqm;
    Tollgate__Token__TokenReply *reply = (void *)replym;

    if (strcmp(req->scope, "slow") == 0)
        while (!atomic_load(&slow_release))
            usleep(5 * 1000);
    if (strcmp(req->scope, "gated") == 0) { /* slow, behind the server's admission */
        if (!bus_ctx_slow_enter(ctx))
            return bus_ctx_fail_busy(ctx);
        while (!atomic_load(&slow_release))
            usleep(5 * 1000);
        bus_ctx_slow_leave(ctx);
    }
    if (strcmp(req->scope, "deny") == 0) {
        tg_err err =
            bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied", "Nope");
        bus_ctx_fail_extra(ctx, "error_uri", "https://example/");
        bus_ctx_fail_header(ctx, "WWW-Authenticate", "Bearer realm=\"t\"");
        bus_ctx_fail_shape(ctx, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN, "BadRequestError");
        return err;
    }
    if (strcmp(req->scope, "broken") == 0)
        return TG_EIO;
    reply->access_token = bus_ctx_strdup(ctx, req->scope);
    reply->token_type = bus_ctx_strdup(ctx, bus_ctx_request_id(ctx));
    reply->expires_in = 42;
    return TG_OK;
}

static const bus_method methods[] = {
    {"test.Echo", &tollgate__token__token_request__descriptor,
     &tollgate__token__token_reply__descriptor, on_echo},
};

static bus_server *
start_replica(const char *id, size_t workers)
{
    const char *dial[] = {url, NULL};
    bus_server_opts o = {.dial_urls = dial,
                         .methods = methods,
                         .n_methods = 1,
                         .workers = workers,
                         .replica_id = id};
    bus_server *srv = NULL;

    assert_int_equal(bus_server_open(&o, &srv), TG_OK);
    return srv;
}

static tg_err
echo(bus_client *c, const char *scope, int64_t timeout_ms, Tollgate__Token__TokenReply **out,
     bus_result **res_out)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    bus_call_opts o = {.method = "test.Echo",
                       .request_id = NULL,
                       .issuer = "https://t/",
                       .deadline_ms = tg_now_ms() + timeout_ms};
    bus_result *res = NULL;
    tg_err err;

    req.scope = (char *)scope;
    err = bus_call(c, &o, &req.base, &res);
    if (out != NULL) {
        *out = NULL;
        if (err == TG_OK && res->error == NULL)
            *out = tollgate__token__token_reply__unpack(NULL, res->payload.len, res->payload.data);
    }
    if (res_out != NULL)
        *res_out = res;
    else
        bus_result_free(res);
    return err;
}

static int
setup(void **state)
{
    (void)state;
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", tg_test_port_block(1));
    return 0;
}

static void
test_round_trip_and_errors(void **state)
{
    bus_client *c;
    bus_server *s;
    Tollgate__Token__TokenReply *r;
    bus_result *res;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    s = start_replica("r1", 2);
    assert_int_equal(echo(c, "hello", 3000, &r, NULL), TG_OK);
    assert_non_null(r);
    assert_string_equal(r->access_token, "hello");
    assert_int_equal(r->expires_in, 42);
    assert_int_equal(strlen(r->token_type), 32); /* generated request id reached the handler */
    tollgate__token__token_reply__free_unpacked(r, NULL);

    assert_int_equal(echo(c, "deny", 3000, NULL, &res), TG_OK);
    assert_non_null(res->error);
    assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN);
    assert_string_equal(res->error->error, "access_denied");
    assert_string_equal(res->error->error_description, "Nope");
    assert_int_equal(res->error->n_extra, 1);
    assert_string_equal(res->error->extra[0]->key, "error_uri");
    assert_int_equal(res->error->n_headers, 1);
    assert_string_equal(res->error->headers[0]->key, "WWW-Authenticate");
    assert_int_equal(res->error->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN);
    assert_string_equal(res->error->name, "BadRequestError");
    assert_string_equal(res->replica, "r1");
    bus_result_free(res);

    assert_int_equal(echo(c, "broken", 3000, NULL, NULL), TG_EIO);
    bus_server_close(s);
    bus_client_close(c);
}

static void
test_deadline_without_replica(void **state)
{
    bus_client *c;
    int64_t t0;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    t0 = tg_monotonic_ms();
    assert_int_equal(echo(c, "x", 300, NULL, NULL), TG_ETIMEDOUT);
    assert_true(tg_monotonic_ms() - t0 < 1500);
    /* A replica that starts later serves the next call without reopening the client. */
    bus_server *s = start_replica("late", 2);
    assert_int_equal(echo(c, "now", 3000, NULL, NULL), TG_OK);
    bus_server_close(s);
    bus_client_close(c);
}

static void
on_slow(void *arg, bus_result *res)
{
    atomic_store((atomic_int *)arg, res->status == TG_OK ? 1 : 2);
    bus_result_free(res);
}

/* Sends one "slow" request, which holds a worker until slow_release; *done is set by on_slow. */
static void
send_slow(bus_client *c, atomic_int *done)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    bus_call_opts o = {.method = "test.Echo", .deadline_ms = tg_now_ms() + 30000};

    req.scope = "slow";
    atomic_store(&slow_release, 0);
    assert_int_equal(bus_call_async(c, &o, &req.base, on_slow, done), TG_OK);
}

static void
test_slow_request_does_not_block_others(void **state)
{
    bus_client *c;
    bus_server *s;
    atomic_int slow_done = 0;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    s = start_replica("r1", 4);
    send_slow(c, &slow_done);
    usleep(100 * 1000);
    /* 20 calls complete while the slow one still holds its worker: nothing waits behind it */
    for (int i = 0; i < 20; i++)
        assert_int_equal(echo(c, "fast", 10000, NULL, NULL), TG_OK);
    assert_int_equal(atomic_load(&slow_done), 0);
    atomic_store(&slow_release, 1);
    while (atomic_load(&slow_done) == 0)
        usleep(10 * 1000);
    assert_int_equal(atomic_load(&slow_done), 1);
    bus_server_close(s);
    bus_client_close(c);
}

/* Idle workers block in their receive: no wake-ups while nothing comes (they used to poll
 * every 200 ms), and a close still stops them at once. */
static void
test_idle_workers_sleep(void **state)
{
    bus_client *c;
    bus_server *s;
    struct rusage r0, r1;
    long woken;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    s = start_replica("r1", 16);
    assert_int_equal(echo(c, "warm", 3000, NULL, NULL), TG_OK);
    usleep(100 * 1000);
    assert_int_equal(getrusage(RUSAGE_SELF, &r0), 0);
    usleep(1000 * 1000);
    assert_int_equal(getrusage(RUSAGE_SELF, &r1), 0);
    woken = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw);
    /* polling 16 workers every 200 ms: ~80 switches a second; sleeping ones: a handful */
    assert_true(woken < 16);
    bus_server_close(s);
    assert_int_equal(echo(c, "after", 300, NULL, NULL), TG_ETIMEDOUT);
    bus_client_close(c);
}

static void *
close_main(void *arg)
{
    bus_server_close(arg);
    return NULL;
}

/* Closing cancels only receives: a request being served when the close comes is answered. */
static void
test_close_answers_the_request_in_hand(void **state)
{
    bus_client *c;
    bus_server *s;
    pthread_t closer;
    atomic_int slow_done = 0;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    s = start_replica("r1", 4);
    send_slow(c, &slow_done);
    usleep(200 * 1000); /* the slow request is in a worker's hands */
    assert_int_equal(pthread_create(&closer, NULL, close_main, s), 0);
    usleep(200 * 1000); /* the close has cancelled the idle workers' receives by now */
    atomic_store(&slow_release, 1);
    assert_int_equal(pthread_join(closer, NULL), 0);
    while (atomic_load(&slow_done) == 0)
        usleep(10 * 1000);
    assert_int_equal(atomic_load(&slow_done), 1);
    bus_client_close(c);
}

typedef struct gated {
    atomic_int ok, busy, other;
} gated;

static void
on_gated(void *arg, bus_result *res)
{
    gated *g = arg;
    bool retry_after = false;

    if (res->status == TG_OK && res->error != NULL)
        for (size_t i = 0; i < res->error->n_headers; i++)
            retry_after |= strcmp(res->error->headers[i]->key, "Retry-After") == 0 &&
                           strcmp(res->error->headers[i]->value, "1") == 0;
    if (res->status == TG_OK && res->error == NULL)
        atomic_fetch_add(&g->ok, 1);
    else if (res->status == TG_OK &&
             res->error->error_class == TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS &&
             strcmp(res->error->error, "too_many_requests") == 0 &&
             strcmp(res->error->error_description, BUS_BUSY_TEXT) == 0 && retry_after)
        atomic_fetch_add(&g->busy, 1);
    else
        atomic_fetch_add(&g->other, 1);
    bus_result_free(res);
}

/* Slow requests behind bus_ctx_slow_enter hold at most the workers less a quarter (at least
 * two left free): of six on four workers, two are admitted, the rest are refused at once, and
 * a fast request is answered while the admitted ones still hold their workers. */
static void
test_slow_admission_leaves_workers(void **state)
{
    bus_client *c;
    bus_server *s;
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    gated g = {0};
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    s = start_replica("r1", 4);
    assert_int_equal(echo(c, "warm", 3000, NULL, NULL), TG_OK);
    atomic_store(&slow_release, 0);
    req.scope = "gated";
    bus_call_opts o = {.method = "test.Echo", .deadline_ms = tg_now_ms() + 30000};
    for (int i = 0; i < 6; i++)
        assert_int_equal(bus_call_async(c, &o, &req.base, on_gated, &g), TG_OK);
    while (atomic_load(&g.busy) + atomic_load(&g.other) < 4)
        usleep(5 * 1000);
    for (int i = 0; i < 10; i++) /* the two free workers serve the rest */
        assert_int_equal(echo(c, "fast", 5000, NULL, NULL), TG_OK);
    assert_int_equal(atomic_load(&g.ok), 0);
    atomic_store(&slow_release, 1);
    while (atomic_load(&g.ok) + atomic_load(&g.busy) + atomic_load(&g.other) < 6)
        usleep(5 * 1000);
    assert_int_equal(atomic_load(&g.other), 0);
    assert_int_equal(atomic_load(&g.busy), 4);
    assert_int_equal(atomic_load(&g.ok), 2);
    /* once they are done, the gate admits again */
    assert_int_equal(echo(c, "gated", 5000, NULL, NULL), TG_OK);
    bus_server_close(s);
    bus_client_close(c);
}

typedef struct hammer {
    bus_client *c;
    int calls;
    atomic_int *ok;
    atomic_int *failed;
} hammer;

static void *
hammer_main(void *arg)
{
    hammer *h = arg;
    char scope[32];

    for (int i = 0; i < h->calls; i++) {
        Tollgate__Token__TokenReply *r = NULL;
        snprintf(scope, sizeof(scope), "m%d", i);
        if (echo(h->c, scope, 5000, &r, NULL) == TG_OK && r != NULL &&
            strcmp(r->access_token, scope) == 0)
            atomic_fetch_add(h->ok, 1);
        else
            atomic_fetch_add(h->failed, 1);
        if (r != NULL)
            tollgate__token__token_reply__free_unpacked(r, NULL);
    }
    return NULL;
}

static void
run_hammer(bus_client *c, int threads, int calls, atomic_int *ok, atomic_int *failed,
           void (*during)(void *), void *arg)
{
    pthread_t t[16];
    hammer h = {.c = c, .calls = calls, .ok = ok, .failed = failed};

    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, hammer_main, &h);
    if (during != NULL)
        during(arg);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
}

static void
test_concurrency_and_spread(void **state)
{
    bus_client *c;
    bus_server *a, *b;
    atomic_int ok = 0, failed = 0;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    a = start_replica("a", 4);
    assert_int_equal(echo(c, "warm", 3000, NULL, NULL), TG_OK);
    b = start_replica("b", 4); /* joins while the client is running */
    usleep(300 * 1000);
    run_hammer(c, 8, 250, &ok, &failed, NULL, NULL);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&ok), 2000);
    printf("# served: a=%llu b=%llu\n", (unsigned long long)bus_server_served(a),
           (unsigned long long)bus_server_served(b));
    assert_true(bus_server_served(a) > 400);
    assert_true(bus_server_served(b) > 400);
    bus_server_close(a);
    bus_server_close(b);
    bus_client_close(c);
}

static void
kill_one(void *arg)
{
    bus_server **victim = arg;
    usleep(200 * 1000);
    bus_server_close(*victim); /* its socket closes; pending requests are resent */
    *victim = NULL;
}

static void
test_replica_dies_under_load(void **state)
{
    bus_client *c;
    bus_server *a, *b;
    atomic_int ok = 0, failed = 0;
    (void)state;

    assert_int_equal(bus_client_open(url, &c), TG_OK);
    a = start_replica("a", 4);
    b = start_replica("b", 4);
    usleep(300 * 1000);
    run_hammer(c, 8, 300, &ok, &failed, kill_one, &b);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&ok), 2400);
    bus_server_close(a);
    bus_client_close(c);
}

/* Callers that are themselves replicated meet the called service's replicas at a device. */
static void
test_device_many_callers_many_replicas(void **state)
{
    char front[64], back[64];
    const char *front_urls[] = {front, NULL};
    bus_device *dev;
    bus_client *c1, *c2;
    bus_server *a, *b;
    atomic_int ok = 0, failed = 0;
    int ports = tg_test_port_block(2);
    (void)state;

    snprintf(front, sizeof(front), "tcp://127.0.0.1:%d", ports);
    snprintf(back, sizeof(back), "tcp://127.0.0.1:%d", ports + 1);
    assert_int_equal(bus_device_open(front, back, &dev), TG_OK);
    assert_int_equal(bus_client_open_dial(front_urls, &c1), TG_OK);
    assert_int_equal(bus_client_open_dial(front_urls, &c2), TG_OK);
    snprintf(url, sizeof(url), "%s", back); /* replicas dial the device's back */
    a = start_replica("a", 4);
    assert_int_equal(echo(c1, "warm", 3000, NULL, NULL), TG_OK);
    b = start_replica("b", 4); /* joins later, with no change anywhere else */
    usleep(300 * 1000);
    run_hammer(c1, 4, 200, &ok, &failed, NULL, NULL);
    run_hammer(c2, 4, 200, &ok, &failed, NULL, NULL);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&ok), 1600);
    assert_true(bus_server_served(a) > 300);
    assert_true(bus_server_served(b) > 300);

    /* A replica closing under load loses at most what it was holding. */
    atomic_store(&ok, 0);
    run_hammer(c2, 8, 150, &ok, &failed, kill_one, &b);
    assert_true(atomic_load(&failed) <= 8);
    assert_int_equal(atomic_load(&ok) + atomic_load(&failed), 1200);
    bus_server_close(a);
    bus_client_close(c1);
    bus_client_close(c2);
    bus_device_close(dev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip_and_errors, setup),
        cmocka_unit_test_setup(test_deadline_without_replica, setup),
        cmocka_unit_test_setup(test_slow_request_does_not_block_others, setup),
        cmocka_unit_test_setup(test_concurrency_and_spread, setup),
        cmocka_unit_test_setup(test_replica_dies_under_load, setup),
        cmocka_unit_test_setup(test_device_many_callers_many_replicas, setup),
        cmocka_unit_test_setup(test_idle_workers_sleep, setup),
        cmocka_unit_test_setup(test_close_answers_the_request_in_hand, setup),
        cmocka_unit_test_setup(test_slow_admission_leaves_workers, setup),
    };
    log_init("bus-test", TG_LOG_WARN);
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
