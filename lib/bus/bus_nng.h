/* Private to lib/bus: translation of NNG errors, shared by client and server. */
#ifndef TG_BUS_NNG_H
#define TG_BUS_NNG_H

#include <nng/nng.h>
#include <stdbool.h>

#include "core/err.h"

/* Maps an nng error to tg_err (logging is left to the caller, who knows the context). */
tg_err bus_err_from_nng(int rv);

/* Closes s, waiting at most ms for nng_close to return. NNG 1.5.2's close can hang for good
 * when requests are still arriving on a socket that is closed under load (nanomsg/nng#1543,
 * fixed in later releases; seen in tests/integration/bus): then the close is left to finish
 * on its own thread, this returns false and logs it, and the caller goes on (a service that is
 * shutting down still exits). */
bool bus_nng_close_within(nng_socket s, int ms);
#define BUS_CLOSE_WAIT_MS 3000

/* Largest bus message accepted (envelope + payload). */
#define BUS_MAX_MESSAGE ((size_t)4 << 20)

#endif
