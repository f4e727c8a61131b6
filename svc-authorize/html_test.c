/* html.c: every value escaped on every page; the form_post page's one script is the one its
 * CSP hash allows, and it works without script. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"

#define HOSTILE "\"><script>alert('x')</script>&"
static const tg_branding hostile_brand = {.name = HOSTILE};

static void
assert_no_raw(const char *html)
{
    assert_null(strstr(html, "<script>alert"));
    assert_non_null(strstr(html, "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
}

static void
test_form_post_escapes(void **state)
{
    const char *const kv[][2] = {{"code", "abc"}, {"state", HOSTILE}, {"empty", ""}};
    char *html = authorize_form_post_html("https://app.test/cb?a=1&b=\"2\"", kv, 3);

    (void)state;
    assert_non_null(html);
    assert_no_raw(html);
    assert_non_null(strstr(html, "action=\"https://app.test/cb?a=1&amp;b=&quot;2&quot;\""));
    assert_non_null(strstr(html, "<input type=\"hidden\" name=\"code\" value=\"abc\">"));
    assert_null(strstr(html, "name=\"empty\""));
    assert_non_null(strstr(html, "<noscript>"));
    assert_non_null(strstr(html, "<button type=\"submit\">"));
    /* exactly one script, the constant one */
    assert_non_null(strstr(html, "<script>" AUTHORIZE_FORM_POST_SCRIPT "</script>"));
    assert_null(strstr(strstr(html, "<script>") + 1, "<script"));
    free(html);
}

static void
test_form_post_script_hash(void **state)
{
    unsigned char md[32];
    unsigned int len = 0;
    char b64[64], expect[80];

    (void)state;
    assert_int_equal(EVP_Digest(AUTHORIZE_FORM_POST_SCRIPT, strlen(AUTHORIZE_FORM_POST_SCRIPT), md,
                                &len, EVP_sha256(), NULL),
                     1);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)len);
    snprintf(expect, sizeof(expect), "'sha256-%s'", b64);
    assert_string_equal(AUTHORIZE_FORM_POST_SCRIPT_HASH, expect);
}

static void
test_login_page_escapes(void **state)
{
    char *html = authorize_login_html(&hostile_brand, HOSTILE, "txn-1", "csrf-1", HOSTILE, HOSTILE, true);

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    assert_no_raw(html);
    assert_non_null(strstr(html, "name=\"csrf_token\" value=\"csrf-1\""));
    assert_non_null(strstr(html, "name=\"state\" value=\"txn-1\""));
    assert_non_null(strstr(html, "action=\"/u/login\""));
    assert_non_null(strstr(html, "<label for=\"username\">"));
    assert_non_null(strstr(html, "<label for=\"password\">"));
    assert_non_null(strstr(html, "role=\"alert\""));
    free(html);
}

static void
test_message_page_escapes(void **state)
{
    char *html = authorize_message_html(&hostile_brand, "Title", "invalid_request", HOSTILE);

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    assert_no_raw(html); /* the tenant name */
    /* message text: quotes stay as they are (Auth0's texts quote URLs), markup does not */
    assert_non_null(strstr(html, "</code>: \"&gt;&lt;script&gt;alert('x')&lt;/script&gt;&amp;"));
    free(html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_post_escapes),
        cmocka_unit_test(test_form_post_script_hash),
        cmocka_unit_test(test_login_page_escapes),
        cmocka_unit_test(test_message_page_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
