/*
 * Private to lib/jose: the key struct shared by jose_key.c and jose_jws.c. Nothing outside
 * lib/jose includes this.
 */
#ifndef TG_JOSE_JOSE_INTERNAL_H
#define TG_JOSE_JOSE_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "jose/jose.h"

struct jose_key {
    jose_alg alg;
    EVP_PKEY *pkey; /* owned */
    X509 *cert;     /* owned; NULL when none was given */
    bool has_private;
    char kid[44]; /* RFC 7638 SHA-256 thumbprint, base64url (43 chars) */
};

/* Logs the thread's OpenSSL error queue once under `what` and clears it. */
void jose_log_openssl(const char *what);

/* RS256/RS384/PS256 need an RSA key, ES256 a P-256 key. */
bool jose_alg_is_rsa(jose_alg alg);

#endif
