/* refresh_cap.c over a real SQLite store: the 201st family of one user on one client revokes
 * the oldest; other users and clients are counted apart; expired entries leave the count; a
 * revoked family leaves it too; the ledger survives a reopened store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "token.h"

typedef struct fx {
    char path[64];
    token_app app;
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    int fd;

    snprintf(f->path, sizeof(f->path), "/tmp/tg-refresh-cap-XXXXXX");
    if ((fd = mkstemp(f->path)) < 0)
        return -1;
    close(fd);
    if (store_open(f->path, "token", &f->app.st) != TG_OK ||
        store_collection_ensure(f->app.st, TOKEN_COLL_FAMILIES, NULL) != TG_OK ||
        store_collection_ensure(f->app.st, TOKEN_COLL_REFRESH_LEDGERS, NULL) != TG_OK)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;

    store_close(f->app.st);
    unlink(f->path);
    free(f);
    return 0;
}

/* A family record as store_refresh.c makes it, then admitted with the given cap. */
static void
family(fx *f, const char *client, const char *user, const char *id, int64_t exp, size_t cap)
{
    json_t *doc = json_pack("{s:s, s:b, s:s, s:s}", "_id", id, "revoked", 0, "client_id", client,
                            "user_id", user);

    assert_int_equal(store_insert(f->app.st, TOKEN_COLL_FAMILIES, doc), TG_OK);
    json_decref(doc);
    assert_int_equal(token_refresh_cap_admit(&f->app, client, user, id, exp, cap), TG_OK);
}

static void
test_oldest_revoked_past_the_cap(void **state)
{
    fx *f = *state;
    char id[32];

    for (int i = 0; i < TOKEN_REFRESH_CAP; i++) {
        snprintf(id, sizeof(id), "fam-%03d", i);
        family(f, "app", "auth0|u1", id, 0, TOKEN_REFRESH_CAP);
    }
    family(f, "other-app", "auth0|u1", "other", 0, TOKEN_REFRESH_CAP);
    family(f, "app", "auth0|u2", "u2", 0, TOKEN_REFRESH_CAP);
    assert_true(token_refresh_family_is_live(&f->app, "fam-000"));
    family(f, "app", "auth0|u1", "fam-200", 0, TOKEN_REFRESH_CAP); /* the 201st */
    assert_false(token_refresh_family_is_live(&f->app, "fam-000"));
    assert_true(token_refresh_family_is_live(&f->app, "fam-001"));
    assert_true(token_refresh_family_is_live(&f->app, "fam-200"));
    assert_true(token_refresh_family_is_live(&f->app, "other"));
    assert_true(token_refresh_family_is_live(&f->app, "u2"));
    family(f, "app", "auth0|u1", "fam-201", 0, TOKEN_REFRESH_CAP);
    assert_false(token_refresh_family_is_live(&f->app, "fam-001"));
    assert_true(token_refresh_family_is_live(&f->app, "fam-002"));
}

static void
test_expired_and_revoked_leave_the_count(void **state)
{
    fx *f = *state;

    family(f, "app", "auth0|u3", "a", tg_now_s() - 1, 2); /* already expired */
    family(f, "app", "auth0|u3", "b", 0, 2);
    family(f, "app", "auth0|u3", "c", 0, 2); /* "a" dropped as expired: nothing revoked */
    assert_true(token_refresh_family_is_live(&f->app, "b"));
    assert_true(token_refresh_family_is_live(&f->app, "c"));
    assert_int_equal(token_refresh_family_revoke(&f->app, "b"), TG_OK);
    family(f, "app", "auth0|u3", "d", 0, 2); /* "b" forgotten: "c" stays */
    assert_true(token_refresh_family_is_live(&f->app, "c"));
    family(f, "app", "auth0|u3", "e", 0, 2); /* now over: "c" goes */
    assert_false(token_refresh_family_is_live(&f->app, "c"));
    assert_true(token_refresh_family_is_live(&f->app, "d"));
    assert_true(token_refresh_family_is_live(&f->app, "e"));
}

static void
test_ledger_survives_reopen(void **state)
{
    fx *f = *state;

    family(f, "app", "auth0|u4", "x", 0, 1);
    store_close(f->app.st);
    assert_int_equal(store_open(f->path, "token", &f->app.st), TG_OK);
    family(f, "app", "auth0|u4", "y", 0, 1);
    assert_false(token_refresh_family_is_live(&f->app, "x"));
    assert_true(token_refresh_family_is_live(&f->app, "y"));
}

/* A stored ledger that does not parse (hand-edited, or from a future version) loses the bad
 * entries and keeps working. */
static void
test_malformed_ledger(void **state)
{
    fx *f = *state;
    char id[65];
    json_t *doc;

    assert_int_equal(token_hash_id("auth0|u5\napp", id), TG_OK);
    doc = json_pack("{s:s, s:s}", "_id", id, "families",
                    "ok-1 0,no-space,bad -5,,x 12abc," /* garbage */
                    "0123456789012345678901234567890123456789012345678901234567890123456789 0");
    assert_int_equal(store_insert(f->app.st, TOKEN_COLL_REFRESH_LEDGERS, doc), TG_OK);
    json_decref(doc);
    family(f, "app", "auth0|u5", "n-1", 0, 2);
    family(f, "app", "auth0|u5", "n-2", 0, 2); /* "ok-1" (the only good entry) goes */
    assert_true(token_refresh_family_is_live(&f->app, "n-1"));
    assert_true(token_refresh_family_is_live(&f->app, "n-2"));
    family(f, "app", "auth0|u5", "n-3", 0, 2);
    assert_false(token_refresh_family_is_live(&f->app, "n-1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_oldest_revoked_past_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_and_revoked_leave_the_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_ledger, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
