/* client_ip.c: trusted-proxy lists, and the client's address from X-Forwarded-For, with the
 * forged, broken and oversized headers a client can send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "client_ip.h"

static gw_proxies
proxies(const char *list)
{
    gw_proxies p;
    char err[160] = "";

    if (gw_proxies_parse(list, &p, err, sizeof(err)) != TG_OK)
        fail_msg("%s: %s", list, err);
    return p;
}

static const char *
client(const gw_proxies *p, const char *peer, const char *xff)
{
    static char out[64];

    gw_client_ip(p, peer, xff, xff != NULL ? strlen(xff) : 0, out, sizeof(out));
    return out;
}

static void
test_parse(void **state)
{
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "/8", "10.0.0.0/8x",
                                      "10.0.0.0/-1", "::/129", "example.com", "10.0.0.1:80",
                                      "[::1]", "10.0.0.0/8,,10.1.0.0/16", ",", "1.2.3"};
    gw_proxies p;
    char err[160];

    (void)state;
    p = proxies("10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1");
    assert_int_equal(p.n, 4);
    assert_true(gw_proxies_has(&p, "10.200.3.4"));
    assert_true(gw_proxies_has(&p, "192.168.1.7"));
    assert_false(gw_proxies_has(&p, "192.168.1.8"));
    assert_true(gw_proxies_has(&p, "fd12::1"));
    assert_true(gw_proxies_has(&p, "::1"));
    assert_true(gw_proxies_has(&p, "::ffff:10.1.2.3")); /* IPv4-mapped peers */
    assert_false(gw_proxies_has(&p, "11.0.0.1"));
    assert_false(gw_proxies_has(&p, "not-an-ip"));
    p = proxies("10.1.2.3/12"); /* host bits are cleared */
    assert_true(gw_proxies_has(&p, "10.0.0.1"));
    assert_false(gw_proxies_has(&p, "10.16.0.1"));
    p = proxies("");
    assert_int_equal(p.n, 0);
    p = proxies(NULL);
    assert_int_equal(p.n, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (gw_proxies_parse(bad[i], &p, err, sizeof(err)) != TG_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(err[0] != '\0');
    }
}

static void
test_too_many(void **state)
{
    char list[2048] = "";
    gw_proxies p;
    char err[160];

    (void)state;
    for (int i = 0; i <= GW_MAX_TRUSTED_PROXIES; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "10.0.%d.0/24,", i);
    list[strlen(list) - 1] = '\0';
    assert_int_equal(gw_proxies_parse(list, &p, err, sizeof(err)), TG_EINVAL);
}

static void
test_client_address(void **state)
{
    gw_proxies none = proxies(""), p = proxies("10.0.0.0/8,2001:db8::/32");
    char many[4096] = "";

    (void)state;
    /* no trusted proxies, or a peer that is not one: the header means nothing */
    assert_string_equal(client(&none, "10.0.0.1", "1.2.3.4"), "10.0.0.1");
    assert_string_equal(client(&p, "8.8.8.8", "1.2.3.4"), "8.8.8.8");
    /* through one proxy, and through a chain of them */
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4"), "1.2.3.4");
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4, 10.9.9.9"), "1.2.3.4");
    /* what the client wrote to the left of the first untrusted hop is ignored */
    assert_string_equal(client(&p, "10.0.0.1", "6.6.6.6, 1.2.3.4"), "1.2.3.4");
    assert_string_equal(client(&p, "10.0.0.1", "10.5.5.5, 1.2.3.4, 10.0.0.9"), "1.2.3.4");
    /* the forms proxies write, written back canonically */
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4:5678"), "1.2.3.4");
    assert_string_equal(client(&p, "10.0.0.1", "[2001:DB9::1]:443"), "2001:db9::1");
    assert_string_equal(client(&p, "2001:db8::5", "2001:db9:0:0::7"), "2001:db9::7");
    assert_string_equal(client(&p, "::ffff:10.0.0.2", "1.2.3.4"), "1.2.3.4");
    /* broken right-most entry: the proxy itself is the client we know */
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4, garbage"), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4, 10.0.0.7, unknown"), "10.0.0.1");
    /* a broken entry left of a trusted hop stops the walk at that hop */
    assert_string_equal(client(&p, "10.0.0.1", "garbage, 10.0.0.7"), "10.0.0.7");
    assert_string_equal(client(&p, "10.0.0.1", ""), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", " , "), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "[::1"), "10.0.0.1");
    assert_string_equal(client(&p, "10.0.0.1", "1.2.3.4\x00"), "1.2.3.4");
    /* every hop trusted, more than the walk examines */
    for (int i = 0; i < 200; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.%d.%d",
                 i ? "," : "", i / 250, i % 250 + 1);
    assert_string_equal(client(&p, "10.0.0.1", many), "10.0.0.169");
    /* an overlong entry is malformed, never copied */
    memset(many, '1', sizeof(many) - 1);
    many[sizeof(many) - 1] = '\0';
    assert_string_equal(client(&p, "10.0.0.1", many), "10.0.0.1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_client_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
