/* The options every service takes: environment defaults, flags over them, the range of
 * --workers, a missing tenant, and hostile numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/service.h"

static void
clear_env(void)
{
    unsetenv("TG_TENANT_FILE");
    unsetenv("TG_STORE");
    unsetenv("TG_MASTER_KEY_FILE");
    unsetenv("TG_WORKERS");
}

/* Parses argv as a service would (its own options: --bus); returns how many were its own, or
 * -1 on an unknown option. */
static int
parse(tg_service_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        TG_SERVICE_LONGOPTS,
        {"bus", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    int c, own = 0;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (tg_service_opt(o, c, optarg))
            continue;
        if (c != 'b')
            return -1;
        own++;
    }
    return own;
}

static void
test_defaults_from_the_environment(void **state)
{
    tg_service_opts o;
    (void)state;

    clear_env();
    tg_service_opts_init(&o, "sqlite:x.db");
    assert_null(o.tenant);
    assert_string_equal(o.store_url, "sqlite:x.db");
    assert_null(o.master_key_file);
    assert_null(o.replica_id);
    assert_int_equal(o.workers, 64);
    assert_false(tg_service_opts_ok(&o)); /* no tenant */

    setenv("TG_TENANT_FILE", "/etc/t.yaml", 1);
    setenv("TG_STORE", "mongodb://db/", 1);
    setenv("TG_MASTER_KEY_FILE", "/run/key", 1);
    setenv("TG_WORKERS", "12", 1);
    tg_service_opts_init(&o, "sqlite:x.db");
    assert_string_equal(o.tenant, "/etc/t.yaml");
    assert_string_equal(o.store_url, "mongodb://db/");
    assert_string_equal(o.master_key_file, "/run/key");
    assert_int_equal(o.workers, 12);
    assert_true(tg_service_opts_ok(&o));
    setenv("TG_STORE", "", 1); /* empty counts as unset */
    tg_service_opts_init(&o, "sqlite:x.db");
    assert_string_equal(o.store_url, "sqlite:x.db");
    clear_env();
}

static void
test_flags_over_the_environment(void **state)
{
    char *argv[] = {"svc",         "--tenant",  "a.yaml", "--store",     "sqlite:y.db",
                    "--bus",       "tcp://b",   "--workers", "3",        "--master-key-file",
                    "k",           "--replica-id", "r-1",  NULL};
    tg_service_opts o;
    (void)state;

    setenv("TG_TENANT_FILE", "/etc/t.yaml", 1);
    tg_service_opts_init(&o, "sqlite:x.db");
    assert_int_equal(parse(&o, 13, argv), 1);
    assert_string_equal(o.tenant, "a.yaml");
    assert_string_equal(o.store_url, "sqlite:y.db");
    assert_int_equal(o.workers, 3);
    assert_string_equal(o.master_key_file, "k");
    assert_string_equal(o.replica_id, "r-1");
    assert_true(tg_service_opts_ok(&o));
    clear_env();
}

static void
test_hostile_workers(void **state)
{
    static const char *bad[] = {"0",  "257", "-1", "",   "12abc", "0x10", "99999999999999999999",
                                " 8", "+8",  "8 ", "--8", "-",     "\t8"};
    tg_service_opts o;
    (void)state;

    clear_env();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[] = {"svc", "--tenant", "t", "--workers", (char *)bad[i], NULL};

        tg_service_opts_init(&o, "sqlite:x.db");
        assert_int_equal(parse(&o, 5, argv), 0);
        if (tg_service_opts_ok(&o))
            fail_msg("--workers '%s' accepted", bad[i]);
        setenv("TG_WORKERS", bad[i], 1);
        tg_service_opts_init(&o, "sqlite:x.db");
        o.tenant = "t";
        if (bad[i][0] != '\0' && tg_service_opts_ok(&o)) /* "" falls back to 64 */
            fail_msg("TG_WORKERS='%s' accepted", bad[i]);
        unsetenv("TG_WORKERS");
    }
    {
        char *argv[] = {"svc", "--tenant", "t", "--nope", NULL};

        tg_service_opts_init(&o, "sqlite:x.db");
        assert_int_equal(parse(&o, 4, argv), -1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_from_the_environment),
        cmocka_unit_test(test_flags_over_the_environment),
        cmocka_unit_test(test_hostile_workers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
