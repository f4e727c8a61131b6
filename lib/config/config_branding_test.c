/*
 * Unit tests for the tenant's branding in lib/config: the logo (branding.logo_url, else
 * tenant.picture_url), the primary colour, and values that could put markup or CSS on the pages
 * refused with the entry and field named.
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

#define MASTER "test-master-key-0123456789"

static config *
load_ok(const char *text)
{
    char err[512] = "";
    config *cfg = NULL;
    tg_err rc = config_load_text("tenant.yaml", text, strlen(text), MASTER, &cfg, err, sizeof(err));

    if (rc != TG_OK)
        fail_msg("load failed (%s): %s", tg_strerror(rc), err);
    return cfg;
}

static void
load_fails(const char *text, const char *want)
{
    char err[512] = "";
    config *cfg = NULL;

    if (config_load_text("tenant.yaml", text, strlen(text), MASTER, &cfg, err, sizeof(err)) ==
        TG_OK)
        fail_msg("loaded, but should have failed: %s", text);
    assert_null(cfg);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_none(void **state)
{
    config *cfg = load_ok("tenant: {friendly_name: Acme}\n");

    (void)state;
    assert_string_equal(cfg->tenant.branding.name, "Acme");
    assert_null(cfg->tenant.branding.logo_url);
    assert_null(cfg->tenant.branding.primary_color);
    config_free(cfg);
}

static void
test_logo_and_colour(void **state)
{
    config *pic = load_ok("tenant: {friendly_name: A, picture_url: 'https://acme.example/p.png'}\n");
    config *both = load_ok("tenant: {friendly_name: A, picture_url: 'https://acme.example/p.png'}\n"
                           "branding:\n"
                           "  logo_url: 'https://cdn.acme.example/logo.svg?v=2&x=1'\n"
                           "  favicon_url: 'https://cdn.acme.example/f.ico'\n"
                           "  colors: {primary: '#0059d6', page_background: '#000000'}\n");
    config *short_hex = load_ok("branding: {colors: {primary: '#AbC'}, logo_url: ''}\n");

    (void)state;
    assert_string_equal(pic->tenant.branding.logo_url, "https://acme.example/p.png");
    assert_string_equal(both->tenant.branding.logo_url, "https://cdn.acme.example/logo.svg?v=2&x=1");
    assert_string_equal(both->tenant.branding.primary_color, "#0059d6");
    assert_string_equal(short_hex->tenant.branding.primary_color, "#AbC");
    assert_null(short_hex->tenant.branding.logo_url);
    config_free(pic);
    config_free(both);
    config_free(short_hex);
}

static void
test_hostile_values(void **state)
{
    static const char *const colours[] = {
        "red", "#12345", "#1234567", "#ggg", "#fff;}body{display:none", "#fff</style>",
        "expression(alert(1))", "#", "0059d6",
    };
    static const char *const logos[] = {
        "http://acme.example/l.png", "javascript:alert(1)", "data:image/svg+xml,<svg>",
        "https://a.example/\"onerror=\"alert(1)", "https://a.example/<x>", "https://a b",
        "//acme.example/l.png", "https://", "https:///x", "HTTPS://acme.example/l.png",
    };
    char text[256];

    (void)state;
    for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++) {
        snprintf(text, sizeof(text), "branding: {colors: {primary: '%s'}}\n", colours[i]);
        load_fails(text, "branding.colors: primary: must be a colour like #0059d6");
    }
    for (size_t i = 0; i < sizeof(logos) / sizeof(logos[0]); i++) {
        snprintf(text, sizeof(text), "branding: {logo_url: '%s'}\n", logos[i]);
        load_fails(text, "branding: logo_url: must be an https URL");
        snprintf(text, sizeof(text), "tenant: {picture_url: '%s'}\n", logos[i]);
        load_fails(text, "tenant: picture_url: must be an https URL");
    }
    load_fails("branding: [1]\n", "branding: must be an object");
    load_fails("branding: {colors: {primary: 5}}\n", "primary: must be a string");
    load_fails("branding: {colors: '#fff'}\n", "colors");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_logo_and_colour),
        cmocka_unit_test(test_hostile_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
