/*
 * Opaque access tokens usable only at /userinfo (contract.md §4.3: no audience and no default
 * audience). The token is 32 random bytes, base64url; the store keeps only its SHA-256 (hex)
 * as _id, so a copy of the store holds no usable token.
 */
#include <openssl/evp.h>
#include <string.h>

#include "core/util.h"
#include "token.h"

#define TOKEN_BYTES 32

static tg_err
token_id(const char *token, char id[65])
{
    unsigned char digest[32];
    unsigned int len = 0;

    if (EVP_Digest(token, strlen(token), digest, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return TG_ECRYPTO;
    tg_hex_encode(digest, sizeof(digest), id);
    return TG_OK;
}

tg_err
token_userinfo_token_issue(const token_app *app, const char *sub, const char *client_id,
                           const char *scope, char **out)
{
    char id[65], *token = NULL;
    json_t *doc = NULL;
    tg_err err;

    *out = NULL;
    if ((err = tg_random_token(TOKEN_BYTES, &token)) != TG_OK)
        return err;
    if ((err = token_id(token, id)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:I}", "_id", id, "sub", sub, "client_id", client_id,
                    "scope", scope,
                    "expires_at", (json_int_t)(tg_now_s() + TOKEN_USERINFO_LIFETIME));
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, TOKEN_COLL_USERINFO, doc)) != TG_OK)
        goto out;
    *out = token;
    token = NULL;
out:
    json_decref(doc);
    tg_free_secret_str(token);
    return err;
}

tg_err
token_userinfo_token_find(const token_app *app, const char *token, json_t **out)
{
    char id[65];
    tg_err err;

    *out = NULL;
    if ((err = token_id(token, id)) != TG_OK)
        return err;
    return store_get(app->st, TOKEN_COLL_USERINFO, id, out);
}
