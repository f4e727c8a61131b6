#include "core/digest.h"

#include <openssl/evp.h>
#include <pthread.h>

#include "core/util.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched; /* kept for the life of the process */

static void
sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

tg_err
tg_sha256(const void *data, size_t len, unsigned char out[TG_SHA256_LEN])
{
    const EVP_MD *md;
    unsigned int n = 0;

    pthread_once(&sha256_once, sha256_fetch);
    md = sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
    if (EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != TG_SHA256_LEN)
        return TG_ECRYPTO;
    return TG_OK;
}

tg_err
tg_sha256_hex(const void *data, size_t len, char out[2 * TG_SHA256_LEN + 1])
{
    unsigned char md[TG_SHA256_LEN];
    tg_err err = tg_sha256(data, len, md);

    out[0] = '\0';
    if (err == TG_OK)
        tg_hex_encode(md, sizeof(md), out);
    return err;
}
