/* implicit.c: response_type parsing against hostile input, the response-mode defaults and the
 * client / nonce / scope rules of the types that bear tokens. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authorize.h"

#define C AUTHORIZE_RT_CODE
#define T AUTHORIZE_RT_TOKEN
#define I AUTHORIZE_RT_ID_TOKEN

static void
test_parse_every_accepted_type_in_any_order(void **state)
{
    static const struct {
        const char *s;
        unsigned want;
    } ok[] = {
        {"code", C},
        {"token", T},
        {"id_token", I},
        {"id_token token", I | T},
        {"token id_token", I | T},
        {"code id_token", C | I},
        {"id_token code", C | I},
        {"code token", C | T},
        {"code id_token token", C | I | T},
        {"token code id_token", C | I | T},
    };
    unsigned rt;
    (void)state;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(authorize_response_type_parse(ok[i].s, &rt));
        assert_int_equal(rt, ok[i].want);
    }
}

static void
test_parse_refuses_hostile_input(void **state)
{
    static const char *const bad[] = {
        "",
        "none",
        "code none",
        "token token",
        "code code",
        "code  token",
        " code",
        "code ",
        "Code",
        "ID_TOKEN",
        "id_token\ttoken",
        "id_token+token",
        "id_token,token",
        "codex",
        "cod",
        "token\n",
        "id_token token code code",
        "code%20token",
    };
    unsigned rt = 99;
    char big[4096];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rt = 99;
        assert_false(authorize_response_type_parse(bad[i], &rt));
        assert_int_equal(rt, 0);
    }
    assert_false(authorize_response_type_parse(NULL, &rt));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(authorize_response_type_parse(big, &rt));
    for (size_t i = 0; i + 6 < sizeof(big); i += 6) /* "token " * n: a repeat, refused */
        memcpy(big + i, "token ", 6);
    assert_false(authorize_response_type_parse(big, &rt));
}

static void
test_mode_defaults_and_query_refusal(void **state)
{
    authorize_mode m;
    (void)state;

    m = AUTHORIZE_MODE_QUERY; /* "" parses to query */
    assert_true(authorize_response_mode_fits("code", "", &m));
    assert_int_equal(m, AUTHORIZE_MODE_QUERY);
    m = AUTHORIZE_MODE_QUERY;
    assert_true(authorize_response_mode_fits("id_token token", "", &m));
    assert_int_equal(m, AUTHORIZE_MODE_FRAGMENT);
    m = AUTHORIZE_MODE_QUERY;
    assert_true(authorize_response_mode_fits("code id_token", "", &m));
    assert_int_equal(m, AUTHORIZE_MODE_FRAGMENT);
    m = AUTHORIZE_MODE_QUERY;
    assert_false(authorize_response_mode_fits("token", "query", &m));
    assert_int_equal(m, AUTHORIZE_MODE_FRAGMENT); /* the refusal goes in the fragment */
    m = AUTHORIZE_MODE_QUERY;
    assert_false(authorize_response_mode_fits("code token", "query", &m));
    m = AUTHORIZE_MODE_FORM_POST;
    assert_true(authorize_response_mode_fits("code id_token token", "form_post", &m));
    assert_int_equal(m, AUTHORIZE_MODE_FORM_POST);
    m = AUTHORIZE_MODE_QUERY; /* unparseable: left to the response_type check */
    assert_true(authorize_response_mode_fits("token token", "query", &m));
    assert_int_equal(m, AUTHORIZE_MODE_QUERY);
}

static void
test_rules(void **state)
{
    static char *implicit_grants[] = {"authorization_code", "implicit"};
    static char *code_only[] = {"authorization_code"};
    config_client with = {.grant_types = {implicit_grants, 2}};
    config_client without = {.grant_types = {code_only, 1}};
    char desc[200];
    (void)state;

    assert_null(authorize_response_type_check(&with, C, "", "openid", desc, sizeof(desc)));
    assert_null(authorize_response_type_check(&without, C, "", "openid", desc, sizeof(desc)));
    assert_null(authorize_response_type_check(&with, I | T, "n", "openid", desc, sizeof(desc)));
    assert_null(authorize_response_type_check(&with, C | T, "", "email", desc, sizeof(desc)));
    assert_null(authorize_response_type_check(&with, T, "", "read:x", desc, sizeof(desc)));
    assert_string_equal(
        authorize_response_type_check(&without, I | T, "n", "openid", desc, sizeof(desc)),
        "unauthorized_client");
    assert_string_equal(desc, "Grant type 'implicit' not allowed for the client.");
    assert_string_equal(
        authorize_response_type_check(&without, C | T, "", "openid", desc, sizeof(desc)),
        "unauthorized_client");
    assert_string_equal(authorize_response_type_check(&with, I, "", "openid", desc, sizeof(desc)),
                        "invalid_request");
    assert_string_equal(desc, "Missing required parameter: nonce");
    assert_string_equal(
        authorize_response_type_check(&with, C | I, "", "openid", desc, sizeof(desc)),
        "invalid_request");
    assert_string_equal(
        authorize_response_type_check(&with, I, "n", "profile openidx", desc, sizeof(desc)),
        "invalid_scope");
}

static void
test_scope_has_whole_words(void **state)
{
    (void)state;
    assert_true(authorize_scope_has("openid", "openid"));
    assert_true(authorize_scope_has("email  openid ", "openid"));
    assert_false(authorize_scope_has("openidx", "openid"));
    assert_false(authorize_scope_has("xopenid", "openid"));
    assert_false(authorize_scope_has("", "openid"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_every_accepted_type_in_any_order),
        cmocka_unit_test(test_parse_refuses_hostile_input),
        cmocka_unit_test(test_mode_defaults_and_query_refusal),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_scope_has_whole_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
