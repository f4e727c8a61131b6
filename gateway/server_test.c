/*
 * The whole gateway in-process: h2o loop on a thread, a fake svc-token replica on lib/bus, raw
 * HTTP/1.1 over loopback. Covers what the pure tests cannot: the NNG → loop hand-off, clients
 * that leave before the reply, limits answered as JSON, and a stop with work in flight.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway.h"
#include "token.pb-c.h"

typedef struct fixture {
    gw_server *srv;
    bus_server *replica;
    pthread_t loop;
    int h2c_port, tls_port;
    char bus_url[128];
    char users_url[128];
} fixture;

static fixture fx;

/* Password-group requests per minute per address: above what the other tests send from
 * 127.0.0.1, so only the rate test (from other addresses) meets it. */
#define RATE_LIMIT 30

/* ---- fake svc-token ------------------------------------------------------------------------ */

static tg_err
on_token(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply)
{
    const Tollgate__Token__TokenRequest *t = (const Tollgate__Token__TokenRequest *)req;
    Tollgate__Token__TokenReply *r = (Tollgate__Token__TokenReply *)reply;
    char echo[512];

    if (strcmp(t->grant_type, "deny") == 0)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                            "Unauthorized");
    if (strcmp(t->grant_type, "slow") == 0)
        usleep(400 * 1000);
    snprintf(echo, sizeof(echo), "client=%s basic=%d:%s:%s ip=%s rid=%s", t->client_id,
             t->web ? t->web->has_basic : -1, t->web ? t->web->basic_user : "",
             t->web ? t->web->basic_password : "", t->web ? t->web->client_ip : "",
             bus_ctx_request_id(ctx));
    r->access_token = bus_ctx_strdup(ctx, echo);
    r->token_type = "Bearer";
    r->expires_in = 60;
    return TG_OK;
}

static tg_err
on_discovery(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply)
{
    (void)req;
    ((Tollgate__Token__OpenIdConfiguration *)reply)->issuer =
        bus_ctx_strdup(ctx, bus_ctx_issuer(ctx));
    return TG_OK;
}

static tg_err
on_jwks(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply)
{
    (void)ctx;
    (void)req;
    (void)reply;
    return TG_OK;
}

/* Approves one Origin the way a service would: a status-0 directive adds the header to the
 * JSON reply. */
static tg_err
on_userinfo(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply)
{
    const Tollgate__Token__Empty *e = (const Tollgate__Token__Empty *)req;
    Tollgate__Token__UserinfoReply *r = (Tollgate__Token__UserinfoReply *)reply;
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    Tollgate__Web__Header *h = bus_ctx_alloc(ctx, sizeof(*h));
    Tollgate__Web__Header **hs = bus_ctx_alloc(ctx, sizeof(*hs));

    if (d == NULL || h == NULL || hs == NULL)
        return TG_ENOMEM;
    tollgate__web__directive__init(d);
    tollgate__web__header__init(h);
    if (e->web != NULL && strcmp(e->web->origin, "https://app.example") == 0) {
        h->name = "access-control-allow-origin";
        h->value = e->web->origin;
        hs[0] = h;
        d->headers = hs;
        d->n_headers = 1;
    }
    r->http = d;
    return TG_OK;
}

static const bus_method methods[] = {
    {"token.Userinfo", &tollgate__token__empty__descriptor,
     &tollgate__token__userinfo_reply__descriptor, on_userinfo},
    {"token.Token", &tollgate__token__token_request__descriptor,
     &tollgate__token__token_reply__descriptor, on_token},
    {"token.Discovery", &tollgate__token__empty__descriptor,
     &tollgate__token__open_id_configuration__descriptor, on_discovery},
    {"token.Jwks", &tollgate__token__empty__descriptor, &tollgate__token__jwks__descriptor,
     on_jwks},
};

/* ---- raw HTTP/1.1 client ------------------------------------------------------------------- */

typedef struct http_reply {
    int status;
    char head[4096];
    char body[4096];
} http_reply;

/* Connects from source address src (any 127.0.0.0/8 address works on loopback), or from the
 * default when src is NULL. */
static int
dial_from(int port, const char *src)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    if (src != NULL) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    }
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static int
dial(int port)
{
    return dial_from(port, NULL);
}

static void
send_all(int fd, const char *req)
{
    size_t len = strlen(req), off = 0;

    while (off < len) {
        ssize_t n = write(fd, req + off, len - off);
        assert_true(n > 0);
        off += (size_t)n;
    }
}

/* Reads one response with a Content-Length (every gateway response has one). */
static void
read_reply(int fd, http_reply *r)
{
    char buf[8192];
    size_t len = 0;
    char *end = NULL, *cl;

    memset(r, 0, sizeof(*r));
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        assert_true(n > 0);
        len += (size_t)n;
        buf[len] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL)
            *end = '\0';
        if (end != NULL) {
            size_t want = 0;
            if ((cl = strcasestr(buf, "content-length: ")) != NULL)
                want = strtoul(cl + 16, NULL, 10);
            if (len - (size_t)(end + 4 - buf) >= want) {
                memcpy(r->body, end + 4, want);
                break;
            }
        }
    }
    snprintf(r->head, sizeof(r->head), "%.4000s", buf);
    r->status = (int)strtol(buf + 9, NULL, 10);
}

static void
roundtrip_from(const char *src, const char *req, http_reply *r)
{
    int fd = dial_from(fx.h2c_port, src);

    send_all(fd, req);
    read_reply(fd, r);
    close(fd);
}

static void
roundtrip(const char *req, http_reply *r)
{
    int fd = dial(fx.h2c_port);

    send_all(fd, req);
    read_reply(fd, r);
    close(fd);
}

static void
post_form(const char *body, const char *extra_headers, http_reply *r)
{
    char req[16384]; /* the largest body a test sends is 12 KiB */

    snprintf(req, sizeof(req),
             "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n%s\r\n%s",
             strlen(body), extra_headers, body);
    roundtrip(req, r);
}

/* ---- fixture ------------------------------------------------------------------------------- */

/* h2o objects belong to the loop thread (h2o keeps per-thread buffer pools), so the server is
 * also released there. */
static void *
run_loop(void *arg)
{
    (void)arg;
    if (gw_server_run(fx.srv) != TG_OK) /* cmocka asserts belong to the main thread */
        abort();
    gw_server_free(fx.srv);
    fx.srv = NULL;
    return NULL;
}

/* h2o 2.2 caches freed chunks in per-thread free lists and has no call to release them; they
 * are lost when the loop thread ends. Only that cache is exempt from the leak check. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

static int
setup(void **state)
{
    const char *dial_urls[2] = {fx.bus_url, NULL};
    bus_server_opts bopts = {.dial_urls = dial_urls,
                             .methods = methods,
                             .n_methods = sizeof(methods) / sizeof(methods[0]),
                             .workers = 4};
    gw_config cfg = {.tls_listen = "127.0.0.1:0",
                     .h2c_listen = "127.0.0.1:0",
                     .deadline_ms = 2000,
                     .max_body = 1024,
                     .access_log = "/dev/null",
                     .rate_password = {RATE_LIMIT, 60},
                     .rate_limit_cleartext = 1}; /* the tests speak cleartext */
    SSL_CTX *ssl;
    http_reply r;
    char perr[128];

    (void)state;
    /* 127.0.0.4 plays an ingress whose X-Forwarded-For names the client */
    assert_int_equal(gw_proxies_parse("127.0.0.4", &cfg.proxies, perr, sizeof(perr)), TG_OK);
    log_init("gateway-test", TG_LOG_WARN);
    gw_signals_init(); /* before any thread: SIGTERM reaches the loop's signalfd only */
    snprintf(fx.bus_url, sizeof(fx.bus_url), "ipc:///tmp/tg-gw-test-%d.ipc", (int)getpid());
    assert_int_equal(gw_server_new(&cfg, &fx.srv), TG_OK);
    assert_int_equal(gw_tls_new(NULL, NULL, &ssl), TG_OK);
    gw_server_set_tls(fx.srv, ssl);
    assert_int_equal(gw_server_listen(fx.srv), TG_OK);
    assert_int_equal(gw_server_add_service(fx.srv, "token", fx.bus_url), TG_OK);
    /* No users or authorize replica here: the routes only need their clients to exist. */
    snprintf(fx.users_url, sizeof(fx.users_url), "ipc:///tmp/tg-gw-test-users-%d.ipc",
             (int)getpid());
    assert_int_equal(gw_server_add_service(fx.srv, "users", fx.users_url), TG_OK);
    snprintf(fx.users_url, sizeof(fx.users_url), "ipc:///tmp/tg-gw-test-authorize-%d.ipc",
             (int)getpid());
    assert_int_equal(gw_server_add_service(fx.srv, "authorize", fx.users_url), TG_OK);
    assert_int_equal(gw_server_check_routes(fx.srv), TG_OK);
    fx.h2c_port = gw_server_port(fx.srv, false);
    fx.tls_port = gw_server_port(fx.srv, true);
    assert_true(fx.h2c_port > 0 && fx.tls_port > 0);
    assert_int_equal(bus_server_open(&bopts, &fx.replica), TG_OK);
    assert_int_equal(pthread_create(&fx.loop, NULL, run_loop, NULL), 0);
    for (int i = 0; i < 100; i++) { /* until the replica has dialled in */
        roundtrip("GET /.well-known/jwks.json HTTP/1.1\r\nHost: gw.test\r\n\r\n", &r);
        if (r.status == 200)
            return 0;
        usleep(50 * 1000);
    }
    fail_msg("replica never answered");
    return -1;
}

static int
teardown(void **state)
{
    (void)state;
    if (fx.srv != NULL) { /* a test failed before the stop: stop now */
        kill(getpid(), SIGTERM);
        pthread_join(fx.loop, NULL);
    }
    bus_server_close(fx.replica);
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void
token_round_trip_over_the_bus(void **state)
{
    http_reply r;

    (void)state;
    post_form("grant_type=ok&client_id=c%2B1",
              "X-Request-Id: req-123\r\nAuthorization: Basic bXklM0FpZDpwJTI2dw==\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "x-request-id: req-123"));
    assert_non_null(strstr(r.head, "cache-control: no-store"));
    assert_non_null(strstr(r.head, "pragma: no-cache"));
    assert_non_null(strstr(r.head, "x-content-type-options: nosniff"));
    assert_non_null(strstr(r.head, "content-type: application/json; charset=utf-8"));
    assert_non_null(strstr(r.body, "\"access_token\":\"client=c+1 basic=1:my:id:p&w "
                                   "ip=127.0.0.1 rid=req-123\""));
    assert_non_null(strstr(r.body, "\"expires_in\":60"));
}

static void
service_errors_and_issuer(void **state)
{
    http_reply r;

    (void)state;
    post_form("grant_type=deny", "", &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body,
                        "{\"error\":\"access_denied\",\"error_description\":\"Unauthorized\"}");
    roundtrip("GET /.well-known/openid-configuration HTTP/1.1\r\nHost: auth.test:8443\r\n"
              "X-Forwarded-Proto: https\r\n\r\n",
              &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"issuer\":\"https://auth.test:8443/\"}");
    assert_non_null(strstr(r.head, "access-control-allow-origin: *"));
}

static void
gateway_refusals_are_json(void **state)
{
    char req[12288], big[2000];
    http_reply r;

    (void)state;
    roundtrip("GET /nope HTTP/1.1\r\nHost: gw.test\r\n\r\n", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"error\":\"not_found\",\"error_description\":\"Not Found\"}");
    roundtrip("GET /oauth/token HTTP/1.1\r\nHost: gw.test\r\n\r\n", &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "allow: POST, OPTIONS"));
    roundtrip("POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nContent-Type: text/plain\r\n"
              "Content-Length: 1\r\n\r\nx",
              &r);
    assert_int_equal(r.status, 415);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(req, sizeof(req), "grant_type=%s", big); /* above --max-body 1024 */
    post_form(req, "", &r);
    assert_int_equal(r.status, 413);
    snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: gw.test\r\nX-Big: %s%s%s%s%s\r\n\r\n",
             big, big, big, big, big); /* 10 KB of headers */
    roundtrip(req, &r);
    assert_int_equal(r.status, 431);
    assert_string_equal(r.body, "{\"error\":\"invalid_request\",\"error_description\":\"Request "
                                "header fields too large\"}");
    post_form("client_id=a&client_id=b", "", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Duplicate parameter: client_id"));
    post_form("grant_type=ok", "Authorization: Basic bm9jb2xvbg==\r\n", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Malformed Authorization header"));
}

static void
client_leaving_before_the_reply_is_harmless(void **state)
{
    http_reply r;

    (void)state;
    for (int i = 0; i < 5; i++) {
        int fd = dial(fx.h2c_port);
        send_all(fd, "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nContent-Type: "
                     "application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\n"
                     "grant_type=slow");
        usleep(50 * 1000);
        close(fd);
    }
    usleep(600 * 1000); /* the replies arrive for requests that are gone */
    post_form("grant_type=ok&client_id=after", "", &r);
    assert_int_equal(r.status, 200);
}

/* Behind a trusted proxy the client is the right-most untrusted X-Forwarded-For address, for
 * the services (web.client_ip) and for the per-address limits; from anyone else the header
 * means nothing. */
static void
trusted_proxy_names_the_client(void **state)
{
    static const char *const cases[][3] = {
        /* from,       X-Forwarded-For header lines,                    the client */
        {"127.0.0.4", "X-Forwarded-For: 203.0.113.9\r\n", "203.0.113.9"},
        {"127.0.0.5", "X-Forwarded-For: 203.0.113.9\r\n", "127.0.0.5"},
        {"127.0.0.4", "X-Forwarded-For: 6.6.6.6, 198.51.100.1, 127.0.0.4\r\n", "198.51.100.1"},
        {"127.0.0.4", "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 198.51.100.2\r\n",
         "198.51.100.2"},
        {"127.0.0.4", "X-Forwarded-For: 198.51.100.3, not-an-ip\r\n", "127.0.0.4"},
        {"127.0.0.4", "", "127.0.0.4"},
    };
    char req[512], want[96];
    http_reply r;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(req, sizeof(req),
                 "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\n%sContent-Type: "
                 "application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\n"
                 "grant_type=ok",
                 cases[i][1]);
        roundtrip_from(cases[i][0], req, &r);
        assert_int_equal(r.status, 200);
        snprintf(want, sizeof(want), " ip=%s ", cases[i][2]);
        if (strstr(r.body, want) == NULL)
            fail_msg("case %zu: wanted%s in %s", i, want, r.body);
    }
    /* the forwarded client has its own bucket, not the ingress's */
    snprintf(req, sizeof(req),
             "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nX-Forwarded-For: 192.0.2.77\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\n"
             "grant_type=ok");
    roundtrip_from("127.0.0.4", req, &r);
    assert_non_null(strstr(r.head, "x-ratelimit-remaining: 29\r\n"));
    roundtrip_from("127.0.0.4", req, &r);
    assert_non_null(strstr(r.head, "x-ratelimit-remaining: 28\r\n"));
}

static void
rate_limit_per_address(void **state)
{
    const char *post = "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nContent-Type: "
                       "application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\n"
                       "grant_type=ok";
    char want[64];
    http_reply r;

    (void)state;
    for (int i = 0; i < RATE_LIMIT; i++) {
        roundtrip_from("127.0.0.2", post, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.head, "x-ratelimit-limit: 30\r\n"));
        snprintf(want, sizeof(want), "x-ratelimit-remaining: %d\r\n", RATE_LIMIT - 1 - i);
        assert_non_null(strstr(r.head, want));
        assert_non_null(strstr(r.head, "x-ratelimit-reset: "));
    }
    roundtrip_from("127.0.0.2", post, &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.body, "{\"error\":\"too_many_requests\",\"error_description\":\"Too "
                                "many requests. Check the X-RateLimit-* headers.\"}");
    assert_non_null(strstr(r.head, "x-ratelimit-limit: 30\r\n"));
    assert_non_null(strstr(r.head, "x-ratelimit-remaining: 0\r\n"));
    {
        long long reset = strtoll(strstr(r.head, "x-ratelimit-reset: ") + 19, NULL, 10);
        long long now = (long long)time(NULL);
        assert_true(reset >= now + 58 && reset <= now + 61); /* the whole bucket: one minute */
    }
    /* another address is not affected; unlimited routes carry no headers */
    roundtrip_from("127.0.0.3", post, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "x-ratelimit-remaining: 29\r\n"));
    roundtrip_from("127.0.0.2", "GET /.well-known/jwks.json HTTP/1.1\r\nHost: gw.test\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.head, "x-ratelimit"));
}

static void
cors_preflight_and_service_approval(void **state)
{
    http_reply r;

    (void)state;
    roundtrip("OPTIONS /oauth/token HTTP/1.1\r\nHost: gw.test\r\nOrigin: https://app.example\r\n"
              "Access-Control-Request-Method: POST\r\n\r\n",
              &r);
    assert_int_equal(r.status, 204);
    assert_non_null(strstr(r.head, "access-control-allow-origin: https://app.example\r\n"));
    assert_non_null(strstr(r.head, "access-control-allow-credentials: true\r\n"));
    assert_non_null(strstr(r.head, "access-control-allow-methods: POST, OPTIONS\r\n"));
    assert_non_null(strstr(r.head, "access-control-allow-headers: Content-Type, Auth0-Client, "
                                   "Authorization, DPoP\r\n"));
    assert_non_null(strstr(r.head, "access-control-max-age: 86400\r\n"));
    assert_non_null(strstr(r.head, "vary: Origin\r\n"));
    assert_null(strstr(r.head, "x-ratelimit")); /* a preflight spends nothing */
    /* a route without the flag: no Allow-Origin, so the browser refuses */
    roundtrip("OPTIONS /u/reset-password HTTP/1.1\r\nHost: gw.test\r\n"
              "Origin: https://app.example\r\n\r\n",
              &r);
    assert_int_equal(r.status, 204);
    assert_null(strstr(r.head, "access-control-allow-origin"));
    roundtrip("OPTIONS /.well-known/jwks.json HTTP/1.1\r\nHost: gw.test\r\n"
              "Origin: https://x.example\r\n\r\n",
              &r);
    assert_non_null(strstr(r.head, "access-control-allow-origin: *\r\n"));
    /* the actual response: Allow-Origin only when the service approves */
    roundtrip("GET /userinfo HTTP/1.1\r\nHost: gw.test\r\nOrigin: https://app.example\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "access-control-allow-origin: https://app.example\r\n"));
    assert_non_null(strstr(r.head, "vary: Origin\r\n"));
    assert_non_null(strstr(r.head, "content-type: application/json"));
    roundtrip("GET /userinfo HTTP/1.1\r\nHost: gw.test\r\nOrigin: https://evil.example\r\n\r\n",
              &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.head, "access-control-allow-origin"));
}

/* Last: stops the server with a request in flight and a TLS handshake never finished. */
static void
stop_finishes_in_flight_work(void **state)
{
    int idle_tls = dial(fx.tls_port);
    int fd = dial(fx.h2c_port);
    http_reply r;

    (void)state;
    send_all(fd, "POST /oauth/token HTTP/1.1\r\nHost: gw.test\r\nContent-Type: "
                 "application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\n"
                 "grant_type=slow");
    usleep(100 * 1000);
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    read_reply(fd, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(pthread_join(fx.loop, NULL), 0);
    close(fd);
    close(idle_tls);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_round_trip_over_the_bus),
        cmocka_unit_test(service_errors_and_issuer),
        cmocka_unit_test(gateway_refusals_are_json),
        cmocka_unit_test(client_leaving_before_the_reply_is_harmless),
        cmocka_unit_test(rate_limit_per_address),
        cmocka_unit_test(trusted_proxy_names_the_client),
        cmocka_unit_test(cors_preflight_and_service_approval),
        cmocka_unit_test(stop_finishes_in_flight_work),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
