/*
 * Unit tests for lib/jose: every algorithm round-trips, tampering and algorithm confusion are
 * refused, the RFC 7638 vector matches, and hostile compact strings never crash the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/util.h"
#include "jose/jose.h"
#include "jose/x509.h"

/* One key per asymmetric alg, generated once for the whole file (RSA generation is slow). */
static jose_key *keys[JOSE_ALG_HS256 + 1];
static const jose_alg asym_algs[] = {JOSE_ALG_RS256, JOSE_ALG_RS384, JOSE_ALG_PS256,
                                     JOSE_ALG_ES256};
static const char hs_secret[] = "a-client-secret-of-forty-three-characters!!";

static int
setup(void **state)
{
    (void)state;
    log_init("jose_test", TG_LOG_ERROR);
    for (size_t i = 0; i < sizeof(asym_algs) / sizeof(asym_algs[0]); i++)
        if (jose_key_generate(asym_algs[i], "tollgate.test", &keys[asym_algs[i]]) != TG_OK)
            return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        jose_key_free(keys[i]);
    return 0;
}

static json_t *
sample_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", "https://tollgate.test/", "sub",
                     "auth0|123", "aud", "client-1", "iat", (json_int_t)1700000000, "exp",
                     (json_int_t)1700036000);
}

static char *
b64url_str(const char *s)
{
    char *out = NULL;

    assert_int_equal(tg_b64url_encode(s, strlen(s), &out), TG_OK);
    return out;
}

/* "<b64(header)>.<b64(payload)>.<sig>" from plain parts. */
static char *
make_jws(const char *header, const char *payload, const char *sig)
{
    char *h = b64url_str(header), *p = b64url_str(payload), *out;
    size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;

    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return out;
}

/* Public key PEM (SubjectPublicKeyInfo) of a key we hold the private half of. */
static char *
spki_pem_of(const jose_key *key)
{
    char *priv = NULL, *cert = NULL, *out;
    BIO *in, *bio = BIO_new(BIO_s_mem());
    EVP_PKEY *pkey;
    BUF_MEM *mem;

    assert_int_equal(jose_key_to_pem(key, &priv, &cert), TG_OK);
    in = BIO_new_mem_buf(priv, -1);
    pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    assert_non_null(pkey);
    assert_true(PEM_write_bio_PUBKEY(bio, pkey));
    BIO_get_mem_ptr(bio, &mem);
    out = strndup(mem->data, mem->length);
    BIO_free(bio);
    BIO_free(in);
    EVP_PKEY_free(pkey);
    tg_free_secret_str(priv);
    free(cert);
    return out;
}

static char *
pkey_to_spki_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    BUF_MEM *mem;
    char *out;

    assert_true(PEM_write_bio_PUBKEY(bio, pkey));
    BIO_get_mem_ptr(bio, &mem);
    out = strndup(mem->data, mem->length);
    BIO_free(bio);
    return out;
}

static void
test_alg_names(void **state)
{
    (void)state;
    assert_int_equal(jose_alg_from_name("RS256"), JOSE_ALG_RS256);
    assert_int_equal(jose_alg_from_name("PS256"), JOSE_ALG_PS256);
    assert_int_equal(jose_alg_from_name("ES256"), JOSE_ALG_ES256);
    assert_int_equal(jose_alg_from_name("HS256"), JOSE_ALG_HS256);
    assert_int_equal(jose_alg_from_name("none"), JOSE_ALG_NONE);
    assert_int_equal(jose_alg_from_name("rs256"), JOSE_ALG_NONE);
    assert_int_equal(jose_alg_from_name("RS512"), JOSE_ALG_NONE);
    assert_int_equal(jose_alg_from_name(NULL), JOSE_ALG_NONE);
    assert_string_equal(jose_alg_name(JOSE_ALG_RS384), "RS384");
}

static void
check_roundtrip(jose_alg alg, const jose_key *key)
{
    json_t *claims = sample_claims();
    char *jws = NULL, *expect_hdr;
    jose_jws *parsed = NULL;
    char *hdr;

    assert_int_equal(jose_sign(alg, key, alg == JOSE_ALG_HS256 ? hs_secret : NULL,
                               alg == JOSE_ALG_HS256 ? strlen(hs_secret) : 0, claims, &jws),
                     TG_OK);
    assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
    assert_int_equal(parsed->alg, alg);
    assert_true(json_equal(parsed->payload, claims));
    /* The header is exactly {"alg","typ","kid"} in that order, compact (no kid for HS256). */
    hdr = json_dumps(parsed->header, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (alg == JOSE_ALG_HS256) {
        expect_hdr = strdup("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    } else {
        size_t n = 64 + strlen(jose_key_kid(key));
        expect_hdr = malloc(n);
        snprintf(expect_hdr, n, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                 jose_alg_name(alg), jose_key_kid(key));
    }
    assert_string_equal(hdr, expect_hdr);
    if (alg == JOSE_ALG_ES256)
        assert_int_equal(parsed->signature_len, 64);
    if (alg == JOSE_ALG_HS256)
        assert_int_equal(jose_jws_verify(parsed, NULL, hs_secret, strlen(hs_secret)), TG_OK);
    else
        assert_int_equal(jose_jws_verify(parsed, key, NULL, 0), TG_OK);
    free(hdr);
    free(expect_hdr);
    jose_jws_free(parsed);
    free(jws);
    json_decref(claims);
}

static void
test_roundtrip_every_alg(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(asym_algs) / sizeof(asym_algs[0]); i++)
        check_roundtrip(asym_algs[i], keys[asym_algs[i]]);
    check_roundtrip(JOSE_ALG_HS256, NULL);
}

/* Another typ lands in the header as given; a typ that could break or bloat the header is
 * refused. */
static void
test_sign_typ(void **state)
{
    static const char *const bad[] = {
        "",      "a b",  "x\"y",
        "tab\t", "\x7f", "0123456789012345678901234567890123456789012345678901234567890123456789"};
    json_t *claims = sample_claims();
    jose_jws *parsed = NULL;
    char *jws = NULL;

    (void)state;
    assert_int_equal(
        jose_sign_typ(JOSE_ALG_RS256, keys[JOSE_ALG_RS256], NULL, 0, "logout+jwt", claims, &jws),
        TG_OK);
    assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
    assert_string_equal(json_string_value(json_object_get(parsed->header, "typ")), "logout+jwt");
    assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_RS256], NULL, 0), TG_OK);
    jose_jws_free(parsed);
    free(jws);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jws = NULL;
        assert_int_equal(
            jose_sign_typ(JOSE_ALG_RS256, keys[JOSE_ALG_RS256], NULL, 0, bad[i], claims, &jws),
            TG_EINVAL);
        assert_null(jws);
    }
    assert_int_equal(
        jose_sign_typ(JOSE_ALG_RS256, keys[JOSE_ALG_RS256], NULL, 0, NULL, claims, &jws),
        TG_EINVAL);
    json_decref(claims);
}

/* Signatures verify with the public half alone (certificate PEM and SPKI PEM). */
static void
test_verify_with_public_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(asym_algs) / sizeof(asym_algs[0]); i++) {
        jose_alg alg = asym_algs[i];
        json_t *claims = sample_claims();
        char *jws = NULL, *priv = NULL, *cert = NULL, *spki = spki_pem_of(keys[alg]);
        jose_key *from_cert = NULL, *from_spki = NULL;
        jose_jws *parsed = NULL;

        assert_int_equal(jose_sign(alg, keys[alg], NULL, 0, claims, &jws), TG_OK);
        assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
        assert_int_equal(jose_key_to_pem(keys[alg], &priv, &cert), TG_OK);
        assert_int_equal(jose_key_from_public_pem(alg, cert, &from_cert), TG_OK);
        assert_int_equal(jose_key_from_public_pem(alg, spki, &from_spki), TG_OK);
        assert_string_equal(jose_key_kid(from_cert), jose_key_kid(keys[alg]));
        assert_string_equal(jose_key_kid(from_spki), jose_key_kid(keys[alg]));
        assert_int_equal(jose_jws_verify(parsed, from_cert, NULL, 0), TG_OK);
        assert_int_equal(jose_jws_verify(parsed, from_spki, NULL, 0), TG_OK);
        /* A public key cannot sign. */
        free(jws);
        jws = NULL;
        assert_int_equal(jose_sign(alg, from_spki, NULL, 0, claims, &jws), TG_EINVAL);
        assert_null(jws);
        jose_key_free(from_cert);
        jose_key_free(from_spki);
        jose_jws_free(parsed);
        tg_free_secret_str(priv);
        free(cert);
        free(spki);
        json_decref(claims);
    }
}

static void
test_tampered_payload_and_signature(void **state)
{
    (void)state;
    for (size_t i = 0; i <= sizeof(asym_algs) / sizeof(asym_algs[0]); i++) {
        jose_alg alg = i < 4 ? asym_algs[i] : JOSE_ALG_HS256;
        const jose_key *key = i < 4 ? keys[alg] : NULL;
        const void *sec = key == NULL ? hs_secret : NULL;
        size_t slen = key == NULL ? strlen(hs_secret) : 0;
        json_t *claims = sample_claims();
        char *jws = NULL, *forged, *evil;
        jose_jws *parsed = NULL;
        char *d1, *d2;
        size_t mid;

        assert_int_equal(jose_sign(alg, key, sec, slen, claims, &jws), TG_OK);
        /* Payload swapped for another (sub changed), signature kept. */
        d1 = strchr(jws, '.');
        d2 = strchr(d1 + 1, '.');
        evil = b64url_str("{\"iss\":\"https://tollgate.test/\",\"sub\":\"auth0|admin\"}");
        forged = malloc(strlen(jws) + strlen(evil) + 2);
        snprintf(forged, strlen(jws) + strlen(evil) + 2, "%.*s.%s%s", (int)(d1 - jws), jws, evil,
                 d2);
        assert_int_equal(jose_jws_parse(forged, &parsed), TG_OK);
        assert_int_equal(jose_jws_verify(parsed, key, sec, slen), TG_EDENIED);
        jose_jws_free(parsed);
        parsed = NULL;
        /* One signature character flipped (in the middle, so the encoding stays canonical). */
        mid = (size_t)(d2 + 1 - jws) + (strlen(d2 + 1) / 2);
        jws[mid] = jws[mid] == 'A' ? 'B' : 'A';
        assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
        assert_int_equal(jose_jws_verify(parsed, key, sec, slen), TG_EDENIED);
        jose_jws_free(parsed);
        free(evil);
        free(forged);
        free(jws);
        json_decref(claims);
    }
}

static void
test_alg_confusion(void **state)
{
    json_t *claims = sample_claims();
    char *spki = spki_pem_of(keys[JOSE_ALG_RS256]), *jws = NULL, *priv = NULL, *cert = NULL;
    jose_jws *parsed = NULL;
    jose_key *ps_view = NULL;

    (void)state;
    /* Classic attack: HS256 token whose HMAC key is the server's public RSA key PEM. */
    assert_int_equal(jose_sign(JOSE_ALG_HS256, NULL, spki, strlen(spki), claims, &jws), TG_OK);
    assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
    assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_RS256], NULL, 0), TG_EDENIED);
    assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_RS256], spki, strlen(spki)), TG_EDENIED);
    assert_int_equal(jose_jws_verify(parsed, NULL, NULL, 0), TG_EDENIED);
    jose_jws_free(parsed);
    free(jws);
    jws = NULL;

    /* An RS256 token never verifies with the same RSA key held as PS256 or RS384. */
    assert_int_equal(jose_sign(JOSE_ALG_RS256, keys[JOSE_ALG_RS256], NULL, 0, claims, &jws), TG_OK);
    assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
    assert_int_equal(jose_key_to_pem(keys[JOSE_ALG_RS256], &priv, &cert), TG_OK);
    assert_int_equal(jose_key_from_pem(JOSE_ALG_PS256, priv, cert, &ps_view), TG_OK);
    assert_int_equal(jose_jws_verify(parsed, ps_view, NULL, 0), TG_EDENIED);
    assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_RS384], NULL, 0), TG_EDENIED);
    assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_ES256], NULL, 0), TG_EDENIED);
    /* ...and not with a secret either. */
    assert_int_equal(jose_jws_verify(parsed, NULL, hs_secret, strlen(hs_secret)), TG_EDENIED);
    jose_jws_free(parsed);
    free(jws);
    jws = NULL;

    /* Signing refuses a key whose alg differs from the requested one. */
    assert_int_equal(jose_sign(JOSE_ALG_RS256, ps_view, NULL, 0, claims, &jws), TG_EINVAL);
    assert_int_equal(jose_sign(JOSE_ALG_ES256, keys[JOSE_ALG_RS256], NULL, 0, claims, &jws),
                     TG_EINVAL);
    assert_int_equal(
        jose_sign(JOSE_ALG_HS256, keys[JOSE_ALG_RS256], hs_secret, strlen(hs_secret), claims, &jws),
        TG_EINVAL);
    assert_int_equal(jose_sign(JOSE_ALG_HS256, NULL, NULL, 0, claims, &jws), TG_EINVAL);
    assert_int_equal(jose_sign(JOSE_ALG_NONE, NULL, NULL, 0, claims, &jws), TG_EINVAL);
    assert_null(jws);

    jose_key_free(ps_view);
    tg_free_secret_str(priv);
    free(cert);
    free(spki);
    json_decref(claims);
}

static void
test_es256_signature_must_be_64_bytes(void **state)
{
    json_t *claims = sample_claims();
    char *jws = NULL, *d2, *sig64 = NULL, *forged;
    unsigned char *raw = NULL, der[80];
    size_t rawlen = 0;
    jose_jws *parsed = NULL;

    (void)state;
    assert_int_equal(jose_sign(JOSE_ALG_ES256, keys[JOSE_ALG_ES256], NULL, 0, claims, &jws), TG_OK);
    d2 = strrchr(jws, '.');
    assert_int_equal(tg_b64url_decode(d2 + 1, strlen(d2 + 1), &raw, &rawlen), TG_OK);
    assert_int_equal(rawlen, 64);
    /* 63 and 65 byte signatures are refused outright. */
    for (size_t n = 63; n <= 65; n += 2) {
        memset(der, 0, sizeof(der));
        memcpy(der, raw, n < 64 ? n : 64);
        assert_int_equal(tg_b64url_encode(der, n, &sig64), TG_OK);
        forged = malloc(strlen(jws) + strlen(sig64) + 1);
        snprintf(forged, strlen(jws) + strlen(sig64) + 1, "%.*s.%s", (int)(d2 - jws), jws, sig64);
        assert_int_equal(jose_jws_parse(forged, &parsed), TG_OK);
        assert_int_equal(jose_jws_verify(parsed, keys[JOSE_ALG_ES256], NULL, 0), TG_EDENIED);
        jose_jws_free(parsed);
        parsed = NULL;
        free(forged);
        free(sig64);
    }
    free(raw);
    free(jws);
    json_decref(claims);
}

/* RFC 7638 §3.1: the example RSA key's thumbprint. */
static void
test_thumbprint_rfc7638(void **state)
{
    static const char n_b64[] =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
        "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrd"
        "kt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
        "kEgU8awapJzKnqDKgw";
    unsigned char *nbin = NULL;
    size_t nlen = 0;
    BIGNUM *n, *e;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    jose_key *key = NULL;
    char *pem, *tp = NULL;
    json_t *jwk;

    (void)state;
    assert_int_equal(tg_b64url_decode(n_b64, strlen(n_b64), &nbin, &nlen), TG_OK);
    n = BN_bin2bn(nbin, (int)nlen, NULL);
    e = BN_new();
    BN_set_word(e, 65537);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    pem = pkey_to_spki_pem(pkey);

    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, pem, &key), TG_OK);
    assert_string_equal(jose_key_kid(key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_int_equal(jose_key_thumbprint(key, &tp), TG_OK);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    /* The JWK carries the same n and e, and no x5c without a certificate. */
    jwk = jose_key_to_jwk(key);
    assert_string_equal(json_string_value(json_object_get(jwk, "n")), n_b64);
    assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
    assert_null(json_object_get(jwk, "x5c"));

    json_decref(jwk);
    free(tp);
    free(pem);
    jose_key_free(key);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nbin);
}

static void
test_jwk_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(asym_algs) / sizeof(asym_algs[0]); i++) {
        jose_alg alg = asym_algs[i];
        json_t *jwk = jose_key_to_jwk(keys[alg]), *x5c;
        unsigned char *der = NULL, md[20];
        const unsigned char *p;
        size_t derlen = 0;
        char *x5t = NULL;
        X509 *cert;

        assert_non_null(jwk);
        assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
        assert_string_equal(json_string_value(json_object_get(jwk, "alg")), jose_alg_name(alg));
        assert_string_equal(json_string_value(json_object_get(jwk, "kid")),
                            jose_key_kid(keys[alg]));
        if (alg == JOSE_ALG_ES256) {
            assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
            assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
            assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
            assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
            assert_null(json_object_get(jwk, "n"));
        } else {
            assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
            assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
            assert_int_equal(strlen(json_string_value(json_object_get(jwk, "n"))), 342);
        }
        /* x5c: one standard-base64 DER certificate; x5t: base64url SHA-1 of that DER. */
        x5c = json_object_get(jwk, "x5c");
        assert_true(json_is_array(x5c) && json_array_size(x5c) == 1);
        assert_int_equal(tg_b64_decode(json_string_value(json_array_get(x5c, 0)),
                                       strlen(json_string_value(json_array_get(x5c, 0))), &der,
                                       &derlen),
                         TG_OK);
        p = der;
        cert = d2i_X509(NULL, &p, (long)derlen);
        assert_non_null(cert);
        EVP_Digest(der, derlen, md, NULL, EVP_sha1(), NULL);
        assert_int_equal(tg_b64url_encode(md, sizeof(md), &x5t), TG_OK);
        assert_string_equal(json_string_value(json_object_get(jwk, "x5t")), x5t);
        X509_free(cert);
        free(x5t);
        free(der);
        json_decref(jwk);
    }
}

static void
test_pem_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(asym_algs) / sizeof(asym_algs[0]); i++) {
        jose_alg alg = asym_algs[i];
        char *priv = NULL, *cert = NULL, *jws = NULL;
        jose_key *back = NULL, *nocert = NULL;
        jose_jws *parsed = NULL;
        json_t *claims = sample_claims(), *jwk;

        assert_int_equal(jose_key_to_pem(keys[alg], &priv, &cert), TG_OK);
        assert_non_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
        assert_non_null(strstr(cert, "-----BEGIN CERTIFICATE-----"));
        assert_int_equal(jose_key_from_pem(alg, priv, cert, &back), TG_OK);
        assert_string_equal(jose_key_kid(back), jose_key_kid(keys[alg]));
        assert_int_equal(jose_key_alg(back), alg);
        /* Signed by the reloaded key, verified by the original. */
        assert_int_equal(jose_sign(alg, back, NULL, 0, claims, &jws), TG_OK);
        assert_int_equal(jose_jws_parse(jws, &parsed), TG_OK);
        assert_int_equal(jose_jws_verify(parsed, keys[alg], NULL, 0), TG_OK);
        /* Without a certificate the key works, and its JWK has no x5c. */
        assert_int_equal(jose_key_from_pem(alg, priv, NULL, &nocert), TG_OK);
        jwk = jose_key_to_jwk(nocert);
        assert_null(json_object_get(jwk, "x5c"));
        assert_null(json_object_get(jwk, "x5t"));
        json_decref(jwk);
        jose_key_free(nocert);
        jose_jws_free(parsed);
        jose_key_free(back);
        tg_free_secret_str(priv);
        free(cert);
        free(jws);
        json_decref(claims);
    }
}

static void
test_key_rejections(void **state)
{
    char *rsa_priv = NULL, *rsa_cert = NULL, *ec_priv = NULL, *ec_cert = NULL;
    char *spki_small, *ec_spki = spki_pem_of(keys[JOSE_ALG_ES256]);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *tmp = NULL;
    jose_key *k = NULL;

    (void)state;
    assert_non_null(small);
    spki_small = pkey_to_spki_pem(small);
    assert_int_equal(jose_key_to_pem(keys[JOSE_ALG_RS256], &rsa_priv, &rsa_cert), TG_OK);
    assert_int_equal(jose_key_to_pem(keys[JOSE_ALG_ES256], &ec_priv, &ec_cert), TG_OK);

    /* RSA below 2048 bits. */
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, spki_small, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_PS256, spki_small, &k), TG_ECRYPTO);
    /* Key type must match alg. */
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, ec_spki, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_ES256, rsa_cert, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_pem(JOSE_ALG_ES256, rsa_priv, NULL, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_pem(JOSE_ALG_RS256, ec_priv, NULL, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_HS256, rsa_cert, &k), TG_EINVAL);
    /* A certificate for another key. */
    assert_int_equal(jose_key_from_pem(JOSE_ALG_ES256, ec_priv, rsa_cert, &k), TG_ECRYPTO);
    /* Garbage, private key where a public one is expected, NULL. */
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, "not a pem", &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256,
                                              "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                              "-----END CERTIFICATE-----\n",
                                              &k),
                     TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, rsa_priv, &k), TG_ECRYPTO);
    assert_int_equal(jose_key_from_public_pem(JOSE_ALG_RS256, NULL, &k), TG_EINVAL);
    assert_int_equal(jose_key_from_pem(JOSE_ALG_RS256, "garbage", NULL, &k), TG_ECRYPTO);
    assert_null(k);
    /* Generation: HS256 has no key pair; jose_rsa_generate refuses weak sizes. */
    assert_int_equal(jose_key_generate(JOSE_ALG_HS256, "x", &k), TG_EINVAL);
    assert_int_equal(jose_key_generate(JOSE_ALG_NONE, "x", &k), TG_EINVAL);
    assert_int_equal(jose_rsa_generate(1024, &tmp), TG_EINVAL);
    assert_null(tmp);
    jose_key_free(NULL);

    tg_free_secret_str(rsa_priv);
    tg_free_secret_str(ec_priv);
    free(rsa_cert);
    free(ec_cert);
    free(spki_small);
    free(ec_spki);
    EVP_PKEY_free(small);
}

static bool
san_has(GENERAL_NAMES *names, int type, const unsigned char *val, size_t len)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        int t;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &t);

        if (t == type && (size_t)ASN1_STRING_length(s) == len &&
            memcmp(ASN1_STRING_get0_data(s), val, len) == 0)
            return true;
    }
    return false;
}

static void
test_self_signed_certificate(void **state)
{
    static const unsigned char lo[] = {127, 0, 0, 1}, ten[] = {10, 0, 0, 7};
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    GENERAL_NAMES *names;
    char cn[64];

    (void)state;
    assert_int_equal(jose_rsa_generate(2048, &pkey), TG_OK);
    assert_int_equal(jose_x509_self_signed(pkey, "auth.tollgate.test", 30, &x), TG_OK);
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "auth.tollgate.test");
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    assert_int_equal(X509_verify(x, pkey), 1);
    assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
    names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_true(san_has(names, GEN_DNS, (const unsigned char *)"auth.tollgate.test", 18));
    assert_true(san_has(names, GEN_DNS, (const unsigned char *)"localhost", 9));
    assert_true(san_has(names, GEN_IPADD, lo, 4));
    GENERAL_NAMES_free(names);
    X509_free(x);

    /* A cn that is an IP address becomes an IP SAN; 127.0.0.1 appears once. */
    assert_int_equal(jose_x509_self_signed(pkey, "10.0.0.7", 1, &x), TG_OK);
    names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_true(san_has(names, GEN_IPADD, ten, 4));
    assert_int_equal(sk_GENERAL_NAME_num(names), 3);
    GENERAL_NAMES_free(names);
    X509_free(x);
    assert_int_equal(jose_x509_self_signed(pkey, "127.0.0.1", 1, &x), TG_OK);
    names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_int_equal(sk_GENERAL_NAME_num(names), 2);
    GENERAL_NAMES_free(names);
    X509_free(x);
    x = NULL;
    assert_int_equal(jose_x509_self_signed(pkey, "", 1, &x), TG_EINVAL);
    assert_int_equal(jose_x509_self_signed(pkey, "x", 0, &x), TG_EINVAL);
    assert_null(x);
    EVP_PKEY_free(pkey);
}

static void
expect_rejected(const char *compact)
{
    jose_jws *jws = (jose_jws *)0x1;
    tg_err err = jose_jws_parse(compact, &jws);

    assert_int_not_equal(err, TG_OK);
    assert_null(jws);
}

static void
test_hostile_jws(void **state)
{
    static const char payload[] = "{\"sub\":\"x\"}";
    static const char *const headers[] = {
        "{\"alg\":\"none\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"RS512\"}",
        "{\"alg\":\"\"}",
        "{\"alg\":256}",
        "{\"alg\":null}",
        "{\"alg\":[\"RS256\"]}",
        "{\"typ\":\"JWT\"}",
        "[\"RS256\"]",
        "\"RS256\"",
        "42",
        "null",
        "{\"alg\":\"RS256\"",
        "not json",
        "",
        "{\"alg\":\"RS256\",\"alg\":\"none\"}",
        "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"RS256\",\"kid\":7}",
    };
    char *big, *tok;

    (void)state;
    expect_rejected(NULL);
    expect_rejected("");
    expect_rejected(".");
    expect_rejected("..");
    expect_rejected("...");
    expect_rejected("a.b");
    expect_rejected("a.b.c.d");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.x");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9..c2ln");
    expect_rejected(".e30.c2ln");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.");
    /* Bad base64url: standard alphabet, padding, whitespace, non-canonical trailing bits. */
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.c2l+");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30=.c2ln");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.c2ln ");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e31.c2ln");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.c");
    expect_rejected("eyJhbGciOiJSUzI1NiJ9.e30.\xff\xfe");
    /* Payload that is not a JSON object. */
    tok = make_jws("{\"alg\":\"RS256\"}", "[1,2]", "c2ln");
    expect_rejected(tok);
    free(tok);
    tok = make_jws("{\"alg\":\"RS256\"}", "{\"a\":\"\\u0000\"}", "c2ln");
    expect_rejected(tok);
    free(tok);
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        tok = make_jws(headers[i], payload, "c2ln");
        expect_rejected(tok);
        free(tok);
    }
    /* alg "none" with an empty signature, the classic unsigned token. */
    tok = make_jws("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, "");
    expect_rejected(tok);
    free(tok);
    /* Larger than 16 KiB. */
    big = malloc(20000);
    memset(big, 'A', 19999);
    big[19999] = '\0';
    big[100] = '.';
    big[200] = '.';
    assert_int_equal(jose_jws_parse(big, &(jose_jws *){NULL}), TG_ETOOBIG);
    free(big);
    /* The well-formed control case parses. */
    tok = make_jws("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, "c2ln");
    {
        jose_jws *jws = NULL;
        assert_int_equal(jose_jws_parse(tok, &jws), TG_OK);
        assert_int_equal(jws->alg, JOSE_ALG_RS256);
        assert_int_equal(jws->signature_len, 3);
        assert_int_equal(jose_jws_verify(jws, keys[JOSE_ALG_RS256], NULL, 0), TG_EDENIED);
        jose_jws_free(jws);
    }
    free(tok);
    jose_jws_free(NULL);
    assert_int_equal(jose_jws_verify(NULL, keys[JOSE_ALG_RS256], NULL, 0), TG_EINVAL);
}

/* Random strings over the JWS alphabet: the parser must return, never crash or leak. */
static void
test_random_jws_strings(void **state)
{
    static const char alphabet[] = "eyJhbGciOiJSUzI1NiJ9.e30c2ln-_=+/ {}\"\\";
    uint32_t seed = 12345;
    char buf[256];

    (void)state;
    for (int i = 0; i < 5000; i++) {
        size_t len;
        jose_jws *jws = NULL;

        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof(buf);
        for (size_t j = 0; j < len; j++) {
            seed = seed * 1103515245u + 12345u;
            buf[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        buf[len] = '\0';
        if (jose_jws_parse(buf, &jws) == TG_OK)
            jose_jws_free(jws);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_roundtrip_every_alg),
        cmocka_unit_test(test_sign_typ),
        cmocka_unit_test(test_verify_with_public_key),
        cmocka_unit_test(test_tampered_payload_and_signature),
        cmocka_unit_test(test_alg_confusion),
        cmocka_unit_test(test_es256_signature_must_be_64_bytes),
        cmocka_unit_test(test_thumbprint_rfc7638),
        cmocka_unit_test(test_jwk_fields),
        cmocka_unit_test(test_pem_roundtrip),
        cmocka_unit_test(test_key_rejections),
        cmocka_unit_test(test_self_signed_certificate),
        cmocka_unit_test(test_hostile_jws),
        cmocka_unit_test(test_random_jws_strings),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
