/* Web origins: serialisation as browsers do it, and every look-alike refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
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
    /* the wildcard entry lists one-label subdomains (below); the pattern itself is no origin */
    assert_true(tg_origin_is_listed("https://a.wild.example.com", urls, n));
    assert_false(tg_origin_is_listed("https://*.wild.example.com", urls, n));
    assert_false(tg_origin_is_listed("null", urls, n));
    assert_false(tg_origin_is_listed("", urls, n));
    assert_false(tg_origin_is_listed(NULL, urls, n));
    assert_false(tg_origin_is_listed("https://app.example.com", urls, 0));
}

/* Auth0's subdomain wildcard ("https://" "*.example.com"): one label in place of the '*', the
 * rest of the origin (scheme, fixed labels, port) exactly; every look-alike refused. */
static void
wildcard_origins_match_one_label(void **state)
{
    char *urls[] = {"https://*.example.com/any/path", "http://*.dev.example.org:8080",
                    "https://*.Upper.Example.NET:443/"};
    const size_t n = sizeof(urls) / sizeof(urls[0]);
    static const char *const allowed[] = {
        "https://app.example.com",       "https://a.example.com",
        "https://a-b.example.com",       "https://xn--bcher-kva.example.com",
        "https://123.example.com",       "http://x.dev.example.org:8080",
        "https://app.upper.example.net",
    };
    static const char *const refused[] = {
        "https://example.com",              /* the bare domain: no label in the '*' */
        "https://.example.com",             /* an empty label */
        "https://a.b.example.com",          /* a wildcard never spans a dot */
        "https://evilexample.com",          /* the dot is part of the fixed part */
        "https://app.example.com.evil.com", /* the fixed part must end the host */
        "https://app.example.co",           /* nor be shortened */
        "https://app.example.com:8443",     /* another port */
        "https://app.example.com:443",      /* not canonical */
        "http://app.example.com",           /* another scheme */
        "https://APP.example.com",          /* not canonical */
        "https://-app.example.com",         /* a label cannot start or end with '-' */
        "https://app-.example.com",
        "https://app_x.example.com", /* not a DNS label character */
        "https://app.example.com/",  /* not an origin */
        "https://evil.com@app.example.com",
        "https://app%2eexample.com",
        "http://x.dev.example.org", /* the pattern's port is required */
        "http://x.dev.example.org:8081",
        "https://*.example.com", /* the pattern itself */
        "null",
        "",
    };
    char long_label[TG_ORIGIN_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!tg_origin_is_listed(allowed[i], urls, n))
            fail_msg("origin '%s' not allowed", allowed[i]);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (tg_origin_is_listed(refused[i], urls, n))
            fail_msg("origin '%s' allowed", refused[i]);
    /* labels are at most 63 characters */
    snprintf(long_label, sizeof(long_label), "https://%063d.example.com", 0);
    assert_true(tg_origin_is_listed(long_label, urls, n));
    snprintf(long_label, sizeof(long_label), "https://%064d.example.com", 0);
    assert_false(tg_origin_is_listed(long_label, urls, n));
}

/* Entries that are no usable wildcard list nothing, whatever the candidate. */
static void
malformed_wildcards_list_nothing(void **state)
{
    static const char *const patterns[] = {
        "https://*.com",                  /* one fixed label: every .com site */
        "https://*.0.0.1",                /* the tail of an IPv4 address */
        "https://*.example.com.",         /* an empty last label */
        "https://*..example.com",         /* an empty label */
        "https://*example.com",           /* no dot after the '*' */
        "https://a*.example.com",         /* the '*' is not the whole first label */
        "https://x.*.example.com",        /* nor in another label */
        "https://*.*.example.com",        /* one wildcard only */
        "https://*.example.com@evil.com", /* userinfo */
        "https://*.evil.com\\@example.com",
        "https://*.example.com:0", /* a bad port */
        "https://*.example.com:99999",
        "ftp://*.example.com", /* no web origin */
        "javascript://*.example.com",
        "*.example.com",
        "//*.example.com",
        "https://*.[::1]",
        "https://*.",
        "https://*",
        "*",
    };
    static const char *const candidates[] = {
        "https://app.example.com", "https://app.com",  "https://127.0.0.1",
        "https://a.b.example.com", "https://evil.com", "https://app.example.com:0",
        "https://app.[::1]",       "https://app",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char *urls[] = {(char *)patterns[i]};
        for (size_t j = 0; j < sizeof(candidates) / sizeof(candidates[0]); j++)
            if (tg_origin_is_listed(candidates[j], urls, 1))
                fail_msg("pattern '%s' lists '%s'", patterns[i], candidates[j]);
    }
}

/* Patterns and origins of every length up to past TG_ORIGIN_MAX: names of DNS length match,
 * overlong ones never do, and nothing overflows the placeholder serialisation. */
static void
overlong_wildcards_list_nothing(void **state)
{
    char pattern[TG_ORIGIN_MAX + 64], origin[TG_ORIGIN_MAX + 64];
    char *urls[] = {pattern};
    (void)state;

    for (size_t len = 1; len + 20 < sizeof(pattern); len++) {
        memcpy(pattern, "https://*.", 10);
        memset(pattern + 10, 'a', len);
        memcpy(pattern + 10 + len, ".com", 5);
        memcpy(origin, "https://x.", 10);
        memset(origin + 10, 'a', len);
        memcpy(origin + 10 + len, ".com", 5);
        if (len <= 240 && !tg_origin_is_listed(origin, urls, 1))
            fail_msg("length %zu: not listed", len);
        if (len > TG_ORIGIN_MAX && tg_origin_is_listed(origin, urls, 1))
            fail_msg("length %zu: listed", len);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(origins_serialise_like_browsers),
        cmocka_unit_test(overlong_and_small_buffers_have_no_origin),
        cmocka_unit_test(listed_origins_match_exactly),
        cmocka_unit_test(wildcard_origins_match_one_label),
        cmocka_unit_test(malformed_wildcards_list_nothing),
        cmocka_unit_test(overlong_wildcards_list_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
