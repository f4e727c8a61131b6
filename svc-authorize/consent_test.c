/* The consent page: every value escaped (hostile tenant, application, API and scope texts),
 * one list item per scope, Accept and Decline in one CSRF-carrying form. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authorize.h"

#define HOSTILE "\"><script>alert('x')</script>&"
#define ESCAPED "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"

static void
test_consent_page_escapes(void **state)
{
    const tg_branding brand = {.name = HOSTILE};
    char *html = authorize_consent_html(&brand, HOSTILE, HOSTILE, "openid  read:x " HOSTILE,
                                        "t\"1", "csrf-1");
    size_t n = 0;

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    for (const char *p = html; (p = strstr(p, ESCAPED)) != NULL; p++)
        n++;
    assert_int_equal(n, 4); /* name, application, API and the last scope */
    assert_non_null(strstr(html, "<li>openid</li>\n<li>read:x</li>\n<li>&quot;&gt;&lt;script&gt;"));
    assert_non_null(strstr(html, "name=\"state\" value=\"t&quot;1\""));
    assert_non_null(strstr(html, "name=\"csrf_token\" value=\"csrf-1\""));
    assert_non_null(strstr(html, "name=\"action\" value=\"accept\""));
    assert_non_null(strstr(html, "name=\"action\" value=\"deny\""));
    free(html);
}

static void
test_consent_page_without_api(void **state)
{
    char *html = authorize_consent_html(NULL, "App", "", "", "t", "c");

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, " and to "));
    assert_non_null(strstr(html, "<ul id=\"scopes\">\n</ul>"));
    free(html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consent_page_escapes),
        cmocka_unit_test(test_consent_page_without_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
