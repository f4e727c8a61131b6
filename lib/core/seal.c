#include "core/seal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define SEAL_PREFIX "v1."
#define SEAL_NONCE 12
#define SEAL_TAG 16

/* key = HMAC-SHA256(master, "tollgate-seal-v1:" + purpose) */
static tg_err
derive(const char *master, const char *purpose, unsigned char key[32])
{
    unsigned char msg[128];
    size_t plen = strlen(purpose), hlen = strlen("tollgate-seal-v1:");
    unsigned int len = 32;

    if (master == NULL || master[0] == '\0' || plen > sizeof(msg) - hlen)
        return TG_EINVAL;
    memcpy(msg, "tollgate-seal-v1:", hlen);
    memcpy(msg + hlen, purpose, plen);
    if (HMAC(EVP_sha256(), master, (int)strlen(master), msg, hlen + plen, key, &len) == NULL)
        return TG_ECRYPTO;
    return TG_OK;
}

static tg_err
gcm(int enc, const unsigned char key[32], const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok;

    if (c == NULL)
        return TG_ENOMEM;
    ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
         EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? TG_OK : TG_ECRYPTO;
}

tg_err
tg_seal(const char *master_key, const char *purpose, const void *plain, size_t len, char **out)
{
    unsigned char key[32], *buf = NULL;
    char *b64 = NULL;
    size_t blen = SEAL_NONCE + len + SEAL_TAG;
    tg_err err;

    *out = NULL;
    if ((err = derive(master_key, purpose, key)) != TG_OK)
        return err;
    if ((buf = malloc(blen)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = tg_random_bytes(buf, SEAL_NONCE)) != TG_OK ||
        (err = gcm(1, key, buf, purpose, plain, len, buf + SEAL_NONCE,
                   buf + SEAL_NONCE + len)) != TG_OK ||
        (err = tg_b64url_encode(buf, blen, &b64)) != TG_OK)
        goto out;
    {
        size_t pl = strlen(SEAL_PREFIX), bl = strlen(b64);
        if ((*out = malloc(pl + bl + 1)) == NULL) {
            err = TG_ENOMEM;
            goto out;
        }
        memcpy(*out, SEAL_PREFIX, pl);
        memcpy(*out + pl, b64, bl + 1);
    }
out:
    OPENSSL_cleanse(key, sizeof(key));
    tg_free_secret(buf, buf != NULL ? blen : 0);
    free(b64);
    return err;
}

tg_err
tg_unseal(const char *master_key, const char *purpose, const char *sealed, unsigned char **out,
          size_t *out_len)
{
    unsigned char key[32], *raw = NULL, *plain = NULL;
    size_t rlen = 0, plen;
    tg_err err;

    *out = NULL;
    *out_len = 0;
    if (sealed == NULL || strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
        return TG_EINVAL;
    sealed += strlen(SEAL_PREFIX);
    if ((err = tg_b64url_decode(sealed, strlen(sealed), &raw, &rlen)) != TG_OK)
        return TG_EINVAL;
    if (rlen < SEAL_NONCE + SEAL_TAG) {
        free(raw);
        return TG_EINVAL;
    }
    plen = rlen - SEAL_NONCE - SEAL_TAG;
    if ((err = derive(master_key, purpose, key)) != TG_OK)
        goto out;
    if ((plain = malloc(plen + 1)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    err = gcm(0, key, raw, purpose, raw + SEAL_NONCE, plen, plain, raw + SEAL_NONCE + plen);
    if (err != TG_OK)
        goto out;
    plain[plen] = '\0';
    *out = plain;
    *out_len = plen;
    plain = NULL;
out:
    OPENSSL_cleanse(key, sizeof(key));
    tg_free_secret(plain, plain != NULL ? plen + 1 : 0);
    tg_free_secret(raw, rlen);
    return err;
}
