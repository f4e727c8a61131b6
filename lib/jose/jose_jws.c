/*
 * Compact JWS: signing, strict parsing of untrusted input, and verification with the
 * algorithm pinned by the key (never by the token).
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "jose/jose_internal.h"

#define JWS_MAX ((size_t)16 * 1024)
#define ES256_SIG_LEN 64
#define HS256_LEN 32

static const EVP_MD *
alg_md(jose_alg alg)
{
    return alg == JOSE_ALG_RS384 ? EVP_sha384() : EVP_sha256();
}

/* PS256: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5). */
static int
set_pss(EVP_PKEY_CTX *pctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
}

static tg_err
hmac_sha256(const void *secret, size_t secret_len, const void *data, size_t len,
            unsigned char mac[HS256_LEN])
{
    size_t maclen = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len, data, len, mac, HS256_LEN,
                  &maclen) == NULL ||
        maclen != HS256_LEN) {
        jose_log_openssl("HMAC-SHA256");
        return TG_ECRYPTO;
    }
    return TG_OK;
}

/* DER ECDSA-Sig-Value -> R||S, each left-padded to 32 bytes (RFC 7518 §3.4). */
static tg_err
ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[ES256_SIG_LEN])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;
    tg_err err = TG_ECRYPTO;

    if (sig == NULL)
        return TG_ECRYPTO;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32)
        err = TG_OK;
    ECDSA_SIG_free(sig);
    return err;
}

static tg_err
ecdsa_raw_to_der(const unsigned char raw[ES256_SIG_LEN], unsigned char **der, int *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    tg_err err = TG_ENOMEM;

    *der = NULL;
    if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s))
        goto out;
    r = s = NULL; /* owned by sig now */
    *len = i2d_ECDSA_SIG(sig, der);
    err = *len > 0 ? TG_OK : TG_ECRYPTO;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return err;
}

/* Signs data with an asymmetric key; *sig is malloc'd. */
static tg_err
sign_pkey(const jose_key *key, const char *data, size_t len, unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *buf = NULL;
    size_t blen = 0;
    tg_err err = TG_ECRYPTO;

    *sig = NULL;
    *siglen = 0;
    if (md == NULL)
        return TG_ENOMEM;
    if (EVP_DigestSignInit(md, &pctx, alg_md(key->alg), NULL, key->pkey) != 1)
        goto fail;
    if (key->alg == JOSE_ALG_PS256 && !set_pss(pctx))
        goto fail;
    if (EVP_DigestSign(md, NULL, &blen, (const unsigned char *)data, len) != 1)
        goto fail;
    if ((buf = malloc(blen)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (EVP_DigestSign(md, buf, &blen, (const unsigned char *)data, len) != 1)
        goto fail;
    if (key->alg == JOSE_ALG_ES256) {
        unsigned char *raw = malloc(ES256_SIG_LEN);

        if (raw == NULL) {
            err = TG_ENOMEM;
            goto out;
        }
        if ((err = ecdsa_der_to_raw(buf, blen, raw)) != TG_OK) {
            free(raw);
            goto out;
        }
        free(buf);
        buf = raw;
        blen = ES256_SIG_LEN;
    }
    *sig = buf;
    *siglen = blen;
    buf = NULL;
    err = TG_OK;
    goto out;
fail:
    jose_log_openssl("JWS signing");
out:
    free(buf);
    EVP_MD_CTX_free(md);
    return err;
}

static tg_err
b64url_json(const json_t *obj, char **out)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    tg_err err;

    *out = NULL;
    if (text == NULL)
        return TG_ENOMEM;
    err = tg_b64url_encode(text, strlen(text), out);
    free(text);
    return err;
}

tg_err
jose_sign(jose_alg alg, const jose_key *key, const void *hmac_secret, size_t secret_len,
          const json_t *claims, char **out)
{
    return jose_sign_typ(alg, key, hmac_secret, secret_len, "JWT", claims, out);
}

static bool
typ_is_valid(const char *typ)
{
    size_t n = typ != NULL ? strlen(typ) : 0;

    if (n == 0 || n > 64)
        return false;
    /* a media type's characters (RFC 6838 restricted names) */
    return strspn(typ, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-./_") == n;
}

tg_err
jose_sign_typ(jose_alg alg, const jose_key *key, const void *hmac_secret, size_t secret_len,
              const char *typ, const json_t *claims, char **out)
{
    json_t *header = NULL;
    char *h64 = NULL, *p64 = NULL, *s64 = NULL, *input = NULL, *jws = NULL;
    unsigned char *sig = NULL, mac[HS256_LEN];
    size_t siglen = 0, n;
    tg_err err = TG_EINVAL;

    *out = NULL;
    if (!json_is_object(claims) || !typ_is_valid(typ))
        return TG_EINVAL;
    if (alg == JOSE_ALG_HS256) {
        if (key != NULL || hmac_secret == NULL || secret_len == 0)
            return TG_EINVAL;
        header = json_pack("{s:s, s:s}", "alg", "HS256", "typ", typ);
    } else {
        if (key == NULL || key->alg != alg || !key->has_private)
            return TG_EINVAL;
        header =
            json_pack("{s:s, s:s, s:s}", "alg", jose_alg_name(alg), "typ", typ, "kid", key->kid);
    }
    err = TG_ENOMEM;
    if (header == NULL)
        goto out;
    if ((err = b64url_json(header, &h64)) != TG_OK || (err = b64url_json(claims, &p64)) != TG_OK)
        goto out;
    n = strlen(h64) + 1 + strlen(p64);
    err = TG_ENOMEM;
    if ((input = malloc(n + 1)) == NULL)
        goto out;
    snprintf(input, n + 1, "%s.%s", h64, p64);
    if (alg == JOSE_ALG_HS256) {
        if ((err = hmac_sha256(hmac_secret, secret_len, input, n, mac)) != TG_OK)
            goto out;
        err = tg_b64url_encode(mac, HS256_LEN, &s64);
    } else {
        if ((err = sign_pkey(key, input, n, &sig, &siglen)) != TG_OK)
            goto out;
        err = tg_b64url_encode(sig, siglen, &s64);
    }
    if (err != TG_OK)
        goto out;
    n += 1 + strlen(s64);
    err = TG_ENOMEM;
    if ((jws = malloc(n + 1)) == NULL)
        goto out;
    snprintf(jws, n + 1, "%s.%s", input, s64);
    *out = jws;
    err = TG_OK;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    json_decref(header);
    free(h64);
    free(p64);
    free(s64);
    free(input);
    free(sig);
    return err;
}

/* Strict base64url: no padding, no whitespace, and only the canonical encoding (the unused
 * low bits of the last character must be zero), so one JWS has exactly one spelling. */
static tg_err
strict_b64url_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    char *again = NULL;
    tg_err err;

    if ((err = tg_b64url_decode(text, len, out, out_len)) != TG_OK)
        return TG_EINVAL;
    if ((err = tg_b64url_encode(*out, *out_len, &again)) != TG_OK)
        goto fail;
    if (strlen(again) != len || memcmp(again, text, len) != 0) {
        err = TG_EINVAL;
        goto fail;
    }
    free(again);
    return TG_OK;
fail:
    free(again);
    free(*out);
    *out = NULL;
    *out_len = 0;
    return err;
}

/* Decodes one base64url JSON part that must be an object; *out is a new reference. */
static tg_err
decode_json_part(const char *text, size_t len, json_t **out)
{
    unsigned char *buf = NULL;
    size_t blen = 0;
    json_error_t jerr;
    tg_err err;

    *out = NULL;
    if ((err = strict_b64url_decode(text, len, &buf, &blen)) != TG_OK)
        return err;
    *out = json_loadb((const char *)buf, blen, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return TG_EINVAL;
    }
    return TG_OK;
}

static tg_err
check_header(const json_t *header, jose_alg *alg)
{
    const json_t *v = json_object_get(header, "alg");

    *alg = JOSE_ALG_NONE;
    if (!json_is_string(v))
        return TG_EINVAL;
    /* jose_alg_from_name maps "none" and every unsupported name to JOSE_ALG_NONE. */
    *alg = jose_alg_from_name(json_string_value(v));
    if (*alg == JOSE_ALG_NONE)
        return TG_EINVAL;
    /* No extension is understood, so any "crit" makes the JWS invalid (RFC 7515 §4.1.11). */
    if (json_object_get(header, "crit") != NULL)
        return TG_EINVAL;
    v = json_object_get(header, "kid");
    if (v != NULL && !json_is_string(v))
        return TG_EINVAL;
    v = json_object_get(header, "typ");
    if (v != NULL && !json_is_string(v))
        return TG_EINVAL;
    return TG_OK;
}

tg_err
jose_jws_parse(const char *compact, jose_jws **out)
{
    const char *d1, *d2;
    size_t len;
    jose_jws *jws = NULL;
    tg_err err = TG_EINVAL;

    *out = NULL;
    if (compact == NULL)
        return TG_EINVAL;
    len = strnlen(compact, JWS_MAX + 1);
    if (len > JWS_MAX)
        return TG_ETOOBIG;
    d1 = memchr(compact, '.', len);
    d2 = d1 == NULL ? NULL : memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - compact)) != NULL)
        return TG_EINVAL;
    if (d1 == compact || d2 == d1 + 1 || d2 + 1 == compact + len)
        return TG_EINVAL; /* empty part */
    if ((jws = calloc(1, sizeof(*jws))) == NULL)
        return TG_ENOMEM;
    if ((err = decode_json_part(compact, (size_t)(d1 - compact), &jws->header)) != TG_OK ||
        (err = check_header(jws->header, &jws->alg)) != TG_OK ||
        (err = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1), &jws->payload)) != TG_OK ||
        (err = strict_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - compact), &jws->signature,
                                    &jws->signature_len)) != TG_OK)
        goto fail;
    if ((jws->signing_input = strndup(compact, (size_t)(d2 - compact))) == NULL) {
        err = TG_ENOMEM;
        goto fail;
    }
    *out = jws;
    return TG_OK;
fail:
    jose_jws_free(jws);
    return err;
}

void
jose_jws_free(jose_jws *jws)
{
    if (jws == NULL)
        return;
    json_decref(jws->header);
    json_decref(jws->payload);
    free(jws->signing_input);
    free(jws->signature);
    free(jws);
}

static tg_err
verify_pkey(const jose_key *key, const char *data, size_t len, const unsigned char *sig,
            size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    int derlen = 0, rc;
    tg_err err = TG_EDENIED;

    if (md == NULL)
        return TG_ENOMEM;
    if (key->alg == JOSE_ALG_ES256) {
        if (siglen != ES256_SIG_LEN)
            goto out;
        if ((err = ecdsa_raw_to_der(sig, &der, &derlen)) != TG_OK)
            goto out;
        sig = der;
        siglen = (size_t)derlen;
        err = TG_EDENIED;
    }
    if (EVP_DigestVerifyInit(md, &pctx, alg_md(key->alg), NULL, key->pkey) != 1 ||
        (key->alg == JOSE_ALG_PS256 && !set_pss(pctx))) {
        jose_log_openssl("JWS verification setup");
        err = TG_ECRYPTO;
        goto out;
    }
    rc = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data, len);
    if (rc == 1)
        err = TG_OK;
out:
    ERR_clear_error(); /* a bad signature is an answer, not an error to keep */
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return err;
}

tg_err
jose_jws_verify(const jose_jws *jws, const jose_key *key, const void *hmac_secret,
                size_t secret_len)
{
    unsigned char mac[HS256_LEN];
    tg_err err;

    if (jws == NULL || jws->signing_input == NULL || jws->signature == NULL)
        return TG_EINVAL;
    /* The algorithm is fixed by what the caller holds, never by the token: an HS256 token is
     * only checked against a secret, and an asymmetric key only accepts its own alg. */
    if (jws->alg == JOSE_ALG_HS256) {
        if (key != NULL || hmac_secret == NULL || secret_len == 0)
            return TG_EDENIED;
        if ((err = hmac_sha256(hmac_secret, secret_len, jws->signing_input,
                               strlen(jws->signing_input), mac)) != TG_OK)
            return err;
        err =
            tg_ct_equal(mac, sizeof(mac), jws->signature, jws->signature_len) ? TG_OK : TG_EDENIED;
        OPENSSL_cleanse(mac, sizeof(mac));
        return err;
    }
    if (key == NULL || jws->alg == JOSE_ALG_NONE || key->alg != jws->alg)
        return TG_EDENIED;
    return verify_pkey(key, jws->signing_input, strlen(jws->signing_input), jws->signature,
                       jws->signature_len);
}
