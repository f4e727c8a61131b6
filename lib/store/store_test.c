/*
 * Unit tests of the store's front half: URL parsing, name and UTF-8 validation, the document
 * and update rules and their ceilings. No database server is needed (the conformance suite in
 * tests/integration/store runs the drivers themselves).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "core/util.h"
#include "store/store_driver.h"

static void
test_url_parse(void **state)
{
    static const struct {
        const char *url;
        tg_err err;
        const char *driver;
        const char *location;
    } cases[] = {
        {"sqlite:/var/lib/tollgate/token.db", TG_OK, "sqlite", "/var/lib/tollgate/token.db"},
        {"sqlite:relative.db", TG_OK, "sqlite", "relative.db"},
        {"sqlite:///abs/path.db", TG_OK, "sqlite", "/abs/path.db"},
        {"/plain/path.db", TG_OK, "sqlite", "/plain/path.db"},
        {"plain.db", TG_OK, "sqlite", "plain.db"},
        {"mongodb://127.0.0.1:27017/", TG_OK, "mongodb", "mongodb://127.0.0.1:27017/"},
        {"mongodb://a,b,c/?replicaSet=rs0", TG_OK, "mongodb", "mongodb://a,b,c/?replicaSet=rs0"},
        {"mongodb+srv://cluster.example.com/", TG_OK, "mongodb",
         "mongodb+srv://cluster.example.com/"},
        {"", TG_EINVAL, NULL, NULL},
        {"sqlite:", TG_EINVAL, NULL, NULL},
        {"sqlite://", TG_EINVAL, NULL, NULL},
        {"sqlite::memory:", TG_EINVAL, NULL, NULL},
        {":memory:", TG_EINVAL, NULL, NULL},
        {"postgres://localhost/db", TG_EINVAL, NULL, NULL},
        {"http://example.com/", TG_EINVAL, NULL, NULL},
        {"MONGODB://upper/", TG_EINVAL, NULL, NULL},
    };
    store_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tg_err err = store_url_parse(cases[i].url, &u);

        if (err != cases[i].err)
            fail_msg("%s: %s, expected %s", cases[i].url, tg_strerror(err),
                     tg_strerror(cases[i].err));
        if (err != TG_OK) {
            assert_null(u.driver);
            continue;
        }
        assert_string_equal(u.driver->name, cases[i].driver);
        assert_string_equal(u.location, cases[i].location);
    }
    assert_int_equal(store_url_parse(NULL, &u), TG_EINVAL);
}

static void
test_names(void **state)
{
    static const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"users", true},
        {"refresh_tokens", true},
        {"_id", true},
        {"A1_b2", true},
        {"0", true},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true}, /* 64 */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
        {"", false},
        {"a.b", false},
        {"$where", false},
        {"a-b", false},
        {"a b", false},
        {"a\"b", false},
        {"a'b", false},
        {"a;b", false},
        {"a/b", false},
        {"caf\xc3\xa9", false},
        {"tab\t", false},
        {"new\nline", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (store_name_is_valid(cases[i].name) != cases[i].valid)
            fail_msg("\"%s\" should be %s", cases[i].name, cases[i].valid ? "valid" : "invalid");
    }
    assert_false(store_name_is_valid(NULL));
}

static void
test_utf8(void **state)
{
    static const struct {
        const char *text;
        bool valid;
    } cases[] = {
        {"plain ascii", true},
        {"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", true},
        {"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF */
        {"\xef\xbf\xbd", true},     /* U+FFFD */
        {"\xff", false},
        {"\xc3", false},             /* truncated */
        {"\xe6\x97", false},         /* truncated */
        {"\xc0\xaf", false},         /* overlong '/' */
        {"\xe0\x80\xaf", false},     /* overlong */
        {"\xf0\x80\x80\xaf", false}, /* overlong */
        {"\xed\xa0\x80", false},     /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
        {"\x80", false},             /* lone continuation */
        {"ok\xc3\x28", false},       /* bad continuation */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (tg_utf8_is_valid(cases[i].text, strlen(cases[i].text)) != cases[i].valid)
            fail_msg("case %zu should be %s", i, cases[i].valid ? "valid" : "invalid");
    }
}

static tg_err
check_doc_text(const char *text)
{
    json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);
    char *out = NULL;
    tg_err err;

    if (doc == NULL)
        fail_msg("bad test JSON %s", text);
    err = store_doc_check(doc, &out);
    if (err == TG_OK)
        assert_non_null(out);
    else
        assert_null(out);
    free(out);
    json_decref(doc);
    return err;
}

static void
test_doc_rules(void **state)
{
    static const struct {
        const char *doc;
        tg_err err;
    } cases[] = {
        {"{\"_id\":\"a\"}", TG_OK},
        {"{\"_id\":\"a\",\"expires_at\":1700000000,\"n\":{\"we\\\"ird' key\":[{\"x\":[]}]}}",
         TG_OK},
        {"{\"_id\":\"a\",\"expires_at\":-5}", TG_OK},
        {"{\"_id\":\"$gt\",\"v\":\"{\\\"$gt\\\":\\\"\\\"}\"}", TG_OK},
        {"[]", TG_EINVAL},
        {"\"str\"", TG_EINVAL},
        {"{}", TG_EINVAL},
        {"{\"_id\":1}", TG_EINVAL},
        {"{\"_id\":\"\"}", TG_EINVAL},
        {"{\"_id\":\"a\",\"expires_at\":\"1\"}", TG_EINVAL},
        {"{\"_id\":\"a\",\"expires_at\":1.0}", TG_EINVAL},
        {"{\"_id\":\"a\",\"expires_at\":9223372036854776}", TG_EINVAL},
        {"{\"_id\":\"a\",\"$set\":1}", TG_EINVAL},
        {"{\"_id\":\"a\",\"a.b\":1}", TG_EINVAL},
        {"{\"_id\":\"a\",\"a b\":1}", TG_EINVAL},
        {"{\"_id\":\"a\",\"n\":{\"$gt\":1}}", TG_EINVAL},
        {"{\"_id\":\"a\",\"n\":{\"x.y\":1}}", TG_EINVAL},
        {"{\"_id\":\"a\",\"n\":{\"\":1}}", TG_EINVAL},
        {"{\"_id\":\"a\",\"n\":[[1]]}", TG_EINVAL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tg_err err = check_doc_text(cases[i].doc);

        if (err != cases[i].err)
            fail_msg("%s: %s, expected %s", cases[i].doc, tg_strerror(err),
                     tg_strerror(cases[i].err));
    }
}

/* A document nested deeper than STORE_MAX_DEPTH. */
static json_t *
deep_doc(int levels)
{
    json_t *doc = json_pack("{s:s}", "_id", "deep"), *cur = doc;

    for (int i = 0; i < levels; i++) {
        json_t *next = json_object();

        json_object_set_new(cur, "n", next);
        cur = next;
    }
    return doc;
}

static void
test_doc_ceilings(void **state)
{
    size_t big = STORE_MAX_DOC;
    char *filler = malloc(big + 1), *text = NULL;
    json_t *doc;

    (void)state;
    assert_non_null(filler);
    memset(filler, 'x', big);
    filler[big] = '\0';
    doc = json_pack("{s:s, s:s}", "_id", "a", "v", filler);
    assert_int_equal(store_doc_check(doc, &text), TG_ETOOBIG);
    assert_null(text);
    json_decref(doc);

    filler[big - 64] = '\0';
    doc = json_pack("{s:s, s:s}", "_id", "a", "v", filler);
    assert_int_equal(store_doc_check(doc, &text), TG_OK);
    free(text);
    json_decref(doc);
    free(filler);

    doc = deep_doc(STORE_MAX_DEPTH - 1);
    assert_int_equal(store_doc_check(doc, &text), TG_OK);
    free(text);
    json_decref(doc);
    doc = deep_doc(STORE_MAX_DEPTH + 1);
    assert_int_equal(store_doc_check(doc, &text), TG_EINVAL);
    json_decref(doc);

    doc = json_pack("{s:s#}", "_id", "a\0b", (int)3);
    assert_int_equal(store_doc_check(doc, &text), TG_EINVAL);
    json_decref(doc);
    doc = json_pack("{s:s, s:s#}", "_id", "a", "v", "a\0b", (int)3);
    assert_int_equal(store_doc_check(doc, &text), TG_EINVAL);
    json_decref(doc);
}

static void
test_set_rules(void **state)
{
    static const struct {
        const char *set;
        tg_err err;
    } cases[] = {
        {"{\"a\":1}", TG_OK},
        {"{\"a\":null,\"b\":{\"c\":[1]},\"expires_at\":5}", TG_OK},
        {"{}", TG_EINVAL},
        {"[]", TG_EINVAL},
        {"{\"_id\":\"x\"}", TG_EINVAL},
        {"{\"$set\":{\"a\":1}}", TG_EINVAL},
        {"{\"a.b\":1}", TG_EINVAL},
        {"{\"a\":{\"$inc\":1}}", TG_EINVAL},
        {"{\"expires_at\":\"soon\"}", TG_EINVAL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *set = json_loads(cases[i].set, JSON_DECODE_ANY, NULL);
        tg_err err = store_set_check(set);

        if (err != cases[i].err)
            fail_msg("%s: %s, expected %s", cases[i].set, tg_strerror(err),
                     tg_strerror(cases[i].err));
        json_decref(set);
    }
    assert_int_equal(store_set_check(NULL), TG_EINVAL);
}

static void
test_open_rejects(void **state)
{
    store *st = (store *)&st;

    (void)state;
    assert_int_equal(store_open("postgres://x/y", "token", &st), TG_EINVAL);
    assert_null(st);
    assert_int_equal(store_open("sqlite:", "token", &st), TG_EINVAL);
    assert_int_equal(store_open("sqlite:/tmp/x.db", "bad-name", &st), TG_EINVAL);
    assert_int_equal(store_open("sqlite:/tmp/x.db", NULL, &st), TG_EINVAL);
    /* libmongoc rejects the URL itself before any connection is tried. */
    assert_int_equal(store_open("mongodb://", "token", &st), TG_EINVAL);
    assert_int_equal(store_open("mongodb://host:notaport/", "token", &st), TG_EINVAL);
    assert_null(st);
    store_close(NULL);
}

/* The embedded driver needs no server: arguments are refused before it is touched. */
static void
test_sqlite_rejects_bad_arguments(void **state)
{
    char path[] = "/tmp/store_test_XXXXXX";
    char url[64], wal[80], shm[80];
    json_t *doc = json_pack("{s:s}", "_id", "a"), *got = NULL;
    store *st = NULL;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    assert_int_equal(store_open(url, "unit", &st), TG_OK);
    assert_string_equal(store_driver_name(st), "sqlite");
    assert_int_equal(store_collection_ensure(st, "a.b", NULL), TG_EINVAL);
    assert_int_equal(store_insert(st, "x;drop", doc), TG_EINVAL);
    assert_int_equal(store_find_one(st, "ok", "$gt", "v", &got), TG_EINVAL);
    assert_int_equal(store_get(st, "ok", "bad\xff", &got), TG_EINVAL);
    assert_null(got);
    assert_int_equal(store_insert(st, "ok", doc), TG_OK);
    assert_int_equal(store_get(st, "ok", "a", &got), TG_OK);
    assert_true(json_equal(doc, got));
    json_decref(got);
    store_close(st);
    json_decref(doc);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),    cmocka_unit_test(test_names),
        cmocka_unit_test(test_utf8),         cmocka_unit_test(test_doc_rules),
        cmocka_unit_test(test_doc_ceilings), cmocka_unit_test(test_set_rules),
        cmocka_unit_test(test_open_rejects), cmocka_unit_test(test_sqlite_rejects_bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
