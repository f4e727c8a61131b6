/*
 * Self-signed certificates over OpenSSL, for JWKS x5c and for the gateway's development TLS
 * certificate when none is configured.
 */
#ifndef TG_JOSE_X509_H
#define TG_JOSE_X509_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/err.h"

/* Self-signed X.509 v3 certificate for pkey (borrowed): subject/issuer CN=cn, a
 * subjectAltName for cn (IP address when cn parses as one, else DNS) plus "localhost" and
 * 127.0.0.1, SHA-256 signature, valid from now for `days`. *out freed with X509_free(). */
tg_err jose_x509_self_signed(EVP_PKEY *pkey, const char *cn, int days, X509 **out);

/* Generates an RSA-2048 key; *out freed with EVP_PKEY_free(). */
tg_err jose_rsa_generate(int bits, EVP_PKEY **out);

#endif
