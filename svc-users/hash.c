/*
 * Password hashing: argon2id (libargon2) and bcrypt (libxcrypt), the only place either
 * library is used. Hashes imported from Auth0 (import.h) are also verified here — argon2i,
 * PHC pbkdf2 and salted md5/sha digests (OpenSSL EVP) — and upgraded on the next login. Every
 * computation runs on the hashing threads (hash_pool.c), so a login flood occupies at most
 * --hash-threads CPUs whatever the number of bus workers.
 */
#include <argon2.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "import.h"
#include "users.h"

#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
#define BCRYPT_SALT_BYTES 16

struct users_hasher {
    users_hash_params p;
    users_hash_pool *pool;
    char *dummy; /* a hash of a random password with the configured parameters */
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
argon2_make(const users_hash_params *p, const char *pw, size_t len, users_argon2_mem *mem,
            char **out)
{
    unsigned char salt[ARGON2_SALT_LEN];
    tg_err err;

    if ((err = tg_random_bytes(salt, sizeof(salt))) != TG_OK)
        return err;
    return users_argon2id_hash(p->argon2_memory_kib, p->argon2_iterations,
                               p->argon2_parallelism, salt, sizeof(salt), pw, len, mem, out);
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

/* ---- hashes imported from Auth0 (import.h): verified at login, then upgraded ------------- */

#define IMPORTED_MAX_TEXT 2048        /* any stored hash string */
#define IMPORTED_MAX_BYTES 1024       /* a decoded salt or digest */
#define PBKDF2_DEFAULT_ITER 100000UL  /* Auth0's defaults when i= / l= are missing */
#define PBKDF2_DEFAULT_KEYLEN 64UL
#define PBKDF2_MAX_ITER 5000000UL     /* ceilings: a login must not cost seconds */
#define ARGON2_MAX_M_KIB 262144UL
#define ARGON2_MAX_T 16UL
#define ARGON2_MAX_P 16UL

typedef struct digest_alg {
    const char *name; /* custom_password_hash.algorithm, "$tg-<name>$", "$pbkdf2-<name>$" */
    const char *evp;
    size_t len;
    bool salted_digest; /* usable as "$tg-<name>$" (md5 is; pbkdf2 only takes the sha family) */
    bool pbkdf2;
} digest_alg;

static const digest_alg digest_algs[] = {
    {"md5", "MD5", 16, true, false},       {"sha1", "SHA1", 20, true, true},
    {"sha224", "SHA224", 28, false, true}, {"sha256", "SHA256", 32, true, true},
    {"sha384", "SHA384", 48, false, true}, {"sha512", "SHA512", 64, true, true},
};

static const digest_alg *
digest_alg_find(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(digest_algs) / sizeof(digest_algs[0]); i++)
        if (strlen(digest_algs[i].name) == n && memcmp(digest_algs[i].name, name, n) == 0)
            return &digest_algs[i];
    return NULL;
}

/* Splits a heap copy of s at every '$' keeping empty fields; *copy freed by the caller. */
static size_t
split_dollar(const char *s, char **copy, char **f, size_t max)
{
    size_t n = 0;
    char *p;

    *copy = NULL;
    if (strlen(s) > IMPORTED_MAX_TEXT || (p = strdup(s)) == NULL)
        return 0;
    *copy = p;
    f[n++] = p;
    for (; *p; p++) {
        if (*p != '$')
            continue;
        if (n == max)
            return 0;
        *p = '\0';
        f[n++] = p + 1;
    }
    return n;
}

tg_err
users_hash_decode(const char *encoding, const char *text, unsigned char **out, size_t *out_len)
{
    size_t n = strlen(text);
    unsigned char *buf = NULL;
    char *norm = NULL;
    tg_err err = TG_EINVAL;

    *out = NULL;
    *out_len = 0;
    if (n > 2 * IMPORTED_MAX_BYTES)
        return TG_ETOOBIG;
    if (strcmp(encoding, "utf8") == 0) {
        if ((buf = malloc(n + 1)) == NULL)
            return TG_ENOMEM;
        memcpy(buf, text, n + 1);
        *out = buf;
        *out_len = n;
        return TG_OK;
    }
    if (strcmp(encoding, "hex") == 0) {
        if (n % 2 != 0 || (buf = malloc(n / 2 + 1)) == NULL)
            return n % 2 != 0 ? TG_EINVAL : TG_ENOMEM;
        for (size_t i = 0; i < n; i += 2) {
            int hi = tg_hex_value(text[i]), lo = tg_hex_value(text[i + 1]);
            if (hi < 0 || lo < 0) {
                free(buf);
                return TG_EINVAL;
            }
            buf[i / 2] = (unsigned char)(hi << 4 | lo);
        }
        *out = buf;
        *out_len = n / 2;
        return TG_OK;
    }
    if (strcmp(encoding, "base64") != 0)
        return TG_EINVAL;
    /* standard, URL-safe and PHC's '.'-for-'+' alphabets, padded or not */
    if ((norm = strdup(text)) == NULL)
        return TG_ENOMEM;
    for (char *p = norm; *p; p++)
        *p = *p == '-' || *p == '.' ? '+' : *p == '_' ? '/' : *p;
    err = tg_b64_decode(norm, n, out, out_len);
    free(norm);
    return err;
}

/* "$tg-<alg>$prefix|suffix$<b64 salt>$<b64 digest>" */
typedef struct digest_hash {
    const digest_alg *alg;
    bool suffix;
    unsigned char *salt, *want;
    size_t salt_len, want_len;
} digest_hash;

static void
digest_hash_fini(digest_hash *d)
{
    free(d->salt);
    free(d->want);
    memset(d, 0, sizeof(*d));
}

static tg_err
digest_parse(const char *hash, digest_hash *d)
{
    char *copy = NULL, *f[6];
    size_t n = split_dollar(hash, &copy, f, 6);
    tg_err err = TG_EINVAL;

    memset(d, 0, sizeof(*d));
    if (n != 5 || f[0][0] != '\0' || strncmp(f[1], "tg-", 3) != 0)
        goto out;
    d->alg = digest_alg_find(f[1] + 3, strlen(f[1] + 3));
    if (d->alg == NULL || !d->alg->salted_digest)
        goto out;
    if (strcmp(f[2], "prefix") != 0 && strcmp(f[2], "suffix") != 0)
        goto out;
    d->suffix = f[2][0] == 's';
    if (users_hash_decode("base64", f[3], &d->salt, &d->salt_len) != TG_OK ||
        users_hash_decode("base64", f[4], &d->want, &d->want_len) != TG_OK ||
        d->want_len != d->alg->len)
        goto out;
    err = TG_OK;
out:
    free(copy);
    if (err != TG_OK)
        digest_hash_fini(d);
    return err;
}

static tg_err
digest_check(const char *hash, const char *pw, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = NULL;
    EVP_MD *md_alg = NULL;
    digest_hash d;
    tg_err err;
    int ok;

    if ((err = digest_parse(hash, &d)) != TG_OK)
        return err;
    err = TG_ECRYPTO;
    if ((ctx = EVP_MD_CTX_new()) == NULL || (md_alg = EVP_MD_fetch(NULL, d.alg->evp, NULL)) == NULL)
        goto out;
    ok = EVP_DigestInit_ex(ctx, md_alg, NULL) == 1 &&
         (d.suffix || EVP_DigestUpdate(ctx, d.salt, d.salt_len) == 1) &&
         EVP_DigestUpdate(ctx, pw, len) == 1 &&
         (!d.suffix || EVP_DigestUpdate(ctx, d.salt, d.salt_len) == 1) &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    if (!ok) {
        LOG_ERROR("%s digest failed", d.alg->evp);
        goto out;
    }
    err = tg_ct_equal(md, mdlen, d.want, d.want_len) ? TG_OK : TG_EDENIED;
out:
    OPENSSL_cleanse(md, sizeof(md));
    EVP_MD_free(md_alg);
    EVP_MD_CTX_free(ctx);
    digest_hash_fini(&d);
    return err;
}

tg_err
users_hash_digest_encode(const char *alg, bool suffix, const unsigned char *salt, size_t salt_len,
                         const unsigned char *digest, size_t digest_len, char **out)
{
    const digest_alg *a = digest_alg_find(alg, strlen(alg));
    char *s64 = NULL, *d64 = NULL;
    tg_err err;

    *out = NULL;
    if (a == NULL || !a->salted_digest || digest_len != a->len || salt_len > IMPORTED_MAX_BYTES)
        return TG_EINVAL;
    if ((err = tg_b64_encode(salt, salt_len, &s64)) == TG_OK &&
        (err = tg_b64_encode(digest, digest_len, &d64)) == TG_OK &&
        asprintf(out, "$tg-%s$%s$%s$%s", a->name, suffix ? "suffix" : "prefix", s64, d64) < 0) {
        *out = NULL;
        err = TG_ENOMEM;
    }
    free(s64);
    free(d64);
    return err;
}

/* A decimal in [1, max] at *p, which moves past it. */
static bool
parse_ulong(const char **p, unsigned long max, unsigned long *v)
{
    unsigned long n = 0;
    const char *s = *p;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (unsigned long)(*s - '0');
        if (n > max)
            return false;
    }
    *p = s;
    *v = n;
    return n > 0;
}

/* "$pbkdf2-<digest>[$i=<iter>,l=<keylen>]$<b64 salt>$<b64 hash>" (PHC, as Auth0 documents) */
typedef struct pbkdf2_hash {
    const digest_alg *alg;
    unsigned long iter;
    unsigned char *salt, *want;
    size_t salt_len, want_len;
} pbkdf2_hash;

static void
pbkdf2_hash_fini(pbkdf2_hash *k)
{
    free(k->salt);
    free(k->want);
    memset(k, 0, sizeof(*k));
}

static bool
pbkdf2_params(const char *s, unsigned long *iter, unsigned long *keylen)
{
    while (*s != '\0') {
        if (strncmp(s, "i=", 2) == 0) {
            s += 2;
            if (!parse_ulong(&s, PBKDF2_MAX_ITER, iter))
                return false;
        } else if (strncmp(s, "l=", 2) == 0) {
            s += 2;
            if (!parse_ulong(&s, IMPORTED_MAX_BYTES, keylen))
                return false;
        } else {
            return false;
        }
        if (*s == ',')
            s++;
        else if (*s != '\0')
            return false;
    }
    return true;
}

static tg_err
pbkdf2_parse(const char *hash, pbkdf2_hash *k)
{
    char *copy = NULL, *f[6];
    size_t n = split_dollar(hash, &copy, f, 6);
    unsigned long keylen = PBKDF2_DEFAULT_KEYLEN;
    tg_err err = TG_EINVAL;

    memset(k, 0, sizeof(*k));
    k->iter = PBKDF2_DEFAULT_ITER;
    if ((n != 4 && n != 5) || f[0][0] != '\0' || strncmp(f[1], "pbkdf2-", 7) != 0)
        goto out;
    k->alg = digest_alg_find(f[1] + 7, strlen(f[1] + 7));
    if (k->alg == NULL || !k->alg->pbkdf2 || (n == 5 && !pbkdf2_params(f[2], &k->iter, &keylen)))
        goto out;
    if (users_hash_decode("base64", f[n - 2], &k->salt, &k->salt_len) != TG_OK ||
        users_hash_decode("base64", f[n - 1], &k->want, &k->want_len) != TG_OK ||
        k->salt_len == 0 || k->want_len != keylen)
        goto out;
    err = TG_OK;
out:
    free(copy);
    if (err != TG_OK)
        pbkdf2_hash_fini(k);
    return err;
}

static tg_err
pbkdf2_check(const char *hash, const char *pw, size_t len)
{
    unsigned char *got = NULL;
    pbkdf2_hash k;
    tg_err err;

    if ((err = pbkdf2_parse(hash, &k)) != TG_OK)
        return err;
    if ((got = malloc(k.want_len)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (PKCS5_PBKDF2_HMAC(pw, (int)len, k.salt, (int)k.salt_len, (int)k.iter,
                          EVP_get_digestbyname(k.alg->evp), (int)k.want_len, got) != 1) {
        LOG_ERROR("PKCS5_PBKDF2_HMAC (%s) failed", k.alg->evp);
        err = TG_ECRYPTO;
        goto out;
    }
    err = tg_ct_equal(got, k.want_len, k.want, k.want_len) ? TG_OK : TG_EDENIED;
out:
    tg_free_secret(got, k.want_len);
    pbkdf2_hash_fini(&k);
    return err;
}

/* The m, t, p of an encoded "$argon2id$" / "$argon2i$" string, within the ceilings above. */
static bool
argon2_params_ok(const char *hash)
{
    const char *s = strchr(hash + 1, '$');
    unsigned long m, t, p;

    if (strlen(hash) > IMPORTED_MAX_TEXT || s == NULL)
        return false;
    s++;
    if (strncmp(s, "v=", 2) == 0 && (s = strchr(s, '$')) != NULL)
        s++;
    if (s == NULL || strncmp(s, "m=", 2) != 0)
        return false;
    s += 2;
    if (!parse_ulong(&s, ARGON2_MAX_M_KIB, &m) || strncmp(s, ",t=", 3) != 0)
        return false;
    s += 3;
    if (!parse_ulong(&s, ARGON2_MAX_T, &t) || strncmp(s, ",p=", 3) != 0)
        return false;
    s += 3;
    if (!parse_ulong(&s, ARGON2_MAX_P, &p) || *s != '$')
        return false;
    s = strchr(s + 1, '$');
    return s != NULL && s[1] != '\0' && strchr(s + 1, '$') == NULL;
}

static bool
bcrypt_is_well_formed(const char *hash)
{
    static const char alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int cost;

    if (!is_bcrypt(hash) || strlen(hash) != 60 || hash[6] != '$' || hash[4] < '0' ||
        hash[4] > '3' || hash[5] < '0' || hash[5] > '9')
        return false;
    cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    return strspn(hash + 7, alphabet) == 53;
}

bool
users_hash_is_supported(const char *hash)
{
    digest_hash d;
    pbkdf2_hash k;

    if (is_bcrypt(hash))
        return bcrypt_is_well_formed(hash);
    if (is_argon2id(hash) || strncmp(hash, "$argon2i$", 9) == 0)
        return argon2_params_ok(hash);
    if (pbkdf2_parse(hash, &k) == TG_OK) {
        pbkdf2_hash_fini(&k);
        return true;
    }
    if (digest_parse(hash, &d) == TG_OK) {
        digest_hash_fini(&d);
        return true;
    }
    return false;
}

/* One computation for the hashing threads: a new hash of pw (out set) or a check of pw against
 * hash, whose format the caller has recognised. */
typedef struct hash_job {
    const users_hash_params *p;
    const char *hash;
    const char *pw;
    size_t len;
    char **out;
} hash_job;

static tg_err
hash_job_run(users_argon2_mem *mem, void *arg)
{
    const hash_job *j = arg;

    if (j->out != NULL)
        return j->p->alg == USERS_HASH_BCRYPT ? bcrypt_make(j->p, j->pw, j->out)
                                              : argon2_make(j->p, j->pw, j->len, mem, j->out);
    if (is_argon2id(j->hash) || strncmp(j->hash, "$argon2i$", 9) == 0)
        return users_argon2_verify(j->hash, ARGON2_MAX_M_KIB, ARGON2_MAX_T, ARGON2_MAX_P, j->pw,
                                   j->len, mem);
    if (is_bcrypt(j->hash))
        return bcrypt_check(j->hash, j->pw);
    return j->hash[1] == 'p' ? pbkdf2_check(j->hash, j->pw, j->len)
                             : digest_check(j->hash, j->pw, j->len);
}

tg_err
users_hash_password(users_hasher *h, const char *pw, size_t len, char **out)
{
    hash_job j = {.p = &h->p, .pw = pw, .len = len, .out = out};

    *out = NULL;
    if (len > users_hash_max_bytes(h) || strlen(pw) != len)
        return len > users_hash_max_bytes(h) ? TG_ETOOBIG : TG_EINVAL;
    return users_hash_pool_run(h->pool, hash_job_run, &j);
}

tg_err
users_hash_verify(users_hasher *h, const char *hash, const char *pw, size_t len)
{
    hash_job j = {.p = &h->p, .hash = hash, .pw = pw, .len = len};
    tg_err err;

    if (is_argon2id(hash) || strncmp(hash, "$argon2i$", 9) == 0) {
        if (len > USERS_ARGON2_MAX_BYTES)
            return TG_EDENIED;
        if (!argon2_params_ok(hash))
            return TG_EINVAL;
        return users_hash_pool_run(h->pool, hash_job_run, &j);
    }
    if (is_bcrypt(hash)) {
        /* libxcrypt would read only the first 72 bytes: the work is still done (same time),
         * but a longer password never matches, so two sharing a prefix can't both pass. */
        err = users_hash_pool_run(h->pool, hash_job_run, &j);
        if (err == TG_OK && (len > USERS_BCRYPT_MAX_BYTES || strlen(pw) != len))
            err = TG_EDENIED;
        return err;
    }
    if (strncmp(hash, "$pbkdf2-", 8) == 0 || strncmp(hash, "$tg-", 4) == 0) {
        if (len > USERS_ARGON2_MAX_BYTES || strlen(pw) != len)
            return TG_EDENIED;
        return users_hash_pool_run(h->pool, hash_job_run, &j);
    }
    return TG_EINVAL;
}

tg_err
users_hash_verify_dummy(users_hasher *h, const char *pw, size_t len)
{
    return users_hash_verify(h, h->dummy, pw, len) == TG_EUNAVAILABLE ? TG_EUNAVAILABLE
                                                                       : TG_EDENIED;
}

void
users_hasher_limit(users_hasher *h, unsigned max_pending)
{
    users_hash_pool_limit(h->pool, max_pending);
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
    size_t keep;

    *out = NULL;
    if (threads < 1 || (p->alg == USERS_HASH_BCRYPT && (p->bcrypt_cost < 4 || p->bcrypt_cost > 31)))
        return TG_EINVAL;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return TG_ENOMEM;
    h->p = *p;
    /* each thread keeps what the configured m needs (libargon2 rounds it up to 8 x p blocks
     * of 1 KiB) */
    keep = (size_t)(p->argon2_memory_kib > 8 * p->argon2_parallelism ? p->argon2_memory_kib
                                                                     : 8 * p->argon2_parallelism);
    if ((err = users_hash_pool_new(threads, keep * 1024, &h->pool)) != TG_OK)
        goto out;
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
    users_hash_pool_free(h->pool);
    free(h->dummy);
    free(h);
}
