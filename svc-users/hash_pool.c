/*
 * The hashing threads: a fixed number of threads, each owning one argon2 memory, that run the
 * password computations callers queue, in order of arrival.
 *
 * Why threads of their own rather than a semaphore the bus workers take: with the semaphore,
 * each computation started on whichever worker the previous one woke, and the scheduler put
 * that worker on a CPU already running the other computation about as often as not. Under a
 * login flood the machine then sat 5-7 % idle with two computations runnable (measured with
 * perf sched: idle spells of 1-20 ms). A pool thread that finishes a computation takes the
 * next one without sleeping, so each stays on its CPU while work is queued.
 *
 * The pool also bounds how many computations may be pending (queued or running): a caller
 * beyond the bound is refused at once instead of waiting. The bus workers of svc-users are
 * the callers, and each waits for its computation; without the bound a login flood held every
 * worker, and every other request of the service queued behind the logins (a /userinfo took
 * 0.3 s during 32 concurrent logins, 1.4 s during 128).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "users.h"

typedef struct pool_job {
    users_hash_job_fn fn;
    void *arg;
    tg_err err;
    bool done;
    pthread_cond_t done_cv; /* the caller's, on its stack */
    struct pool_job *next;
} pool_job;

typedef struct pool_thread {
    users_hash_pool *pool;
    pthread_t thread;
    users_argon2_mem mem;
} pool_thread;

struct users_hash_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pool_job *head, *tail; /* queued, not yet taken */
    unsigned pending;      /* queued or running */
    unsigned max_pending;  /* 0: no bound */
    bool stop;
    unsigned n_threads; /* started */
    pool_thread *threads;
};

static void *
pool_main(void *arg)
{
    pool_thread *t = arg;
    users_hash_pool *p = t->pool;
    pool_job *job;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if ((job = p->head) == NULL)
            break; /* stopping with nothing queued */
        if ((p->head = job->next) == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        job->err = job->fn(&t->mem, job->arg);
        pthread_mutex_lock(&p->mu);
        p->pending--;
        job->done = true;
        pthread_cond_signal(&job->done_cv); /* under mu: the caller cannot have returned yet */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

tg_err
users_hash_pool_run(users_hash_pool *p, users_hash_job_fn fn, void *arg)
{
    pool_job job = {.fn = fn, .arg = arg};

    pthread_mutex_lock(&p->mu);
    if (p->max_pending != 0 && p->pending >= p->max_pending) {
        pthread_mutex_unlock(&p->mu);
        return TG_EUNAVAILABLE;
    }
    p->pending++;
    pthread_cond_init(&job.done_cv, NULL);
    if (p->tail != NULL)
        p->tail->next = &job;
    else
        p->head = &job;
    p->tail = &job;
    pthread_cond_signal(&p->work_cv);
    while (!job.done)
        pthread_cond_wait(&job.done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&job.done_cv);
    return job.err;
}

void
users_hash_pool_limit(users_hash_pool *p, unsigned max_pending)
{
    pthread_mutex_lock(&p->mu);
    p->max_pending = max_pending;
    pthread_mutex_unlock(&p->mu);
}

unsigned
users_hash_pool_pending(users_hash_pool *p)
{
    unsigned n;

    pthread_mutex_lock(&p->mu);
    n = p->pending;
    pthread_mutex_unlock(&p->mu);
    return n;
}

tg_err
users_hash_pool_new(unsigned threads, size_t mem_keep, users_hash_pool **out)
{
    users_hash_pool *p;

    *out = NULL;
    if (threads < 1)
        return TG_EINVAL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return TG_ENOMEM;
    if ((p->threads = calloc(threads, sizeof(*p->threads))) == NULL) {
        free(p);
        return TG_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    for (unsigned i = 0; i < threads; i++) {
        pool_thread *t = &p->threads[i];

        t->pool = p;
        t->mem.keep = mem_keep;
        if (pthread_create(&t->thread, NULL, pool_main, t) != 0) {
            users_hash_pool_free(p);
            return TG_ENOMEM;
        }
        pthread_setname_np(t->thread, "tg-hash");
        p->n_threads++;
    }
    *out = p;
    return TG_OK;
}

void
users_hash_pool_free(users_hash_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++) {
        pthread_join(p->threads[i].thread, NULL);
        users_argon2_mem_fini(&p->threads[i].mem);
    }
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
