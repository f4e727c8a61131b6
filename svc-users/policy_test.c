/* Password policy: the five levels with password-sheriff's exact rule codes, min_length,
 * dictionary and personal info. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "users.h"

/* The rule codes of the report, space-separated, into buf. */
static const char *
codes(const json_t *report, char *buf, size_t len)
{
    const json_t *rules = json_object_get(report, "rules");
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(rules); i++) {
        strncat(buf, json_string_value(json_object_get(json_array_get(rules, i), "code")),
                len - strlen(buf) - 2);
        strncat(buf, " ", len - strlen(buf) - 1);
    }
    return buf;
}

static void
check(config_password_policy level, int64_t min, const char *pw, bool ok, const char *want)
{
    char buf[256];
    json_t *r = users_policy_report(level, min, pw);
    assert_non_null(r);
    assert_int_equal(users_policy_report_ok(r), ok);
    assert_string_equal(codes(r, buf, sizeof(buf)), want);
    json_decref(r);
}

static void
test_levels(void **state)
{
    (void)state;
    check(CONFIG_PW_NONE, 0, "", false, "nonEmpty ");
    check(CONFIG_PW_NONE, 0, "x", true, "nonEmpty ");
    check(CONFIG_PW_LOW, 0, "abcde", false, "lengthAtLeast ");
    check(CONFIG_PW_LOW, 0, "abcdef", true, "lengthAtLeast ");
    check(CONFIG_PW_FAIR, 0, "abcdefgh1", false, "lengthAtLeast shouldContain ");
    check(CONFIG_PW_FAIR, 0, "Abcdefgh1", true, "lengthAtLeast shouldContain ");
    check(CONFIG_PW_GOOD, 0, "abcdefgh1", false, "lengthAtLeast containsAtLeast ");
    check(CONFIG_PW_GOOD, 0, "abcdefg1!", true, "lengthAtLeast containsAtLeast ");
    check(CONFIG_PW_GOOD, 0, "Ab1!", false, "lengthAtLeast containsAtLeast ");
    check(CONFIG_PW_EXCELLENT, 0, "Abcdefg1!x", true, "lengthAtLeast containsAtLeast identicalChars ");
    check(CONFIG_PW_EXCELLENT, 0, "Abcccdefg1!", false, "lengthAtLeast containsAtLeast identicalChars ");
    check(CONFIG_PW_EXCELLENT, 0, "Abccdefg1!", true, "lengthAtLeast containsAtLeast identicalChars ");
    /* min_length overrides the level's length */
    check(CONFIG_PW_GOOD, 12, "Abcdefg1!x", false, "lengthAtLeast containsAtLeast ");
    check(CONFIG_PW_LOW, 1, "", false, "nonEmpty ");
    /* length counts characters, not bytes */
    check(CONFIG_PW_LOW, 0, "\xc3\xa9\xc3\xa9\xc3\xa9", false, "lengthAtLeast ");
}

/* The exact body password-sheriff gives for "excellent" and an empty-ish password. */
static void
test_exact_report(void **state)
{
    json_t *r = users_policy_report(CONFIG_PW_EXCELLENT, 0, "aaa");
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    (void)state;
    assert_string_equal(
        text,
        "{\"rules\":[{\"code\":\"lengthAtLeast\",\"format\":[10],\"message\":\"At least %d "
        "characters in length\",\"verified\":false},{\"code\":\"containsAtLeast\",\"format\":[3,"
        "4],\"items\":[{\"code\":\"lowerCase\",\"message\":\"lower case letters (a-z)\","
        "\"verified\":true},{\"code\":\"upperCase\",\"message\":\"upper case letters (A-Z)\","
        "\"verified\":false},{\"code\":\"numbers\",\"message\":\"numbers (i.e. 0-9)\","
        "\"verified\":false},{\"code\":\"specialCharacters\",\"message\":\"special characters "
        "(e.g. !@#$%^&*)\",\"verified\":false}],\"message\":\"Contain at least %d of the "
        "following %d types of characters:\",\"verified\":false},{\"code\":\"identicalChars\","
        "\"format\":[2,\"aaa\"],\"message\":\"No more than %d identical characters in a row "
        "(e.g., \\\"%s\\\" not allowed)\",\"verified\":false}],\"verified\":false}");
    free(text);
    json_decref(r);
}

static void
test_fair_items(void **state)
{
    json_t *r = users_policy_report(CONFIG_PW_FAIR, 0, "abcdefgh");
    const json_t *rule = json_array_get(json_object_get(r, "rules"), 1);
    (void)state;
    assert_string_equal(json_string_value(json_object_get(rule, "message")), "Should contain:");
    assert_int_equal(json_array_size(json_object_get(rule, "items")), 3);
    assert_null(json_object_get(rule, "format"));
    json_decref(r);
}

static void
test_dictionary(void **state)
{
    char *extra[] = {"Tollgate2024"};
    config_strv v = {extra, 1};
    (void)state;
    for (size_t i = 1; i < users_n_common_passwords; i++)
        assert_true(strcmp(users_common_passwords[i - 1], users_common_passwords[i]) < 0);
    assert_true(users_policy_in_dictionary(NULL, "password"));
    assert_true(users_policy_in_dictionary(NULL, "PassWord"));
    assert_true(users_policy_in_dictionary(NULL, "P@ssw0rd"));
    assert_false(users_policy_in_dictionary(NULL, "correct horse battery"));
    assert_true(users_policy_in_dictionary(&v, "tollgate2024"));
    assert_false(users_policy_in_dictionary(&v, "tollgate2025"));
}

static void
test_personal_info(void **state)
{
    const char *fields[] = {"John", "", NULL, "jdoe"};
    (void)state;
    assert_true(users_policy_has_personal_info("xxJOHNxx1!", fields, 4));
    assert_true(users_policy_has_personal_info("JDoe!2024", fields, 4));
    assert_false(users_policy_has_personal_info("Unrelated1!", fields, 4));
    assert_false(users_policy_has_personal_info("Unrelated1!", NULL, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_exact_report),
        cmocka_unit_test(test_fair_items),
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_personal_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
