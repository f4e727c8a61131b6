/*
 * Small secrets at rest (private signing keys in a service's store): AES-256-GCM under a key
 * derived from the tenant master key and a purpose, so a copy of the database alone reveals
 * nothing and a sealed value cannot be moved to another purpose.
 */
#ifndef TG_CORE_SEAL_H
#define TG_CORE_SEAL_H

#include <stddef.h>

#include "core/err.h"

/* Seals len bytes of plain for purpose (e.g. "signing-key"). *out is "v1." followed by
 * base64url(nonce | ciphertext | tag), a heap string the caller frees. */
tg_err tg_seal(const char *master_key, const char *purpose, const void *plain, size_t len,
               char **out);
/* Opens what tg_seal made with the same master key and purpose. *out (NUL-terminated after
 * *out_len bytes) is freed by the caller with tg_free_secret(*out, *out_len). TG_ECRYPTO when
 * the value was altered or the key or purpose differ; TG_EINVAL when it is not a sealed value. */
tg_err tg_unseal(const char *master_key, const char *purpose, const char *sealed,
                 unsigned char **out, size_t *out_len);

#endif
