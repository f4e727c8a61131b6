/* Private to lib/bus: translation of NNG errors, shared by client and server. */
#ifndef TG_BUS_NNG_H
#define TG_BUS_NNG_H

#include <nng/nng.h>

#include "core/err.h"

/* Maps an nng error to tg_err (logging is left to the caller, who knows the context). */
tg_err bus_err_from_nng(int rv);

/* Largest bus message accepted (envelope + payload). */
#define BUS_MAX_MESSAGE ((size_t)4 << 20)

#endif
