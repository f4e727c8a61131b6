/* signup.c and its page: every value escaped (hostile tenant, client, prefill and error
 * texts), the links between login and signup carry only the encoded transaction, and the
 * policy texts match the connection's level. */
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

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void
test_signup_page_escapes(void **state)
{
    const tg_branding brand = {.name = HOSTILE};
    authorize_signup_view v = {.brand = &brand, .client_name = HOSTILE,
                               .state = "t\"x&y", .csrf = "csrf-1", .email = HOSTILE,
                               .username = HOSTILE, .policy = HOSTILE, .error = HOSTILE,
                               .ask_username = true};
    char *html = authorize_signup_html(&v);

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, "<script"));
    /* name, client, email, username, policy, error */
    assert_int_equal(count(html, ESCAPED), 6);
    assert_non_null(strstr(html, "action=\"/u/signup\""));
    assert_non_null(strstr(html, "name=\"csrf_token\" value=\"csrf-1\""));
    assert_non_null(strstr(html, "name=\"state\" value=\"t&quot;x&amp;y\""));
    /* the link back: the state percent-encoded, then escaped */
    assert_non_null(strstr(html, "href=\"/u/login?state=t%22x%26y\">Log in</a>"));
    assert_non_null(strstr(html, "<label for=\"username\">"));
    assert_non_null(strstr(html, "autocomplete=\"new-password\""));
    assert_non_null(strstr(html, "role=\"alert\""));
    free(html);
}

static void
test_signup_page_without_username(void **state)
{
    authorize_signup_view v = {.state = "t", .csrf = "c", .policy = "p"};
    char *html = authorize_signup_html(&v);

    (void)state;
    assert_non_null(html);
    assert_null(strstr(html, "name=\"username\""));
    assert_null(strstr(html, "role=\"alert\""));
    assert_non_null(strstr(html, "name=\"email\" autocomplete=\"email\" required value=\"\""));
    free(html);
}

static void
test_login_page_links_to_signup(void **state)
{
    const tg_branding brand = {.name = "T"};
    char *with = authorize_login_html(&brand, "C", "abc_-", "c", "", NULL, true);
    char *without = authorize_login_html(&brand, "C", "abc_-", "c", "", NULL, false);

    (void)state;
    assert_non_null(with);
    assert_non_null(without);
    assert_non_null(strstr(with, "href=\"/u/signup?state=abc_-\">Sign up</a>"));
    assert_null(strstr(without, "/u/signup"));
    free(with);
    free(without);
}

static void
test_policy_texts(void **state)
{
    config_connection c = {.password_policy = CONFIG_PW_NONE};
    char buf[512];

    (void)state;
    authorize_policy_text(&c, buf, sizeof(buf));
    assert_string_equal(buf, "Your password must not be empty.");
    c.password_policy = CONFIG_PW_LOW;
    authorize_policy_text(&c, buf, sizeof(buf));
    assert_string_equal(buf, "Your password must contain: at least 6 characters in length.");
    c.password_policy = CONFIG_PW_GOOD;
    c.min_length = 12;
    authorize_policy_text(&c, buf, sizeof(buf));
    assert_non_null(strstr(buf, "at least 12 characters in length; at least 3 of the following"));
    c.password_policy = CONFIG_PW_EXCELLENT;
    authorize_policy_text(&c, buf, sizeof(buf));
    assert_non_null(strstr(buf, "no more than 2 identical characters in a row"));
    /* a short buffer is truncated, never overrun */
    authorize_policy_text(&c, buf, 16);
    assert_int_equal(strlen(buf), 15);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signup_page_escapes),
        cmocka_unit_test(test_signup_page_without_username),
        cmocka_unit_test(test_login_page_links_to_signup),
        cmocka_unit_test(test_policy_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
