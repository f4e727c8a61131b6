#include "bus/bus_nng.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"

tg_err
bus_err_from_nng(int rv)
{
    switch (rv) {
    case 0: return TG_OK;
    case NNG_ENOMEM: return TG_ENOMEM;
    case NNG_EINVAL:
    case NNG_EADDRINVAL: return TG_EINVAL;
    case NNG_ETIMEDOUT: return TG_ETIMEDOUT;
    case NNG_ECLOSED:
    case NNG_ECANCELED: return TG_ECLOSED;
    case NNG_ECONNREFUSED:
    case NNG_ECONNRESET:
    case NNG_ECONNSHUT:
    case NNG_EUNREACHABLE: return TG_EUNAVAILABLE;
    case NNG_EPROTO:
    case NNG_EMSGSIZE: return TG_EPROTO;
    default: return TG_EIO;
    }
}

/* One close in progress; freed by whoever of the waiter and the closing thread is last. */
typedef struct closer {
    nng_socket sock;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    bool abandoned;
} closer;

static void
closer_free(closer *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static void *
close_main(void *arg)
{
    closer *c = arg;
    bool abandoned;

    nng_close(c->sock);
    pthread_mutex_lock(&c->mu);
    c->done = true;
    abandoned = c->abandoned;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (abandoned) /* the waiter gave up and detached us: ours to free */
        closer_free(c);
    return NULL;
}

bool
bus_nng_close_within(nng_socket s, int ms)
{
    closer *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;
    struct timespec until;
    pthread_t t;
    bool done;

    if (c == NULL || pthread_condattr_init(&ca) != 0) {
        free(c);
        nng_close(s); /* no thread to spare: wait as long as it takes */
        return true;
    }
    c->sock = s;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t, NULL, close_main, c) != 0) {
        closer_free(c);
        nng_close(s);
        return true;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
        ;
    done = c->done;
    c->abandoned = !done;
    pthread_mutex_unlock(&c->mu);
    if (done) {
        pthread_join(t, NULL);
        closer_free(c);
        return true;
    }
    pthread_detach(t);
    LOG_WARN("bus: closing socket %d did not finish within %d ms; left to finish on its own",
             nng_socket_id(s), ms);
    return false;
}
