/*
 * The per-address limit on reset emails (svc-users/reset_limit.c) over a real store, and
 * users.ChangePassword over the real bus with the real mailer writing to an outbox folder:
 *   - the bucket: a burst, then one per period (time given to the function), whole refills
 *     capped at the burst, case-insensitive addresses, hostile addresses, bad limits, no
 *     lost or extra token when threads race, and the count survives reopening the store;
 *   - the handler: beyond the limit the reply is the same bytes and no mail goes out; an
 *     unknown address is counted too (it stays spent once the user signs up); another address
 *     is not affected; overlong and non-UTF-8 addresses get the same reply; a new period sends
 *     again (real clock).
 * The store is SQLite in a temporary file, or the one at the URL in the variable named by
 * "--url-env VAR" (exit 77, skipped, when it is unset): tests/run points it at MongoDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "users_system.h"

#define CONN "Username-Password-Authentication"
#define SENT "We've just sent you an email to reset your password."

static config_connection connections[] = {
    {.name = CONN, .strategy = "auth0", .all_clients = true, .password_policy = CONFIG_PW_LOW},
};

static users_system fx;
static const char *store_url; /* NULL: a temporary SQLite file */
static char dbname[64];

/* ---- the outbox ---------------------------------------------------------------------------- */

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* Mails in the outbox addressed to `to` (exactly, as written in the To: line). */
static int
mails_to(const char *to)
{
    char want[400], path[600];
    DIR *d = opendir(fx.outbox);
    struct dirent *e;
    int n = 0;

    snprintf(want, sizeof(want), "\r\nTo: %s\r\n", to);
    while (d != NULL && (e = readdir(d)) != NULL) {
        char *text;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", fx.outbox, e->d_name);
        if ((text = read_file(path)) != NULL) {
            n += strstr(text, want) != NULL;
            free(text);
        }
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* Waits until `to` has n mails (10 s at most), then asserts it has exactly n. */
static void
wait_mails(const char *to, int n)
{
    for (int i = 0; i < 400 && mails_to(to) < n; i++)
        usleep(25 * 1000);
    assert_int_equal(mails_to(to), n);
}

/* ---- fixture ------------------------------------------------------------------------------- */

static int
setup(void **state)
{
    (void)state;
    /* its own namespace each run, so reruns against one MongoDB never share counters */
    snprintf(dbname, sizeof(dbname), "rl_%d_%lld", getpid(), (long long)tg_now_s());
    users_system_start(&fx, &(users_system_opts){.tenant_yaml = USERS_SYSTEM_TENANT_YAML,
                                                 .connections = connections,
                                                 .n_connections = 1,
                                                 .name = "reset-limit",
                                                 .store_url = store_url,
                                                 .dbname = dbname,
                                                 .hasher_threads = 1,
                                                 .workers = 4,
                                                 .mailer = true});
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    users_system_stop(&fx);
    return 0;
}

/* A user with this address in the store, as signup leaves it (no password needed here). */
static void
add_user(const char *email)
{
    char id[USERS_ID_HEX + 1];
    json_t *doc = NULL;

    assert_int_equal(users_store_new_id(id), TG_OK);
    assert_int_equal(users_doc_new(&connections[0],
                                   &(users_new_user){.id = id, .email = email}, &doc),
                     TG_OK);
    assert_int_equal(users_store_insert(fx.app.st, doc), TG_OK);
    json_decref(doc);
}

/* ---- the bucket ------------------------------------------------------------------------------ */

static bool
take(const users_reset_limit *lim, const char *address, int64_t now_s)
{
    char tag[USERS_RESET_TAG_HEX + 1];
    bool allowed = true;

    assert_int_equal(users_reset_limit_take(fx.app.st, lim, address, now_s, &allowed, tag),
                     TG_OK);
    assert_int_equal(strlen(tag), USERS_RESET_TAG_HEX);
    return allowed;
}

static int
takes(const users_reset_limit *lim, const char *address, int64_t now_s, int n)
{
    int got = 0;

    for (int i = 0; i < n; i++)
        got += take(lim, address, now_s);
    return got;
}

static void
test_bucket_burst_then_one_per_period(void **state)
{
    const users_reset_limit lim = {.burst = 5, .period_s = 600};
    /* 3 s into a coming period: the store expires documents by the real clock, so the times
     * given here must not be in the past */
    int64_t t0 = (tg_now_s() / 600 + 1) * 600 + 3;
    (void)state;

    assert_int_equal(takes(&lim, "bucket@example.com", t0, 7), 5); /* the burst, then no */
    assert_false(take(&lim, "bucket@example.com", t0 + 596)); /* still the same period */
    assert_true(take(&lim, "bucket@example.com", t0 + 597));   /* the next period's token */
    assert_false(take(&lim, "bucket@example.com", t0 + 900));
    /* two quiet periods bring two tokens */
    assert_int_equal(takes(&lim, "bucket@example.com", t0 + 3 * 600, 4), 2);
    /* a long quiet time refills the bucket, never beyond the burst */
    assert_int_equal(takes(&lim, "bucket@example.com", t0 + 100 * 600, 9), 5);
    /* the default limit is Auth0's: 10 at once, then one a minute */
    assert_int_equal(takes(NULL, "default@example.com", t0, 12), 10);
    assert_false(take(NULL, "default@example.com", t0 + 56)); /* t0 is 3 s into a minute */
    assert_true(take(NULL, "default@example.com", t0 + 57));
    assert_int_equal(takes(&(users_reset_limit){0}, "zero@example.com", t0, 11), 10);
}

static void
test_bucket_addresses(void **state)
{
    const users_reset_limit lim = {.burst = 2, .period_s = 3600};
    char tag_a[USERS_RESET_TAG_HEX + 1], tag_b[USERS_RESET_TAG_HEX + 1];
    int64_t now = tg_now_s();
    size_t big = 100000;
    char *huge = malloc(big + 1);
    bool allowed;
    (void)state;

    /* one bucket per address, whatever its case (ASCII, like email_key) */
    assert_true(take(&lim, "MiXeD@Example.COM", now));
    assert_true(take(&lim, "mixed@example.com", now));
    assert_false(take(&lim, "MIXED@EXAMPLE.COM", now));
    assert_true(take(&lim, "other-mixed@example.com", now));
    assert_int_equal(users_reset_limit_take(fx.app.st, &lim, "Mixed@example.com", now, &allowed,
                                            tag_a),
                     TG_OK);
    assert_int_equal(users_reset_limit_take(fx.app.st, &lim, "mixed@EXAMPLE.com", now, &allowed,
                                            tag_b),
                     TG_OK);
    assert_string_equal(tag_a, tag_b);
    assert_null(strstr(tag_a, "mixed"));
    for (size_t i = 0; i < USERS_RESET_TAG_HEX; i++)
        assert_non_null(strchr("0123456789abcdef", tag_a[i]));

    /* hostile addresses are only bytes to hash: non-UTF-8, control bytes, overlong, empty */
    assert_true(take(&lim, "\xff\xfe\xc0\xaf@\x80.example", now));
    assert_true(take(&lim, "\xff\xfe\xc0\xaf@\x80.example", now));
    assert_false(take(&lim, "\xff\xfe\xc0\xaf@\x80.EXAMPLE", now));
    assert_true(take(&lim, "a\r\nBcc: x@y.z", now));
    assert_non_null(huge);
    memset(huge, 'A', big);
    huge[big] = '\0';
    assert_int_equal(takes(&lim, huge, now, 3), 2);
    huge[0] = 'a'; /* the same address in another case */
    assert_false(take(&lim, huge, now));
    free(huge);
    assert_int_equal(takes(&lim, "", now, 3), 2);
    assert_int_equal(takes(&lim, NULL, now, 1), 0); /* NULL is "" */

    /* limits out of range are refused, not guessed */
    static const users_reset_limit bad[] = {
        {.burst = -1, .period_s = 60},   {.burst = USERS_RESET_BURST_MAX + 1, .period_s = 60},
        {.burst = 5, .period_s = -60},   {.burst = 5, .period_s = USERS_RESET_PERIOD_MAX_S + 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        allowed = true;
        assert_int_equal(users_reset_limit_take(fx.app.st, &bad[i], "x@example.com", now,
                                                &allowed, tag_a),
                         TG_EINVAL);
        assert_false(allowed);
    }
    assert_int_equal(users_reset_limit_take(fx.app.st, &lim, "x@example.com", -1, &allowed,
                                            tag_a),
                     TG_EINVAL);
}

#define RACERS 16

typedef struct racer {
    pthread_t thread;
    const users_reset_limit *lim;
    int64_t now;
    pthread_barrier_t *start;
    tg_err err;
    bool allowed;
} racer;

static void *
race(void *arg)
{
    racer *r = arg;
    char tag[USERS_RESET_TAG_HEX + 1];

    pthread_barrier_wait(r->start);
    r->err = users_reset_limit_take(fx.app.st, r->lim, "race@example.com", r->now, &r->allowed,
                                    tag);
    return NULL;
}

/* Requests at the same moment neither lose a token nor get one too many. */
static void
test_bucket_concurrent(void **state)
{
    const users_reset_limit lim = {.burst = 5, .period_s = 3600};
    pthread_barrier_t start;
    racer r[RACERS];
    int64_t now = tg_now_s();
    int allowed = 0;
    (void)state;

    assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer){.lim = &lim, .now = now, .start = &start};
        assert_int_equal(pthread_create(&r[i].thread, NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(r[i].thread, NULL);
        assert_int_equal(r[i].err, TG_OK);
        allowed += r[i].allowed;
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(allowed, 5);
    assert_false(take(&lim, "race@example.com", now));
}

/* The count is in the store, not in the process: it holds after reopening. */
static void
test_bucket_survives_reopen(void **state)
{
    const users_reset_limit lim = {.burst = 3, .period_s = 3600};
    int64_t now = tg_now_s();
    (void)state;

    assert_int_equal(takes(&lim, "restart@example.com", now, 2), 2);
    /* the mailer and the server hold the store: stop them around the reopening */
    bus_server_close(fx.srv);
    users_mailer_free(fx.app.mailer);
    store_close(fx.app.st);
    users_system_open_store(&fx);
    users_system_open_mailer(&fx);
    users_system_serve(&fx);
    assert_int_equal(takes(&lim, "restart@example.com", now, 2), 1);
}

/* ---- users.ChangePassword -------------------------------------------------------------------- */

/* Calls users.ChangePassword for email and returns the reply's bytes (caller frees), after
 * checking it is the one answer: 200 text/html, no headers, the fixed text. */
static uint8_t *
change_password(const char *email, size_t *len)
{
    Tollgate__Users__ChangePasswordRequest req = TOLLGATE__USERS__CHANGE_PASSWORD_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "users.ChangePassword", .issuer = "https://id.example.test/",
                       .deadline_ms = tg_now_ms() + 10000};
    Tollgate__Users__ChangePasswordReply *reply;
    bus_result *res = NULL;
    uint8_t *bytes;

    req.web = &web;
    req.client_id = "web-id";
    req.email = (char *)email;
    req.connection = CONN;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    if (res->error != NULL)
        fail_msg("ChangePassword failed: %s %s", res->error->error,
                 res->error->error_description);
    reply = tollgate__users__change_password_reply__unpack(NULL, res->payload.len,
                                                           res->payload.data);
    assert_non_null(reply);
    assert_non_null(reply->http);
    assert_int_equal(reply->http->status, 200);
    assert_string_equal(reply->http->content_type, "text/html; charset=utf-8");
    assert_int_equal(reply->http->n_headers, 0);
    assert_int_equal(reply->http->body.len, strlen(SENT));
    assert_memory_equal(reply->http->body.data, SENT, strlen(SENT));
    tollgate__users__change_password_reply__free_unpacked(reply, NULL);
    *len = res->payload.len;
    bytes = malloc(*len + 1);
    assert_non_null(bytes);
    memcpy(bytes, res->payload.data, *len);
    bus_result_free(res);
    return bytes;
}

/* Calls users.ChangePassword and asserts the reply is byte for byte `first` (set by the first
 * call when *first is NULL). */
static void
change_password_same(const char *email, uint8_t **first, size_t *first_len)
{
    size_t len;
    uint8_t *bytes = change_password(email, &len);

    if (*first == NULL) {
        *first = bytes;
        *first_len = len;
        return;
    }
    assert_int_equal(len, *first_len);
    assert_memory_equal(bytes, *first, len);
    free(bytes);
}

/* One more request for a fresh known address, whose mail is queued after everything asked
 * before: once it is in the outbox, the mailer has dealt with all earlier requests. */
static void
drain_mailer(uint8_t **first, size_t *first_len)
{
    char sentinel[64];
    static int n;

    snprintf(sentinel, sizeof(sentinel), "sentinel-%d@example.com", ++n);
    add_user(sentinel);
    change_password_same(sentinel, first, first_len);
    wait_mails(sentinel, 1);
}

/* Sleeps until just after the start of the next period of period_s seconds. */
static void
sleep_to_period_start(int64_t period_s)
{
    int64_t now = tg_now_ms(), next = (now / (period_s * 1000) + 1) * period_s * 1000 + 50;

    usleep((useconds_t)((next - now) * 1000));
}

static void
test_change_password_limit(void **state)
{
    uint8_t *first = NULL;
    size_t first_len = 0;
    char overlong[400];
    (void)state;

    fx.app.reset_limit = (users_reset_limit){.burst = 5, .period_s = 3600};
    if (tg_now_s() % 3600 > 3600 - 30) /* the test takes well under 30 s: one period */
        sleep_to_period_start(3600);
    add_user("limit@example.com");
    /* five in any case of the address go out */
    change_password_same("limit@example.com", &first, &first_len);
    change_password_same("Limit@Example.com", &first, &first_len);
    change_password_same("LIMIT@EXAMPLE.COM", &first, &first_len);
    change_password_same("limit@example.COM", &first, &first_len);
    change_password_same("limit@example.com", &first, &first_len);
    wait_mails("limit@example.com", 5);
    /* the sixth: the same bytes, and no mail */
    change_password_same("limit@example.com", &first, &first_len);
    change_password_same("LiMiT@example.com", &first, &first_len);
    drain_mailer(&first, &first_len);
    assert_int_equal(mails_to("limit@example.com"), 5);

    /* an unknown address is counted too: once signed up, its spent bucket still holds */
    for (int i = 0; i < 5; i++)
        change_password_same("ghost@example.com", &first, &first_len);
    add_user("ghost@example.com");
    change_password_same("ghost@example.com", &first, &first_len);
    drain_mailer(&first, &first_len);
    assert_int_equal(mails_to("ghost@example.com"), 0);

    /* hostile addresses: the same answer, never a mail, and no crash */
    memset(overlong, 'a', sizeof(overlong) - 1);
    overlong[sizeof(overlong) - 1] = '\0';
    memcpy(overlong + sizeof(overlong) - 13, "@example.com", 12);
    for (int i = 0; i < 7; i++) {
        change_password_same(overlong, &first, &first_len);
        change_password_same("\xff\xfe\xc0\xaf@example.com", &first, &first_len);
        change_password_same("\xc3\x28@Example.com", &first, &first_len);
    }
    drain_mailer(&first, &first_len);
    free(first);
}

static void
test_change_password_new_period(void **state)
{
    uint8_t *first = NULL;
    size_t first_len = 0;
    int64_t period;
    (void)state;

    fx.app.reset_limit = (users_reset_limit){.burst = 2, .period_s = 3};
    add_user("period@example.com");
    sleep_to_period_start(3);
    period = tg_now_s() / 3;
    for (int i = 0; i < 4; i++) /* the burst of two, then nothing */
        change_password_same("period@example.com", &first, &first_len);
    sleep_to_period_start(3); /* the next period brings one token */
    assert_int_equal(tg_now_s() / 3, period + 1);
    change_password_same("period@example.com", &first, &first_len);
    change_password_same("period@example.com", &first, &first_len);
    drain_mailer(&first, &first_len);
    assert_int_equal(mails_to("period@example.com"), 3);
    free(first);
    fx.app.reset_limit = (users_reset_limit){0};
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_burst_then_one_per_period),
        cmocka_unit_test(test_bucket_addresses),
        cmocka_unit_test(test_bucket_concurrent),
        cmocka_unit_test(test_bucket_survives_reopen),
        cmocka_unit_test(test_change_password_limit),
        cmocka_unit_test(test_change_password_new_period),
    };

    if (argc == 3 && strcmp(argv[1], "--url-env") == 0) {
        store_url = getenv(argv[2]);
        if (store_url == NULL || store_url[0] == '\0') {
            fprintf(stderr, "%s is not set: skipping\n", argv[2]);
            return 77;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--url-env VAR]\n", argv[0]);
        return 2;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
