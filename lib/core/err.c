#include "core/err.h"

const char *
tg_strerror(tg_err err)
{
    switch (err) {
    case TG_OK: return "ok";
    case TG_ENOMEM: return "out of memory";
    case TG_EINVAL: return "invalid argument";
    case TG_ENOTFOUND: return "not found";
    case TG_EEXIST: return "already exists";
    case TG_ECONSUMED: return "already consumed";
    case TG_ETIMEDOUT: return "timed out";
    case TG_EUNAVAILABLE: return "unavailable";
    case TG_EIO: return "i/o error";
    case TG_ECRYPTO: return "cryptographic failure";
    case TG_ECONFIG: return "invalid configuration";
    case TG_EPROTO: return "protocol error";
    case TG_ECLOSED: return "closed";
    case TG_ETOOBIG: return "too big";
    case TG_EDENIED: return "denied";
    case TG_EINTERNAL: return "internal error";
    }
    return "unknown error";
}
