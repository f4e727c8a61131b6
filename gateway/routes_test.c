/* The route table: lookup, 404 vs 405, Allow values, and that every entry is well formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "routes.h"
#include "token.pb-c.h"
#include "users.pb-c.h"

static const gw_route *
lookup(const char *method, const char *path, gw_route_match *m)
{
    return gw_route_lookup(method, strlen(method), path, strlen(path), m);
}

static void
finds_token_and_well_known(void **state)
{
    gw_route_match m;
    const gw_route *r;

    (void)state;
    r = lookup("POST", "/oauth/token", &m);
    assert_non_null(r);
    assert_int_equal(m, GW_ROUTE_FOUND);
    assert_string_equal(r->rpc, "token.Token");
    assert_ptr_equal(r->request, &tollgate__token__token_request__descriptor);
    assert_ptr_equal(r->reply, &tollgate__token__token_reply__descriptor);
    assert_true(r->flags & GW_ROUTE_NO_STORE);
    r = lookup("GET", "/.well-known/jwks.json", &m);
    assert_string_equal(r->rpc, "token.Jwks");
    assert_true(r->flags & GW_ROUTE_CORS_PUBLIC);
    r = lookup("GET", "/.well-known/openid-configuration", &m);
    assert_string_equal(r->rpc, "token.Discovery");
    r = lookup("GET", "/.well-known/oauth-authorization-server", &m);
    assert_string_equal(r->rpc, "token.Discovery");
}

static void
finds_userinfo_and_signup(void **state)
{
    gw_route_match m;
    const gw_route *r;
    char buf[64];

    (void)state;
    for (int i = 0; i < 2; i++) {
        r = lookup(i == 0 ? "GET" : "POST", "/userinfo", &m);
        assert_non_null(r);
        assert_string_equal(r->service, "token");
        assert_string_equal(r->rpc, "token.Userinfo");
        assert_ptr_equal(r->request, &tollgate__token__empty__descriptor);
        assert_ptr_equal(r->reply, &tollgate__token__userinfo_reply__descriptor);
        assert_true(r->flags & GW_ROUTE_NO_STORE);
    }
    assert_int_equal(gw_route_allow("/userinfo", 9, buf, sizeof(buf)),
                     GW_ROUTE_NO_STORE | GW_ROUTE_CORS_CREDENTIALED);
    assert_string_equal(buf, "GET, POST, OPTIONS");
    r = lookup("POST", "/dbconnections/signup", &m);
    assert_non_null(r);
    assert_string_equal(r->service, "users");
    assert_string_equal(r->rpc, "users.Signup");
    assert_ptr_equal(r->request, &tollgate__users__signup_request__descriptor);
    assert_ptr_equal(r->reply, &tollgate__users__signup_reply__descriptor);
    assert_int_equal(r->flags, GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED);
    assert_null(lookup("GET", "/dbconnections/signup", &m));
    assert_int_equal(m, GW_ROUTE_NO_METHOD);
}

/* Which routes spend the password rate limit and which answer credentialed CORS. */
static void
rate_and_cors_flags(void **state)
{
    static const struct {
        const char *method, *path;
        unsigned flags;
    } want[] = {
        {"POST", "/oauth/token", GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
        {"POST", "/dbconnections/signup", GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
        {"POST", "/dbconnections/change_password",
         GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED},
        {"POST", "/u/reset-password", GW_ROUTE_RATE_PASSWORD},
        {"GET", "/u/reset-password", 0},
        {"POST", "/oauth/revoke", GW_ROUTE_CORS_CREDENTIALED},
        {"GET", "/userinfo", GW_ROUTE_CORS_CREDENTIALED},
        {"POST", "/userinfo", GW_ROUTE_CORS_CREDENTIALED},
        {"GET", "/.well-known/jwks.json", 0},
        /* browser sign-in: every form that checks a secret or a guessable code is limited;
         * no page answers cross-origin reads */
        {"GET", "/authorize", 0},
        {"GET", "/u/login", 0},
        {"POST", "/u/login", GW_ROUTE_RATE_PASSWORD},
        {"GET", "/u/signup", 0},
        {"POST", "/u/signup", GW_ROUTE_RATE_PASSWORD},
        {"POST", "/u/consent", 0},
        {"POST", "/oauth/device/code", GW_ROUTE_RATE_PASSWORD},
        {"GET", "/activate", 0},
        {"POST", "/activate", GW_ROUTE_RATE_PASSWORD},
        {"GET", "/activate/confirm", 0},
        {"POST", "/activate/confirm", 0},
        {"GET", "/v2/logout", 0},
        {"GET", "/oidc/logout", 0},
        {"POST", "/oidc/logout", 0},
        {"POST", "/oidc/register", GW_ROUTE_RATE_PASSWORD},
    };
    const unsigned mask = GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED;
    gw_route_match m;

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const gw_route *r = lookup(want[i].method, want[i].path, &m);
        if (r == NULL)
            fail_msg("no route %s %s", want[i].method, want[i].path);
        assert_int_equal(r->flags & mask, want[i].flags);
        if (strncmp(want[i].path, "/.well-known/", 13) != 0 &&
            strcmp(want[i].path, "/dbconnections/signup") != 0 && !(r->flags & GW_ROUTE_NO_STORE))
            fail_msg("%s %s may be cached", want[i].method, want[i].path);
    }
}

static void
distinguishes_404_and_405(void **state)
{
    gw_route_match m;

    (void)state;
    assert_null(lookup("GET", "/oauth/token", &m));
    assert_int_equal(m, GW_ROUTE_NO_METHOD);
    assert_null(lookup("post", "/oauth/token", &m)); /* methods are case-sensitive */
    assert_int_equal(m, GW_ROUTE_NO_METHOD);
    assert_null(lookup("POST", "/oauth/token/", &m));
    assert_int_equal(m, GW_ROUTE_NO_PATH);
    assert_null(lookup("POST", "/oauth/tokens", &m));
    assert_int_equal(m, GW_ROUTE_NO_PATH);
    assert_null(lookup("POST", "/oauth/toke", &m));
    assert_int_equal(m, GW_ROUTE_NO_PATH);
    assert_null(lookup("GET", "", &m));
    assert_int_equal(m, GW_ROUTE_NO_PATH);
}

static void
allow_lists_methods(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(gw_route_allow("/oauth/token", 12, buf, sizeof(buf)),
                     GW_ROUTE_NO_STORE | GW_ROUTE_RATE_PASSWORD | GW_ROUTE_CORS_CREDENTIALED);
    assert_string_equal(buf, "POST, OPTIONS");
    assert_int_equal(gw_route_allow("/.well-known/jwks.json", 22, buf, sizeof(buf)),
                     GW_ROUTE_CORS_PUBLIC);
    assert_string_equal(buf, "GET, OPTIONS");
    assert_int_equal(gw_route_allow("/nope", 5, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    gw_route_allow("/oauth/token", 12, buf, 4); /* truncation stays terminated */
    assert_true(strlen(buf) < 4);
}

static void
table_is_well_formed(void **state)
{
    size_t n;
    const gw_route *r = gw_routes(&n);

    (void)state;
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        assert_true(strcmp(r[i].method, "GET") == 0 || strcmp(r[i].method, "POST") == 0);
        assert_true(r[i].path[0] == '/');
        assert_null(strchr(r[i].path, '?'));
        assert_non_null(r[i].request);
        assert_non_null(r[i].reply);
        assert_true(strncmp(r[i].rpc, r[i].service, strlen(r[i].service)) == 0);
        /* every request carries the web context */
        assert_non_null(protobuf_c_message_descriptor_get_field_by_name(r[i].request, "web"));
        for (size_t j = i + 1; j < n; j++)
            assert_false(strcmp(r[i].method, r[j].method) == 0 &&
                         strcmp(r[i].path, r[j].path) == 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_token_and_well_known), cmocka_unit_test(finds_userinfo_and_signup),
        cmocka_unit_test(distinguishes_404_and_405),  cmocka_unit_test(rate_and_cors_flags),
        cmocka_unit_test(allow_lists_methods),        cmocka_unit_test(table_is_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
