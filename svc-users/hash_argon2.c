/*
 * argon2 hashing and verification into memory the caller keeps between computations.
 *
 * libargon2's one-call API (argon2id_hash_encoded, argon2_verify) allocates its m KiB with
 * malloc for every computation; glibc then keeps up to that much per worker thread's arena
 * (measured: svc-users at 174 MB RSS with 8 workers and m = 19 MiB, and ~570 page faults per
 * login as arenas are trimmed and refilled). Here each hashing thread (hash_pool.c) owns one
 * mapping, reused by every computation it runs: memory is bounded by threads x m and the pages
 * stay mapped. libargon2 wipes the memory before handing it back (its default
 * clear_internal_memory), so nothing password-derived stays in it between computations.
 *
 * libargon2's allocation callbacks take no user pointer, so the thread's memory reaches them
 * through a thread-local set for the duration of one computation.
 */
#include <argon2.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define SALT_MIN 8
#define SALT_MAX 64
#define OUT_MIN 4
#define OUT_MAX 64

static __thread users_argon2_mem *current;

#define HUGE_PAGE ((size_t)2 << 20)

/* Memory of 2 MiB or more is mapped in whole 2 MiB pages, aligned to them, and offered to the
 * kernel for transparent huge pages: argon2 reads its memory at random, and with 4 KiB pages
 * most of those reads miss the TLB (two threads' hashes/s at m = 19 MiB: +5 % on the bench
 * machine). Where huge pages are off, the advice changes nothing. */
static size_t
map_len(size_t bytes)
{
    return bytes < HUGE_PAGE ? bytes : (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

static void *
map(size_t bytes)
{
    size_t len = map_len(bytes), extra = bytes < HUGE_PAGE ? 0 : HUGE_PAGE;
    uint8_t *p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *aligned;

    if (p == MAP_FAILED)
        return NULL;
    if (extra == 0)
        return p;
    aligned = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (aligned > p)
        munmap(p, (size_t)(aligned - p));
    if (p + extra > aligned)
        munmap(aligned + len, (size_t)(p + extra - aligned));
    (void)madvise(aligned, len, MADV_HUGEPAGE);
    return aligned;
}

static void
unmap(void *p, size_t bytes)
{
    munmap(p, map_len(bytes));
}

/* The thread's mapping when it is big enough or may grow to the size asked (at most keep
 * bytes); a one-off mapping, unmapped by mem_free, for a larger imported hash. */
static int
mem_alloc(uint8_t **memory, size_t bytes)
{
    users_argon2_mem *m = current;

    *memory = NULL;
    if (m == NULL)
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    if (bytes <= m->size) {
        *memory = m->base;
        return ARGON2_OK;
    }
    if (bytes <= m->keep) {
        if (m->base != NULL)
            unmap(m->base, m->size);
        m->size = 0;
        if ((m->base = map(bytes)) == NULL)
            return ARGON2_MEMORY_ALLOCATION_ERROR;
        m->size = bytes;
        *memory = m->base;
        return ARGON2_OK;
    }
    *memory = map(bytes);
    return *memory != NULL ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

/* Called after libargon2 wiped the memory. */
static void
mem_free(uint8_t *memory, size_t bytes)
{
    users_argon2_mem *m = current;

    if (m == NULL || memory != m->base)
        unmap(memory, bytes);
}

void
users_argon2_mem_fini(users_argon2_mem *m)
{
    if (m->base != NULL)
        unmap(m->base, m->size);
    m->base = NULL;
    m->size = 0;
}

static int
run(argon2_context *c, argon2_type type, users_argon2_mem *mem, const uint8_t *expect)
{
    int rc;

    c->allocate_cbk = mem_alloc;
    c->free_cbk = mem_free;
    c->flags = ARGON2_DEFAULT_FLAGS;
    current = mem;
    rc = expect != NULL ? argon2_verify_ctx(c, (const char *)expect, type) : argon2_ctx(c, type);
    current = NULL;
    return rc;
}

/* Unpadded standard base64 of data (argon2's PHC encoding) appended at *pos of buf. */
static tg_err
put_b64(char *buf, size_t cap, size_t *pos, const uint8_t *data, size_t len)
{
    char *b64 = NULL;
    size_t n;
    tg_err err = tg_b64_encode(data, len, &b64);

    if (err != TG_OK)
        return err;
    n = strcspn(b64, "=");
    if (*pos + n + 1 > cap) {
        free(b64);
        return TG_ETOOBIG;
    }
    memcpy(buf + *pos, b64, n);
    *pos += n;
    buf[*pos] = '\0';
    free(b64);
    return TG_OK;
}

tg_err
users_argon2id_hash(uint32_t m_kib, uint32_t t, uint32_t p, const uint8_t *salt, size_t salt_len,
                    const char *pw, size_t len, users_argon2_mem *mem, char **out)
{
    argon2_context c;
    uint8_t raw[32];
    char enc[256];
    size_t pos;
    tg_err err;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.out = raw;
    c.outlen = sizeof(raw);
    c.pwd = (uint8_t *)pw;
    c.pwdlen = (uint32_t)len;
    c.salt = (uint8_t *)salt;
    c.saltlen = (uint32_t)salt_len;
    c.t_cost = t;
    c.m_cost = m_kib;
    c.lanes = c.threads = p;
    c.version = ARGON2_VERSION_NUMBER;
    if ((rc = run(&c, Argon2_id, mem, NULL)) != ARGON2_OK) {
        LOG_ERROR("argon2id: %s", argon2_error_message(rc));
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? TG_ENOMEM : TG_ECRYPTO;
    }
    pos = (size_t)snprintf(enc, sizeof(enc), "$argon2id$v=%d$m=%u,t=%u,p=%u$",
                           ARGON2_VERSION_NUMBER, m_kib, t, p);
    if ((err = put_b64(enc, sizeof(enc), &pos, salt, salt_len)) == TG_OK && pos + 1 < sizeof(enc)) {
        enc[pos++] = '$';
        enc[pos] = '\0';
        err = put_b64(enc, sizeof(enc), &pos, raw, sizeof(raw));
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    if (err != TG_OK)
        return err;
    return (*out = strdup(enc)) != NULL ? TG_OK : TG_ENOMEM;
}

/* Reads an unsigned decimal of at most max at *s, advancing *s. */
static bool
read_u32(const char **s, unsigned long max, uint32_t *v)
{
    unsigned long n = 0;
    const char *p = *s;

    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (unsigned long)(*p - '0');
        if (n > max)
            return false;
    }
    *v = (uint32_t)n;
    *s = p;
    return true;
}

/* Decodes the base64 field [s, end) into buf (between min and max bytes). */
static bool
read_b64(const char *s, size_t n, uint8_t *buf, size_t min, size_t max, size_t *len)
{
    unsigned char *raw = NULL;
    size_t rl = 0;

    if (tg_b64_decode(s, n, &raw, &rl) != TG_OK)
        return false;
    if (rl < min || rl > max) {
        free(raw);
        return false;
    }
    memcpy(buf, raw, rl);
    *len = rl;
    free(raw);
    return true;
}

tg_err
users_argon2_verify(const char *hash, unsigned long max_m_kib, unsigned long max_t,
                    unsigned long max_p, const char *pw, size_t len, users_argon2_mem *mem)
{
    argon2_context c;
    argon2_type type;
    uint8_t salt[SALT_MAX], expect[OUT_MAX], got[OUT_MAX];
    size_t salt_len = 0, out_len = 0;
    const char *s, *d;
    uint32_t v = ARGON2_VERSION_10;
    int rc;

    if (strncmp(hash, "$argon2id$", 10) == 0) {
        type = Argon2_id;
        s = hash + 10;
    } else if (strncmp(hash, "$argon2i$", 9) == 0) {
        type = Argon2_i;
        s = hash + 9;
    } else {
        return TG_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    if (strncmp(s, "v=", 2) == 0) {
        s += 2;
        if (!read_u32(&s, 0xff, &v) || *s++ != '$')
            return TG_EINVAL;
    }
    if (v != ARGON2_VERSION_10 && v != ARGON2_VERSION_13)
        return TG_EINVAL;
    if (strncmp(s, "m=", 2) != 0)
        return TG_EINVAL;
    s += 2;
    if (!read_u32(&s, max_m_kib, &c.m_cost) || strncmp(s, ",t=", 3) != 0)
        return TG_EINVAL;
    s += 3;
    if (!read_u32(&s, max_t, &c.t_cost) || strncmp(s, ",p=", 3) != 0)
        return TG_EINVAL;
    s += 3;
    if (!read_u32(&s, max_p, &c.lanes) || *s++ != '$')
        return TG_EINVAL;
    if ((d = strchr(s, '$')) == NULL || strchr(d + 1, '$') != NULL ||
        !read_b64(s, (size_t)(d - s), salt, SALT_MIN, SALT_MAX, &salt_len) ||
        !read_b64(d + 1, strlen(d + 1), expect, OUT_MIN, OUT_MAX, &out_len))
        return TG_EINVAL;
    c.threads = c.lanes;
    c.version = v;
    c.out = got;
    c.outlen = (uint32_t)out_len;
    c.pwd = (uint8_t *)pw;
    c.pwdlen = (uint32_t)len;
    c.salt = salt;
    c.saltlen = (uint32_t)salt_len;
    rc = run(&c, type, mem, expect); /* compares in constant time */
    OPENSSL_cleanse(got, sizeof(got));
    if (rc == ARGON2_OK)
        return TG_OK;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return TG_EDENIED;
    LOG_WARN("argon2 verify: %s", argon2_error_message(rc));
    return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? TG_ENOMEM : TG_EINVAL;
}
