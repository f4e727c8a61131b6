/*
 * Helpers shared by the lib/config unit tests (header-only: each *_test.c is its own program).
 * Include after <cmocka.h> and "config/config.h".
 */
#ifndef TG_CONFIG_TESTING_H
#define TG_CONFIG_TESTING_H

#include <stdarg.h>
#include <string.h>

#define CONFIG_TEST_MASTER "test-master-key-0123456789"

/* The tenant file text loaded; the test fails with the loader's message otherwise. */
static inline config *
config_test_load_ok(const char *text)
{
    char err[512] = "";
    config *cfg = NULL;
    tg_err rc = config_load_text("tenant.yaml", text, strlen(text), CONFIG_TEST_MASTER, &cfg,
                                 err, sizeof(err));

    if (rc != TG_OK)
        fail_msg("load failed (%s): %s", tg_strerror(rc), err);
    assert_non_null(cfg);
    return cfg;
}

/* Loading fails, and the message contains every one of the NULL-terminated substrings. */
static inline void
config_test_load_fails(const char *text, ...)
{
    char err[512] = "";
    config *cfg = (config *)0x1;
    tg_err rc = config_load_text("tenant.yaml", text, strlen(text), CONFIG_TEST_MASTER, &cfg,
                                 err, sizeof(err));
    const char *want;
    va_list ap;

    if (rc == TG_OK)
        fail_msg("loaded, but should have failed: %.300s", text);
    assert_null(cfg);
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (strstr(err, want) == NULL)
            fail_msg("error \"%s\" lacks \"%s\"", err, want);
    va_end(ap);
}

#define CONFIG_TEST_FAILS(text, ...) config_test_load_fails(text, __VA_ARGS__, NULL)

#endif
