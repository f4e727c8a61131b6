/* Password hashing: argon2id and bcrypt round trips, exported Auth0 hashes ($2a$, $2b$, $2y$),
 * the 72-byte rule, the dummy hash and rehash decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "import.h"
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

/* ---- hashes imported from Auth0 (import.h). Vectors: Python hashlib for the digests and
 * pbkdf2 (password "correct horse"), libargon2's reference CLI code for argon2, Auth0's docs for
 * bcrypt ("hello", cost 10). */
#define PW "correct horse"
#define PBKDF2_256 "$pbkdf2-sha256$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$" \
                   "cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M"
#define PBKDF2_512 "$pbkdf2-sha512$i=1000,l=64$MDEyMzQ1Njc4OWFiY2RlZg$OM0FAoIqCVK1sWtxDiffVlBe" \
                   "jtLa+ks4TP71JiecwuSZCG8iLbnlIEPOMoVX+i2B2wkSxjQ8CRGR9OkNGuIPMQ"
#define ARGON2I "$argon2i$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" \
                "Z/f5HXchJUreVezozHfqmhnWE1tO5F47olNKb8N1VHE"
#define ARGON2ID "$argon2id$v=19$m=128,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" \
                 "KeG8A9uYNO2MF8fP/WXIibSMPDPs2WE6WG5TQtHdAVE"
#define AUTH0_BCRYPT "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"

static void
check_imported(users_hasher *h, const char *hash, const char *pw)
{
    assert_true(users_hash_is_supported(hash));
    assert_int_equal(users_hash_verify(h, hash, pw, strlen(pw)), TG_OK);
    assert_int_equal(users_hash_verify(h, hash, "wrong", 5), TG_EDENIED);
    assert_true(users_hash_needs_rehash(h, hash));
}

static void
test_imported_kdfs(void **state)
{
    users_hasher *h = make(USERS_HASH_ARGON2ID);
    (void)state;
    check_imported(h, PBKDF2_256, PW);
    check_imported(h, PBKDF2_512, PW);
    check_imported(h, ARGON2I, PW);
    check_imported(h, ARGON2ID, PW);
    check_imported(h, AUTH0_BCRYPT, "hello");
    /* over the ceilings, or malformed: never accepted, never a match */
    assert_false(users_hash_is_supported("$pbkdf2-sha256$i=99999999,l=32$MDEy$cBg8"));
    assert_false(users_hash_is_supported("$pbkdf2-md4$i=1000,l=16$MDEy$cBg8"));
    assert_false(users_hash_is_supported("$pbkdf2-sha256$i=1000,l=31$MDEyMzQ1Njc4OWFiY2RlZg$"
                                         "cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M"));
    assert_false(users_hash_is_supported("$argon2id$v=19$m=9999999,t=1,p=1$c2FsdA$KeG8"));
    assert_false(users_hash_is_supported("$argon2d$v=19$m=64,t=1,p=1$c2FsdA$KeG8"));
    assert_false(users_hash_is_supported("$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1"));
    assert_false(users_hash_is_supported("$2b$10$short"));
    assert_false(users_hash_is_supported("$tg-md4$prefix$$AAAA"));
    assert_false(users_hash_is_supported(""));
    assert_int_equal(users_hash_verify(h, "$pbkdf2-sha256$i=0$x$y", PW, strlen(PW)), TG_EINVAL);
    assert_int_equal(users_hash_verify(h, "$argon2i$m=1,t=1", PW, strlen(PW)), TG_EINVAL);
    users_hasher_free(h);
}

/* encode -> verify, for each digest, salt position and the empty salt */
static void
digest_case(users_hasher *h, const char *alg, bool suffix, const char *salt, const char *enc,
            const char *digest)
{
    unsigned char *d = NULL;
    size_t dlen = 0;
    char *hash = NULL;

    assert_int_equal(users_hash_decode(enc, digest, &d, &dlen), TG_OK);
    assert_int_equal(users_hash_digest_encode(alg, suffix, (const unsigned char *)salt,
                                              strlen(salt), d, dlen, &hash),
                     TG_OK);
    check_imported(h, hash, PW);
    free(hash);
    free(d);
}

static void
test_imported_digests(void **state)
{
    users_hasher *h = make(USERS_HASH_BCRYPT);
    unsigned char *d = NULL;
    size_t dlen = 0;
    char *hash = NULL;
    (void)state;
    digest_case(h, "md5", false, "NaCl", "hex", "d897cc54e94fe33e4da398599cbdfbec");
    digest_case(h, "sha1", true, "NaCl", "base64", "Ki+Q9Ri8Nn2QN1jUbcaqfsgK/pI=");
    digest_case(h, "sha256", false, "NaCl", "hex",
                "CC0C19E7E854DAD3A1AC59D270A830024C7D2EFA248EA80D0A27223F30BBF504");
    digest_case(h, "sha512", true, "NaCl", "base64",
                "xdqJoPZy0z2ISyVALjTvBo5x9AkjiFnWKH0NsOP4U82KzmxCREKHlAwAwogawzZlmhW7qTj1fJZE7cu"
                "tApWFGA"); /* URL-safe, unpadded */
    digest_case(h, "sha256", false, "", "hex",
                "4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631");
    /* the right digest with the salt on the wrong side does not match */
    assert_int_equal(users_hash_decode("hex", "d897cc54e94fe33e4da398599cbdfbec", &d, &dlen),
                     TG_OK);
    assert_int_equal(users_hash_digest_encode("md5", true, (const unsigned char *)"NaCl", 4, d,
                                              dlen, &hash),
                     TG_OK);
    assert_int_equal(users_hash_verify(h, hash, PW, strlen(PW)), TG_EDENIED);
    free(hash);
    /* wrong length, unknown algorithm */
    assert_int_equal(users_hash_digest_encode("sha1", false, NULL, 0, d, dlen, &hash), TG_EINVAL);
    assert_int_equal(users_hash_digest_encode("md4", false, NULL, 0, d, dlen, &hash), TG_EINVAL);
    assert_null(hash);
    free(d);
    assert_int_equal(users_hash_decode("hex", "abc", &d, &dlen), TG_EINVAL);
    assert_int_equal(users_hash_decode("hex", "zz", &d, &dlen), TG_EINVAL);
    assert_int_equal(users_hash_decode("base64", "a", &d, &dlen), TG_EINVAL);
    assert_int_equal(users_hash_decode("latin1", "a", &d, &dlen), TG_EINVAL);
    assert_null(d);
    users_hasher_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argon2id_round_trip), cmocka_unit_test(test_bcrypt_round_trip),
        cmocka_unit_test(test_exported_hashes),     cmocka_unit_test(test_bcrypt_72_bytes),
        cmocka_unit_test(test_argon2id_long),       cmocka_unit_test(test_dummy),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_imported_kdfs), cmocka_unit_test(test_imported_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
