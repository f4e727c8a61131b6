/*
 * Unit tests for a client's `refresh_token` settings (contract.md §21.1): Auth0's defaults,
 * every field read, and every invalid value refused with the entry and the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config_testing.h"
#include "core/log.h"

#define HEAD "clients:\n  - name: App\n    app_type: regular_web\n"

static void
test_defaults(void **state)
{
    config *cfg = config_test_load_ok(HEAD);
    const config_refresh_token *rt = &cfg->clients[0].refresh_token;
    (void)state;

    assert_false(rt->rotating);
    assert_false(rt->expiring);
    assert_int_equal(rt->leeway, 0);
    assert_int_equal(rt->token_lifetime, 2592000);
    assert_int_equal(rt->idle_token_lifetime, 1296000);
    assert_true(rt->infinite_token_lifetime);
    assert_true(rt->infinite_idle_token_lifetime);
    config_free(cfg);
}

static void
test_every_field(void **state)
{
    config *cfg = config_test_load_ok(HEAD "    refresh_token:\n"
                               "      rotation_type: rotating\n"
                               "      expiration_type: expiring\n"
                               "      leeway: 5\n"
                               "      token_lifetime: 600\n"
                               "      idle_token_lifetime: 60\n");
    const config_refresh_token *rt = &cfg->clients[0].refresh_token;
    (void)state;

    assert_true(rt->rotating);
    assert_true(rt->expiring);
    assert_int_equal(rt->leeway, 5);
    assert_int_equal(rt->token_lifetime, 600);
    assert_int_equal(rt->idle_token_lifetime, 60);
    /* expiring: finite unless the file says infinite */
    assert_false(rt->infinite_token_lifetime);
    assert_false(rt->infinite_idle_token_lifetime);
    config_free(cfg);

    cfg = config_test_load_ok(HEAD "    refresh_token: {expiration_type: expiring, "
                       "infinite_token_lifetime: true, idle_token_lifetime: 99999999}\n");
    rt = &cfg->clients[0].refresh_token;
    assert_true(rt->infinite_token_lifetime);
    assert_false(rt->infinite_idle_token_lifetime); /* idle > lifetime is fine: lifetime is infinite */
    config_free(cfg);

    /* nulls (as exports carry them) are "not provided" */
    cfg = config_test_load_ok(HEAD "    refresh_token: {rotation_type: null, leeway: null}\n");
    assert_false(cfg->clients[0].refresh_token.rotating);
    config_free(cfg);
}

static void
test_spa_non_rotating_warns_only(void **state)
{
    config *cfg = config_test_load_ok("clients:\n  - name: S\n    app_type: spa\n"
                          "    refresh_token: {rotation_type: non-rotating}\n");
    (void)state;

    assert_false(cfg->clients[0].refresh_token.rotating);
    config_free(cfg);
}

static void
test_invalid(void **state)
{
    (void)state;
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {rotation_type: sometimes}\n", "clients[0]",
               "rotation_type: must be rotating or non-rotating");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {expiration_type: 1}\n", "refresh_token",
               "expiration_type");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {leeway: -1}\n", "refresh_token", "leeway");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {token_lifetime: 0}\n", "refresh_token", "token_lifetime");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {token_lifetime: 157788001}\n", "refresh_token",
               "token_lifetime");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {token_lifetime: ten}\n", "refresh_token",
               "token_lifetime");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {infinite_token_lifetime: maybe}\n", "refresh_token",
               "infinite_token_lifetime");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: {expiration_type: expiring, token_lifetime: 60, "
                    "idle_token_lifetime: 61}\n",
               "refresh_token.idle_token_lifetime", "must not exceed token_lifetime");
    CONFIG_TEST_FAILS(HEAD "    refresh_token: [rotating]\n", "clients[0]", "refresh_token");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_spa_non_rotating_warns_only),
        cmocka_unit_test(test_invalid),
    };

    log_init("config_refresh_test", TG_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
