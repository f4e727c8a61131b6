/*
 * Opaque access tokens usable only at /userinfo (contract.md §4.3: no audience and no default
 * audience). The token is 32 random bytes, base64url; the store keeps only its SHA-256 (hex)
 * as _id, so a copy of the store holds no usable token. A token minted alongside a refresh
 * token records its family, so revoking the family voids it too.
 */
#include <string.h>

#include "core/util.h"
#include "token.h"

#define TOKEN_BYTES 32

tg_err
token_userinfo_token_issue(const token_app *app, const char *sub, const char *client_id,
                           const char *scope, const char *family_id, int64_t lifetime_s,
                           char **out)
{
    char id[65], *token = NULL;
    json_t *doc = NULL;
    tg_err err;

    *out = NULL;
    if ((err = tg_random_token(TOKEN_BYTES, &token)) != TG_OK)
        return err;
    if ((err = token_hash_id(token, id)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "_id", id, "sub", sub, "client_id",
                    client_id, "scope", scope, "iat", (json_int_t)tg_now_s(), "expires_at",
                    (json_int_t)(tg_now_s() + lifetime_s));
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (family_id != NULL && family_id[0] != '\0' &&
        json_object_set_new(doc, "family_id", json_string(family_id)) != 0) {
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
    if ((err = token_hash_id(token, id)) != TG_OK)
        return err;
    return store_get(app->st, TOKEN_COLL_USERINFO, id, out);
}
