/*
 * Unit tests for the tenant's session settings in lib/config: Auth0's defaults, hours (whole
 * and fractional) and *_in_minutes, session_cookie.mode, and bad values refused with the entry
 * and field named.
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


static void
test_defaults(void **state)
{
    config *cfg = config_test_load_ok("tenant: {friendly_name: T}\n");
    config *none = config_test_load_ok("clients: []\n");

    (void)state;
    assert_int_equal(cfg->tenant.session_lifetime_s, 168 * 3600);
    assert_int_equal(cfg->tenant.idle_session_lifetime_s, 72 * 3600);
    assert_true(cfg->tenant.session_cookie_persistent);
    assert_int_equal(none->tenant.session_lifetime_s, 168 * 3600);
    assert_true(none->tenant.session_cookie_persistent);
    config_free(cfg);
    config_free(none);
}

static void
test_hours_and_minutes(void **state)
{
    config *cfg = config_test_load_ok("tenant:\n"
                          "  session_lifetime: 24\n"
                          "  idle_session_lifetime: 0.5\n"
                          "  session_cookie: {mode: non-persistent}\n");
    config *frac = config_test_load_ok("tenant: {session_lifetime: 3.0166666666666666,\n"
                           "         idle_session_lifetime_in_minutes: 1}\n");

    (void)state;
    assert_int_equal(cfg->tenant.session_lifetime_s, 24 * 3600);
    assert_int_equal(cfg->tenant.idle_session_lifetime_s, 1800);
    assert_false(cfg->tenant.session_cookie_persistent);
    assert_int_equal(frac->tenant.session_lifetime_s, 181 * 60); /* Math.round(h * 60) minutes */
    assert_int_equal(frac->tenant.idle_session_lifetime_s, 60);
    config_free(cfg);
    config_free(frac);
}

static void
test_bad_values(void **state)
{
    (void)state;
    CONFIG_TEST_FAILS("tenant: {session_lifetime: 0}\n", "tenant: session_lifetime: must be between");
    CONFIG_TEST_FAILS("tenant: {session_lifetime: -3}\n", "session_lifetime: must be between");
    CONFIG_TEST_FAILS("tenant: {session_lifetime: 8761}\n", "session_lifetime: must be between");
    CONFIG_TEST_FAILS("tenant: {idle_session_lifetime: '72'}\n",
               "idle_session_lifetime: must be a number of hours");
    CONFIG_TEST_FAILS("tenant: {idle_session_lifetime: [1]}\n", "must be a number of hours");
    CONFIG_TEST_FAILS("tenant: {session_lifetime: 1, session_lifetime_in_minutes: 60}\n",
               "give either session_lifetime or session_lifetime_in_minutes");
    CONFIG_TEST_FAILS("tenant: {idle_session_lifetime_in_minutes: 0}\n",
               "idle_session_lifetime_in_minutes: must be between 1 and");
    CONFIG_TEST_FAILS("tenant: {session_lifetime: .nan}\n", "session_lifetime");
    CONFIG_TEST_FAILS("tenant: {session_cookie: {mode: forever}}\n",
               "tenant.session_cookie: mode: must be persistent or non-persistent");
    CONFIG_TEST_FAILS("tenant: {session_cookie: persistent}\n", "session_cookie");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_hours_and_minutes),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
