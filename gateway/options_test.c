/* Gateway options: defaults, environment, command line precedence and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static const char *const *fake_env;

static const char *
env(const char *name)
{
    for (const char *const *e = fake_env; e != NULL && *e != NULL; e += 2)
        if (strcmp(e[0], name) == 0)
            return e[1];
    return NULL;
}

static gw_options_result
parse(const char *const *env_pairs, int argc, char **argv, gw_config *cfg)
{
    char errbuf[160];

    fake_env = env_pairs;
    return gw_options_parse(argc, argv, env, cfg, errbuf, sizeof(errbuf));
}

static void
defaults(void **state)
{
    char *argv[] = {"gw"};
    gw_config c;

    (void)state;
    assert_int_equal(parse(NULL, 1, argv, &c), GW_OPTIONS_OK);
    assert_string_equal(c.tls_listen, "127.0.0.1:8443");
    assert_string_equal(c.h2c_listen, "127.0.0.1:8080");
    assert_int_equal(c.n_bus, 3);
    assert_string_equal(gw_options_bus_url(&c, "token"), "tcp://127.0.0.1:7101");
    assert_string_equal(gw_options_bus_url(&c, "users"), "tcp://127.0.0.1:7102");
    assert_string_equal(gw_options_bus_url(&c, "authorize"), "tcp://127.0.0.1:7103");
    assert_null(gw_options_bus_url(&c, "mfa"));
    assert_int_equal(c.deadline_ms, 5000);
    assert_int_equal(c.max_body, 65536);
    assert_null(c.cert);
    assert_null(c.key);
    assert_null(c.issuer);
    assert_null(c.access_log);
    assert_int_equal(c.rate_password.limit, 300);
    assert_int_equal(c.rate_password.period_s, 60);
}

static void
rate_limits(void **state)
{
    static const char *const e[] = {"TG_RATE_LIMIT_PASSWORD", "0", NULL};
    static const char *const e2[] = {"TG_RATE_LIMIT_PASSWORD", "20/s", NULL};
    static const char *const bad_env[] = {"TG_RATE_LIMIT_PASSWORD", "password=1/min", NULL};
    static char *const bad[][2] = {
        {"gw", "--rate-limit=10/min"},          {"gw", "--rate-limit=signup=1/min"},
        {"gw", "--rate-limit=password=-1/min"}, {"gw", "--rate-limit=password=1/day"},
        {"gw", "--rate-limit=password=x"},      {"gw", "--rate-limit=password=2000000/s"},
    };
    char *argv[] = {"gw", "--rate-limit", "password=5/h"};
    char *argv1[] = {"gw"};
    gw_config c;

    (void)state;
    assert_int_equal(parse(e, 1, argv1, &c), GW_OPTIONS_OK);
    assert_int_equal(c.rate_password.limit, 0);
    assert_int_equal(parse(e2, 1, argv1, &c), GW_OPTIONS_OK);
    assert_int_equal(c.rate_password.limit, 20);
    assert_int_equal(c.rate_password.period_s, 1);
    assert_int_equal(parse(e2, 3, argv, &c), GW_OPTIONS_OK); /* command line wins */
    assert_int_equal(c.rate_password.limit, 5);
    assert_int_equal(c.rate_password.period_s, 3600);
    assert_int_equal(parse(bad_env, 1, argv1, &c), GW_OPTIONS_USAGE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(NULL, 2, (char **)bad[i], &c), GW_OPTIONS_USAGE);
}

static void
env_then_command_line(void **state)
{
    static const char *const e[] = {
        "TG_DEADLINE_MS", "250",        "TG_ISSUER", "https://id.example/",
        "TG_H2C_LISTEN",  "[::1]:9090", NULL};
    char *argv[] = {"gw", "--deadline-ms", "750", "--max-body=1024", "--access-log", "/tmp/a"};
    gw_config c;

    (void)state;
    assert_int_equal(parse(e, 6, argv, &c), GW_OPTIONS_OK);
    assert_int_equal(c.deadline_ms, 750);
    assert_int_equal(c.max_body, 1024);
    assert_string_equal(c.issuer, "https://id.example/");
    assert_string_equal(c.h2c_listen, "[::1]:9090");
    assert_string_equal(c.access_log, "/tmp/a");
}

static void
refusals(void **state)
{
    static char *const bad[][3] = {
        {"gw", "--nope", "1"},         {"gw", "--deadline-ms", "0"},
        {"gw", "--deadline-ms", "5s"}, {"gw", "--max-body", "-1"},
        {"gw", "--cert", "c.pem"},     {"gw", "--tls-listen", "nocolon"},
        {"gw", "--h2c-listen", "h:0"}, {"gw", "--issuer", "ftp://x/"},
        {"gw", "positional", "x"},
    };
    gw_config c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(NULL, 3, (char **)bad[i], &c), GW_OPTIONS_USAGE);
    {
        char *argv[] = {"gw", "--deadline-ms"};
        assert_int_equal(parse(NULL, 2, argv, &c), GW_OPTIONS_USAGE);
    }
    {
        char *argv[] = {"gw", "--tls-listen=", "--h2c-listen="};
        assert_int_equal(parse(NULL, 3, argv, &c), GW_OPTIONS_USAGE);
    }
    {
        static const char *const e[] = {"TG_MAX_BODY", "lots", NULL};
        char *argv[] = {"gw"};
        assert_int_equal(parse(e, 1, argv, &c), GW_OPTIONS_USAGE);
    }
}

/* --bus SERVICE=URL beats TG_BUS_<SERVICE> beats the default; --bus-token is --bus token=. */
/* --trusted-proxies / TG_TRUSTED_PROXIES: parsed at start, bad lists refused as usage errors. */
static void
trusted_proxies(void **state)
{
    char *ok[] = {"gw", "--trusted-proxies", "10.0.0.0/8, fd00::/8"};
    char *bad[] = {"gw", "--trusted-proxies", "10.0.0.0/8,ingress.local"};
    gw_config c;

    (void)state;
    assert_int_equal(parse(NULL, 3, ok, &c), GW_OPTIONS_OK);
    assert_int_equal(c.proxies.n, 2);
    assert_true(gw_proxies_has(&c.proxies, "10.1.1.1"));
    assert_int_equal(parse(NULL, 1, ok, &c), GW_OPTIONS_OK);
    assert_int_equal(c.proxies.n, 0);
    assert_int_equal(parse(NULL, 3, bad, &c), GW_OPTIONS_USAGE);
}

static void
bus_services(void **state)
{
    static const char *const e[] = {"TG_BUS_USERS", "tcp://10.0.0.1:7202", "TG_BUS_TOKEN",
                                    "tcp://10.0.0.1:7201", NULL};
    gw_config c;

    (void)state;
    {
        char *argv[] = {"gw"};
        assert_int_equal(parse(e, 1, argv, &c), GW_OPTIONS_OK);
        assert_int_equal(c.n_bus, 3);
        assert_string_equal(gw_options_bus_url(&c, "token"), "tcp://10.0.0.1:7201");
        assert_string_equal(gw_options_bus_url(&c, "users"), "tcp://10.0.0.1:7202");
    }
    {
        char *argv[] = {"gw",
                        "--bus",
                        "users=ipc:///tmp/u.ipc",
                        "--bus=token=tcp://[::1]:1",
                        "--bus",
                        "mfa_2=tcp://127.0.0.1:7199"};
        assert_int_equal(parse(e, 6, argv, &c), GW_OPTIONS_OK);
        assert_int_equal(c.n_bus, 4);
        assert_string_equal(gw_options_bus_url(&c, "token"), "tcp://[::1]:1");
        assert_string_equal(gw_options_bus_url(&c, "users"), "ipc:///tmp/u.ipc");
        assert_string_equal(gw_options_bus_url(&c, "mfa_2"), "tcp://127.0.0.1:7199");
        assert_string_equal(c.bus[3].name, "mfa_2"); /* given ones after the defaults */
    }
    {
        /* The old spelling still works, and the last one given wins. */
        char *argv[] = {"gw", "--bus", "token=tcp://127.0.0.1:1", "--bus-token",
                        "tcp://127.0.0.1:2"};
        assert_int_equal(parse(NULL, 5, argv, &c), GW_OPTIONS_OK);
        assert_int_equal(c.n_bus, 3);
        assert_string_equal(gw_options_bus_url(&c, "token"), "tcp://127.0.0.1:2");
        assert_string_equal(gw_options_bus_url(&c, "users"), "tcp://127.0.0.1:7102");
    }
}

static void
bus_refusals(void **state)
{
    static char *const bad[][3] = {
        {"gw", "--bus", "tcp://127.0.0.1:1"},  /* no SERVICE= */
        {"gw", "--bus", "=tcp://127.0.0.1:1"}, /* empty service */
        {"gw", "--bus", "Token=tcp://x:1"},    /* upper case */
        {"gw", "--bus", "to ken=tcp://x:1"},
        {"gw", "--bus", "1st=tcp://x:1"},
        {"gw", "--bus", "token="}, /* empty address */
        {"gw", "--bus-token", ""},
        {"gw", "--bus", "users=tcp://127.0.0.1:7101"},
        {"gw", "--bus", "a23456789012345678901234567890123=tcp://x:1"},
    };
    gw_config c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(NULL, 3, (char **)bad[i], &c) != GW_OPTIONS_USAGE)
            fail_msg("accepted %s %s", bad[i][1], bad[i][2]);
    {
        char *argv[] = {"gw", "--bus"};
        assert_int_equal(parse(NULL, 2, argv, &c), GW_OPTIONS_USAGE);
    }
    {
        static const char *const e[] = {"TG_BUS_USERS", "", NULL};
        char *argv[] = {"gw"};
        assert_int_equal(parse(e, 1, argv, &c), GW_OPTIONS_USAGE);
    }
    {
        char *argv[] = {"gw",          "--bus",       "a=tcp://h:1", "--bus",       "b=tcp://h:2",
                        "--bus",       "c=tcp://h:3", "--bus",       "d=tcp://h:4", "--bus",
                        "e=tcp://h:5", "--bus",       "f=tcp://h:6", "--bus",       "g=tcp://h:7"};
        assert_int_equal(parse(NULL, 15, argv, &c), GW_OPTIONS_USAGE); /* 9 > 8 services */
    }
}

static void
help_and_disabling(void **state)
{
    char *help[] = {"gw", "--help"};
    char *off[] = {"gw", "--tls-listen", "", "--issuer", ""};
    gw_config c;

    (void)state;
    assert_int_equal(parse(NULL, 2, help, &c), GW_OPTIONS_HELP);
    assert_int_equal(parse(NULL, 5, off, &c), GW_OPTIONS_OK);
    assert_string_equal(c.tls_listen, "");
    assert_null(c.issuer);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),     cmocka_unit_test(env_then_command_line),
        cmocka_unit_test(refusals),     cmocka_unit_test(bus_services),
        cmocka_unit_test(bus_refusals), cmocka_unit_test(help_and_disabling),
        cmocka_unit_test(rate_limits),    cmocka_unit_test(trusted_proxies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
