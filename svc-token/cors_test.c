/* CORS: which browser origins a client's lists allow (the answers themselves are checked over
 * real HTTP in tests/e2e/test_browser_spa.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "token.h"

static const char tenant_yaml[] =
    "tenant:\n"
    "  friendly_name: CORS Test\n"
    "clients:\n"
    "  - name: SPA\n"
    "    app_type: spa\n"
    "    client_id: spa-id\n"
    "    token_endpoint_auth_method: none\n"
    "    callbacks: ['https://cb.example.com/callback']\n"
    "    web_origins: ['https://app.example.com', 'http://localhost:3000/']\n"
    "    allowed_origins: ['https://cors.example.com:8443/some/path']\n"
    "  - name: Bare\n"
    "    app_type: spa\n"
    "    client_id: bare-id\n"
    "    token_endpoint_auth_method: none\n";

static int
setup(void **state)
{
    config *cfg = NULL;
    char errbuf[256];

    if (config_load_text("tenant.yaml", tenant_yaml, strlen(tenant_yaml),
                         "master-key-for-tests-0123456789", &cfg, errbuf, sizeof(errbuf)) != TG_OK)
        fail_msg("%s", errbuf);
    *state = cfg;
    return 0;
}

static int
teardown(void **state)
{
    config_free(*state);
    return 0;
}

static void
listed_origins_are_allowed(void **state)
{
    const config_client *spa = config_client_by_id(*state, "spa-id");

    assert_non_null(spa);
    assert_true(token_cors_origin_is_allowed(spa, "https://app.example.com"));
    assert_true(token_cors_origin_is_allowed(spa, "http://localhost:3000"));
    assert_true(token_cors_origin_is_allowed(spa, "https://cors.example.com:8443"));
    /* the origin of an allowed callback URL counts too (contract.md §1.6) */
    assert_true(token_cors_origin_is_allowed(spa, "https://cb.example.com"));
}

static void
other_origins_are_not(void **state)
{
    const config_client *spa = config_client_by_id(*state, "spa-id");
    const config_client *bare = config_client_by_id(*state, "bare-id");
    static const char *const refused[] = {
        "https://evil.example.com", "http://app.example.com", "https://app.example.com:444",
        "https://app.example.com.evil.com", "http://localhost:3001", "https://cors.example.com",
        "https://app.example.com/", "null", "", "*",
    };

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (token_cors_origin_is_allowed(spa, refused[i]))
            fail_msg("origin '%s' allowed", refused[i]);
    assert_false(token_cors_origin_is_allowed(spa, NULL));
    assert_false(token_cors_origin_is_allowed(bare, "https://app.example.com"));
    assert_false(token_cors_origin_is_allowed(NULL, "https://app.example.com"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listed_origins_are_allowed),
        cmocka_unit_test(other_origins_are_not),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
