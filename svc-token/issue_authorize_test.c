/* The hash claims of ID tokens from the authorization endpoint (OIDC Core §3.1.3.6, §3.3.2.11)
 * against the examples of OIDC Core Appendix A, and the claims of a back-channel logout token
 * (OIDC Back-Channel Logout 1.0 §2.4). */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "token.h"

static void
test_at_hash_vector(void **state)
{
    char *h = NULL;
    (void)state;

    /* OIDC Core A.3 (response_type=id_token token) */
    assert_int_equal(token_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", &h), TG_OK);
    assert_string_equal(h, "77QmUPtjPfzWtF2AnpK9RQ");
    free(h);
}

static void
test_c_hash_vector(void **state)
{
    char *h = NULL;
    (void)state;

    /* OIDC Core A.4 (response_type=code id_token) */
    assert_int_equal(
        token_half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", &h), TG_OK);
    assert_string_equal(h, "LDktKdoQak3Pk0cnXxCltA");
    free(h);
    assert_int_equal(token_half_hash("", &h), TG_OK); /* 16 bytes always: 22 characters */
    assert_int_equal(strlen(h), 22);
    free(h);
}

static void
test_logout_claims(void **state)
{
    json_t *c = token_logout_claims("https://issuer.test/", "client-1", "auth0|u", "sid-1", "jti-1",
                                    1700000000);
    json_t *events;
    (void)state;

    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), "https://issuer.test/");
    assert_string_equal(json_string_value(json_object_get(c, "aud")), "client-1");
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "auth0|u");
    assert_string_equal(json_string_value(json_object_get(c, "sid")), "sid-1");
    assert_string_equal(json_string_value(json_object_get(c, "jti")), "jti-1");
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1700000120);
    events = json_object_get(c, "events");
    assert_true(json_is_object(events) && json_object_size(events) == 1);
    events = json_object_get(events, "http://schemas.openid.net/event/backchannel-logout");
    assert_true(json_is_object(events) && json_object_size(events) == 0);
    assert_null(json_object_get(c, "nonce")); /* §2.4: a logout token never has one */
    json_decref(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_hash_vector),
        cmocka_unit_test(test_c_hash_vector),
        cmocka_unit_test(test_logout_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
