/* device.c's user codes: the alphabet mapping has no modulo bias, generated codes have Auth0's
 * shape, typed codes normalise case- and dash-insensitively and hostile input is refused;
 * the activation pages escape what they show. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authorize.h"

#define HOSTILE "\"><script>alert('x')</script>&"
static const tg_branding hostile_brand = {.name = HOSTILE};

static bool
is_user_code_shape(const char *s)
{
    if (strlen(s) != 9 || s[4] != '-')
        return false;
    for (int i = 0; i < 9; i++)
        if (i != 4 && strchr(AUTHORIZE_USER_CODE_ALPHABET, s[i]) == NULL)
            return false;
    return true;
}

static void
test_fill_maps_evenly_and_skips_biased_bytes(void **state)
{
    unsigned char rnd[256];
    unsigned counts[20] = {0};
    char out[256];
    size_t n;

    (void)state;
    for (int i = 0; i < 256; i++)
        rnd[i] = (unsigned char)i;
    n = authorize_user_code_fill(rnd, sizeof(rnd), out, sizeof(out));
    assert_int_equal(n, 240); /* bytes 240..255 would favour the first 16 letters */
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(AUTHORIZE_USER_CODE_ALPHABET, out[i]);
        assert_non_null(p);
        counts[p - AUTHORIZE_USER_CODE_ALPHABET]++;
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(counts[i], 12);
    assert_int_equal(out[0], 'B');
    assert_int_equal(out[19], 'Z');
    assert_int_equal(out[20], 'B');
}

static void
test_fill_stops_at_want(void **state)
{
    const unsigned char only_biased[] = {240, 250, 255, 241};
    const unsigned char rnd[] = {255, 1, 240, 2, 3, 4};
    char out[8] = {0};

    (void)state;
    assert_int_equal(authorize_user_code_fill(only_biased, sizeof(only_biased), out, 8), 0);
    assert_int_equal(authorize_user_code_fill(rnd, sizeof(rnd), out, 2), 2);
    assert_memory_equal(out, "CD", 2);
}

static void
test_new_codes_have_auth0_shape_and_differ(void **state)
{
    char a[10], b[10], norm[9];
    int same = 0;

    (void)state;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(authorize_user_code_new(a), TG_OK);
        assert_int_equal(authorize_user_code_new(b), TG_OK);
        assert_true(is_user_code_shape(a));
        assert_true(authorize_user_code_normalise(a, norm));
        same += strcmp(a, b) == 0;
    }
    assert_true(same <= 1); /* 20^8 codes: a repeat in 200 pairs means a broken generator */
}

static void
test_normalise_accepts_typing_variants(void **state)
{
    const char *const good[] = {"BDWP-HQPK", "bdwp-hqpk", "BDWPHQPK", "bdwphqpk", "Bd Wp Hq Pk",
                                "-BDWP--HQPK-", " BDWP HQPK "};
    char out[9], shown[10];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(authorize_user_code_normalise(good[i], out));
        assert_string_equal(out, "BDWPHQPK");
    }
    authorize_user_code_format("BDWPHQPK", shown);
    assert_string_equal(shown, "BDWP-HQPK");
}

static void
test_normalise_refuses_hostile_input(void **state)
{
    char overlong[4096];
    const char *const bad[] = {
        "",           "BDWP-HQP",       "BDWP-HQPKB",  "BDWA-HQPK", /* vowel */
        "BDWP-HQP1",  "BDWP_HQPK",      "BDWP-HQPK\n", "BDWP\tHQPK", HOSTILE,
        "ÄDWP-HQPK",  "BDWP-HQPK-BDWP", "{\"$gt\":\"\"}", "----------------------",
        "B-D-W-P-H-Q-P-K-B-D-W", /* 21 bytes */
    };
    char out[9];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(authorize_user_code_normalise(bad[i], out));
        assert_string_equal(out, "");
    }
    memset(overlong, 'B', sizeof(overlong) - 1);
    overlong[sizeof(overlong) - 1] = '\0';
    assert_false(authorize_user_code_normalise(overlong, out));
    assert_false(authorize_user_code_normalise(NULL, out));
}

static void
test_pages_escape_and_label(void **state)
{
    char *entry = authorize_activate_html(&hostile_brand, HOSTILE, HOSTILE, HOSTILE);
    char *confirm = authorize_device_confirm_html(&hostile_brand, HOSTILE, "BDWP-HQPK", HOSTILE, HOSTILE);

    (void)state;
    assert_non_null(entry);
    assert_non_null(confirm);
    assert_null(strstr(entry, "<script"));
    assert_null(strstr(confirm, "<script"));
    assert_non_null(strstr(entry, "<label for=\"user_code\">"));
    assert_non_null(strstr(entry, "name=\"user_code\""));
    assert_non_null(strstr(entry, "name=\"csrf_token\""));
    assert_non_null(strstr(entry, "role=\"alert\""));
    assert_non_null(strstr(confirm, "name=\"action\" value=\"confirm\""));
    assert_non_null(strstr(confirm, "name=\"action\" value=\"cancel\""));
    assert_non_null(strstr(confirm, "BDWP-HQPK"));
    assert_non_null(strstr(confirm, "<strong>device</strong>")); /* RFC 8628 §5.4 */
    free(entry);
    free(confirm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_maps_evenly_and_skips_biased_bytes),
        cmocka_unit_test(test_fill_stops_at_want),
        cmocka_unit_test(test_new_codes_have_auth0_shape_and_differ),
        cmocka_unit_test(test_normalise_accepts_typing_variants),
        cmocka_unit_test(test_normalise_refuses_hostile_input),
        cmocka_unit_test(test_pages_escape_and_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
