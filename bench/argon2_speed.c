/*
 * argon2_speed: the machine's argon2id hashing capacity at given parameters, the reference for
 * bench/users.sh (what svc-users' VerifyPassword costs). Runs THREADS threads, each hashing a
 * fixed password with a fixed salt for SECONDS, and prints one line:
 *
 *   threads=2 m=19456 t=2 p=1 seconds=5.00 hashes=123 hashes_per_s=24.6
 *
 * Build: cc -O2 -o argon2_speed bench/argon2_speed.c -largon2 -lpthread
 * Usage: argon2_speed THREADS SECONDS [M_KIB T P]   (defaults m=19456 t=2 p=1, OWASP's minimum)
 */
#include <argon2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct worker {
    pthread_t thread;
    uint32_t m_kib, t, p;
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

static void *
run(void *arg)
{
    static const char password[] = "Bench-password-123";
    static const uint8_t salt[16] = "0123456789abcdef";
    worker *w = arg;
    char encoded[256];

    while (now_s() < w->until) {
        if (argon2id_hash_encoded(w->t, w->m_kib, w->p, password, sizeof(password) - 1, salt,
                                  sizeof(salt), 32, encoded, sizeof(encoded)) != ARGON2_OK) {
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
    int threads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 5.0, t0, t1;
    uint32_t m = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 19456;
    uint32_t t = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 2;
    uint32_t p = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 1;
    worker *w;
    long total = 0;
    int failed = 0;

    if (threads < 1 || threads > 256 || seconds <= 0) {
        fprintf(stderr, "usage: argon2_speed THREADS SECONDS [M_KIB T P]\n");
        return 2;
    }
    if ((w = calloc((size_t)threads, sizeof(*w))) == NULL)
        return 1;
    t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.m_kib = m, .t = t, .p = p, .until = t0 + seconds};
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
        fprintf(stderr, "argon2id_hash_encoded failed\n");
        return 1;
    }
    printf("threads=%d m=%u t=%u p=%u seconds=%.2f hashes=%ld hashes_per_s=%.1f\n", threads, m, t,
           p, t1 - t0, total, (double)total / (t1 - t0));
    return 0;
}
