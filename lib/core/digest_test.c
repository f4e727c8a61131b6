/* SHA-256 against FIPS 180-2's vectors, from several threads at once (the first calls race
 * to fetch the algorithm); and the random bytes the tokens are made of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/util.h"

#define THREADS 8

static const struct {
    const char *in;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void *
hash_vectors(void *arg)
{
    intptr_t bad = 0;
    (void)arg;

    for (int round = 0; round < 200; round++)
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
            char hex[65];

            if (tg_sha256_hex(vectors[i].in, strlen(vectors[i].in), hex) != TG_OK ||
                strcmp(hex, vectors[i].hex) != 0)
                bad++;
        }
    return (void *)bad;
}

static void
sha256_vectors_from_threads(void **state)
{
    pthread_t t[THREADS];
    (void)state;

    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_vectors, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad = NULL;

        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
}

static void
sha256_million_a(void **state)
{
    const size_t n = 1000000;
    unsigned char md[TG_SHA256_LEN];
    char *a = malloc(n), hex[65];
    (void)state;

    assert_non_null(a);
    memset(a, 'a', n);
    assert_int_equal(tg_sha256(a, n, md), TG_OK);
    tg_hex_encode(md, sizeof(md), hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* More than one getrandom() call's worth, every length up to it, and no two draws alike. */
static void
random_bytes(void **state)
{
    static unsigned char a[1000], b[1000], zero[1000];
    (void)state;

    assert_int_equal(tg_random_bytes(a, sizeof(a)), TG_OK);
    assert_int_equal(tg_random_bytes(b, sizeof(b)), TG_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, 300);
    assert_memory_not_equal(a + 700, zero, 300); /* the tail is filled too */
    for (size_t len = 0; len <= 300; len++) {
        memset(a, 0, sizeof(a));
        assert_int_equal(tg_random_bytes(a, len), TG_OK);
        assert_memory_equal(a + len, zero, sizeof(a) - len); /* nothing past len */
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors_from_threads),
        cmocka_unit_test(sha256_million_a),
        cmocka_unit_test(random_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
