/*
 * JOSE over OpenSSL EVP: JWS compact signing and verification, keys, JWK/JWKS export.
 * JSON is built with jansson; nothing is hand-formatted.
 *
 * Algorithms: RS256 (default), RS384, PS256, ES256, HS256.
 */
#ifndef TG_JOSE_JOSE_H
#define TG_JOSE_JOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum jose_alg {
    JOSE_ALG_NONE = 0,
    JOSE_ALG_RS256,
    JOSE_ALG_RS384,
    JOSE_ALG_PS256,
    JOSE_ALG_ES256,
    JOSE_ALG_HS256,
} jose_alg;

/* "RS256" -> JOSE_ALG_RS256; JOSE_ALG_NONE for anything unknown (including "none"). */
jose_alg jose_alg_from_name(const char *name);
const char *jose_alg_name(jose_alg alg);

/* An asymmetric key pair or public key, with its kid (RFC 7638 thumbprint) and, for signing
 * keys, a self-signed certificate. Immutable after creation; safe to share across threads. */
typedef struct jose_key jose_key;

/* Generates a fresh key for alg (RS256/RS384/PS256: RSA-2048; ES256: P-256) and a self-signed
 * certificate with CN=cn valid for 14 years. *out freed with jose_key_free(). */
tg_err jose_key_generate(jose_alg alg, const char *cn, jose_key **out);
/* Serialises a private key and its certificate to PEM strings (caller frees both with
 * tg_free_secret_str / free). */
tg_err jose_key_to_pem(const jose_key *key, char **private_pem, char **cert_pem);
/* Loads a private key (PEM) with its certificate (PEM, may be NULL) for alg. */
tg_err jose_key_from_pem(jose_alg alg, const char *private_pem, const char *cert_pem,
                         jose_key **out);
/* Loads a public key (SubjectPublicKeyInfo PEM or a certificate PEM) for verification. */
tg_err jose_key_from_public_pem(jose_alg alg, const char *pem, jose_key **out);
void jose_key_free(jose_key *key);

const char *jose_key_kid(const jose_key *key);  /* borrowed */
jose_alg jose_key_alg(const jose_key *key);

/* The public JWK of key: kty, use "sig", alg, kid, n/e (RSA) or crv/x/y (EC), and x5c/x5t when
 * the key has a certificate (x5t = base64url(SHA-1(DER))). New reference; caller decrefs. */
json_t *jose_key_to_jwk(const jose_key *key);

/* Signs claims as a compact JWS with header {"alg","typ":"JWT","kid"}. For HS256 pass key NULL
 * and the secret bytes. *out is a heap string the caller frees. */
tg_err jose_sign(jose_alg alg, const jose_key *key, const void *hmac_secret, size_t secret_len,
                 const json_t *claims, char **out);
/* The same with another typ (e.g. "logout+jwt", OIDC Back-Channel Logout 1.0 §2.4): 1 to 64
 * media-type characters (letters, digits, + - . / _), else TG_EINVAL. */
tg_err jose_sign_typ(jose_alg alg, const jose_key *key, const void *hmac_secret,
                     size_t secret_len, const char *typ, const json_t *claims, char **out);

/* A parsed compact JWS; header and payload are jansson objects owned by the struct. */
typedef struct jose_jws {
    json_t *header;
    json_t *payload;
    jose_alg alg;       /* from the header; JOSE_ALG_NONE if unknown */
    char *signing_input; /* "<b64 header>.<b64 payload>" */
    unsigned char *signature;
    size_t signature_len;
} jose_jws;

/* Parses (does not verify) a compact JWS of at most 16 KiB. Rejects anything malformed:
 * not three parts, bad base64url, non-object JSON, missing/unknown alg, alg "none".
 * *out freed with jose_jws_free(). */
tg_err jose_jws_parse(const char *compact, jose_jws **out);
void jose_jws_free(jose_jws *jws);
/* Verifies the signature with key (asymmetric) or secret (HS256). The JWS's alg must equal
 * the key's alg. TG_EDENIED on a bad signature. */
tg_err jose_jws_verify(const jose_jws *jws, const jose_key *key, const void *hmac_secret,
                       size_t secret_len);

/* RFC 7638 thumbprint of the public key, base64url; caller frees. */
tg_err jose_key_thumbprint(const jose_key *key, char **out);

#endif
