/* Signup input validation: email, username, user_metadata limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "users.h"

static void
test_email(void **state)
{
    char long_email[300];
    (void)state;
    assert_true(users_email_is_valid("a@b.co"));
    assert_true(users_email_is_valid("first.last+tag@sub.example.org"));
    assert_false(users_email_is_valid(""));
    assert_false(users_email_is_valid("nobody"));
    assert_false(users_email_is_valid("@b.co"));
    assert_false(users_email_is_valid("a@"));
    assert_false(users_email_is_valid("a@b"));
    assert_false(users_email_is_valid("a@b."));
    assert_false(users_email_is_valid("a@@b.co"));
    assert_false(users_email_is_valid("a@b@c.co"));
    assert_false(users_email_is_valid("a b@c.co"));
    assert_false(users_email_is_valid("a\tb@c.co"));
    assert_false(users_email_is_valid("{\"$gt\": \"\"}"));
    assert_false(users_email_is_valid("a@.b.co"));
    assert_false(users_email_is_valid("a@b..co"));
    memset(long_email, 'a', sizeof(long_email));
    memcpy(long_email + 250, "@b.co", 6);
    assert_false(users_email_is_valid(long_email));
}

static void
test_username(void **state)
{
    config_connection c = {0};
    char why[160];
    (void)state;
    assert_true(users_username_is_valid(&c, "john_doe", why, sizeof(why)));
    assert_true(users_username_is_valid(&c, "a", why, sizeof(why)));
    assert_false(users_username_is_valid(&c, "", why, sizeof(why)));
    assert_false(users_username_is_valid(&c, "sixteen_chars_xx", why, sizeof(why)));
    assert_string_equal(why, "username: must be between 1 and 15 characters long");
    assert_false(users_username_is_valid(&c, "john@doe", why, sizeof(why)));
    assert_false(users_username_is_valid(&c, "john doe", why, sizeof(why)));
    c.username_min = 3;
    c.username_max = 20;
    assert_false(users_username_is_valid(&c, "ab", why, sizeof(why)));
    assert_true(users_username_is_valid(&c, "sixteen_chars_xx", why, sizeof(why)));
}

static void
refused(const char *text, const char *want)
{
    char why[160];
    json_t *m = NULL;
    assert_int_equal(users_metadata_parse(text, &m, why, sizeof(why)), TG_EINVAL);
    assert_null(m);
    assert_string_equal(why, want);
}

static void
test_metadata(void **state)
{
    char big[700], name[160];
    json_t *m = NULL;
    char why[160];
    (void)state;
    assert_int_equal(users_metadata_parse("{\"a\":\"b\"}", &m, why, sizeof(why)), TG_OK);
    assert_string_equal(json_string_value(json_object_get(m, "a")), "b");
    json_decref(m);
    refused("[1]", "user_metadata: must be an object");
    refused("not json", "user_metadata: must be an object");
    refused("{\"a\":1}", "user_metadata: property values must be strings");
    refused("{\"a\":{\"b\":\"c\"}}", "user_metadata: property values must be strings");
    refused("{\"$gt\":\"x\"}", "user_metadata: property names may not start with '$' or contain '.'");
    refused("{\"a.b\":\"x\"}", "user_metadata: property names may not start with '$' or contain '.'");
    refused("{\"1\":\"\",\"2\":\"\",\"3\":\"\",\"4\":\"\",\"5\":\"\",\"6\":\"\",\"7\":\"\","
            "\"8\":\"\",\"9\":\"\",\"10\":\"\",\"11\":\"\"}",
            "user_metadata: at most 10 properties");
    snprintf(big, sizeof(big), "{\"a\":\"%0501d\"}", 0);
    refused(big, "user_metadata: property values must be at most 500 characters");
    snprintf(big, sizeof(big), "{\"a\":\"%0500d\"}", 0);
    assert_int_equal(users_metadata_parse(big, &m, why, sizeof(why)), TG_OK);
    json_decref(m);
    memset(name, 'n', 101);
    name[101] = '\0';
    snprintf(big, sizeof(big), "{\"%s\":\"x\"}", name);
    refused(big, "user_metadata: property names must be 1 to 100 characters");
}

static void
test_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(users_utf8_length(""), 0);
    assert_int_equal(users_utf8_length("abc"), 3);
    assert_int_equal(users_utf8_length("\xc3\xa9t\xc3\xa9"), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_username),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_utf8_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
