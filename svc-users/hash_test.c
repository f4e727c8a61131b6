/* Password hashing: argon2id and bcrypt round trips, exported Auth0 hashes ($2a$, $2b$, $2y$),
 * the 72-byte rule, the dummy hash and rehash decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "users.h"

/* bcrypt cost 4 of "correct horse" (libxcrypt; $2a$/$2b$/$2y$ agree for ASCII passwords). */
#define KNOWN_2A "$2a$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"
#define KNOWN_2B "$2b$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"
#define KNOWN_2Y "$2y$04$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"

static users_hasher *
make(users_hash_alg alg)
{
    users_hash_params p;
    users_hasher *h = NULL;

    users_hash_params_default(&p);
    p.alg = alg;
    p.argon2_memory_kib = 64; /* fast for tests */
    p.argon2_iterations = 1;
    p.bcrypt_cost = 4;
    assert_int_equal(users_hasher_new(&p, 2, &h), TG_OK);
    return h;
}

static void
test_argon2id_round_trip(void **state)
{
    users_hasher *h = make(USERS_HASH_ARGON2ID);
    char *hash = NULL;
    (void)state;
    assert_int_equal(users_hash_password(h, "s3cret!", 7, &hash), TG_OK);
    assert_memory_equal(hash, "$argon2id$v=19$m=64,t=1,p=1$", 28);
    assert_int_equal(users_hash_verify(h, hash, "s3cret!", 7), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, "s3cret?", 7), TG_EDENIED);
    assert_false(users_hash_needs_rehash(h, hash));
    assert_true(users_hash_needs_rehash(h, KNOWN_2B));
    free(hash);
    users_hasher_free(h);
}

static void
test_bcrypt_round_trip(void **state)
{
    users_hasher *h = make(USERS_HASH_BCRYPT);
    char *hash = NULL;
    (void)state;
    assert_int_equal(users_hash_password(h, "s3cret!", 7, &hash), TG_OK);
    assert_memory_equal(hash, "$2b$04$", 7);
    assert_int_equal(users_hash_verify(h, hash, "s3cret!", 7), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, "s3cret", 6), TG_EDENIED);
    assert_false(users_hash_needs_rehash(h, hash));
    assert_true(users_hash_needs_rehash(h, KNOWN_2A)); /* $2a$ is upgraded to $2b$ */
    assert_true(users_hash_needs_rehash(h, "$2b$10$abcdefghijklmnopqrstuujydOTSfIH/d5oUHpsygqV5X9xJLQc6e"));
    free(hash);
    users_hasher_free(h);
}

static void
test_exported_hashes(void **state)
{
    users_hasher *h = make(USERS_HASH_ARGON2ID);
    (void)state;
    assert_int_equal(users_hash_verify(h, KNOWN_2A, "correct horse", 13), TG_OK);
    assert_int_equal(users_hash_verify(h, KNOWN_2B, "correct horse", 13), TG_OK);
    assert_int_equal(users_hash_verify(h, KNOWN_2Y, "correct horse", 13), TG_OK);
    assert_int_equal(users_hash_verify(h, KNOWN_2Y, "correct horsE", 13), TG_EDENIED);
    assert_int_equal(users_hash_verify(h, "$1$md5$whatever", "x", 1), TG_EINVAL);
    assert_int_equal(users_hash_verify(h, "", "x", 1), TG_EINVAL);
    assert_true(users_hash_needs_rehash(h, KNOWN_2A));
    users_hasher_free(h);
}

/* Two passwords sharing their first 72 bytes never both pass; > 72 is never hashed. */
static void
test_bcrypt_72_bytes(void **state)
{
    users_hasher *h = make(USERS_HASH_BCRYPT);
    char pw72[73], pw73[74], pw80[81], *hash = NULL;
    (void)state;
    memset(pw72, 'x', 72);
    pw72[72] = '\0';
    memset(pw73, 'x', 73);
    pw73[73] = '\0';
    memset(pw80, 'x', 80);
    pw80[80] = '\0';
    assert_int_equal(users_hash_max_bytes(h), 72);
    assert_int_equal(users_hash_password(h, pw73, 73, &hash), TG_ETOOBIG);
    assert_null(hash);
    assert_int_equal(users_hash_password(h, pw72, 72, &hash), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, pw72, 72), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, pw73, 73), TG_EDENIED);
    assert_int_equal(users_hash_verify(h, hash, pw80, 80), TG_EDENIED);
    free(hash);
    users_hasher_free(h);
}

static void
test_argon2id_long(void **state)
{
    users_hasher *h = make(USERS_HASH_ARGON2ID);
    char *big = malloc(1026), *hash = NULL;
    (void)state;
    memset(big, 'y', 1025);
    big[1025] = '\0';
    assert_int_equal(users_hash_password(h, big, 1025, &hash), TG_ETOOBIG);
    big[1024] = '\0';
    assert_int_equal(users_hash_password(h, big, 1024, &hash), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, big, 1024), TG_OK);
    big[1023] = 'z';
    assert_int_equal(users_hash_verify(h, hash, big, 1024), TG_EDENIED);
    free(hash);
    free(big);
    users_hasher_free(h);
}

static void
test_dummy(void **state)
{
    users_hasher *h = make(USERS_HASH_ARGON2ID);
    (void)state;
    assert_int_equal(users_hash_verify_dummy(h, "anything", 8), TG_EDENIED);
    assert_int_equal(users_hash_verify_dummy(h, "", 0), TG_EDENIED);
    users_hasher_free(h);
    users_hasher_free(NULL);
}

static void
test_bad_params(void **state)
{
    users_hash_params p;
    users_hasher *h = NULL;
    (void)state;
    users_hash_params_default(&p);
    p.alg = USERS_HASH_BCRYPT;
    p.bcrypt_cost = 3;
    assert_int_equal(users_hasher_new(&p, 1, &h), TG_EINVAL);
    p.bcrypt_cost = 4;
    assert_int_equal(users_hasher_new(&p, 0, &h), TG_EINVAL);
    assert_null(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argon2id_round_trip), cmocka_unit_test(test_bcrypt_round_trip),
        cmocka_unit_test(test_exported_hashes),     cmocka_unit_test(test_bcrypt_72_bytes),
        cmocka_unit_test(test_argon2id_long),       cmocka_unit_test(test_dummy),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
