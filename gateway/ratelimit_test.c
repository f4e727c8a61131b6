/* Rate limiter: bucket arithmetic on an injected clock, header values, LRU eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define SEC 1000000LL
#define T0_US (1000 * SEC) /* monotonic */
#define T0_S 1700000000LL  /* wall clock */

static void
take(gw_ratelimit *rl, const char *key, const gw_rate *rate, int64_t us, gw_rate_verdict *v)
{
    gw_ratelimit_take(rl, key, strlen(key), rate, T0_US + us, T0_S + us / SEC, v);
}

static void
burst_then_steady_refill(void **state)
{
    const gw_rate rate = {3, 60}; /* 3/min: burst 3, then one every 20 s */
    gw_ratelimit *rl;
    gw_rate_verdict v;

    (void)state;
    assert_int_equal(gw_ratelimit_new(16, &rl), TG_OK);
    for (int i = 0; i < 3; i++) {
        take(rl, "p|10.0.0.1", &rate, 0, &v);
        assert_true(v.allowed);
        assert_int_equal(v.limit, 3);
        assert_int_equal(v.remaining, 2 - i);
        assert_int_equal(v.reset, T0_S + 20 * (i + 1));
    }
    take(rl, "p|10.0.0.1", &rate, 0, &v);
    assert_false(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset, T0_S + 60); /* a refusal uses nothing up */
    take(rl, "p|10.0.0.1", &rate, 19 * SEC, &v);
    assert_false(v.allowed);
    take(rl, "p|10.0.0.1", &rate, 20 * SEC, &v); /* one request refilled */
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset, T0_S + 80);
    take(rl, "p|10.0.0.1", &rate, 500 * SEC, &v); /* long idle: full again, not more */
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
    gw_ratelimit_free(rl);
}

static void
keys_are_independent(void **state)
{
    const gw_rate rate = {1, 1};
    gw_ratelimit *rl;
    gw_rate_verdict v;

    (void)state;
    assert_int_equal(gw_ratelimit_new(16, &rl), TG_OK);
    take(rl, "p|10.0.0.1", &rate, 0, &v);
    assert_true(v.allowed);
    take(rl, "p|10.0.0.1", &rate, 0, &v);
    assert_false(v.allowed);
    take(rl, "p|10.0.0.2", &rate, 0, &v);
    assert_true(v.allowed);
    take(rl, "x|10.0.0.1", &rate, 0, &v); /* another route group */
    assert_true(v.allowed);
    take(rl, "p|10.0.0.1", &rate, SEC / 2, &v); /* 1/s: half a second is not enough */
    assert_false(v.allowed);
    assert_int_equal(v.reset, T0_S + 1);
    take(rl, "p|10.0.0.1", &rate, SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(gw_ratelimit_size(rl), 3);
    gw_ratelimit_free(rl);
}

static void
fine_grained_rates_round_down(void **state)
{
    const gw_rate rate = {300, 60}; /* the default: 300/min, one every 200 ms */
    gw_ratelimit *rl;
    gw_rate_verdict v;

    (void)state;
    assert_int_equal(gw_ratelimit_new(4, &rl), TG_OK);
    for (int i = 0; i < 300; i++) {
        take(rl, "k", &rate, 0, &v);
        assert_true(v.allowed);
    }
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset, T0_S + 60);
    take(rl, "k", &rate, 0, &v);
    assert_false(v.allowed);
    take(rl, "k", &rate, 199999, &v);
    assert_false(v.allowed);
    take(rl, "k", &rate, 200000, &v);
    assert_true(v.allowed);
    gw_ratelimit_free(rl);
}

static void
full_table_evicts_least_recently_used(void **state)
{
    const gw_rate rate = {1, 3600};
    gw_ratelimit *rl;
    gw_rate_verdict v;
    char key[32];

    (void)state;
    assert_int_equal(gw_ratelimit_new(3, &rl), TG_OK);
    take(rl, "a", &rate, 0, &v);
    take(rl, "b", &rate, 0, &v);
    take(rl, "c", &rate, 0, &v);
    take(rl, "a", &rate, 1, &v); /* a is now the most recent: b is the oldest */
    assert_false(v.allowed);
    take(rl, "d", &rate, 2, &v); /* evicts b */
    assert_true(v.allowed);
    assert_int_equal(gw_ratelimit_size(rl), 3);
    take(rl, "a", &rate, 3, &v);
    assert_false(v.allowed); /* kept */
    take(rl, "c", &rate, 4, &v);
    assert_false(v.allowed); /* kept */
    take(rl, "b", &rate, 5, &v);
    assert_true(v.allowed); /* forgotten, so full again (evicts d) */
    /* a spray of 10,000 addresses never grows the table */
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "p|10.%d.%d.1", i / 256, i % 256);
        take(rl, key, &rate, 10 + i, &v);
        assert_true(v.allowed);
        assert_true(gw_ratelimit_size(rl) <= 3);
    }
    gw_ratelimit_free(rl);
}

static void
long_keys_are_truncated(void **state)
{
    const gw_rate rate = {1, 60};
    char a[200], b[200];
    gw_ratelimit *rl;
    gw_rate_verdict v;

    (void)state;
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[150] = 'y'; /* differs beyond the key limit: same bucket */
    assert_int_equal(gw_ratelimit_new(2, &rl), TG_OK);
    take(rl, a, &rate, 0, &v);
    assert_true(v.allowed);
    take(rl, b, &rate, 0, &v);
    assert_false(v.allowed);
    gw_ratelimit_free(rl);
    gw_ratelimit_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_steady_refill),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(fine_grained_rates_round_down),
        cmocka_unit_test(full_table_evicts_least_recently_used),
        cmocka_unit_test(long_keys_are_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
