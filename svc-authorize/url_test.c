/* url.c: callback and logout URL allow-lists against hostile look-alikes, URL building and
 * escaping, cookie parsing. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/web.h"
#include "authorize.h"

static char *cb_list[] = {"https://app.example.com/callback", "http://localhost:3000/cb",
                          "com.example.app://callback"};
static const config_strv callbacks = {cb_list, 3};

static void
test_callback_exact_match(void **state)
{
    (void)state;
    assert_true(authorize_callback_is_allowed(&callbacks, "https://app.example.com/callback"));
    assert_true(authorize_callback_is_allowed(&callbacks, "http://localhost:3000/cb"));
    assert_true(authorize_callback_is_allowed(&callbacks, "com.example.app://callback"));
}

static void
test_callback_hostile_lookalikes(void **state)
{
    static const char *const hostile[] = {
        "https://app.example.com.evil.test/callback", /* look-alike suffix */
        "https://app.example.com@evil.test/callback", /* userinfo */
        "https://evil.test@app.example.com/callback", /* userinfo before the real host */
        "https://app%2eexample.com/callback",         /* encoded dot */
        "https://app.example.com%2F@evil.test/callback",
        "https://APP.example.com/callback",     /* no case folding */
        "https://app.example.com/callback/",    /* trailing slash */
        "https://app.example.com/callback?x=1", /* extra query */
        "https://app.example.com/callback#frag",
        "https://app.example.com/callback/../evil",
        "https://app.example.com:443/callback", /* explicit port */
        "http://app.example.com/callback",      /* other scheme */
        "javascript:alert(1)//https://app.example.com/callback",
        "https://app.example.com/callback ", /* trailing space */
        "https://app.example.com\\@evil.test/callback",
        "//app.example.com/callback", /* scheme-relative */
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
        assert_false(authorize_callback_is_allowed(&callbacks, hostile[i]));
}

/* Auth0's subdomain wildcard: one label in place of the '*', nothing else. */
static void
test_callback_wildcard(void **state)
{
    static char *wl[] = {"https://*.example.com/callback", "https://*.ports.test:8443/cb"};
    static const config_strv wild = {wl, 2};
    static const char *const good[] = {
        "https://a.example.com/callback",
        "https://tenant-42.example.com/callback",
        "https://A1.example.com/callback",
        "https://x.ports.test:8443/cb",
    };
    static const char *const hostile[] = {
        "https://example.com/callback",                 /* no label at all */
        "https://.example.com/callback",                /* empty label */
        "https://a.b.example.com/callback",             /* never across a dot */
        "https://evil.com/.example.com/callback",       /* host ends before the pattern's */
        "https://evil.com?.example.com/callback",
        "https://evil.com#.example.com/callback",
        "https://example.com.evil.com/callback",        /* suffix look-alike */
        "https://a.example.com.evil.com/callback",
        "https://evil.com@a.example.com/callback",      /* userinfo */
        "https://a.example.com@evil.com/callback",
        "https://a:b@x.example.com/callback",
        "https://a%2eevil.example.com/callback",        /* encoded dot */
        "https://evil%2ecom.example.com/callback",
        "https://a.example.com/callback/../../x",       /* path must be the pattern's */
        "https://a.example.com/callbackx",
        "https://a.example.com:443/callback",           /* port must be the pattern's */
        "http://a.example.com/callback",                /* scheme must be the pattern's */
        "https://-a.example.com/callback",              /* not a DNS label */
        "https://a-.example.com/callback",
        "https://a_b.example.com/callback",
        "https://*.example.com/callback.evil",
        "https://x.ports.test/cb",
        "https://x.ports.test:8444/cb",
        "https://x.y.ports.test:8443/cb",
        "javascript://a.example.com/callback",
    };
    static char *bad_patterns[] = {"https://*.com/cb", "https://a.*.example.com/cb",
                                   "https://*example.com/cb", "https://*.example.com/*",
                                   "https://**.example.com/cb", "*://a.example.com/cb",
                                   "https://*.@example.com/cb"};
    static const config_strv bad = {bad_patterns, 7};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(authorize_callback_is_allowed(&wild, good[i]));
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
        if (authorize_callback_is_allowed(&wild, hostile[i]))
            fail_msg("wildcard matched %s", hostile[i]);
    /* patterns that are not a leftmost-label wildcard match nothing but themselves */
    assert_false(authorize_callback_is_allowed(&bad, "https://a.com/cb"));
    assert_false(authorize_callback_is_allowed(&bad, "https://a.b.example.com/cb"));
    assert_false(authorize_callback_is_allowed(&bad, "https://aexample.com/cb"));
    assert_false(authorize_callback_is_allowed(&bad, "https://a.example.com/x"));
    assert_false(authorize_callback_is_allowed(&bad, "https://x.@example.com/cb"));
    assert_false(authorize_callback_is_allowed(&bad, "https://a.example.com/cb"));
    /* a 64-character label is not a DNS label */
    {
        static const char a64[] =
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        char uri[160];

        snprintf(uri, sizeof(uri), "https://%s.example.com/callback", a64);
        assert_false(authorize_callback_is_allowed(&wild, uri));
        snprintf(uri, sizeof(uri), "https://%.63s.example.com/callback", a64);
        assert_true(authorize_callback_is_allowed(&wild, uri));
    }
}

static void
test_uri_safe_refuses_script_schemes(void **state)
{
    static char *bad_list[] = {"javascript:alert(1)", "JavaScript:alert(1)",
                               "data:text/html,<script>x</script>", "vbscript:x", "file:///etc"};
    static const config_strv bad = {bad_list, 5};

    (void)state;
    /* even when someone registered them */
    for (size_t i = 0; i < bad.n; i++)
        assert_false(authorize_callback_is_allowed(&bad, bad_list[i]));
    assert_false(authorize_uri_is_safe("https://a.test/\x01"));
    assert_false(authorize_uri_is_safe("noscheme"));
    assert_false(authorize_uri_is_safe(":nothing"));
    assert_true(authorize_uri_is_safe("https://a.test/cb"));
}

static void
test_logout_url_matching(void **state)
{
    static char *list[] = {"https://app.example.com/logged-out", "http://localhost:3000"};
    static const config_strv allowed = {list, 2};

    (void)state;
    assert_true(authorize_logout_url_is_allowed(&allowed, "https://app.example.com/logged-out"));
    /* query and fragment are ignored, scheme and host are case-insensitive */
    assert_true(
        authorize_logout_url_is_allowed(&allowed, "https://app.example.com/logged-out?a=1#x"));
    assert_true(authorize_logout_url_is_allowed(&allowed, "HTTPS://APP.EXAMPLE.COM/logged-out"));
    assert_true(authorize_logout_url_is_allowed(&allowed, "http://localhost:3000"));
    assert_true(authorize_logout_url_is_allowed(&allowed, "http://localhost:3000?x=y"));
    /* the path is case-sensitive; other hosts, userinfo and look-alikes fail */
    assert_false(authorize_logout_url_is_allowed(&allowed, "https://app.example.com/Logged-Out"));
    assert_false(authorize_logout_url_is_allowed(&allowed, "https://app.example.com/logged-out/x"));
    assert_false(
        authorize_logout_url_is_allowed(&allowed, "https://app.example.com.evil.test/logged-out"));
    assert_false(
        authorize_logout_url_is_allowed(&allowed, "https://app.example.com@evil.test/logged-out"));
    assert_false(
        authorize_logout_url_is_allowed(&allowed, "https://evil.test@app.example.com/logged-out"));
    assert_false(authorize_logout_url_is_allowed(&allowed, "http://localhost:3001"));
    assert_false(authorize_logout_url_is_allowed(&allowed, "//app.example.com/logged-out"));
    assert_false(authorize_logout_url_is_allowed(&allowed, "javascript://localhost:3000"));
    assert_false(authorize_logout_url_is_allowed(&allowed, ""));
}

static void
test_url_with_params_escapes(void **state)
{
    const char *const kv[][2] = {{"code", "a-b_c.d~e"},
                                 {"state", "x y&z=1#?/+%\xc3\xa9"},
                                 {"empty", ""},
                                 {"none", NULL},
                                 {"iss", "https://t.example.com/"}};
    char *u;

    (void)state;
    u = authorize_url_with_params("https://app.test/cb", '?', kv, 5);
    assert_string_equal(u, "https://app.test/cb?code=a-b_c.d~e&state=x%20y%26z%3D1%23%3F%2F%2B%25"
                           "%C3%A9&iss=https%3A%2F%2Ft.example.com%2F");
    free(u);
    u = authorize_url_with_params("https://app.test/cb?keep=1", '?', kv, 1);
    assert_string_equal(u, "https://app.test/cb?keep=1&code=a-b_c.d~e");
    free(u);
    u = authorize_url_with_params("https://app.test/cb", '#', kv, 1);
    assert_string_equal(u, "https://app.test/cb#code=a-b_c.d~e");
    free(u);
    u = authorize_url_with_params("https://app.test/cb", '?', kv + 2, 2);
    assert_string_equal(u, "https://app.test/cb");
    free(u);
}

static void
test_cookie_get(void **state)
{
    char out[64];

    (void)state;
    assert_true(tg_cookie_get("a=1; tg_session=abc; b=2", "tg_session", out, sizeof(out)));
    assert_string_equal(out, "abc");
    /* a name that merely ends or starts with ours is another cookie */
    assert_false(tg_cookie_get("xtg_session=evil", "tg_session", out, sizeof(out)));
    assert_true(
        tg_cookie_get("tg_session_compat=c; tg_session=s", "tg_session", out, sizeof(out)));
    assert_string_equal(out, "s");
    assert_true(tg_cookie_get("tg_session_compat=c", "tg_session_compat", out, sizeof(out)));
    assert_string_equal(out, "c");
    assert_false(tg_cookie_get("tg_session_compat=c", "tg_session", out, sizeof(out)));
    assert_false(tg_cookie_get(NULL, "tg_session", out, sizeof(out)));
    assert_false(tg_cookie_get("", "tg_session", out, sizeof(out)));
    assert_false(tg_cookie_get("tg_session=0123456789", "tg_session", out, 5));
    assert_true(tg_cookie_get("tg_session= ;", "tg_session", out, sizeof(out)));
}

static void
test_secret_form(void **state)
{
    (void)state;
    assert_true(authorize_secret_is_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"));
    assert_false(authorize_secret_is_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123"));
    assert_false(authorize_secret_is_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234="));
    assert_false(authorize_secret_is_well_formed("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ+/01234"));
    assert_false(authorize_secret_is_well_formed(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback_exact_match),
        cmocka_unit_test(test_callback_hostile_lookalikes),
        cmocka_unit_test(test_callback_wildcard),
        cmocka_unit_test(test_uri_safe_refuses_script_schemes),
        cmocka_unit_test(test_logout_url_matching),
        cmocka_unit_test(test_url_with_params_escapes),
        cmocka_unit_test(test_cookie_get),
        cmocka_unit_test(test_secret_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
