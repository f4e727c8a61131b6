#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "gateway.h"
#include "h2o/http2.h"
#include "jose/x509.h"

#define DEV_CERT_DAYS 30

/* TLS 1.2 suites with forward secrecy and AEAD only (none on HTTP/2's RFC 7540 blocklist). */
static const char tls12_ciphers[] = "ECDHE+AESGCM:ECDHE+CHACHA20";

static void
log_openssl(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    ERR_error_string_n(e, buf, sizeof(buf));
    LOG_ERROR("tls: %s: %s", what, e != 0 ? buf : "unknown error");
    ERR_clear_error();
}

static tg_err
use_dev_cert(SSL_CTX *ctx)
{
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    tg_err err;

    if ((err = jose_rsa_generate(2048, &pkey)) != TG_OK ||
        (err = jose_x509_self_signed(pkey, "localhost", DEV_CERT_DAYS, &cert)) != TG_OK)
        goto out;
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
        log_openssl("development certificate");
        err = TG_ECRYPTO;
        goto out;
    }
    LOG_WARN("tls: no --cert/--key given; serving an in-memory self-signed certificate for "
             "CN=localhost (development only)");
out:
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return err;
}

static tg_err
use_files(SSL_CTX *ctx, const char *cert, const char *key)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        log_openssl(cert);
        return TG_ECONFIG;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        log_openssl(key);
        return TG_ECONFIG;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        log_openssl("certificate and key do not match");
        return TG_ECONFIG;
    }
    return TG_OK;
}

tg_err
gw_tls_new(const char *cert, const char *key, SSL_CTX **out)
{
    SSL_CTX *ctx;
    tg_err err;

    *out = NULL;
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        log_openssl("SSL_CTX_new");
        return TG_ECRYPTO;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        log_openssl("TLS protocol settings");
        err = TG_ECRYPTO;
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    err = cert != NULL ? use_files(ctx, cert, key) : use_dev_cert(ctx);
    if (err != TG_OK)
        goto fail;
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    *out = ctx;
    return TG_OK;
fail:
    SSL_CTX_free(ctx);
    return err;
}
