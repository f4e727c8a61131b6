/*
 * Unit tests for emailProvider in lib/config: smtp loaded with its defaults, other providers
 * and disabled or host-less entries leave mail to the outbox, bad values are refused with the
 * entry and field named, and header injection through the addresses is refused.
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


static void
test_absent(void **state)
{
    config *cfg = config_test_load_ok("tenant: {friendly_name: T}\n");
    (void)state;
    assert_false(cfg->email.enabled);
    assert_null(cfg->email.smtp_host);
    config_free(cfg);
}

static void
test_smtp(void **state)
{
    config *cfg = config_test_load_ok("emailProvider:\n"
                          "  name: smtp\n"
                          "  enabled: true\n"
                          "  default_from_address: no-reply@e2e.test\n"
                          "  credentials: {smtp_host: 127.0.0.1, smtp_port: 2525,\n"
                          "                smtp_user: u, smtp_pass: p}\n");
    (void)state;
    assert_true(cfg->email.enabled);
    assert_string_equal(cfg->email.smtp_host, "127.0.0.1");
    assert_int_equal(cfg->email.smtp_port, 2525);
    assert_string_equal(cfg->email.smtp_user, "u");
    assert_string_equal(cfg->email.smtp_pass, "p");
    assert_string_equal(cfg->email.default_from_address, "no-reply@e2e.test");
    config_free(cfg);

    /* port defaults to 587; an export's masked credentials are "not provided" */
    cfg = config_test_load_ok("emailProvider: {name: smtp, default_from_address: a@b.c,\n"
                  "  credentials: {smtp_host: mail.example.com, smtp_user: '##SMTP_USER##',\n"
                  "                smtp_pass: '##SMTP_PASS##'}}\n");
    assert_true(cfg->email.enabled);
    assert_int_equal(cfg->email.smtp_port, 587);
    assert_null(cfg->email.smtp_user);
    assert_null(cfg->email.smtp_pass);
    config_free(cfg);
}

static void
test_not_configured(void **state)
{
    static const char *const texts[] = {
        "emailProvider: {name: sendgrid, enabled: true, default_from_address: a@b.c,\n"
        "  credentials: {api_key: xyz}}\n",
        "emailProvider: {name: smtp, enabled: false, default_from_address: a@b.c,\n"
        "  credentials: {smtp_host: h}}\n",
        "emailProvider: {name: smtp, default_from_address: a@b.c,\n"
        "  credentials: {smtp_host: '##SMTP_HOSTNAME##'}}\n",
        "emailProvider: null\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        config *cfg = config_test_load_ok(texts[i]);
        assert_false(cfg->email.enabled);
        config_free(cfg);
    }
}

static void
test_refused(void **state)
{
    (void)state;
    CONFIG_TEST_FAILS("emailProvider: [1]\n", "emailProvider: must be an object");
    CONFIG_TEST_FAILS("emailProvider: {name: smtp, credentials: {smtp_host: h, smtp_port: 70000}}\n",
               "emailProvider.credentials: smtp_port: must be between 1 and 65535");
    CONFIG_TEST_FAILS("emailProvider: {name: smtp, enabled: yes please, credentials: {smtp_host: h}}\n",
               "enabled: must be true or false");
    CONFIG_TEST_FAILS("emailProvider: {name: smtp, credentials: {smtp_host: h}}\n",
               "default_from_address: an email address is required");
    CONFIG_TEST_FAILS("emailProvider: {name: smtp, default_from_address: \"a@b.c\\r\\nBcc: x@y.z\",\n"
               "  credentials: {smtp_host: h}}\n",
               "single lines");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_smtp),
        cmocka_unit_test(test_not_configured),
        cmocka_unit_test(test_refused),
    };
    log_init("config_email_test", TG_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
