/*
 * Unit tests for a client's back-channel logout URLs: both spellings Auth0 exports
 * (oidc_logout.backchannel_logout_urls, the older oidc_backchannel_logout), and every URL that
 * is not https (or http to this machine) refused at load with the entry and field named.
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

#define HEAD "clients:\n  - name: App\n    app_type: regular_web\n"

static void
test_none_by_default(void **state)
{
    config *cfg = config_test_load_ok(HEAD);
    (void)state;

    assert_int_equal(cfg->clients[0].backchannel_logout_urls.n, 0);
    config_free(cfg);
    cfg = config_test_load_ok(HEAD "    oidc_logout: {backchannel_logout_initiators: {mode: all}}\n");
    assert_int_equal(cfg->clients[0].backchannel_logout_urls.n, 0);
    config_free(cfg);
}

static void
test_deploy_cli_field(void **state)
{
    config *cfg = config_test_load_ok(HEAD "    oidc_logout:\n      backchannel_logout_urls:\n"
                               "        - https://rp.example.com/bcl\n"
                               "        - http://localhost:4000/bcl\n"
                               "        - http://127.0.0.1:9/x\n");
    const config_strv *u = &cfg->clients[0].backchannel_logout_urls;
    (void)state;

    assert_int_equal(u->n, 3);
    assert_string_equal(u->v[0], "https://rp.example.com/bcl");
    assert_string_equal(u->v[1], "http://localhost:4000/bcl");
    config_free(cfg);
}

static void
test_legacy_field(void **state)
{
    config *cfg = config_test_load_ok(HEAD "    oidc_backchannel_logout:\n      backchannel_logout_urls: "
                               "['https://rp.example.com/old']\n");
    (void)state;

    assert_int_equal(cfg->clients[0].backchannel_logout_urls.n, 1);
    assert_string_equal(cfg->clients[0].backchannel_logout_urls.v[0], "https://rp.example.com/old");
    config_free(cfg);
}

static void
test_refused(void **state)
{
    static const char *const bad[] = {
        "http://rp.example.com/bcl",    /* plain http to another machine */
        "http://localhost.evil.test/x", /* look-alike of localhost */
        "http://127.0.0.1.evil.test/x", /* look-alike of the loopback address */
        "ftp://rp.example.com/x",       /* not http(s) */
        "javascript:alert(1)",          /* not a URL we post to */
        "https://",                     /* no host */
        "https://rp.example.com/a b",   /* a space */
        "//rp.example.com/x",           /* no scheme */
    };
    char text[512];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 HEAD "    oidc_logout:\n      backchannel_logout_urls: ['%s']\n", bad[i]);
        CONFIG_TEST_FAILS(text, "clients[0] (\"App\")", "backchannel_logout_urls");
    }
    CONFIG_TEST_FAILS(HEAD "    oidc_logout: {backchannel_logout_urls: https://x.example/}\n",
               "clients[0]", "backchannel_logout_urls");
    CONFIG_TEST_FAILS(HEAD "    oidc_logout: [1]\n", "clients[0]", "oidc_logout");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_by_default),
        cmocka_unit_test(test_deploy_cli_field),
        cmocka_unit_test(test_legacy_field),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
