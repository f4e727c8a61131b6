/* Password policy: the five levels and the flexible policy with password-sheriff's exact rule
 * codes, min_length, the built-in dictionaries and personal info; hostile passwords. */
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

/* A word list is sorted, distinct, lower case and NUL-terminated within its width. */
static void
check_wordlist(const users_wordlist *l, size_t min_n)
{
    assert_true(l->n >= min_n);
    for (size_t i = 0; i < l->n; i++) {
        const char *w = l->words + i * l->width;

        assert_true(memchr(w, '\0', l->width) != NULL);
        assert_true(w[0] != '\0');
        for (const char *p = w; *p; p++)
            assert_false(*p >= 'A' && *p <= 'Z');
        if (i > 0)
            assert_true(strcmp(w - l->width, w) < 0);
    }
}

static void
test_dictionary(void **state)
{
    char *extra[] = {"Tollgate2024"};
    config_strv v = {extra, 1};
    (void)state;
    /* data/en_10k.txt: 10,000 entries, 9,913 once lower-cased; plus data/extra.txt. */
    check_wordlist(&users_wordlist_en_10k, 9913);
    check_wordlist(&users_wordlist_en_100k, 96518);
    assert_true(users_wordlist_en_10k.n < 10000 + 8);
    assert_true(users_policy_in_dictionary(NULL, "password"));
    assert_true(users_policy_in_dictionary(NULL, "PassWord"));
    assert_true(users_policy_in_dictionary(NULL, "P@ssw0rd"));
    assert_false(users_policy_in_dictionary(NULL, "correct horse battery"));
    assert_true(users_policy_in_dictionary(&v, "tollgate2024"));
    assert_false(users_policy_in_dictionary(&v, "tollgate2025"));
    /* Far down the 10k list, not in the old built-in 117: "mememe" (rank ~1,900), "florida"
     * and "bigdaddy"; the last entries of the file. */
    assert_true(users_policy_in_dictionary(NULL, "mememe"));
    assert_true(users_policy_in_dictionary(NULL, "FLORIDA"));
    assert_true(users_policy_in_dictionary(NULL, "bigdaddy"));
    assert_true(users_policy_in_dictionary(NULL, "brighton"));
    /* In the 100k list only. */
    assert_false(users_policy_in_dictionary(NULL, "1qaz2wsx3ed"));
    assert_true(users_policy_in_wordlist(&users_wordlist_en_100k, NULL, "1qaz2wsx3ed"));
    assert_true(users_policy_in_wordlist(&users_wordlist_en_100k, NULL, "12QWER34"));
    assert_false(users_policy_in_wordlist(&users_wordlist_en_100k, NULL, "Tr0ub4dor&3x!"));
    assert_true(users_policy_in_wordlist(NULL, &v, "TOLLGATE2024"));
    assert_false(users_policy_in_wordlist(NULL, NULL, "password"));
    /* Hostile: longer than any entry, empty, non-ASCII, near-misses. */
    {
        char big[4096];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_false(users_policy_in_wordlist(&users_wordlist_en_100k, &v, big));
    }
    assert_false(users_policy_in_dictionary(NULL, ""));
    assert_false(users_policy_in_dictionary(NULL, "password "));
    assert_false(users_policy_in_dictionary(NULL, "pässword"));
    assert_false(users_policy_in_dictionary(NULL, "\xff\xfe"));
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

/* ---- the flexible policy ---- */

static void
check_flex(const config_password_options *o, const char *pw, bool ok, const char *want)
{
    char buf[256];
    json_t *r = users_policy_report_flexible(o, pw);
    assert_non_null(r);
    assert_int_equal(users_policy_report_ok(r), ok);
    assert_string_equal(codes(r, buf, sizeof(buf)), want);
    json_decref(r);
}

static void
test_flexible_rules(void **state)
{
    config_password_options o = {.active = true, .min_length = 1};
    (void)state;
    check_flex(&o, "", false, "nonEmpty ");
    check_flex(&o, "x", true, "nonEmpty ");
    o.min_length = 12;
    check_flex(&o, "abcdefghijk", false, "lengthAtLeast ");
    check_flex(&o, "abcdefghijkl", true, "lengthAtLeast ");
    /* rule all over a subset: shouldContain with those items only */
    o.character_types = CONFIG_CHARS_NUMBER | CONFIG_CHARS_SPECIAL;
    check_flex(&o, "abcdefghijk1", false, "lengthAtLeast shouldContain ");
    check_flex(&o, "abcdefghijk1!", true, "lengthAtLeast shouldContain ");
    o.character_types = CONFIG_CHARS_ALL;
    o.three_of_four = true;
    check_flex(&o, "abcdefghijk1", false, "lengthAtLeast containsAtLeast ");
    check_flex(&o, "Abcdefghijk1", true, "lengthAtLeast containsAtLeast ");
    o.block_identical = true;
    o.block_sequential = true;
    check_flex(&o, "Abcdefghijk1", false,
               "lengthAtLeast containsAtLeast identicalChars sequentialChars ");
    check_flex(&o, "Acegikmoqsu1", true,
               "lengthAtLeast containsAtLeast identicalChars sequentialChars ");
    check_flex(&o, "Acegikmoqsuuu1", false,
               "lengthAtLeast containsAtLeast identicalChars sequentialChars ");
    /* identical characters, not bytes */
    {
        json_t *r;

        o.block_sequential = false;
        o.min_length = 1;
        o.character_types = 0;
        o.three_of_four = false;
        check_flex(&o, "x\xe2\x82\xac\xe2\x82\xacx", true, "nonEmpty identicalChars ");
        check_flex(&o, "x\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", false, "nonEmpty identicalChars ");
        check_flex(&o, "\xe1\x81\x81\xe1\x81\x81", true, "nonEmpty identicalChars ");
        check_flex(&o, "\xc3\xa9\xc3\xa9\xc3\xa8", true, "nonEmpty identicalChars ");
        check_flex(&o, "\xff\xff\xff", false, "nonEmpty identicalChars ");
        check_flex(&o, "\xe2\x82\xe2\x82", true, "nonEmpty identicalChars ");
        r = users_policy_report(CONFIG_PW_EXCELLENT, 1, "\xc3\xa9\xc3\xa9\xc3\xa9" "Ab1");
        assert_false(users_policy_report_ok(r));
        json_decref(r);
        o.block_sequential = true;
        o.min_length = 12;
        o.character_types = CONFIG_CHARS_ALL;
        o.three_of_four = true;
    }
    o.max_length_error = true;
    check_flex(&o, "Acegikmoqsu1", true,
               "lengthAtLeast maxLength containsAtLeast identicalChars sequentialChars ");
}

/* sheriff's sequentialChars: alphanumeric runs stepping by +1 or -1, at most 2. */
static void
test_sequential(void **state)
{
    config_password_options o = {.active = true, .min_length = 1, .block_sequential = true};
    static const struct {
        const char *pw;
        bool ok;
    } cases[] = {
        {"ab", true},         {"abc", false},      {"cba", false},    {"123", false},
        {"321", false},       {"ABC", false},      {"xYz", true},     {"abd", true},
        {"a-b-c", true},      {"ab1ab", true},     {"aba", true},     {"abab", true},
        {"9:;", true},        {"Ab!cD", true},     {"xyz", false},    {"1a2b3c", true},
        {"zyx", false},       {"78!", true},       {"/01", false}, /* sheriff counts '/' */
        {"@AB", false},       {"\xc3\xa9\xc3\xaa", true},              {"", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *r = users_policy_report_flexible(&o, cases[i].pw);
        json_t *rule = json_array_get(json_object_get(r, "rules"), 1);
        assert_string_equal(json_string_value(json_object_get(rule, "code")), "sequentialChars");
        if (json_is_true(json_object_get(rule, "verified")) != cases[i].ok)
            fail_msg("sequentialChars(\"%s\") should be %d", cases[i].pw, cases[i].ok);
        json_decref(r);
    }
}

/* The exact rule objects of the flexible report (password-sheriff's texts and formats). */
static void
test_flexible_exact(void **state)
{
    config_password_options o = {.active = true,
                                 .min_length = 10,
                                 .character_types = CONFIG_CHARS_LOWER | CONFIG_CHARS_NUMBER,
                                 .block_identical = true,
                                 .block_sequential = true,
                                 .max_length_error = true};
    json_t *r = users_policy_report_flexible(&o, "aaa123");
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    (void)state;
    assert_string_equal(
        text,
        "{\"rules\":[{\"code\":\"lengthAtLeast\",\"format\":[10],\"message\":\"At least %d "
        "characters in length\",\"verified\":false},{\"code\":\"maxLength\",\"format\":[72],"
        "\"message\":\"Maximum password length exceeded\",\"verified\":true},{\"code\":"
        "\"shouldContain\",\"items\":[{\"code\":\"lowerCase\",\"message\":\"lower case letters "
        "(a-z)\",\"verified\":true},{\"code\":\"numbers\",\"message\":\"numbers (i.e. 0-9)\","
        "\"verified\":true}],\"message\":\"Should contain:\",\"verified\":true},{\"code\":"
        "\"identicalChars\",\"format\":[2,\"aaa\"],\"message\":\"No more than %d identical "
        "characters in a row (e.g., \\\"%s\\\" not allowed)\",\"verified\":false},{\"code\":"
        "\"sequentialChars\",\"format\":[2,\"abc\"],\"message\":\"No more than %d sequential "
        "alphanumeric characters (e.g., \\\"%s\\\" not allowed)\",\"verified\":false}],"
        "\"verified\":false}");
    free(text);
    json_decref(r);
}

static users_policy_verdict
verdict_of(const config_connection *conn, const json_t *profile, const char *pw,
           size_t max_bytes)
{
    users_policy_verdict v = USERS_POLICY_OK;
    json_t *report = (json_t *)0x1;

    assert_int_equal(users_policy_check(conn, profile, pw, max_bytes, &v, &report), TG_OK);
    assert_int_equal(report != NULL, v == USERS_POLICY_WEAK);
    json_decref(report);
    return v;
}

/* users_policy_check: order, the 72-byte limit both ways, dictionaries, profile data. */
static void
test_check(void **state)
{
    char *custom[] = {"Acme-Rocket-99"}, *blocked[] = {"nickname", "user_metadata.pet", "email"};
    config_connection c = {.name = "db"};
    json_t *profile = json_pack("{s:s, s:s, s:s, s:{s:s, s:i}}", "email", "jdoe@example.com",
                                "nickname", "Zorro", "name", "John Doe", "user_metadata", "pet",
                                "Fluffy", "age", 42);
    char long_pw[200];
    (void)state;

    memset(long_pw, 'x', sizeof(long_pw) - 1);
    long_pw[sizeof(long_pw) - 1] = '\0';
    memcpy(long_pw, "A1!", 3);
    /* Legacy, no policy: anything non-empty up to the hash's limit. */
    assert_int_equal(verdict_of(&c, profile, "x", 1024), USERS_POLICY_OK);
    assert_int_equal(verdict_of(&c, profile, "", 1024), USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, profile, long_pw, 72), USERS_POLICY_TOO_LONG);
    c.password_dictionary = true;
    assert_int_equal(verdict_of(&c, profile, "mememe", 1024), USERS_POLICY_DICTIONARY);
    assert_int_equal(verdict_of(&c, profile, "1qaz2wsx3ed", 1024), USERS_POLICY_OK);
    c.password_no_personal_info = true;
    assert_int_equal(verdict_of(&c, profile, "my-JDOE-pw", 1024), USERS_POLICY_PERSONAL_INFO);
    assert_int_equal(verdict_of(&c, profile, "xxjohn doexx", 1024), USERS_POLICY_PERSONAL_INFO);
    assert_int_equal(verdict_of(&c, profile, "fluffy-zorro", 1024), USERS_POLICY_PERSONAL_INFO);

    /* Flexible: the legacy switches are ignored once password_options is active. */
    c.password_options = (config_password_options){
        .active = true, .min_length = 8, .character_types = CONFIG_CHARS_ALL,
        .three_of_four = true, .dictionary = true, .dictionary_list = CONFIG_DICT_EN_100K,
        .custom = {custom, 1}, .profile_data = true, .blocked_fields = {blocked, 3}};
    assert_int_equal(verdict_of(&c, profile, "short1A", 1024), USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, profile, "1qaz2wsx3ed", 1024), USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, profile, "1QAZ2wsx3ed", 1024), USERS_POLICY_DICTIONARY);
    assert_int_equal(verdict_of(&c, profile, "acme-rocket-99", 1024), USERS_POLICY_DICTIONARY);
    assert_int_equal(verdict_of(&c, profile, "Zorro-2026!", 1024), USERS_POLICY_PERSONAL_INFO);
    assert_int_equal(verdict_of(&c, profile, "Fluffy-2026!", 1024), USERS_POLICY_PERSONAL_INFO);
    assert_int_equal(verdict_of(&c, profile, "JDoe-2026!", 1024), USERS_POLICY_PERSONAL_INFO);
    /* "John Doe" is the name: not a blocked field here. */
    assert_int_equal(verdict_of(&c, profile, "John Doe-2026!", 1024), USERS_POLICY_OK);
    /* truncate (the default): a long password is taken whole up to the hash's limit. */
    assert_int_equal(verdict_of(&c, profile, long_pw, 1024), USERS_POLICY_OK);
    assert_int_equal(verdict_of(&c, profile, long_pw, 72), USERS_POLICY_TOO_LONG);
    /* error: over 72 bytes is a strength failure (maxLength), whatever the hash takes. */
    c.password_options.max_length_error = true;
    {
        json_t *report = NULL;
        users_policy_verdict v;
        const json_t *rule;

        assert_int_equal(users_policy_check(&c, profile, long_pw, 1024, &v, &report), TG_OK);
        assert_int_equal(v, USERS_POLICY_WEAK);
        rule = json_array_get(json_object_get(report, "rules"), 1);
        assert_string_equal(json_string_value(json_object_get(rule, "code")), "maxLength");
        assert_false(json_is_true(json_object_get(rule, "verified")));
        json_decref(report);
    }
    assert_int_equal(verdict_of(&c, profile, long_pw, 72), USERS_POLICY_WEAK);
    long_pw[72] = '\0'; /* exactly 72 bytes */
    assert_int_equal(verdict_of(&c, profile, long_pw, 72), USERS_POLICY_OK);
    /* Multi-byte: 24 three-byte characters are 72 bytes; one more is 75. */
    {
        char mb[128] = "A1!";
        for (int i = 0; i < 23; i++)
            strcat(mb, "\xe2\x82\xac"); /* € */
        assert_int_equal(verdict_of(&c, profile, mb, 1024), USERS_POLICY_OK); /* 72 bytes */
        strcat(mb, "\xe2\x82\xac");
        assert_int_equal(verdict_of(&c, profile, mb, 1024), USERS_POLICY_WEAK);
    }
    /* profile_data active without blocked_fields: Auth0's legacy set. */
    c.password_options.blocked_fields = (config_strv){0};
    assert_int_equal(verdict_of(&c, profile, "xJohn Doe-2026!", 1024),
                     USERS_POLICY_PERSONAL_INFO);
    assert_int_equal(verdict_of(&c, profile, "Fluffy-2026!", 1024), USERS_POLICY_OK);
    /* A profile without the fields, or with non-strings: nothing to match. */
    {
        json_t *odd = json_pack("{s:i, s:[], s:s}", "email", 7, "name", "user_metadata", "x");

        assert_int_equal(verdict_of(&c, odd, "Anything-2026!", 1024), USERS_POLICY_OK);
        assert_int_equal(verdict_of(&c, NULL, "Anything-2026!", 1024), USERS_POLICY_OK);
        json_decref(odd);
    }
    json_decref(profile);
}

/* Hostile passwords: control bytes, invalid UTF-8, 64 KiB. No crash, a clear verdict. */
static void
test_hostile_passwords(void **state)
{
    config_connection c = {.name = "db"};
    char *big = malloc(65536);
    (void)state;

    assert_non_null(big);
    memset(big, 'Z', 65535);
    big[65535] = '\0';
    c.password_options = (config_password_options){
        .active = true, .min_length = 8, .character_types = CONFIG_CHARS_ALL,
        .block_identical = true, .block_sequential = true, .dictionary = true,
        .profile_data = true};
    assert_int_equal(verdict_of(&c, NULL, big, 1024), USERS_POLICY_TOO_LONG);
    c.password_options.max_length_error = true;
    assert_int_equal(verdict_of(&c, NULL, big, 1024), USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, NULL, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", 1024),
                     USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, NULL, "\x01\x02\x03\x04\x05\x06\x07\x08", 1024),
                     USERS_POLICY_WEAK);
    assert_int_equal(verdict_of(&c, NULL, "%s%n%d{$gt:''}Aa1", 1024), USERS_POLICY_OK);
    free(big);
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
        cmocka_unit_test(test_flexible_rules),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_flexible_exact),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_hostile_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
