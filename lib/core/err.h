/*
 * One error enum for the whole system (mirrored by tollgate.bus.Status in proto/bus.proto).
 * Fallible functions across modules return tg_err; foreign errors (errno, nng, bson, SQLite,
 * OpenSSL) are translated and logged once, at the wrapper that met them.
 */
#ifndef TG_CORE_ERR_H
#define TG_CORE_ERR_H

typedef enum tg_err {
    TG_OK = 0,
    TG_ENOMEM,       /* allocation failed */
    TG_EINVAL,       /* bad argument or malformed input */
    TG_ENOTFOUND,    /* no such record / key / route */
    TG_EEXIST,       /* unique constraint violated */
    TG_ECONSUMED,    /* one-time record already taken by another caller */
    TG_ETIMEDOUT,    /* deadline passed */
    TG_EUNAVAILABLE, /* no replica / backend answered */
    TG_EIO,          /* storage or socket failure */
    TG_ECRYPTO,      /* key, signature or certificate failure */
    TG_ECONFIG,      /* invalid configuration */
    TG_EPROTO,       /* peer broke the wire protocol */
    TG_ECLOSED,      /* object is shutting down */
    TG_ETOOBIG,      /* input exceeds a fixed ceiling */
    TG_EDENIED,      /* authentication or authorization refused */
    TG_EINTERNAL,    /* bug or unexpected state; see the log */
} tg_err;

/* Static, never NULL. */
const char *tg_strerror(tg_err err);

#endif
