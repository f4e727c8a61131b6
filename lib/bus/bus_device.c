/*
 * Bus device: raw REP on the front (callers dial in), raw REQ on the back (replicas dial in),
 * joined by nng_device on a thread of its own. It keeps no state: a reply finds its way back
 * through the backtrace NNG carries in the message header.
 */
#include "bus/bus.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bus/bus_nng.h"
#include "core/log.h"

struct bus_device {
    nng_socket front;
    nng_socket back;
    pthread_t thread;
    bool started;
};

static void *
device_main(void *arg)
{
    bus_device *dev = arg;
    int rv = nng_device(dev->front, dev->back);

    if (rv != 0 && rv != NNG_ECLOSED)
        LOG_ERROR("bus: device stopped: %s", nng_strerror(rv));
    return NULL;
}

static int
listen_raw(nng_socket *sock, int (*open_raw)(nng_socket *), const char *url)
{
    int rv;

    if ((rv = open_raw(sock)) != 0)
        return rv;
    nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ, BUS_MAX_MESSAGE);
    if ((rv = nng_listen(*sock, url, NULL, 0)) != 0)
        LOG_ERROR("bus: device cannot listen on %s: %s", url, nng_strerror(rv));
    return rv;
}

tg_err
bus_device_open(const char *front, const char *back, bus_device **out)
{
    bus_device *dev;
    int rv;

    *out = NULL;
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL)
        return TG_ENOMEM;
    dev->front = (nng_socket)NNG_SOCKET_INITIALIZER;
    dev->back = (nng_socket)NNG_SOCKET_INITIALIZER;
    if ((rv = listen_raw(&dev->front, nng_rep0_open_raw, front)) != 0 ||
        (rv = listen_raw(&dev->back, nng_req0_open_raw, back)) != 0) {
        bus_device_close(dev);
        return bus_err_from_nng(rv);
    }
    if (pthread_create(&dev->thread, NULL, device_main, dev) != 0) {
        bus_device_close(dev);
        return TG_ENOMEM;
    }
    dev->started = true;
    *out = dev;
    return TG_OK;
}

void
bus_device_close(bus_device *dev)
{
    bool closed = true;

    if (dev == NULL)
        return;
    /* Closing either socket ends nng_device. */
    if (nng_socket_id(dev->front) > 0)
        closed &= bus_nng_close_within(dev->front, BUS_CLOSE_WAIT_MS);
    if (nng_socket_id(dev->back) > 0)
        closed &= bus_nng_close_within(dev->back, BUS_CLOSE_WAIT_MS);
    if (!closed && dev->started) {
        /* NNG did not let go (bus_nng.h): the forwarding thread may never return, and it
         * reads dev, so both are left behind; the process is on its way out */
        pthread_detach(dev->thread);
        return;
    }
    if (dev->started)
        pthread_join(dev->thread, NULL);
    free(dev);
}
