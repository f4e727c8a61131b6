/*
 * Unit test for lib/config's organizations flag: set only by a non-empty top-level
 * `organizations` section (organizations themselves are not supported yet).
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

static bool
has_organizations(const char *text)
{
    char err[512] = "";
    config *cfg = NULL;
    bool v;

    if (config_load_text("tenant.yaml", text, strlen(text), "test-master-key", &cfg, err,
                         sizeof(err)) != TG_OK)
        fail_msg("load failed: %s", err);
    v = cfg->has_organizations;
    config_free(cfg);
    return v;
}

static void
test_organizations_flag(void **state)
{
    (void)state;
    assert_false(has_organizations("tenant: {friendly_name: T}\n"));
    assert_false(has_organizations("organizations: []\n"));
    assert_false(has_organizations("organizations: null\n"));
    assert_true(has_organizations("organizations:\n  - name: acme\n    display_name: Acme\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_organizations_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
