/*
 * Unit tests for the reset page's pure parts: HTML escaping of every user-visible value,
 * Cookie header parsing, the double-submit CSRF check, and the reset email's text (no header
 * injection through addresses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/web.h"
#include "core/util.h"
#include "users.h"

static void
escapes_html(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;

    tg_html_put(f, "<a href=\"x\">Tom & Jerry's</a>");
    tg_html_put(f, NULL);
    fclose(f);
    assert_string_equal(buf, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    free(buf);
}

static void
form_escapes_every_value(void **state)
{
    const char *details[] = {"<b>rule</b>"};
    char *html = users_reset_form_html(&(const tg_branding){.name = "<script>alert(1)</script>"}, "a\"b@example.com",
                                       "tick\"et", "cs<rf", "bad & worse", details, 1);
    (void)state;

    assert_non_null(html);
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "a&quot;b@example.com"));
    assert_non_null(strstr(html, "value=\"tick&quot;et\""));
    assert_non_null(strstr(html, "value=\"cs&lt;rf\""));
    assert_non_null(strstr(html, "bad &amp; worse"));
    assert_non_null(strstr(html, "<li>&lt;b&gt;rule&lt;/b&gt;</li>"));
    /* accessible without JavaScript */
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "<label for=\"new_password\">"));
    assert_non_null(strstr(html, "<label for=\"confirm_new_password\">"));
    assert_non_null(strstr(html, "autocomplete=\"new-password\" required autofocus"));
    assert_non_null(strstr(html, "method=\"post\" action=\"/u/reset-password\""));
    free(html);
}

static void
parses_cookies(void **state)
{
    char v[16];
    (void)state;

    assert_true(tg_cookie_get("a=1; tg_csrf=abc; b=2", "tg_csrf", v, sizeof(v)));
    assert_string_equal(v, "abc");
    assert_true(tg_cookie_get("tg_csrf=xyz", "tg_csrf", v, sizeof(v)));
    assert_string_equal(v, "xyz");
    assert_false(tg_cookie_get("xtg_csrf=abc; tg_csrfx=1", "tg_csrf", v, sizeof(v)));
    assert_false(tg_cookie_get("", "tg_csrf", v, sizeof(v)));
    assert_false(tg_cookie_get("tg_csrf=0123456789abcdefXX", "tg_csrf", v, sizeof(v)));
    assert_true(tg_cookie_get("tg_csrf=", "tg_csrf", v, sizeof(v)));
    assert_string_equal(v, "");
}

static void
csrf_needs_both(void **state)
{
    (void)state;
    assert_true(users_csrf_ok("x=1; tg_csrf=tok", "tok", "tok"));
    assert_false(users_csrf_ok("tg_csrf=tok", "other", "tok"));  /* form differs */
    assert_false(users_csrf_ok("tg_csrf=other", "tok", "tok"));  /* cookie differs */
    assert_false(users_csrf_ok("", "tok", "tok"));               /* no cookie */
    assert_false(users_csrf_ok(NULL, "tok", "tok"));
    assert_false(users_csrf_ok("tg_csrf=", "", ""));             /* empty never passes */
    assert_false(users_csrf_ok("tg_csrf=tok", NULL, "tok"));
}

static void
composes_mail(void **state)
{
    char *msg = NULL;
    (void)state;

    assert_int_equal(users_mail_compose_reset("no-reply@e2e.test", "u@example.com", "Acme",
                                              "https://id.example/u/reset-password?ticket=T",
                                              &msg),
                     TG_OK);
    assert_non_null(strstr(msg, "From: no-reply@e2e.test\r\nTo: u@example.com\r\n"));
    assert_non_null(strstr(msg, "Subject: Reset your password\r\n"));
    assert_non_null(strstr(msg, "\r\n\r\n"));
    assert_non_null(strstr(msg, "\r\nhttps://id.example/u/reset-password?ticket=T\r\n"));
    assert_non_null(strstr(msg, "your Acme account"));
    tg_free_secret_str(msg);
    assert_int_equal(users_mail_compose_reset("a@b.c", "u@x.y\r\nBcc: evil@x.y", "", "l", &msg),
                     TG_EINVAL);
    assert_null(msg);
    assert_int_equal(users_mail_compose_reset("a@b.c", "u@x.y", "Evil\nBcc: e@x", "l", &msg),
                     TG_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_html),   cmocka_unit_test(form_escapes_every_value),
        cmocka_unit_test(parses_cookies), cmocka_unit_test(csrf_needs_both),
        cmocka_unit_test(composes_mail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
