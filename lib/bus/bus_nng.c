#include "bus/bus_nng.h"

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
