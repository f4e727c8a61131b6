/* Sealing secrets at rest: round trip, and every kind of tampering refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/seal.h"
#include "core/util.h"

static const char master[] = "master-key-for-tests-0123456789";

static void
round_trip(void **state)
{
    const char secret[] = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
    char *sealed = NULL, *again = NULL;
    unsigned char *plain = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(tg_seal(master, "signing-key", secret, strlen(secret), &sealed), TG_OK);
    assert_true(strncmp(sealed, "v1.", 3) == 0);
    assert_null(strstr(sealed, "PRIVATE")); /* nothing readable in the stored form */
    assert_int_equal(tg_unseal(master, "signing-key", sealed, &plain, &len), TG_OK);
    assert_int_equal(len, strlen(secret));
    assert_memory_equal(plain, secret, len);
    tg_free_secret(plain, len);
    /* a fresh nonce every time */
    assert_int_equal(tg_seal(master, "signing-key", secret, strlen(secret), &again), TG_OK);
    assert_string_not_equal(sealed, again);
    free(again);
    free(sealed);
}

static void
tampering_is_refused(void **state)
{
    char *sealed = NULL;
    unsigned char *plain = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(tg_seal(master, "signing-key", "secret", 6, &sealed), TG_OK);
    assert_int_equal(tg_unseal("another-master-key-0123456789", "signing-key", sealed, &plain,
                               &len),
                     TG_ECRYPTO);
    assert_int_equal(tg_unseal(master, "other-purpose", sealed, &plain, &len), TG_ECRYPTO);
    sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
    assert_int_equal(tg_unseal(master, "signing-key", sealed, &plain, &len), TG_ECRYPTO);
    assert_null(plain);
    assert_int_equal(tg_unseal(master, "signing-key", "v1.", &plain, &len), TG_EINVAL);
    assert_int_equal(tg_unseal(master, "signing-key", "v1.!!!", &plain, &len), TG_EINVAL);
    assert_int_equal(tg_unseal(master, "signing-key", "plain text", &plain, &len), TG_EINVAL);
    free(sealed);
    assert_int_equal(tg_seal(NULL, "signing-key", "x", 1, &sealed), TG_EINVAL);
    assert_null(sealed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(tampering_is_refused),
    };
    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
