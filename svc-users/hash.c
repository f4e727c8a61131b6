/*
 * Password hashing: argon2id (libargon2) and bcrypt (libxcrypt), the only place either
 * library is used. Every computation holds one slot of a counting semaphore so a login flood
 * occupies at most --hash-threads CPUs whatever the number of bus workers.
 */
#include <argon2.h>
#include <crypt.h>
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
#define BCRYPT_SALT_BYTES 16

struct users_hasher {
    users_hash_params p;
    sem_t slots;
    char *dummy;        /* a hash of a random password with the configured parameters */
};

void
users_hash_params_default(users_hash_params *p)
{
    p->alg = USERS_HASH_ARGON2ID;
    p->argon2_memory_kib = 19456;
    p->argon2_iterations = 2;
    p->argon2_parallelism = 1;
    p->bcrypt_cost = 10;
}

static void
slot_take(users_hasher *h)
{
    while (sem_wait(&h->slots) != 0 && errno == EINTR)
        ;
}

static void
slot_give(users_hasher *h)
{
    sem_post(&h->slots);
}

static bool
is_bcrypt(const char *hash)
{
    return strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
           strncmp(hash, "$2y$", 4) == 0;
}

static bool
is_argon2id(const char *hash)
{
    return strncmp(hash, "$argon2id$", 10) == 0;
}

size_t
users_hash_max_bytes(const users_hasher *h)
{
    return h->p.alg == USERS_HASH_BCRYPT ? USERS_BCRYPT_MAX_BYTES : USERS_ARGON2_MAX_BYTES;
}

static tg_err
argon2_make(const users_hash_params *p, const char *pw, size_t len, char **out)
{
    unsigned char salt[ARGON2_SALT_LEN];
    size_t enclen = argon2_encodedlen(p->argon2_iterations, p->argon2_memory_kib,
                                      p->argon2_parallelism, ARGON2_SALT_LEN, ARGON2_HASH_LEN,
                                      Argon2_id);
    char *enc = NULL;
    tg_err err;
    int rc;

    if ((err = tg_random_bytes(salt, sizeof(salt))) != TG_OK)
        return err;
    if ((enc = calloc(1, enclen + 1)) == NULL)
        return TG_ENOMEM;
    rc = argon2id_hash_encoded(p->argon2_iterations, p->argon2_memory_kib,
                               p->argon2_parallelism, pw, len, salt, sizeof(salt),
                               ARGON2_HASH_LEN, enc, enclen);
    if (rc != ARGON2_OK) {
        LOG_ERROR("argon2id: %s", argon2_error_message(rc));
        free(enc);
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? TG_ENOMEM : TG_ECRYPTO;
    }
    *out = enc;
    return TG_OK;
}

static tg_err
bcrypt_make(const users_hash_params *p, const char *pw, char **out)
{
    char rbytes[BCRYPT_SALT_BYTES], setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = NULL;
    tg_err err = TG_ECRYPTO;
    const char *r;

    if ((err = tg_random_bytes(rbytes, sizeof(rbytes))) != TG_OK)
        return err;
    if (crypt_gensalt_rn("$2b$", (unsigned long)p->bcrypt_cost, rbytes, sizeof(rbytes), setting,
                         sizeof(setting)) == NULL) {
        LOG_ERROR("crypt_gensalt_rn: %s", strerror(errno));
        return TG_ECRYPTO;
    }
    if ((cd = calloc(1, sizeof(*cd))) == NULL)
        return TG_ENOMEM;
    r = crypt_rn(pw, setting, cd, sizeof(*cd));
    if (r == NULL || r[0] != '$') {
        LOG_ERROR("crypt_rn (bcrypt): %s", strerror(errno));
        err = TG_ECRYPTO;
        goto out;
    }
    if ((*out = strdup(r)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    err = TG_OK;
out:
    tg_free_secret(cd, sizeof(*cd));
    return err;
}

static tg_err
bcrypt_check(const char *hash, const char *pw)
{
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *r;
    tg_err err;

    if (cd == NULL)
        return TG_ENOMEM;
    r = crypt_rn(pw, hash, cd, sizeof(*cd));
    if (r == NULL || r[0] != '$')
        err = TG_EINVAL;
    else
        err = tg_ct_streq(r, hash) ? TG_OK : TG_EDENIED;
    tg_free_secret(cd, sizeof(*cd));
    return err;
}

tg_err
users_hash_password(users_hasher *h, const char *pw, size_t len, char **out)
{
    tg_err err;

    *out = NULL;
    if (len > users_hash_max_bytes(h) || strlen(pw) != len)
        return len > users_hash_max_bytes(h) ? TG_ETOOBIG : TG_EINVAL;
    slot_take(h);
    err = h->p.alg == USERS_HASH_BCRYPT ? bcrypt_make(&h->p, pw, out)
                                        : argon2_make(&h->p, pw, len, out);
    slot_give(h);
    return err;
}

tg_err
users_hash_verify(users_hasher *h, const char *hash, const char *pw, size_t len)
{
    tg_err err;
    int rc;

    if (is_argon2id(hash)) {
        if (len > USERS_ARGON2_MAX_BYTES)
            return TG_EDENIED;
        slot_take(h);
        rc = argon2id_verify(hash, pw, len);
        slot_give(h);
        if (rc == ARGON2_OK)
            return TG_OK;
        if (rc == ARGON2_VERIFY_MISMATCH)
            return TG_EDENIED;
        LOG_WARN("argon2id verify: %s", argon2_error_message(rc));
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? TG_ENOMEM : TG_EINVAL;
    }
    if (is_bcrypt(hash)) {
        /* libxcrypt would read only the first 72 bytes: the work is still done (same time),
         * but a longer password never matches, so two sharing a prefix can't both pass. */
        slot_take(h);
        err = bcrypt_check(hash, pw);
        slot_give(h);
        if (err == TG_OK && (len > USERS_BCRYPT_MAX_BYTES || strlen(pw) != len))
            err = TG_EDENIED;
        return err;
    }
    return TG_EINVAL;
}

tg_err
users_hash_verify_dummy(users_hasher *h, const char *pw, size_t len)
{
    (void)users_hash_verify(h, h->dummy, pw, len);
    return TG_EDENIED;
}

bool
users_hash_needs_rehash(const users_hasher *h, const char *hash)
{
    char want[96];

    if (h->p.alg == USERS_HASH_BCRYPT)
        snprintf(want, sizeof(want), "$2b$%02d$", h->p.bcrypt_cost);
    else
        snprintf(want, sizeof(want), "$argon2id$v=%d$m=%u,t=%u,p=%u$", ARGON2_VERSION_NUMBER,
                 h->p.argon2_memory_kib, h->p.argon2_iterations, h->p.argon2_parallelism);
    return strncmp(hash, want, strlen(want)) != 0;
}

tg_err
users_hasher_new(const users_hash_params *p, unsigned threads, users_hasher **out)
{
    users_hasher *h = NULL;
    char *random = NULL;
    tg_err err = TG_EINVAL;

    *out = NULL;
    if (threads < 1 || (p->alg == USERS_HASH_BCRYPT && (p->bcrypt_cost < 4 || p->bcrypt_cost > 31)))
        return TG_EINVAL;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return TG_ENOMEM;
    h->p = *p;
    if (sem_init(&h->slots, 0, threads) != 0) {
        free(h);
        return TG_EINVAL;
    }
    if ((err = tg_random_token(24, &random)) != TG_OK)
        goto out;
    if ((err = users_hash_password(h, random, strlen(random), &h->dummy)) != TG_OK)
        goto out;
    *out = h;
    h = NULL;
out:
    tg_free_secret_str(random);
    users_hasher_free(h);
    return err;
}

void
users_hasher_free(users_hasher *h)
{
    if (h == NULL)
        return;
    sem_destroy(&h->slots);
    free(h->dummy);
    free(h);
}
