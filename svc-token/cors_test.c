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
    "  - name: Wild\n"
    "    app_type: spa\n"
    "    client_id: wild-id\n"
    "    token_endpoint_auth_method: none\n"
    "    callbacks: ['https://*.cb.example.com/callback']\n"
    "    web_origins: ['https://*.apps.example.com']\n"
    "    allowed_origins: ['https://*.cors.example.com:8443']\n"
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

/* Auth0's subdomain wildcard in each of the three lists: one label, never a look-alike. */
static void
wildcard_origins_allow_one_label(void **state)
{
    const config_client *wild = config_client_by_id(*state, "wild-id");
    static const char *const allowed[] = {
        "https://a.apps.example.com",
        "https://tenant-1.apps.example.com",
        "https://x.cors.example.com:8443",
        "https://x.cb.example.com",
    };
    static const char *const refused[] = {
        "https://apps.example.com",
        "https://a.b.apps.example.com",
        "https://a.apps.example.com.evil.com",
        "https://evilapps.example.com",
        "http://a.apps.example.com",
        "https://a.apps.example.com:8443",
        "https://x.cors.example.com",
        "https://x.cb.example.com/callback",
        "https://*.apps.example.com",
        "https://a.apps.example.com/",
    };

    assert_non_null(wild);
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!token_cors_origin_is_allowed(wild, allowed[i]))
            fail_msg("origin '%s' refused", allowed[i]);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (token_cors_origin_is_allowed(wild, refused[i]))
            fail_msg("origin '%s' allowed", refused[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listed_origins_are_allowed),
        cmocka_unit_test(other_origins_are_not),
        cmocka_unit_test(wildcard_origins_allow_one_label),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
