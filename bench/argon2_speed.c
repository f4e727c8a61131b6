/*
 * argon2_speed: the machine's argon2id hashing capacity at given parameters, the reference for
 * bench/users.sh (what svc-users' VerifyPassword costs). Runs THREADS threads, each hashing a
 * fixed password with a fixed salt for SECONDS, and prints one line:
 *
 *   threads=2 m=19456 t=2 p=1 memory=kept seconds=5.00 hashes=123 hashes_per_s=24.6
 *
 * memory=kept (the default) hashes the way svc-users does (svc-users/hash_argon2.c): each
 * thread keeps one mapping for every hash, in whole 2 MiB pages offered to the kernel for
 * transparent huge pages. --libargon2-alloc hashes with libargon2's one-call API instead, which
 * mallocs its memory for every hash (memory=libargon2); on the bench machine that is ~5 %
 * slower, so the default is the higher bar.
 *
 * Build: cc -O2 -o argon2_speed bench/argon2_speed.c -largon2 -lpthread
 * Usage: argon2_speed [--libargon2-alloc] THREADS SECONDS [M_KIB T P]
 *        (defaults m=19456 t=2 p=1, OWASP's minimum)
 */
#include <argon2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define HUGE_PAGE ((size_t)2 << 20)

typedef struct worker {
    pthread_t thread;
    uint32_t m_kib, t, p;
    int libargon2_alloc;
    double until;
    long hashes;
    int failed;
} worker;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The thread's kept memory, as svc-users keeps it: made on first use, 2 MiB-aligned whole
 * 2 MiB pages, advised for huge pages, never freed (the process is short-lived). */
static __thread uint8_t *kept;
static __thread size_t kept_len;

static int
kept_alloc(uint8_t **memory, size_t bytes)
{
    if (kept == NULL || bytes > kept_len) {
        size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uint8_t *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
            return ARGON2_MEMORY_ALLOCATION_ERROR;
        kept = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        kept_len = len;
        (void)madvise(kept, len, MADV_HUGEPAGE);
    }
    *memory = kept;
    return ARGON2_OK;
}

static void
kept_free(uint8_t *memory, size_t bytes)
{
    (void)memory; /* libargon2 has wiped it; it stays for the next hash */
    (void)bytes;
}

static int
hash_once(const worker *w, const char *password, size_t len, const uint8_t *salt,
          size_t salt_len, char *encoded, size_t enc_len)
{
    argon2_context c;
    uint8_t out[32];

    if (w->libargon2_alloc)
        return argon2id_hash_encoded(w->t, w->m_kib, w->p, password, len, salt, salt_len,
                                     sizeof(out), encoded, enc_len);
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.outlen = sizeof(out);
    c.pwd = (uint8_t *)password;
    c.pwdlen = (uint32_t)len;
    c.salt = (uint8_t *)salt;
    c.saltlen = (uint32_t)salt_len;
    c.t_cost = w->t;
    c.m_cost = w->m_kib;
    c.lanes = c.threads = w->p;
    c.version = ARGON2_VERSION_NUMBER;
    c.allocate_cbk = kept_alloc;
    c.free_cbk = kept_free;
    c.flags = ARGON2_DEFAULT_FLAGS;
    return argon2_ctx(&c, Argon2_id); /* svc-users encodes the result too: a few µs */
}

static void *
run(void *arg)
{
    static const char password[] = "Bench-password-123";
    static const uint8_t salt[16] = "0123456789abcdef";
    worker *w = arg;
    char encoded[256];

    while (now_s() < w->until) {
        if (hash_once(w, password, sizeof(password) - 1, salt, sizeof(salt), encoded,
                      sizeof(encoded)) != ARGON2_OK) {
            w->failed = 1;
            break;
        }
        w->hashes++;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    int libargon2_alloc = argc > 1 && strcmp(argv[1], "--libargon2-alloc") == 0;

    if (libargon2_alloc) {
        argv++;
        argc--;
    }
    int threads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 5.0, t0, t1;
    uint32_t m = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 19456;
    uint32_t t = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 2;
    uint32_t p = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 1;
    worker *w;
    long total = 0;
    int failed = 0;

    if (threads < 1 || threads > 256 || seconds <= 0) {
        fprintf(stderr, "usage: argon2_speed [--libargon2-alloc] THREADS SECONDS [M_KIB T P]\n");
        return 2;
    }
    if ((w = calloc((size_t)threads, sizeof(*w))) == NULL)
        return 1;
    t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){
            .m_kib = m, .t = t, .p = p, .libargon2_alloc = libargon2_alloc, .until = t0 + seconds};
        if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0)
            return 1;
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].hashes;
        failed |= w[i].failed;
    }
    t1 = now_s();
    free(w);
    if (failed) {
        fprintf(stderr, "argon2id hashing failed\n");
        return 1;
    }
    printf("threads=%d m=%u t=%u p=%u memory=%s seconds=%.2f hashes=%ld hashes_per_s=%.1f\n",
           threads, m, t, p, libargon2_alloc ? "libargon2" : "kept", t1 - t0, total,
           (double)total / (t1 - t0));
    return 0;
}
