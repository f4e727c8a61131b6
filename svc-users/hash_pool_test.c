/* The hashing threads: every caller gets its own computation's result, no more computations
 * run at once than there are threads, no two running ones share a memory, a caller beyond the
 * pending bound is refused at once, and freeing the pool joins its threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "users.h"

#define POOL_THREADS 2
#define CALLERS 8
#define JOBS_PER_CALLER 25

static atomic_int running, most_running, runs;
static pthread_mutex_t mem_mu = PTHREAD_MUTEX_INITIALIZER;
static users_argon2_mem *in_use[POOL_THREADS * 4];
static atomic_bool shared_mem, wrong_keep;

static void
mark(users_argon2_mem *m, bool take)
{
    size_t n = sizeof(in_use) / sizeof(in_use[0]);

    pthread_mutex_lock(&mem_mu);
    if (take) {
        for (size_t i = 0; i < n; i++)
            if (in_use[i] == m)
                shared_mem = true;
        for (size_t i = 0; i < n; i++)
            if (in_use[i] == NULL) {
                in_use[i] = m;
                break;
            }
    } else {
        for (size_t i = 0; i < n; i++)
            if (in_use[i] == m)
                in_use[i] = NULL;
    }
    pthread_mutex_unlock(&mem_mu);
}

typedef struct job_arg {
    unsigned in;
    unsigned out;
} job_arg;

/* Squares its input after holding the memory for a moment, so computations overlap. */
static tg_err
square_slowly(users_argon2_mem *mem, void *arg)
{
    job_arg *a = arg;
    struct timespec pause = {0, 300 * 1000};
    int now = atomic_fetch_add(&running, 1) + 1, seen = atomic_load(&most_running);

    while (now > seen && !atomic_compare_exchange_weak(&most_running, &seen, now))
        ;
    mark(mem, true);
    if (mem->keep != 4096)
        wrong_keep = true;
    nanosleep(&pause, NULL);
    a->out = a->in * a->in;
    mark(mem, false);
    atomic_fetch_sub(&running, 1);
    atomic_fetch_add(&runs, 1);
    return a->in % 7 == 0 ? TG_EDENIED : TG_OK;
}

typedef struct caller_arg {
    users_hash_pool *pool;
    unsigned index;
} caller_arg;

/* Runs its jobs one after another; returns how many came back wrong. */
static void *
caller(void *arg)
{
    const caller_arg *c = arg;
    uintptr_t bad = 0;

    for (unsigned i = 1; i <= JOBS_PER_CALLER; i++) {
        job_arg a = {.in = c->index * 1000 + i};
        tg_err err = users_hash_pool_run(c->pool, square_slowly, &a);

        if (a.out != a.in * a.in || err != (a.in % 7 == 0 ? TG_EDENIED : TG_OK))
            bad++;
    }
    return (void *)bad;
}

static void
test_callers_share_the_threads(void **state)
{
    users_hash_pool *p = NULL;
    pthread_t t[CALLERS];
    caller_arg c[CALLERS];
    (void)state;

    assert_int_equal(users_hash_pool_new(POOL_THREADS, 4096, &p), TG_OK);
    for (unsigned i = 0; i < CALLERS; i++) {
        c[i] = (caller_arg){.pool = p, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, caller, &c[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++) {
        void *bad = NULL;

        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_null(bad);
    }
    users_hash_pool_free(p);
    assert_int_equal(atomic_load(&runs), CALLERS * JOBS_PER_CALLER);
    assert_int_equal(atomic_load(&most_running), POOL_THREADS); /* callers queued behind them */
    assert_false(atomic_load(&shared_mem));
    assert_false(atomic_load(&wrong_keep));
}

static atomic_bool release;

static tg_err
hold(users_argon2_mem *mem, void *arg)
{
    (void)mem;
    (void)arg;
    while (!atomic_load(&release))
        usleep(1000);
    return TG_OK;
}

static tg_err
never(users_argon2_mem *mem, void *arg)
{
    (void)mem;
    *(bool *)arg = true;
    return TG_OK;
}

static void *
hold_caller(void *arg)
{
    return (void *)(uintptr_t)users_hash_pool_run(arg, hold, NULL);
}

/* Two threads, at most three pending: two run, one waits, a fourth is refused without running,
 * and once they are done the pool takes work again. */
static void
test_pending_bound(void **state)
{
    users_hash_pool *p = NULL;
    pthread_t t[3];
    bool ran = false;
    (void)state;

    assert_int_equal(users_hash_pool_new(2, 4096, &p), TG_OK);
    users_hash_pool_limit(p, 3);
    atomic_store(&release, false);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hold_caller, p), 0);
    while (users_hash_pool_pending(p) < 3)
        usleep(1000);
    assert_int_equal(users_hash_pool_run(p, never, &ran), TG_EUNAVAILABLE);
    assert_false(ran);
    atomic_store(&release, true);
    for (int i = 0; i < 3; i++) {
        void *err = NULL;

        assert_int_equal(pthread_join(t[i], &err), 0);
        assert_int_equal((uintptr_t)err, TG_OK);
    }
    assert_int_equal(users_hash_pool_pending(p), 0);
    assert_int_equal(users_hash_pool_run(p, never, &ran), TG_OK);
    assert_true(ran);
    users_hash_pool_free(p);
}

static void
test_bad_sizes_and_free(void **state)
{
    users_hash_pool *p = NULL;
    (void)state;

    assert_int_equal(users_hash_pool_new(0, 4096, &p), TG_EINVAL);
    assert_null(p);
    users_hash_pool_free(NULL);
    assert_int_equal(users_hash_pool_new(1, 4096, &p), TG_OK);
    users_hash_pool_free(p); /* never used: the idle thread is joined */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callers_share_the_threads),
        cmocka_unit_test(test_pending_bound),
        cmocka_unit_test(test_bad_sizes_and_free),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
