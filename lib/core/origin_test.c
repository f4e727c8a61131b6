/* Web origins: serialisation as browsers do it, and every look-alike refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "core/origin.h"

static const struct {
    const char *url, *origin; /* origin NULL: the URL has none */
} cases[] = {
    {"https://app.example.com/callback?x=1#y", "https://app.example.com"},
    {"HTTPS://App.Example.COM", "https://app.example.com"},
    {"https://app.example.com:443/", "https://app.example.com"},
    {"http://localhost:80", "http://localhost"},
    {"http://localhost:3000/cb", "http://localhost:3000"},
    {"https://localhost:8443?q", "https://localhost:8443"},
    {"https://127.0.0.1:9000#f", "https://127.0.0.1:9000"},
    {"http://[::1]:8080/x", "http://[::1]:8080"},
    {"https://app.example.com:0443", "https://app.example.com"},
    {"https://evil.com@app.example.com/", NULL},
    {"https://app.example.com@evil.com/", NULL},
    {"https://app%2eexample.com/", NULL},
    {"https://*.example.com", NULL},
    {"https://app.example.com\\@evil.com", NULL},
    {"https://app.example.com :443", NULL},
    {"https://", NULL},
    {"https:///path", NULL},
    {"https://app.example.com:", NULL},
    {"https://app.example.com:65536", NULL},
    {"https://app.example.com:0", NULL},
    {"https://app.example.com:123456", NULL},
    {"https://[::1", NULL},
    {"https://[]", NULL},
    {"javascript://app.example.com/%0aalert(1)", NULL},
    {"ftp://app.example.com", NULL},
    {"//app.example.com", NULL},
    {"app.example.com", NULL},
    {"null", NULL},
    {"", NULL},
};

static void
origins_serialise_like_browsers(void **state)
{
    char out[TG_ORIGIN_MAX + 1];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = tg_origin_of(cases[i].url, out, sizeof(out));
        if (cases[i].origin == NULL) {
            if (ok)
                fail_msg("%s: expected no origin, got %s", cases[i].url, out);
            assert_string_equal(out, "");
        } else {
            if (!ok)
                fail_msg("%s: expected %s, got none", cases[i].url, cases[i].origin);
            assert_string_equal(out, cases[i].origin);
        }
    }
    assert_false(tg_origin_of(NULL, out, sizeof(out)));
}

static void
overlong_and_small_buffers_have_no_origin(void **state)
{
    char url[TG_ORIGIN_MAX + 64], out[TG_ORIGIN_MAX + 1], tiny[10];
    (void)state;

    memcpy(url, "https://", 8);
    memset(url + 8, 'a', sizeof(url) - 9);
    url[sizeof(url) - 1] = '\0';
    assert_false(tg_origin_of(url, out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(tg_origin_of("https://app.example.com", tiny, sizeof(tiny)));
    assert_string_equal(tiny, "");
}

static void
listed_origins_match_exactly(void **state)
{
    char *urls[] = {"https://app.example.com/", "http://localhost:3000/callback",
                    "https://*.wild.example.com", "HTTPS://Upper.Example.com:443"};
    const size_t n = sizeof(urls) / sizeof(urls[0]);
    (void)state;

    assert_true(tg_origin_is_listed("https://app.example.com", urls, n));
    assert_true(tg_origin_is_listed("http://localhost:3000", urls, n));
    assert_true(tg_origin_is_listed("https://upper.example.com", urls, n));
    /* the header is compared in its canonical form only */
    assert_false(tg_origin_is_listed("https://app.example.com/", urls, n));
    assert_false(tg_origin_is_listed("https://APP.example.com", urls, n));
    assert_false(tg_origin_is_listed("https://app.example.com:443", urls, n));
    /* other scheme, port, host, look-alikes */
    assert_false(tg_origin_is_listed("http://app.example.com", urls, n));
    assert_false(tg_origin_is_listed("http://localhost:3001", urls, n));
    assert_false(tg_origin_is_listed("http://localhost", urls, n));
    assert_false(tg_origin_is_listed("https://app.example.com.evil.com", urls, n));
    assert_false(tg_origin_is_listed("https://evilapp.example.com", urls, n));
    /* wildcards are not supported: neither the pattern nor a subdomain matches */
    assert_false(tg_origin_is_listed("https://a.wild.example.com", urls, n));
    assert_false(tg_origin_is_listed("https://*.wild.example.com", urls, n));
    assert_false(tg_origin_is_listed("null", urls, n));
    assert_false(tg_origin_is_listed("", urls, n));
    assert_false(tg_origin_is_listed(NULL, urls, n));
    assert_false(tg_origin_is_listed("https://app.example.com", urls, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(origins_serialise_like_browsers),
        cmocka_unit_test(overlong_and_small_buffers_have_no_origin),
        cmocka_unit_test(listed_origins_match_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
