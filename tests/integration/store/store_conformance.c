/*
 * Store conformance: the same suite runs against every driver, so both honour store.h the same
 * way. The URL comes from $TG_STORE_URL, or from the variable named by "--url-env VAR"; when
 * that variable is unset the suite exits 77 (skipped). Each run works in its own namespace
 * ("conf_<pid>_<time>"), so reruns against the same file or server never collide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#define RACE_THREADS 8
#define RACE_ROUNDS 20
#define WRITER_THREADS 8
#define WRITER_OPS 40

static const char *store_url;
static char dbname[64];
static store *st;

/* Compares error names, so a failure reads "ENOTFOUND != OK" rather than two numbers. */
#define assert_err(expected, expr) assert_string_equal(tg_strerror(expr), tg_strerror(expected))

static json_t *
doc_parse(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);

    if (doc == NULL)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return doc;
}

static void
insert_text(const char *coll, const char *text, tg_err expected)
{
    json_t *doc = doc_parse(text);

    assert_err(expected, store_insert(st, coll, doc));
    json_decref(doc);
}

static void
update_text(const char *coll, const char *id, const char *text, tg_err expected)
{
    json_t *set = doc_parse(text);

    assert_err(expected, store_update(st, coll, id, set));
    json_decref(set);
}

static void
assert_doc_equal(const json_t *got, const char *expected_text)
{
    json_t *expected = doc_parse(expected_text);

    if (!json_equal(got, expected)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);

        fail_msg("document differs:\n  got      %s\n  expected %s", g, expected_text);
    }
    json_decref(expected);
}

static const char *
str_field(const json_t *doc, const char *field)
{
    return json_string_value(json_object_get(doc, field));
}

static void
expect_found(const char *coll, const char *field, const char *value, const char *id)
{
    json_t *doc = NULL;

    assert_err(TG_OK, store_find_one(st, coll, field, value, &doc));
    assert_non_null(doc);
    assert_string_equal(str_field(doc, "_id"), id);
    json_decref(doc);
}

static void
expect_not_found(const char *coll, const char *field, const char *value)
{
    json_t *doc = NULL;

    assert_err(TG_ENOTFOUND, store_find_one(st, coll, field, value, &doc));
    assert_null(doc);
}

static bool
is_mongodb(void)
{
    return strcmp(store_driver_name(st), "mongodb") == 0;
}

/* ---- tests ---- */

static void
test_driver_matches_url(void **state)
{
    (void)state;
    if (strncmp(store_url, "mongodb", 7) == 0)
        assert_string_equal(store_driver_name(st), "mongodb");
    else
        assert_string_equal(store_driver_name(st), "sqlite");
}

static void
test_crud_round_trip(void **state)
{
    static const char *const unique[] = {"email", NULL};
    static const char doc_text[] =
        "{\"_id\":\"u1\",\"email\":\"a@example.com\",\"n\":42,\"big\":9007199254740993,"
        "\"neg\":-7,\"r\":1.5,\"whole\":2.0,\"t\":true,\"f\":false,\"z\":null,"
        "\"nested\":{\"arr\":[1,\"two\",{\"k\":\"v\",\"in\":[]},null],\"o\":{}}}";
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "crud", unique));
    assert_err(TG_OK, store_collection_ensure(st, "crud", unique)); /* idempotent */
    insert_text("crud", doc_text, TG_OK);

    assert_err(TG_OK, store_get(st, "crud", "u1", &got));
    assert_doc_equal(got, doc_text);
    json_decref(got);
    assert_err(TG_OK, store_find_one(st, "crud", "email", "a@example.com", &got));
    assert_doc_equal(got, doc_text);
    json_decref(got);

    /* $set semantics: listed fields replaced whole (objects too), others kept. */
    update_text("crud", "u1", "{\"n\":43,\"extra\":\"x\",\"nested\":{\"replaced\":true},\"z\":1}",
                TG_OK);
    assert_err(TG_OK, store_get(st, "crud", "u1", &got));
    assert_doc_equal(got, "{\"_id\":\"u1\",\"email\":\"a@example.com\",\"n\":43,"
                          "\"big\":9007199254740993,\"neg\":-7,\"r\":1.5,\"whole\":2.0,"
                          "\"t\":true,\"f\":false,\"z\":1,\"nested\":{\"replaced\":true},"
                          "\"extra\":\"x\"}");
    json_decref(got);
    update_text("crud", "u1", "{\"extra\":null}", TG_OK); /* null is a value, not a removal */
    assert_err(TG_OK, store_get(st, "crud", "u1", &got));
    assert_true(json_is_null(json_object_get(got, "extra")));
    json_decref(got);

    assert_err(TG_OK, store_delete(st, "crud", "u1"));
    assert_err(TG_ENOTFOUND, store_get(st, "crud", "u1", &got));
    assert_null(got);
    assert_err(TG_ENOTFOUND, store_delete(st, "crud", "u1"));
    expect_not_found("crud", "email", "a@example.com");
}

static void
test_not_found(void **state)
{
    json_t *got = NULL;

    (void)state;
    /* "never_ensured" was never created: everything simply finds nothing. */
    for (int i = 0; i < 2; i++) {
        const char *coll = i == 0 ? "never_ensured" : "crud";

        assert_err(TG_ENOTFOUND, store_get(st, coll, "nope", &got));
        assert_null(got);
        expect_not_found(coll, "email", "nobody@example.com");
        update_text(coll, "nope", "{\"a\":1}", TG_ENOTFOUND);
        assert_err(TG_ENOTFOUND, store_delete(st, coll, "nope"));
        assert_err(TG_ENOTFOUND, store_consume(st, coll, "nope", "req-1", &got));
        assert_null(got);
    }
    /* A failed update must not have created the document (no upsert). */
    assert_err(TG_ENOTFOUND, store_get(st, "crud", "nope", &got));
}

static void
test_duplicate_id(void **state)
{
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "dups", NULL));
    insert_text("dups", "{\"_id\":\"d1\",\"v\":\"first\"}", TG_OK);
    insert_text("dups", "{\"_id\":\"d1\",\"v\":\"second\"}", TG_EEXIST);
    assert_err(TG_OK, store_get(st, "dups", "d1", &got));
    assert_string_equal(str_field(got, "v"), "first");
    json_decref(got);
}

static void
test_unique_fields(void **state)
{
    static const char *const unique[] = {"email", "username", NULL};
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "uniq", unique));
    insert_text("uniq", "{\"_id\":\"a\",\"email\":\"a@x\",\"username\":\"ua\"}", TG_OK);
    insert_text("uniq", "{\"_id\":\"b\",\"email\":\"a@x\",\"username\":\"ub\"}", TG_EEXIST);
    insert_text("uniq", "{\"_id\":\"b\",\"email\":\"b@x\",\"username\":\"ua\"}", TG_EEXIST);
    assert_err(TG_ENOTFOUND, store_get(st, "uniq", "b", &got));
    insert_text("uniq", "{\"_id\":\"b\",\"email\":\"b@x\",\"username\":\"ub\"}", TG_OK);

    /* Collisions on update too, leaving the document as it was. */
    update_text("uniq", "b", "{\"email\":\"a@x\",\"other\":1}", TG_EEXIST);
    assert_err(TG_OK, store_get(st, "uniq", "b", &got));
    assert_string_equal(str_field(got, "email"), "b@x");
    assert_null(json_object_get(got, "other"));
    json_decref(got);
    update_text("uniq", "b", "{\"email\":\"c@x\"}", TG_OK);
    insert_text("uniq", "{\"_id\":\"c\",\"email\":\"b@x\",\"username\":\"uc\"}", TG_OK);
    update_text("uniq", "c", "{\"email\":\"b@x\"}", TG_OK); /* same value on itself */

    /* Documents lacking a unique field do not collide with each other. */
    insert_text("uniq", "{\"_id\":\"n1\",\"username\":\"un1\"}", TG_OK);
    insert_text("uniq", "{\"_id\":\"n2\",\"username\":\"un2\"}", TG_OK);
    insert_text("uniq", "{\"_id\":\"n3\"}", TG_OK);
    insert_text("uniq", "{\"_id\":\"n4\"}", TG_OK);
    expect_found("uniq", "username", "un2", "n2");

    /* Another process (a second replica, a restart, the import tool) ensures the same
     * collection again through its own handle: idempotent, and the indexes still hold.
     * (FerretDB 1.24 panicked on a repeated createIndexes of existing unique indexes.) */
    {
        store *other = NULL;
        assert_err(TG_OK, store_open(store_url, dbname, &other));
        assert_err(TG_OK, store_collection_ensure(other, "uniq", unique));
        assert_err(TG_OK, store_collection_ensure(other, "uniq", unique));
        store_close(other);
    }
    insert_text("uniq", "{\"_id\":\"d\",\"email\":\"a@x\",\"username\":\"ud\"}", TG_EEXIST);
}

static void
test_expiry(void **state)
{
    static const char *const unique[] = {"code", NULL};
    int64_t now = tg_now_s(), purged = -1;
    char text[256];
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "expiry", unique));
    snprintf(text, sizeof(text), "{\"_id\":\"past\",\"code\":\"p\",\"expires_at\":%lld}",
             (long long)(now - 10));
    insert_text("expiry", text, TG_OK);
    snprintf(text, sizeof(text), "{\"_id\":\"future\",\"code\":\"f\",\"expires_at\":%lld}",
             (long long)(now + 3600));
    insert_text("expiry", text, TG_OK);
    insert_text("expiry", "{\"_id\":\"forever\",\"code\":\"e\"}", TG_OK);

    assert_err(TG_ENOTFOUND, store_get(st, "expiry", "past", &got));
    expect_not_found("expiry", "code", "p");
    update_text("expiry", "past", "{\"touched\":true}", TG_ENOTFOUND);
    assert_err(TG_ENOTFOUND, store_consume(st, "expiry", "past", "req-1", &got));
    assert_null(got);

    /* A live one is visible, with expires_at as the integer epoch seconds it was given. */
    assert_err(TG_OK, store_get(st, "expiry", "future", &got));
    assert_true(json_is_integer(json_object_get(got, "expires_at")));
    assert_int_equal(json_integer_value(json_object_get(got, "expires_at")), now + 3600);
    json_decref(got);
    expect_found("expiry", "code", "f", "future");
    expect_found("expiry", "code", "e", "forever");

    assert_err(TG_OK, store_purge_expired(st, "expiry", &purged));
    /* MongoDB's own TTL monitor may have removed it first (it runs once a minute). */
    if (is_mongodb())
        assert_in_range(purged, 0, 1);
    else
        assert_int_equal(purged, 1);
    assert_err(TG_OK, store_purge_expired(st, "expiry", &purged));
    assert_int_equal(purged, 0);
    assert_err(TG_OK, store_purge_expired(st, "expiry", NULL));
    assert_err(TG_OK, store_get(st, "expiry", "future", &got));
    json_decref(got);
    assert_err(TG_OK, store_get(st, "expiry", "forever", &got));
    json_decref(got);

    /* Updating expires_at into the past expires the document. */
    snprintf(text, sizeof(text), "{\"expires_at\":%lld}", (long long)(now - 1));
    update_text("expiry", "future", text, TG_OK);
    assert_err(TG_ENOTFOUND, store_get(st, "expiry", "future", &got));
    expect_not_found("expiry", "code", "f");
}

/* An expired document nobody purged yet must not block its _id or unique values. */
static void
test_expired_does_not_collide(void **state)
{
    static const char *const unique[] = {"code", NULL};
    int64_t now = tg_now_s();
    char text[256];
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "expiry2", unique));
    snprintf(text, sizeof(text), "{\"_id\":\"x\",\"code\":\"c1\",\"expires_at\":%lld}",
             (long long)(now - 5));
    insert_text("expiry2", text, TG_OK);
    insert_text("expiry2", "{\"_id\":\"x\",\"code\":\"c2\"}", TG_OK);
    assert_err(TG_OK, store_get(st, "expiry2", "x", &got));
    assert_string_equal(str_field(got, "code"), "c2");
    json_decref(got);

    snprintf(text, sizeof(text), "{\"_id\":\"y\",\"code\":\"c3\",\"expires_at\":%lld}",
             (long long)(now - 5));
    insert_text("expiry2", text, TG_OK);
    insert_text("expiry2", "{\"_id\":\"z\",\"code\":\"c3\"}", TG_OK);
    update_text("expiry2", "x", "{\"code\":\"c4\"}", TG_OK);
    snprintf(text, sizeof(text), "{\"_id\":\"w\",\"code\":\"c5\",\"expires_at\":%lld}",
             (long long)(now - 5));
    insert_text("expiry2", text, TG_OK);
    update_text("expiry2", "x", "{\"code\":\"c5\"}", TG_OK);
}

static void
test_consume_once(void **state)
{
    json_t *first = NULL, *again = NULL, *got = NULL;
    int64_t now = tg_now_s();

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "codes", NULL));
    insert_text("codes", "{\"_id\":\"code1\",\"client_id\":\"app\"}", TG_OK);

    assert_err(TG_OK, store_consume(st, "codes", "code1", "req-A", &first));
    assert_non_null(first);
    assert_string_equal(str_field(first, "consumed_by"), "req-A");
    assert_string_equal(str_field(first, "client_id"), "app");
    assert_true(json_is_integer(json_object_get(first, "consumed_at")));
    assert_in_range(json_integer_value(json_object_get(first, "consumed_at")), now - 1, now + 60);

    assert_err(TG_ECONSUMED, store_consume(st, "codes", "code1", "req-B", &got));
    assert_null(got);

    /* The same consumer again (a resent request) gets the same document. */
    assert_err(TG_OK, store_consume(st, "codes", "code1", "req-A", &again));
    assert_true(json_equal(first, again));
    json_decref(again);
    assert_err(TG_OK, store_get(st, "codes", "code1", &got));
    assert_true(json_equal(first, got));
    json_decref(got);
    json_decref(first);

    /* Deleting a consumed document frees its _id for a new, unconsumed one. */
    assert_err(TG_OK, store_delete(st, "codes", "code1"));
    insert_text("codes", "{\"_id\":\"code1\",\"client_id\":\"app2\"}", TG_OK);
    assert_err(TG_OK, store_consume(st, "codes", "code1", "req-C", &got));
    assert_string_equal(str_field(got, "consumed_by"), "req-C");
    assert_string_equal(str_field(got, "client_id"), "app2");
    json_decref(got);
    assert_err(TG_ECONSUMED, store_consume(st, "codes", "code1", "req-A", &got));
}

/* store_consume_insert: the take, fields set on the taken document and a new one, together. */
static void
test_consume_insert(void **state)
{
    json_t *got = NULL, *set = json_pack("{s:s}", "successor", "rt2");
    json_t *next = json_pack("{s:s, s:s}", "_id", "rt2", "family", "f1");
    json_t *clash = json_pack("{s:s}", "_id", "rt1"), *empty = json_object();
    bool taken = true;
    int64_t now = tg_now_s();

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "rtoks", NULL));
    insert_text("rtoks", "{\"_id\":\"rt1\",\"family\":\"f1\"}", TG_OK);

    assert_err(TG_OK, store_consume_insert(st, "rtoks", "rt1", "req-A", set, next, &taken, &got));
    assert_true(taken);
    assert_string_equal(str_field(got, "consumed_by"), "req-A");
    assert_string_equal(str_field(got, "successor"), "rt2");
    assert_string_equal(str_field(got, "family"), "f1");
    assert_in_range(json_integer_value(json_object_get(got, "consumed_at")), now - 1, now + 60);
    json_decref(got);
    assert_err(TG_OK, store_get(st, "rtoks", "rt2", &got)); /* the new one is there */
    assert_null(json_object_get(got, "consumed_by"));
    json_decref(got);

    /* a resend of the same consumer: the document as it is, nothing set or inserted again */
    assert_err(TG_OK, store_consume_insert(st, "rtoks", "rt1", "req-A", set, clash, &taken, &got));
    assert_false(taken);
    assert_string_equal(str_field(got, "successor"), "rt2");
    json_decref(got);
    /* another consumer: refused, nothing inserted */
    json_object_set_new(next, "_id", json_string("rt3"));
    assert_err(TG_ECONSUMED,
               store_consume_insert(st, "rtoks", "rt1", "req-B", set, next, &taken, &got));
    assert_false(taken);
    assert_null(got);
    assert_err(TG_ENOTFOUND, store_get(st, "rtoks", "rt3", &got));

    /* hostile: consumed_by in the fields to set, an invalid new document */
    json_object_set_new(set, "consumed_by", json_string("forged"));
    assert_err(TG_EINVAL,
               store_consume_insert(st, "rtoks", "rt2", "req-C", set, NULL, &taken, &got));
    assert_err(TG_EINVAL,
               store_consume_insert(st, "rtoks", "rt2", "req-C", NULL, empty, &taken, &got));
    assert_err(TG_OK, store_get(st, "rtoks", "rt2", &got)); /* untouched by either */
    assert_null(json_object_get(got, "consumed_by"));
    json_decref(got);
    json_decref(set);
    json_decref(next);
    json_decref(clash);
    json_decref(empty);
}

/* store_take's maker for test_take: counts its calls, checks it sees the untaken document,
 * and makes what the test asks (or fails, or makes something the store must refuse). */
typedef struct take_plan {
    int calls;
    tg_err fail;
    bool forge; /* sets consumed_by itself */
} take_plan;

static tg_err
take_make(const json_t *doc, void *arg, json_t **set_fields, json_t **new_doc)
{
    take_plan *p = arg;
    char next[64];

    p->calls++;
    assert_null(json_object_get(doc, "consumed_by"));
    if (p->fail != TG_OK)
        return p->fail;
    snprintf(next, sizeof(next), "%s_next", str_field(doc, "_id"));
    *set_fields = json_pack("{s:s}", "successor", next);
    if (p->forge)
        json_object_set_new(*set_fields, "consumed_by", json_string("forged"));
    *new_doc = json_pack("{s:s, s:s}", "_id", next, "family", str_field(doc, "family"));
    return TG_OK;
}

static void
test_take(void **state)
{
    take_plan plan = {0};
    json_t *got = NULL;
    bool taken = true;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "takes", NULL));
    insert_text("takes", "{\"_id\":\"t1\",\"family\":\"f\"}", TG_OK);

    /* the maker fails: its error is the answer and nothing changes; refused output likewise */
    plan.fail = TG_EDENIED;
    assert_err(TG_EDENIED,
               store_take(st, "takes", "t1", "req-A", take_make, &plan, &taken, &got));
    assert_false(taken);
    assert_null(got);
    plan = (take_plan){.forge = true};
    assert_err(TG_EINVAL, store_take(st, "takes", "t1", "req-A", take_make, &plan, &taken, &got));
    assert_int_equal(plan.calls, 1);
    assert_err(TG_OK, store_get(st, "takes", "t1", &got));
    assert_null(json_object_get(got, "consumed_by"));
    json_decref(got);
    assert_err(TG_ENOTFOUND, store_get(st, "takes", "t1_next", &got));

    /* the take: made from the document, set and inserted with it */
    plan = (take_plan){0};
    assert_err(TG_OK, store_take(st, "takes", "t1", "req-A", take_make, &plan, &taken, &got));
    assert_true(taken);
    assert_int_equal(plan.calls, 1);
    assert_string_equal(str_field(got, "consumed_by"), "req-A");
    assert_string_equal(str_field(got, "successor"), "t1_next");
    json_decref(got);
    assert_err(TG_OK, store_get(st, "takes", "t1_next", &got));
    assert_string_equal(str_field(got, "family"), "f");
    json_decref(got);

    /* a resend and another caller: the maker is not called */
    plan = (take_plan){0};
    assert_err(TG_OK, store_take(st, "takes", "t1", "req-A", take_make, &plan, &taken, &got));
    assert_false(taken);
    assert_string_equal(str_field(got, "successor"), "t1_next");
    json_decref(got);
    assert_err(TG_ECONSUMED,
               store_take(st, "takes", "t1", "req-B", take_make, &plan, &taken, &got));
    assert_err(TG_ENOTFOUND,
               store_take(st, "takes", "absent", "req-B", take_make, &plan, &taken, &got));
    assert_int_equal(plan.calls, 0);
}

typedef struct race_arg {
    pthread_barrier_t *start;
    const char *id;
    char consumer[64];
    tg_err result;
    json_t *doc;
} race_arg;

static void *
race_consume(void *p)
{
    race_arg *a = p;

    pthread_barrier_wait(a->start);
    a->result = store_consume(st, "race", a->id, a->consumer, &a->doc);
    return NULL;
}

/* Runs RACE_THREADS consumers of id at once; same_consumer makes them all one resent request. */
static void
race_round(const char *id, bool same_consumer, race_arg args[RACE_THREADS])
{
    pthread_t threads[RACE_THREADS];
    pthread_barrier_t start;

    pthread_barrier_init(&start, NULL, RACE_THREADS);
    for (int t = 0; t < RACE_THREADS; t++) {
        args[t] = (race_arg){.start = &start, .id = id};
        snprintf(args[t].consumer, sizeof(args[t].consumer), "%s-req-%d", id,
                 same_consumer ? 0 : t);
        assert_int_equal(pthread_create(&threads[t], NULL, race_consume, &args[t]), 0);
    }
    for (int t = 0; t < RACE_THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
}

static void
test_consume_race(void **state)
{
    race_arg args[RACE_THREADS];
    char id[32], text[64];

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "race", NULL));
    for (int round = 0; round < RACE_ROUNDS; round++) {
        int winners = 0, winner = -1;
        json_t *got = NULL;

        snprintf(id, sizeof(id), "race%d", round);
        snprintf(text, sizeof(text), "{\"_id\":\"%s\"}", id);
        insert_text("race", text, TG_OK);
        race_round(id, false, args);
        for (int t = 0; t < RACE_THREADS; t++) {
            if (args[t].result == TG_OK) {
                winners++;
                winner = t;
                assert_string_equal(str_field(args[t].doc, "consumed_by"), args[t].consumer);
            } else {
                assert_err(TG_ECONSUMED, args[t].result);
                assert_null(args[t].doc);
            }
        }
        if (winners != 1)
            fail_msg("round %d: %d winners", round, winners);
        assert_err(TG_OK, store_get(st, "race", id, &got));
        assert_string_equal(str_field(got, "consumed_by"), args[winner].consumer);
        json_decref(got);
        for (int t = 0; t < RACE_THREADS; t++)
            json_decref(args[t].doc);
    }
}

/* A request resent while the first attempt is still running must not be refused. */
/* One writer thread's work for test_concurrent_writers: per document an insert, an update and
 * a consume that inserts a successor, each on handle h; the first failure is kept. */
typedef struct writer_arg {
    store *h;
    int t;
    tg_err err;
    const char *what;
} writer_arg;

static void *
writer_run(void *p)
{
    writer_arg *a = p;

    for (int i = 0; i < WRITER_OPS && a->err == TG_OK; i++) {
        char id[32], next[40], consumer[32];
        json_t *doc, *set, *succ, *got = NULL;
        bool taken = false;

        snprintf(id, sizeof(id), "w%d_%d", a->t, i);
        snprintf(next, sizeof(next), "%s_next", id);
        snprintf(consumer, sizeof(consumer), "c%d_%d", a->t, i);
        doc = json_pack("{s:s, s:i}", "_id", id, "n", 0);
        set = json_pack("{s:i}", "n", 1);
        succ = json_pack("{s:s}", "_id", next);
        if ((a->err = store_insert(a->h, "writers", doc)) != TG_OK)
            a->what = "insert";
        else if ((a->err = store_update(a->h, "writers", id, set)) != TG_OK)
            a->what = "update";
        else if ((a->err = store_consume_insert(a->h, "writers", id, consumer, NULL, succ, &taken,
                                                &got)) != TG_OK || !taken)
            a->what = "consume_insert";
        if (a->err == TG_OK && !taken)
            a->err = TG_EINTERNAL;
        json_decref(got);
        got = NULL;
        /* failures among the others' writes: each undone alone, none undoes another's */
        if (a->err == TG_OK && store_insert(a->h, "writers", doc) != TG_EEXIST) {
            a->err = TG_EINTERNAL;
            a->what = "duplicate insert";
        }
        json_decref(doc);
        snprintf(id, sizeof(id), "w%d_%d_b", a->t, i);
        doc = json_pack("{s:s}", "_id", id);
        if (a->err == TG_OK && (a->err = store_insert(a->h, "writers", doc)) != TG_OK)
            a->what = "insert b";
        if (a->err == TG_OK &&
            store_consume_insert(a->h, "writers", id, consumer, NULL, succ, &taken, &got) !=
                TG_EEXIST) {
            a->err = TG_EINTERNAL;
            a->what = "consume_insert with a colliding successor";
        }
        json_decref(got);
        json_decref(doc);
        json_decref(set);
        json_decref(succ);
    }
    return NULL;
}

/* Writers at once from many threads and from a second handle on the same store (as a second
 * replica would open it): none waits out a lock timeout or fails, every write is there, and
 * writes that fail among them (a duplicate id, a take whose successor collides) are undone
 * alone. */
static void
test_concurrent_writers(void **state)
{
    pthread_t threads[WRITER_THREADS];
    writer_arg args[WRITER_THREADS];
    store *other = NULL;

    (void)state;
    assert_err(TG_OK, store_open(store_url, dbname, &other));
    assert_err(TG_OK, store_collection_ensure(st, "writers", NULL));
    for (int t = 0; t < WRITER_THREADS; t++) {
        args[t] = (writer_arg){.h = t % 2 == 0 ? st : other, .t = t};
        assert_int_equal(pthread_create(&threads[t], NULL, writer_run, &args[t]), 0);
    }
    for (int t = 0; t < WRITER_THREADS; t++)
        pthread_join(threads[t], NULL);
    for (int t = 0; t < WRITER_THREADS; t++) {
        if (args[t].err != TG_OK)
            fail_msg("writer %d: %s failed: %s", t, args[t].what, tg_strerror(args[t].err));
        for (int i = 0; i < WRITER_OPS; i++) {
            char id[32], next[40], consumer[32];
            json_t *got = NULL;

            snprintf(id, sizeof(id), "w%d_%d", t, i);
            snprintf(next, sizeof(next), "%s_next", id);
            snprintf(consumer, sizeof(consumer), "c%d_%d", t, i);
            assert_err(TG_OK, store_get(t % 2 == 0 ? other : st, "writers", id, &got));
            assert_int_equal(json_integer_value(json_object_get(got, "n")), 1);
            assert_string_equal(str_field(got, "consumed_by"), consumer);
            json_decref(got);
            assert_err(TG_OK, store_get(st, "writers", next, &got));
            json_decref(got);
            /* the take whose successor collided: undone on SQLite, kept on MongoDB (store.h) */
            snprintf(id, sizeof(id), "w%d_%d_b", t, i);
            assert_err(TG_OK, store_get(other, "writers", id, &got));
            if (is_mongodb())
                assert_string_equal(str_field(got, "consumed_by"), consumer);
            else
                assert_null(json_object_get(got, "consumed_by"));
            json_decref(got);
        }
    }
    store_close(other);
}

static void
test_consume_race_same_consumer(void **state)
{
    race_arg args[RACE_THREADS];
    char id[32], text[64];

    (void)state;
    for (int round = 0; round < RACE_ROUNDS / 4; round++) {
        snprintf(id, sizeof(id), "resend%d", round);
        snprintf(text, sizeof(text), "{\"_id\":\"%s\"}", id);
        insert_text("race", text, TG_OK);
        race_round(id, true, args);
        for (int t = 0; t < RACE_THREADS; t++) {
            assert_err(TG_OK, args[t].result);
            assert_string_equal(str_field(args[t].doc, "consumed_by"), args[0].consumer);
            json_decref(args[t].doc);
        }
    }
}

static void
test_hostile_values(void **state)
{
    static const char *const unique[] = {"email", NULL};
    static const char h1[] =
        "{\"_id\":\"h1\",\"email\":\"{\\\"$gt\\\": \\\"\\\"}\",\"quotes\":"
        "\"va\\\"l'ue\\\\\",\"nested\":{\"we\\\"ird'key\":\"x'y\",\"back\\\\slash\":[{\"a\\\"\":"
        "\"\\\"\"}],\"<b> \\u00fc\":\"</b>\"},\"sql\":\"'; DROP TABLE x; --\"}";
    static const char h3[] = "{\"_id\":\"h'3\\\"\",\"email\":\"Zo\u00eb \u65e5\u672c "
                             "\xf0\x9f\x98\x80\",\"name\":\"\u00dcn\u00efc\u00f6d\u00e9\"}";
    json_t *got = NULL, *doc;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "hostile", unique));
    doc = doc_parse(h1);
    assert_err(TG_OK, store_insert(st, "hostile", doc));
    insert_text("hostile", "{\"_id\":\"h2\",\"email\":\"victim@example.com\"}", TG_OK);
    insert_text("hostile", h3, TG_OK);
    insert_text("hostile", "{\"_id\":\"h4\",\"email\":{\"x\":1}}", TG_OK);
    insert_text("hostile", "{\"_id\":\"h5\",\"email\":[\"arr@example.com\",\"x\"]}", TG_OK);
    insert_text("hostile", "{\"_id\":\"$gt\",\"email\":\"dollar-id@example.com\"}", TG_OK);

    assert_err(TG_OK, store_get(st, "hostile", "h1", &got));
    assert_true(json_equal(got, doc));
    json_decref(got);
    json_decref(doc);

    /* Operators in values are plain strings: only the exact text matches. */
    expect_found("hostile", "email", "{\"$gt\": \"\"}", "h1");
    expect_not_found("hostile", "email", "{\"$gt\":\"\"}");
    expect_not_found("hostile", "email", "{\"$ne\":null}");
    expect_not_found("hostile", "email", "{\"$regex\":\".*\"}");
    expect_not_found("hostile", "email", "%");
    expect_not_found("hostile", "email", ".*");
    expect_not_found("hostile", "email", "");
    /* An object or array field never equals a string, even its own JSON text or an element. */
    expect_not_found("hostile", "email", "{\"x\":1}");
    expect_not_found("hostile", "email", "arr@example.com");
    expect_found("hostile", "sql", "'; DROP TABLE x; --", "h1");
    expect_found("hostile", "email", "victim@example.com", "h2");
    expect_found("hostile", "email", "Zo\u00eb \u65e5\u672c \xf0\x9f\x98\x80", "h'3\"");
    expect_found("hostile", "email", "dollar-id@example.com", "$gt");
    expect_found("hostile", "_id", "h2", "h2");

    assert_err(TG_OK, store_get(st, "hostile", "h'3\"", &got));
    assert_doc_equal(got, h3);
    json_decref(got);

    /* An operator-looking value set by update stays a string and sets nothing else. */
    update_text("hostile", "h2", "{\"email\":\"{\\\"$set\\\":{\\\"admin\\\":true}}\"}", TG_OK);
    assert_err(TG_OK, store_get(st, "hostile", "h2", &got));
    assert_string_equal(str_field(got, "email"), "{\"$set\":{\"admin\":true}}");
    assert_null(json_object_get(got, "admin"));
    json_decref(got);
    assert_err(TG_OK, store_consume(st, "hostile", "$gt", "{\"$ne\":null}", &got));
    assert_string_equal(str_field(got, "consumed_by"), "{\"$ne\":null}");
    json_decref(got);
    assert_err(TG_ECONSUMED, store_consume(st, "hostile", "$gt", "{\"$exists\":true}", &got));
}

static void
test_invalid_names(void **state)
{
    static const char *const bad[] = {
        "",          "bad-name",
        "a b",       "x;drop",
        "a.b",       "$coll",
        "caf\u00e9", "tab\t",
        "q\"uote",   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        NULL};
    static const char *const long_ok =
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 64 */
    json_t *doc = doc_parse("{\"_id\":\"x\",\"a\":\"1\"}"), *set = doc_parse("{\"a\":\"2\"}");
    json_t *got = NULL;
    store *other = NULL;

    (void)state;
    for (int i = 0; bad[i] != NULL; i++) {
        const char *const fields[] = {bad[i], NULL};
        int64_t n;

        assert_err(TG_EINVAL, store_collection_ensure(st, bad[i], NULL));
        assert_err(TG_EINVAL, store_insert(st, bad[i], doc));
        assert_err(TG_EINVAL, store_get(st, bad[i], "x", &got));
        assert_err(TG_EINVAL, store_find_one(st, bad[i], "a", "1", &got));
        assert_err(TG_EINVAL, store_update(st, bad[i], "x", set));
        assert_err(TG_EINVAL, store_delete(st, bad[i], "x"));
        assert_err(TG_EINVAL, store_consume(st, bad[i], "x", "req", &got));
        assert_err(TG_EINVAL, store_purge_expired(st, bad[i], &n));
        /* The same rule for field names. */
        assert_err(TG_EINVAL, store_find_one(st, "names", bad[i], "1", &got));
        assert_err(TG_EINVAL, store_collection_ensure(st, "names", fields));
        assert_err(TG_EINVAL, store_open(store_url, bad[i], &other));
        assert_null(other);
    }
    assert_null(got);
    assert_err(TG_EINVAL, store_collection_ensure(st, "names", (const char *const[]){"_id", NULL}));

    assert_err(TG_OK, store_collection_ensure(st, long_ok, (const char *const[]){long_ok, NULL}));
    assert_err(TG_OK, store_insert(st, long_ok, doc));
    assert_err(TG_OK, store_get(st, long_ok, "x", &got));
    json_decref(got);
    assert_err(TG_OK, store_consume(st, long_ok, "x", "req", &got));
    json_decref(got);

    assert_err(TG_EINVAL, store_open("postgres://localhost/x", "token", &other));
    assert_err(TG_EINVAL, store_open("", "token", &other));
    assert_null(other);
    json_decref(doc);
    json_decref(set);
}

static void
test_invalid_documents(void **state)
{
    static const char *const bad_docs[] = {
        "[1,2]",
        "{\"a\":1}",
        "{\"_id\":7}",
        "{\"_id\":\"\"}",
        "{\"_id\":null}",
        "{\"_id\":\"x\",\"expires_at\":\"soon\"}",
        "{\"_id\":\"x\",\"expires_at\":1.5}",
        "{\"_id\":\"x\",\"expires_at\":null}",
        "{\"_id\":\"x\",\"$where\":\"1\"}",
        "{\"_id\":\"x\",\"a\":{\"$gt\":1}}",
        "{\"_id\":\"x\",\"a\":[{\"$gt\":1}]}",
        "{\"_id\":\"x\",\"a.b\":1}",
        "{\"_id\":\"x\",\"n\":{\"\":1}}",
        "{\"_id\":\"x\",\"\":1}",
        "{\"_id\":\"x\",\"we\\\"ird\":1}", /* top-level keys are field names */
        "{\"_id\":\"x\",\"a-b\":1}",
        "{\"_id\":\"x\",\"a\":[[1]]}",
        "{\"_id\":\"x\",\"a\":[{\"b\":[[]]}]}",
        NULL};
    static const char *const bad_sets[] = {
        "{}",          "{\"_id\":\"y\"}",        "{\"$set\":{\"a\":1}}", "{\"a.b\":1}",
        "{\"a-b\":1}", "{\"expires_at\":\"x\"}", "{\"a\":{\"$inc\":1}}", "[]",
        NULL};
    json_t *got = NULL;

    (void)state;
    assert_err(TG_OK, store_collection_ensure(st, "baddocs", NULL));
    insert_text("baddocs", "{\"_id\":\"ok\"}", TG_OK);
    for (int i = 0; bad_docs[i] != NULL; i++) {
        json_t *doc = json_loads(bad_docs[i], JSON_DECODE_ANY, NULL);

        if (store_insert(st, "baddocs", doc) != TG_EINVAL)
            fail_msg("accepted %s", bad_docs[i]);
        json_decref(doc);
    }
    for (int i = 0; bad_sets[i] != NULL; i++) {
        json_t *set = json_loads(bad_sets[i], JSON_DECODE_ANY, NULL);

        if (store_update(st, "baddocs", "ok", set) != TG_EINVAL)
            fail_msg("accepted update %s", bad_sets[i]);
        json_decref(set);
    }
    got = json_pack("{s:s, s:s#}", "_id", "nul", "v", "a\0b", (int)3);
    assert_err(TG_EINVAL, store_insert(st, "baddocs", got));
    json_decref(got);
    got = NULL;
    assert_err(TG_EINVAL, store_insert(st, "baddocs", NULL));
    assert_err(TG_EINVAL, store_update(st, "baddocs", "ok", NULL));
    assert_err(TG_EINVAL, store_get(st, "baddocs", NULL, &got));
    assert_err(TG_EINVAL, store_get(st, "baddocs", "", &got));
    assert_err(TG_EINVAL, store_get(st, "baddocs", "bad\xff", &got));
    assert_err(TG_EINVAL, store_find_one(st, "baddocs", "a", NULL, &got));
    assert_err(TG_EINVAL, store_find_one(st, "baddocs", "a", "bad\xc3", &got));
    assert_err(TG_EINVAL, store_consume(st, "baddocs", "ok", "", &got));
    assert_err(TG_EINVAL, store_consume(st, "baddocs", "ok", NULL, &got));
    assert_null(got);
    /* Nothing of the above reached the document. */
    assert_err(TG_OK, store_get(st, "baddocs", "ok", &got));
    assert_doc_equal(got, "{\"_id\":\"ok\"}");
    json_decref(got);
}

static void
test_size_ceiling(void **state)
{
    size_t big = 1024 * 1024 + 1; /* one byte over the ceiling even as a bare value */
    char *filler = malloc(big + 1);
    json_t *doc, *got = NULL;

    (void)state;
    assert_non_null(filler);
    memset(filler, 'x', big);
    filler[big] = '\0';
    assert_err(TG_OK, store_collection_ensure(st, "sizes", NULL));

    doc = json_pack("{s:s, s:s}", "_id", "huge", "blob", filler);
    assert_err(TG_ETOOBIG, store_insert(st, "sizes", doc));
    json_decref(doc);
    assert_err(TG_ETOOBIG, store_find_one(st, "sizes", "blob", filler, &got));

    filler[900 * 1024] = '\0';
    doc = json_pack("{s:s, s:s}", "_id", "large", "blob", filler);
    assert_err(TG_OK, store_insert(st, "sizes", doc));
    assert_err(TG_OK, store_get(st, "sizes", "large", &got));
    assert_true(json_equal(doc, got));
    json_decref(got);
    json_decref(doc);

    filler[900 * 1024] = 'x';
    doc = json_pack("{s:s}", "blob", filler);
    assert_err(TG_ETOOBIG, store_update(st, "sizes", "large", doc));
    json_decref(doc);
    /* Keep the run's footprint small: the SQLite file is reused by later runs. */
    assert_err(TG_OK, store_delete(st, "sizes", "large"));
    free(filler);
}

/* ---- harness ---- */

static int
group_setup(void **state)
{
    tg_err err;

    (void)state;
    err = store_open(store_url, dbname, &st);
    if (err != TG_OK) {
        fprintf(stderr, "store_open(%s): %s\n", store_url, tg_strerror(err));
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    store_close(st);
    st = NULL;
    return 0;
}

int
main(int argc, char **argv)
{
    const char *var = "TG_STORE_URL";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_matches_url),
        cmocka_unit_test(test_crud_round_trip),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_duplicate_id),
        cmocka_unit_test(test_unique_fields),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expired_does_not_collide),
        cmocka_unit_test(test_consume_once),
        cmocka_unit_test(test_consume_insert),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_consume_race),
        cmocka_unit_test(test_consume_race_same_consumer),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_size_ceiling),
    };

    if (argc == 3 && strcmp(argv[1], "--url-env") == 0) {
        var = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--url-env VAR]\n", argv[0]);
        return 2;
    }
    store_url = getenv(var);
    if (store_url == NULL || store_url[0] == '\0') {
        fprintf(stderr, "%s is not set: skipping the store conformance suite\n", var);
        return 77;
    }
    log_init("store_conformance", TG_LOG_WARN);
    snprintf(dbname, sizeof(dbname), "conf_%ld_%lld", (long)getpid(), (long long)time(NULL));
    return cmocka_run_group_tests_name(strncmp(store_url, "mongodb", 7) == 0
                                           ? "store conformance (mongodb)"
                                           : "store conformance (sqlite)",
                                       tests, group_setup, group_teardown);
}
