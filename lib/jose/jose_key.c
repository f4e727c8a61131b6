/*
 * jose_key: loading, generating and exporting keys; RFC 7638 thumbprints; public JWKs.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "jose/jose_internal.h"
#include "jose/x509.h"

#define PEM_MAX ((size_t)64 * 1024)
#define CERT_DAYS (14 * 365 + 3)
#define EC_P256_COORD 32

/* Never prompt for a pass phrase: an encrypted key simply fails to load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static bool
is_p256(EVP_PKEY *pkey)
{
    char group[64];
    int nid;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                        NULL))
        return false;
    nid = OBJ_txt2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    return nid == NID_X9_62_prime256v1;
}

/* The key type must match alg; RSA keys need at least 2048 bits. */
static tg_err
check_key_for_alg(jose_alg alg, EVP_PKEY *pkey)
{
    if (jose_alg_is_rsa(alg)) {
        if (!EVP_PKEY_is_a(pkey, "RSA"))
            return TG_ECRYPTO;
        if (EVP_PKEY_get_bits(pkey) < 2048)
            return TG_ECRYPTO;
        return TG_OK;
    }
    if (alg == JOSE_ALG_ES256)
        return EVP_PKEY_is_a(pkey, "EC") && is_p256(pkey) ? TG_OK : TG_ECRYPTO;
    return TG_EINVAL; /* HS256 and unknown algorithms have no asymmetric key */
}

/* Big-endian unsigned bytes of a key parameter, base64url. pad > 0 left-pads to that width
 * (EC coordinates); pad == 0 gives the minimal encoding (RSA n and e, RFC 7518 §6.3.1). */
static tg_err
bn_param_b64url(EVP_PKEY *pkey, const char *param, int pad, char **out)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    int len;
    tg_err err = TG_ECRYPTO;

    *out = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, param, &bn)) {
        jose_log_openssl("reading key parameter");
        return TG_ECRYPTO;
    }
    len = pad > 0 ? pad : BN_num_bytes(bn);
    if (len <= 0 || BN_num_bytes(bn) > len)
        goto out;
    buf = malloc((size_t)len);
    if (buf == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (BN_bn2binpad(bn, buf, len) != len)
        goto out;
    err = tg_b64url_encode(buf, (size_t)len, out);
out:
    free(buf);
    BN_free(bn);
    return err;
}

/* The required public members of the JWK, as used for both the thumbprint and the JWK. */
static tg_err
public_members(const jose_key *key, char **a, char **b)
{
    tg_err err;

    *a = *b = NULL;
    if (jose_alg_is_rsa(key->alg)) {
        if ((err = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_RSA_N, 0, a)) != TG_OK)
            return err;
        err = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_RSA_E, 0, b);
    } else {
        if ((err = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, EC_P256_COORD, a)) != TG_OK)
            return err;
        err = bn_param_b64url(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, EC_P256_COORD, b);
    }
    if (err != TG_OK) {
        free(*a);
        *a = NULL;
    }
    return err;
}

tg_err
jose_key_thumbprint(const jose_key *key, char **out)
{
    char *a = NULL, *b = NULL, *canon = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    json_t *obj = NULL;
    tg_err err;

    *out = NULL;
    if (key == NULL)
        return TG_EINVAL;
    if ((err = public_members(key, &a, &b)) != TG_OK)
        return err;
    /* RFC 7638 §3.2: only the required members, lexicographic order, no whitespace. */
    if (jose_alg_is_rsa(key->alg))
        obj = json_pack("{s:s, s:s, s:s}", "e", b, "kty", "RSA", "n", a);
    else
        obj = json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", a, "y", b);
    err = TG_ENOMEM;
    if (obj == NULL)
        goto out;
    canon = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (canon == NULL)
        goto out;
    err = TG_ECRYPTO;
    if (!EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL))
        goto out;
    err = tg_b64url_encode(md, mdlen, out);
out:
    json_decref(obj);
    free(canon);
    free(a);
    free(b);
    return err;
}

/* Takes pkey and cert (both freed on failure); *out freed with jose_key_free(). */
static tg_err
key_new(jose_alg alg, EVP_PKEY *pkey, X509 *cert, bool has_private, jose_key **out)
{
    jose_key *key = NULL;
    char *kid = NULL;
    tg_err err;

    *out = NULL;
    if ((err = check_key_for_alg(alg, pkey)) != TG_OK)
        goto fail;
    if (cert != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert), pkey) != 1) {
        ERR_clear_error();
        err = TG_ECRYPTO; /* certificate is for another key */
        goto fail;
    }
    key = calloc(1, sizeof(*key));
    if (key == NULL) {
        err = TG_ENOMEM;
        goto fail;
    }
    key->alg = alg;
    key->pkey = pkey;
    key->cert = cert;
    key->has_private = has_private;
    if ((err = jose_key_thumbprint(key, &kid)) != TG_OK) {
        free(key);
        goto fail;
    }
    snprintf(key->kid, sizeof(key->kid), "%s", kid);
    free(kid);
    *out = key;
    return TG_OK;
fail:
    EVP_PKEY_free(pkey);
    X509_free(cert);
    return err;
}

tg_err
jose_key_generate(jose_alg alg, const char *cn, jose_key **out)
{
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    tg_err err;

    *out = NULL;
    if (cn == NULL)
        return TG_EINVAL;
    if (jose_alg_is_rsa(alg)) {
        if ((err = jose_rsa_generate(2048, &pkey)) != TG_OK)
            return err;
    } else if (alg == JOSE_ALG_ES256) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (pkey == NULL) {
            jose_log_openssl("EC key generation");
            return TG_ECRYPTO;
        }
    } else {
        return TG_EINVAL;
    }
    if ((err = jose_x509_self_signed(pkey, cn, CERT_DAYS, &cert)) != TG_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    return key_new(alg, pkey, cert, true, out);
}

/* Copies a memory BIO's contents to a heap string, then wipes the BIO's buffer. */
static tg_err
bio_to_string(BIO *bio, char **out)
{
    BUF_MEM *mem = NULL;
    char *s;

    *out = NULL;
    BIO_get_mem_ptr(bio, &mem);
    if (mem == NULL)
        return TG_EINTERNAL;
    s = malloc(mem->length + 1);
    if (s == NULL) {
        OPENSSL_cleanse(mem->data, mem->length);
        return TG_ENOMEM;
    }
    memcpy(s, mem->data, mem->length);
    s[mem->length] = '\0';
    OPENSSL_cleanse(mem->data, mem->length);
    *out = s;
    return TG_OK;
}

tg_err
jose_key_to_pem(const jose_key *key, char **private_pem, char **cert_pem)
{
    BIO *bio = NULL;
    char *priv = NULL, *crt = NULL;
    tg_err err = TG_ECRYPTO;

    *private_pem = NULL;
    *cert_pem = NULL;
    if (key == NULL || !key->has_private)
        return TG_EINVAL;
    if ((bio = BIO_new(BIO_s_secmem())) == NULL)
        return TG_ENOMEM;
    if (!PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)) {
        jose_log_openssl("writing private key PEM");
        goto out;
    }
    if ((err = bio_to_string(bio, &priv)) != TG_OK)
        goto out;
    if (key->cert != NULL) {
        BIO_free(bio);
        err = TG_ENOMEM;
        if ((bio = BIO_new(BIO_s_mem())) == NULL)
            goto out;
        err = TG_ECRYPTO;
        if (!PEM_write_bio_X509(bio, key->cert)) {
            jose_log_openssl("writing certificate PEM");
            goto out;
        }
        if ((err = bio_to_string(bio, &crt)) != TG_OK)
            goto out;
    }
    *private_pem = priv;
    *cert_pem = crt;
    priv = crt = NULL;
    err = TG_OK;
out:
    BIO_free(bio);
    tg_free_secret_str(priv);
    free(crt);
    return err;
}

static tg_err
read_cert(const char *pem, X509 **out)
{
    BIO *bio;

    *out = NULL;
    if (strnlen(pem, PEM_MAX + 1) > PEM_MAX)
        return TG_ETOOBIG;
    if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
        return TG_ENOMEM;
    *out = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (*out == NULL) {
        jose_log_openssl("reading certificate PEM");
        return TG_ECRYPTO;
    }
    return TG_OK;
}

tg_err
jose_key_from_pem(jose_alg alg, const char *private_pem, const char *cert_pem, jose_key **out)
{
    EVP_PKEY *pkey;
    X509 *cert = NULL;
    BIO *bio;
    tg_err err;

    *out = NULL;
    if (private_pem == NULL)
        return TG_EINVAL;
    if (strnlen(private_pem, PEM_MAX + 1) > PEM_MAX)
        return TG_ETOOBIG;
    if ((bio = BIO_new_mem_buf(private_pem, -1)) == NULL)
        return TG_ENOMEM;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        jose_log_openssl("reading private key PEM");
        return TG_ECRYPTO;
    }
    if (cert_pem != NULL && (err = read_cert(cert_pem, &cert)) != TG_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    return key_new(alg, pkey, cert, true, out);
}

tg_err
jose_key_from_public_pem(jose_alg alg, const char *pem, jose_key **out)
{
    EVP_PKEY *pkey;
    X509 *cert = NULL;
    BIO *bio;
    tg_err err;

    *out = NULL;
    if (pem == NULL)
        return TG_EINVAL;
    if (strnlen(pem, PEM_MAX + 1) > PEM_MAX)
        return TG_ETOOBIG;
    if (strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL) {
        if ((err = read_cert(pem, &cert)) != TG_OK)
            return err;
        pkey = X509_get_pubkey(cert); /* new reference */
        if (pkey == NULL) {
            jose_log_openssl("certificate public key");
            X509_free(cert);
            return TG_ECRYPTO;
        }
        return key_new(alg, pkey, cert, false, out);
    }
    if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
        return TG_ENOMEM;
    pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        jose_log_openssl("reading public key PEM");
        return TG_ECRYPTO;
    }
    return key_new(alg, pkey, NULL, false, out);
}

void
jose_key_free(jose_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material when freeing */
    X509_free(key->cert);
    OPENSSL_cleanse(key, sizeof(*key));
    free(key);
}

const char *
jose_key_kid(const jose_key *key)
{
    return key == NULL ? NULL : key->kid;
}

jose_alg
jose_key_alg(const jose_key *key)
{
    return key == NULL ? JOSE_ALG_NONE : key->alg;
}

/* Adds x5c (standard base64 DER) and x5t (base64url SHA-1 of the DER). */
static tg_err
add_cert_members(json_t *jwk, X509 *cert)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *b64 = NULL, *x5t = NULL;
    int len;
    tg_err err = TG_ECRYPTO;

    len = i2d_X509(cert, &der);
    if (len <= 0)
        return TG_ECRYPTO;
    if (!EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha1(), NULL))
        goto out;
    if ((err = tg_b64_encode(der, (size_t)len, &b64)) != TG_OK ||
        (err = tg_b64url_encode(md, mdlen, &x5t)) != TG_OK)
        goto out;
    err = TG_ENOMEM;
    if (json_object_set_new(jwk, "x5c", json_pack("[s]", b64)) != 0 ||
        json_object_set_new(jwk, "x5t", json_string(x5t)) != 0)
        goto out;
    err = TG_OK;
out:
    OPENSSL_free(der);
    free(b64);
    free(x5t);
    return err;
}

json_t *
jose_key_to_jwk(const jose_key *key)
{
    char *a = NULL, *b = NULL;
    json_t *jwk = NULL;
    bool rsa;

    if (key == NULL || public_members(key, &a, &b) != TG_OK)
        return NULL;
    rsa = jose_alg_is_rsa(key->alg);
    if (rsa)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "alg",
                        jose_alg_name(key->alg), "kid", key->kid, "n", a, "e", b);
    else
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "use", "sig", "alg",
                        jose_alg_name(key->alg), "kid", key->kid, "crv", "P-256", "x", a, "y", b);
    free(a);
    free(b);
    if (jwk != NULL && key->cert != NULL && add_cert_members(jwk, key->cert) != TG_OK) {
        json_decref(jwk);
        jwk = NULL;
    }
    return jwk;
}
