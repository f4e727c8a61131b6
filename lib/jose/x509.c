/*
 * Self-signed certificates and RSA key generation over OpenSSL 3 (x509.h).
 */
#include "jose/x509.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "jose/jose_internal.h"

tg_err
jose_rsa_generate(int bits, EVP_PKEY **out)
{
    EVP_PKEY *pkey;

    *out = NULL;
    if (bits < 2048 || bits > 16384)
        return TG_EINVAL;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (pkey == NULL) {
        jose_log_openssl("RSA key generation");
        return TG_ECRYPTO;
    }
    *out = pkey;
    return TG_OK;
}

/* Appends one subjectAltName entry: an IP address when text parses as one, else a DNS name. */
static int
san_add(GENERAL_NAMES *names, const char *text)
{
    GENERAL_NAME *gn = NULL;
    ASN1_OCTET_STRING *ip;
    ASN1_IA5STRING *dns;

    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *have = sk_GENERAL_NAME_value(names, i);
        int type;
        const ASN1_STRING *v = GENERAL_NAME_get0_value(have, &type);

        if (type == GEN_DNS && (size_t)ASN1_STRING_length(v) == strlen(text) &&
            memcmp(ASN1_STRING_get0_data(v), text, strlen(text)) == 0)
            return 1; /* already present */
    }
    ip = a2i_IPADDRESS(text);
    if (ip != NULL) {
        gn = GENERAL_NAME_new();
        if (gn == NULL) {
            ASN1_OCTET_STRING_free(ip);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
        ERR_clear_error(); /* a2i_IPADDRESS leaves an error for non-IP text */
        dns = ASN1_IA5STRING_new();
        if (dns == NULL || !ASN1_STRING_set(dns, text, (int)strlen(text))) {
            ASN1_IA5STRING_free(dns);
            return 0;
        }
        gn = GENERAL_NAME_new();
        if (gn == NULL) {
            ASN1_IA5STRING_free(dns);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
    }
    if (!sk_GENERAL_NAME_push(names, gn)) {
        GENERAL_NAME_free(gn);
        return 0;
    }
    return 1;
}

static int
add_extensions(X509 *x, const char *cn)
{
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    int ok = 0;

    if (names == NULL || bc == NULL)
        goto out;
    /* 127.0.0.1 is only added once, whatever cn is: a2i form compares unequal textually, so
     * skip it explicitly when cn is that address. */
    if (!san_add(names, cn) || !san_add(names, "localhost"))
        goto out;
    if (strcmp(cn, "127.0.0.1") != 0 && !san_add(names, "127.0.0.1"))
        goto out;
    if (!X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT))
        goto out;
    bc->ca = 0;
    if (!X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT))
        goto out;
    ok = 1;
out:
    GENERAL_NAMES_free(names);
    BASIC_CONSTRAINTS_free(bc);
    return ok;
}

tg_err
jose_x509_self_signed(EVP_PKEY *pkey, const char *cn, int days, X509 **out)
{
    X509 *x = NULL;
    X509_NAME *name = NULL;
    BIGNUM *serial = NULL;
    tg_err err = TG_ECRYPTO;

    *out = NULL;
    if (pkey == NULL || cn == NULL || cn[0] == '\0' || strlen(cn) > 255 || days <= 0)
        return TG_EINVAL;
    x = X509_new();
    name = X509_NAME_new();
    serial = BN_new();
    if (x == NULL || name == NULL || serial == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (!X509_set_version(x, X509_VERSION_3))
        goto fail;
    /* 159 random bits: positive, at most 20 octets (RFC 5280 §4.1.2.2). */
    if (!BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
        goto fail;
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0))
        goto fail;
    if (!X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name))
        goto fail;
    if (X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
        goto fail;
    if (!X509_set_pubkey(x, pkey) || !add_extensions(x, cn))
        goto fail;
    if (X509_sign(x, pkey, EVP_sha256()) <= 0)
        goto fail;
    *out = x;
    x = NULL;
    err = TG_OK;
    goto out;
fail:
    jose_log_openssl("self-signed certificate");
out:
    X509_free(x);
    X509_NAME_free(name);
    BN_free(serial);
    return err;
}
