/* profile_defaults.c: Auth0's name, nickname and picture for a user who sent none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "users.h"

#define MD5_JANE "613a65cfc7ff8d15dc3ad2b0d04cdd85"

static void
test_defaults_from_email(void **state)
{
    json_t *doc = json_pack("{s:s}", "email", "jane.doe+x@example.com");

    (void)state;
    assert_int_equal(users_profile_defaults(doc), TG_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "jane.doe+x@example.com");
    assert_string_equal(json_string_value(json_object_get(doc, "nickname")), "jane.doe+x");
    assert_string_equal(json_string_value(json_object_get(doc, "picture")),
                        "https://s.gravatar.com/avatar/" MD5_JANE
                        "?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fja.png");
    json_decref(doc);
}

static void
test_given_fields_kept(void **state)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "email", "a@b.c", "name", "Ann", "nickname",
                            "annie", "picture", "https://example.org/a.png");

    (void)state;
    assert_int_equal(users_profile_defaults(doc), TG_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "Ann");
    assert_string_equal(json_string_value(json_object_get(doc, "nickname")), "annie");
    assert_string_equal(json_string_value(json_object_get(doc, "picture")),
                        "https://example.org/a.png");
    json_decref(doc);
}

/* Odd emails: no letters before the @, an empty local part, no email at all. */
static void
test_odd_emails(void **state)
{
    json_t *doc = json_pack("{s:s}", "email", "--@example.com");
    json_t *none = json_object();

    (void)state;
    assert_int_equal(users_profile_defaults(doc), TG_OK);
    assert_non_null(strstr(json_string_value(json_object_get(doc, "picture")), "default.png"));
    assert_string_equal(json_string_value(json_object_get(doc, "nickname")), "--");
    json_decref(doc);
    doc = json_pack("{s:s}", "email", "@example.com");
    assert_int_equal(users_profile_defaults(doc), TG_OK);
    assert_null(json_object_get(doc, "nickname"));
    json_decref(doc);
    assert_int_equal(users_profile_defaults(none), TG_OK);
    assert_int_equal(json_object_size(none), 0);
    json_decref(none);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_from_email),
        cmocka_unit_test(test_given_fields_kept),
        cmocka_unit_test(test_odd_emails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
