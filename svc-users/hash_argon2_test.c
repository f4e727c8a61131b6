/* hash_argon2.c: compatibility with libargon2's own encoding both ways, memory reuse, and
 * hostile encoded strings. */
#include <argon2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"

#define M 64 /* KiB: small, so the tests run fast */
static const uint8_t salt[16] = "0123456789abcdef";

/* Ours verifies libargon2's, libargon2 verifies ours, and both are the same string. */
static void
test_compatible_with_libargon2(void **state)
{
    users_argon2_mem mem = {.keep = M * 1024};
    char theirs[256], *ours = NULL;

    (void)state;
    assert_int_equal(
        argon2id_hash_encoded(2, M, 1, "pw-1", 4, salt, sizeof(salt), 32, theirs, sizeof(theirs)),
        ARGON2_OK);
    assert_int_equal(users_argon2id_hash(M, 2, 1, salt, sizeof(salt), "pw-1", 4, &mem, &ours),
                     TG_OK);
    assert_string_equal(ours, theirs);
    assert_int_equal(argon2_verify(ours, "pw-1", 4, Argon2_id), ARGON2_OK);
    assert_int_equal(users_argon2_verify(theirs, 1024, 4, 4, "pw-1", 4, &mem), TG_OK);
    assert_int_equal(users_argon2_verify(theirs, 1024, 4, 4, "pw-2", 4, &mem), TG_EDENIED);
    assert_int_equal(users_argon2_verify(theirs, 1024, 4, 4, "pw-", 3, &mem), TG_EDENIED);
    free(ours);
    /* argon2i (imported from Auth0) and the pre-1.3 version without v= */
    assert_int_equal(argon2i_hash_encoded(3, M, 2, "pw-i", 4, salt, 8, 24, theirs, sizeof(theirs)),
                     ARGON2_OK);
    assert_int_equal(users_argon2_verify(theirs, 1024, 4, 4, "pw-i", 4, &mem), TG_OK);
    assert_int_equal(users_argon2_verify(theirs, 1024, 4, 4, "pw-j", 4, &mem), TG_EDENIED);
    users_argon2_mem_fini(&mem);
}

/* The thread's mapping is made once and reused; a larger imported m gets a one-off mapping. */
static void
test_memory_reused(void **state)
{
    users_argon2_mem mem = {.keep = M * 1024};
    char big[256], *h = NULL;
    uint8_t *base;

    (void)state;
    assert_int_equal(users_argon2id_hash(M, 1, 1, salt, sizeof(salt), "a", 1, &mem, &h), TG_OK);
    base = mem.base;
    assert_non_null(base);
    assert_int_equal(mem.size, M * 1024);
    assert_int_equal(users_argon2_verify(h, 1024, 4, 4, "a", 1, &mem), TG_OK);
    assert_ptr_equal(mem.base, base);
    assert_int_equal(
        argon2id_hash_encoded(1, 4 * M, 1, "b", 1, salt, sizeof(salt), 32, big, sizeof(big)),
        ARGON2_OK);
    assert_int_equal(users_argon2_verify(big, 1024, 4, 4, "b", 1, &mem), TG_OK);
    assert_ptr_equal(mem.base, base);
    assert_int_equal(mem.size, M * 1024);
    for (size_t i = 0; i < mem.size; i++) /* wiped after use */
        if (mem.base[i] != 0)
            fail_msg("byte %zu of the kept memory is not wiped", i);
    free(h);
    users_argon2_mem_fini(&mem);
    assert_null(mem.base);
}

/* Memory of 2 MiB and more sits on 2 MiB boundaries (for huge pages), works like any other,
 * both kept and one-off, and is wiped after use. */
static void
test_large_memory_aligned(void **state)
{
    const uint32_t big_m = 3 * 1024; /* KiB */
    users_argon2_mem mem = {.keep = big_m * 1024};
    users_argon2_mem small = {.keep = M * 1024};
    char theirs[256], *ours = NULL;

    (void)state;
    assert_int_equal(users_argon2id_hash(big_m, 1, 1, salt, sizeof(salt), "pw", 2, &mem, &ours),
                     TG_OK);
    assert_int_equal((uintptr_t)mem.base % (2u << 20), 0);
    assert_int_equal(mem.size, big_m * 1024);
    assert_int_equal(
        argon2id_hash_encoded(1, big_m, 1, "pw", 2, salt, sizeof(salt), 32, theirs, sizeof(theirs)),
        ARGON2_OK);
    assert_string_equal(ours, theirs);
    assert_int_equal(users_argon2_verify(theirs, 4096, 4, 4, "pw", 2, &mem), TG_OK);
    for (size_t i = 0; i < mem.size; i++)
        if (mem.base[i] != 0)
            fail_msg("byte %zu of the kept memory is not wiped", i);
    /* over small's keep: a one-off 2 MiB-aligned mapping, unmapped after */
    assert_int_equal(users_argon2_verify(theirs, 4096, 4, 4, "pw", 2, &small), TG_OK);
    assert_int_equal(users_argon2_verify(theirs, 4096, 4, 4, "px", 2, &small), TG_EDENIED);
    assert_null(small.base);
    free(ours);
    users_argon2_mem_fini(&mem);
    users_argon2_mem_fini(&small);
}

static void
test_hostile(void **state)
{
    static const char *bad[] = {
        "",
        "$argon2id$",
        "$argon2d$v=19$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=99$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=99999999,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=99,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=2,p=99$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=2,p=0$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=2,p=1$MDEy$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* salt < 8
                                                                                         */
        "$argon2id$v=19$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AA",        /* out < 4 */
        "$argon2id$v=19$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAA$AAAA", /* extra $ */
        "$argon2id$v=19$m=64,t=2,p=1$MDEy*zQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg",
        "$argon2id$v=19$m=-1,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$t=2,m=64,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$v=19$m=64,t=2,p=1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    users_argon2_mem mem = {.keep = M * 1024};
    char longsalt[512];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tg_err err = users_argon2_verify(bad[i], 1024, 4, 4, "pw", 2, &mem);
        if (err != TG_EINVAL)
            fail_msg("hostile hash %zu accepted (%d): %s", i, (int)err, bad[i]);
    }
    /* a salt over 64 bytes is refused, not copied past the buffer */
    memset(longsalt, 0, sizeof(longsalt));
    strcpy(longsalt, "$argon2id$v=19$m=64,t=2,p=1$");
    memset(longsalt + strlen(longsalt), 'A', 200);
    strcat(longsalt, "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(users_argon2_verify(longsalt, 1024, 4, 4, "pw", 2, &mem), TG_EINVAL);
    users_argon2_mem_fini(&mem);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compatible_with_libargon2),
        cmocka_unit_test(test_memory_reused),
        cmocka_unit_test(test_large_memory_aligned),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
