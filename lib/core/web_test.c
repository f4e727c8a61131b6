/*
 * Unit tests for lib/core/web's page head: the tenant's name, logo and colour appear escaped or
 * not at all; a colour or logo that fails validation is left out, so nothing a tenant file
 * holds can end the style rule or the attribute it goes in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/web.h"

/* The page head for b, as a heap string. */
static char *
head(const tg_branding *b)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    tg_html_page_head_branded(f, b, "T<i>tle");
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void
test_validators(void **state)
{
    (void)state;
    assert_true(tg_color_is_valid("#fff"));
    assert_true(tg_color_is_valid("#0059D6"));
    assert_false(tg_color_is_valid(NULL));
    assert_false(tg_color_is_valid(""));
    assert_false(tg_color_is_valid("#ffff"));
    assert_false(tg_color_is_valid("#fff;}"));
    assert_false(tg_color_is_valid("red"));
    assert_true(tg_logo_url_is_valid("https://cdn.example/l.png?a=1&b=2"));
    assert_false(tg_logo_url_is_valid("http://cdn.example/l.png"));
    assert_false(tg_logo_url_is_valid("https://cdn.example/\"x"));
    assert_false(tg_logo_url_is_valid("https://cdn.example/a b"));
    assert_false(tg_logo_url_is_valid("https://cdn.example/\x01"));
    assert_false(tg_logo_url_is_valid("https://"));
    assert_false(tg_logo_url_is_valid(NULL));
}

static void
test_branded_head(void **state)
{
    const tg_branding b = {.name = "Acme <b>&</b> \"Co\"",
                           .logo_url = "https://cdn.example/l.png?a=1&b=2",
                           .primary_color = "#0059d6"};
    char *html = head(&b);

    (void)state;
    assert_non_null(strstr(html, "<title>T&lt;i&gt;tle</title>"));
    assert_non_null(strstr(html, "button{background:#0059d6;"));
    assert_non_null(strstr(html, "<img class=\"logo\" src=\"https://cdn.example/l.png?a=1&amp;b=2\" "
                                 "alt=\"Acme &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot;\""));
    assert_non_null(strstr(html, "<p>Acme &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot;</p>"));
    assert_null(strstr(html, "<b>"));
    free(html);
}

static void
test_invalid_branding_left_out(void **state)
{
    const tg_branding b = {.name = NULL,
                           .logo_url = "javascript:alert(1)",
                           .primary_color = "#fff;}body{display:none"};
    char *html = head(&b), *plain = head(NULL);

    (void)state;
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "display:none"));
    assert_null(strstr(html, "button{background"));
    assert_string_equal(html, plain); /* as if there were no branding */
    free(html);
    free(plain);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validators),
        cmocka_unit_test(test_branded_head),
        cmocka_unit_test(test_invalid_branding_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
