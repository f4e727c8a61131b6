/*
 * tollgate-bus-device: the meeting point between a replicated caller and a replicated service
 * (svc-token calling svc-users). Callers dial --front, the service's replicas dial --back; it
 * forwards requests and replies and keeps no state, so two of them may run side by side.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus/bus.h"
#include "core/log.h"

static void
usage(FILE *f)
{
    fputs("usage: tollgate-bus-device --front URL --back URL\n"
          "  callers dial FRONT; the service's replicas dial BACK\n",
          f);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"front", required_argument, NULL, 'f'},
        {"back", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *front = NULL, *back = NULL;
    bus_device *dev = NULL;
    sigset_t sigs;
    int c, sig;

    log_init("bus-device", TG_LOG_INFO);
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': front = optarg; break;
        case 'b': back = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || front == NULL || back == NULL) {
        usage(stderr);
        return 2;
    }
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (bus_device_open(front, back, &dev) != TG_OK)
        return 1;
    LOG_INFO("forwarding %s (callers) <-> %s (replicas)", front, back);
    sigwait(&sigs, &sig);
    bus_device_close(dev);
    LOG_INFO("stopped");
    return 0;
}
