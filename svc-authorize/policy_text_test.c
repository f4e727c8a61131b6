/* policy_text.c: the legacy levels' texts exactly as before the flexible policy, and every
 * part of a flexible policy (password_options) that svc-users enforces in words; a short
 * buffer is cut short, never overrun. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "authorize.h"

#define FOUR                                                                                  \
    "lower case letters (a-z), upper case letters (A-Z), numbers (i.e. 0-9), special "        \
    "characters (e.g. !@#$%^&*)"
#define IDENTICAL "no more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"
#define SEQUENTIAL                                                                            \
    "no more than 2 sequential alphanumeric characters (e.g., \"abc\" not allowed)"

static const char *
text_of(const config_connection *c)
{
    static char buf[1024];

    memset(buf, 'x', sizeof(buf));
    authorize_policy_text(c, buf, sizeof(buf));
    return buf;
}

static void
test_legacy_levels_unchanged(void **state)
{
    config_connection c = {.password_policy = CONFIG_PW_NONE};

    (void)state;
    assert_string_equal(text_of(&c), "Your password must not be empty.");
    c.password_policy = CONFIG_PW_LOW;
    assert_string_equal(text_of(&c),
                        "Your password must contain: at least 6 characters in length.");
    c.password_policy = CONFIG_PW_FAIR;
    assert_string_equal(text_of(&c),
                        "Your password must contain: at least 8 characters in length; lower "
                        "case letters (a-z), upper case letters (A-Z) and numbers (i.e. 0-9).");
    c.password_policy = CONFIG_PW_GOOD;
    assert_string_equal(text_of(&c), "Your password must contain: at least 8 characters in "
                                     "length; at least 3 of the following 4 types: " FOUR ".");
    c.password_policy = CONFIG_PW_EXCELLENT;
    assert_string_equal(text_of(&c), "Your password must contain: at least 10 characters in "
                                     "length; at least 3 of the following 4 types: " FOUR
                                     "; " IDENTICAL ".");
    c.min_length = 14;
    assert_non_null(strstr(text_of(&c), "at least 14 characters in length;"));
    /* min_length 1 with a level: its character rules alone (was "empty.; lower ...") */
    c.password_policy = CONFIG_PW_FAIR;
    c.min_length = 1;
    assert_string_equal(text_of(&c), "Your password must contain: lower case letters (a-z), "
                                     "upper case letters (A-Z) and numbers (i.e. 0-9).");
    /* the legacy dictionary and personal-info switches add nothing (as before) */
    c.password_policy = CONFIG_PW_LOW;
    c.min_length = 0;
    c.password_dictionary = true;
    c.password_no_personal_info = true;
    assert_string_equal(text_of(&c),
                        "Your password must contain: at least 6 characters in length.");
}

/* A flexible policy with every part on. */
static const config_connection every_part = {
    .password_options = {.active = true, .min_length = 10, .character_types = CONFIG_CHARS_ALL,
                         .three_of_four = true, .block_identical = true,
                         .block_sequential = true, .max_length_error = true, .dictionary = true,
                         .profile_data = true}};

static void
test_flexible_every_part(void **state)
{
    config_connection c = every_part;

    (void)state;
    assert_string_equal(text_of(&c),
                        "Your password must contain: at least 10 characters in length; no "
                        "more than 72 bytes; at least 3 of the following 4 types: " FOUR
                        "; " IDENTICAL "; " SEQUENTIAL ". It must not be a common password or "
                        "contain your personal information.");
    c.password_options.profile_data = false;
    assert_non_null(strstr(text_of(&c), SEQUENTIAL ". It must not be a common password."));
    c.password_options.dictionary = false;
    c.password_options.profile_data = true;
    assert_non_null(
        strstr(text_of(&c), SEQUENTIAL ". It must not contain your personal information."));
}

static void
test_flexible_single_parts(void **state)
{
    config_connection c = {.password_options = {.active = true, .min_length = 1}};

    (void)state;
    /* an empty policy (min_length 1), and the legacy fields ignored when it is active */
    c.password_policy = CONFIG_PW_EXCELLENT;
    c.min_length = 12;
    assert_string_equal(text_of(&c), "Your password must not be empty.");
    c.password_options.dictionary = true;
    assert_string_equal(text_of(&c),
                        "Your password must not be empty. It must not be a common password.");
    c.password_options.dictionary = false;
    c.password_options.min_length = 8;
    assert_string_equal(text_of(&c),
                        "Your password must contain: at least 8 characters in length.");
    /* character_type_rule all, with some of the types */
    c.password_options.character_types = CONFIG_CHARS_LOWER | CONFIG_CHARS_NUMBER;
    assert_string_equal(text_of(&c), "Your password must contain: at least 8 characters in "
                                     "length; lower case letters (a-z) and numbers (i.e. 0-9).");
    c.password_options.character_types = CONFIG_CHARS_SPECIAL;
    assert_string_equal(text_of(&c), "Your password must contain: at least 8 characters in "
                                     "length; special characters (e.g. !@#$%^&*).");
    /* no length rule: the first rule opens the sentence */
    c.password_options.min_length = 1;
    c.password_options.character_types = 0;
    c.password_options.block_sequential = true;
    assert_string_equal(text_of(&c), "Your password must contain: " SEQUENTIAL ".");
    c.password_options.block_sequential = false;
    c.password_options.block_identical = true;
    assert_string_equal(text_of(&c), "Your password must contain: " IDENTICAL ".");
}

static void
test_short_buffers(void **state)
{
    config_connection c = every_part;
    char full[1024], buf[1024];
    size_t n;

    (void)state;
    authorize_policy_text(&c, full, sizeof(full));
    n = strlen(full);
    /* every size: a NUL-terminated prefix of the full text, nothing written past len */
    for (size_t len = 1; len <= n + 1; len++) {
        memset(buf, 'x', sizeof(buf));
        authorize_policy_text(&c, buf, len);
        assert_true(strlen(buf) < len);
        assert_memory_equal(buf, full, strlen(buf));
        assert_int_equal(buf[len], 'x');
    }
    assert_string_equal(buf, full);
    authorize_policy_text(&c, buf, 0); /* writes nothing */
    assert_string_equal(buf, full);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_levels_unchanged),
        cmocka_unit_test(test_flexible_every_part),
        cmocka_unit_test(test_flexible_single_parts),
        cmocka_unit_test(test_short_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
