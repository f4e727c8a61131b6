/*
 * SHA-256 of a byte string, the one hash the services use for ids of secrets (refresh tokens,
 * tickets, registered clients' secrets), PKCE and at_hash. The algorithm is fetched from
 * OpenSSL's provider once per process: EVP_sha256() would look it up again on every call,
 * which costs more than hashing a token.
 */
#ifndef TG_CORE_DIGEST_H
#define TG_CORE_DIGEST_H

#include <stddef.h>

#include "core/err.h"

#define TG_SHA256_LEN 32

/* out = SHA-256(data[0..len)). */
tg_err tg_sha256(const void *data, size_t len, unsigned char out[TG_SHA256_LEN]);
/* Lower-case hex of SHA-256(data[0..len)) into out (65 bytes, NUL-terminated). */
tg_err tg_sha256_hex(const void *data, size_t len, char out[2 * TG_SHA256_LEN + 1]);

#endif
