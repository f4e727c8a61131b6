/*
 * Listening ports for the integration tests, which run in parallel (ctest -j) beside each
 * other's NNG connections. A block of n consecutive ports below the kernel's ephemeral range
 * (32768 and up on Linux: outgoing connections take their local ports there, so a fixed
 * listening port in it can be taken at any moment), starting at a random base and checked free
 * by binding each port once. Header-only: each test is its own program.
 */
#ifndef TG_TEST_PORTS_H
#define TG_TEST_PORTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TG_TEST_PORT_LOW 10000
#define TG_TEST_PORT_HIGH 32000 /* exclusive; below the ephemeral range */

static inline bool
tg_test_port_is_free(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    if (fd < 0)
        return false;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* The first of n consecutive free ports. */
static inline int
tg_test_port_block(int n)
{
    static bool seeded;

    if (!seeded) {
        srand((unsigned)getpid() ^ (unsigned)time(NULL));
        seeded = true;
    }
    for (int tries = 0; tries < 500; tries++) {
        int base = TG_TEST_PORT_LOW + rand() % (TG_TEST_PORT_HIGH - TG_TEST_PORT_LOW - n);
        int i = 0;

        while (i < n && tg_test_port_is_free(base + i))
            i++;
        if (i == n)
            return base;
    }
    return TG_TEST_PORT_LOW + getpid() % (TG_TEST_PORT_HIGH - TG_TEST_PORT_LOW - n);
}

#endif
