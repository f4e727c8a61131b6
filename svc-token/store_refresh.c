/*
 * Refresh tokens and their families in svc-token's store (contract.md §4.4, §21.1). Only the
 * SHA-256 of a token is stored. A family is the unit of revocation: reuse detection, the
 * /oauth/revoke endpoint and a user's tokens_valid_after all revoke whole families.
 * Auth0's limit of 200 live refresh tokens per user and application is kept by
 * refresh_cap.c: every new family is admitted there, every revoked one forgotten.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/digest.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define RT_BYTES 32
#define FAMILY_BYTES 16
#define RT_STAMP_HEX 16 /* the issue time in a token and its id: epoch microseconds, hex */
#define RT_PREFIX "v1."
#define RT_PREFIX_LEN 3

tg_err
token_hash_id(const char *token, char id[65])
{
    return tg_sha256_hex(token, strlen(token), id);
}

/*
 * A token's id. Tokens of this format ("v1.<stamp>.<secret>") lead their id with their stamp,
 * so the ids of tokens issued one after another sit side by side in the store's index: a
 * rotation then changes the same few pages as the one before it, instead of one anywhere in
 * an index as large as every live token (bench/RESULTS.md). The rest of the id is the first
 * 192 bits of the hex SHA-256 of the whole token, so a copy of the store still yields no usable
 * token. Any other token (those issued before this format, and forgeries) is looked up by its
 * whole hash, as before.
 */
tg_err
token_refresh_id(const char *token, char id[65])
{
    const char *stamp = token + RT_PREFIX_LEN;
    tg_err err = token_hash_id(token, id);

    if (err != TG_OK || strncmp(token, RT_PREFIX, RT_PREFIX_LEN) != 0 ||
        strspn(stamp, "0123456789abcdef") != RT_STAMP_HEX || stamp[RT_STAMP_HEX] != '.')
        return err;
    memmove(id + RT_STAMP_HEX, id, 64 - RT_STAMP_HEX);
    memcpy(id, stamp, RT_STAMP_HEX);
    id[64] = '\0';
    return TG_OK;
}

bool
token_refresh_allowed(const config_client *client, const config_resource_server *api,
                      const char *scope)
{
    return token_scope_has(scope, "offline_access") &&
           token_client_allows_grant(client, "refresh_token") &&
           (api == NULL || api->allow_offline_access);
}

tg_err
token_refresh_family_new(bus_ctx *ctx, const token_app *app, const config_client *client,
                         const char *user_id, char **family_id)
{
    const config_refresh_token *rc = &client->refresh_token;
    int64_t expires = rc->infinite_token_lifetime ? 0 : tg_now_s() + rc->token_lifetime;
    char *id = NULL;
    json_t *doc = NULL;
    tg_err err;

    *family_id = NULL;
    if ((err = tg_random_token(FAMILY_BYTES, &id)) != TG_OK)
        return err;
    doc = json_pack("{s:s, s:b, s:s, s:s}", "_id", id, "revoked", 0, "client_id",
                    client->client_id, "user_id", user_id);
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    /* The family record outlives every token of it, then goes with the purge. */
    if (expires != 0)
        json_object_set_new(doc, "expires_at", json_integer((json_int_t)expires));
    if ((err = store_insert(app->st, TOKEN_COLL_FAMILIES, doc)) != TG_OK)
        goto out;
    if ((err = token_refresh_cap_admit(app, client->client_id, user_id, id, expires,
                                       TOKEN_REFRESH_CAP)) != TG_OK)
        goto out;
    if ((*family_id = bus_ctx_strdup(ctx, id)) == NULL)
        err = TG_ENOMEM;
out:
    json_decref(doc);
    free(id);
    return err;
}

tg_err
token_refresh_mint(bus_ctx *ctx, char **token, char **id)
{
    char *raw = NULL, hex[65];
    size_t len;
    tg_err err;

    *token = *id = NULL;
    if ((err = tg_random_token(RT_BYTES, &raw)) != TG_OK)
        return err;
    len = RT_PREFIX_LEN + RT_STAMP_HEX + 1 + strlen(raw) + 1;
    if ((*token = bus_ctx_alloc(ctx, len)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    snprintf(*token, len, RT_PREFIX "%016" PRIx64 ".%s", (uint64_t)tg_now_us(), raw);
    if ((err = token_refresh_id(*token, hex)) == TG_OK && (*id = bus_ctx_strdup(ctx, hex)) == NULL)
        err = TG_ENOMEM;
out:
    if (err != TG_OK)
        *token = *id = NULL;
    tg_free_secret_str(raw);
    return err;
}

tg_err
token_refresh_record(const config_client *client, const char *id, const char *family_id,
                     int64_t family_expires_at, const char *user_id, const char *audience,
                     const char *scope, json_t **doc_out)
{
    const config_refresh_token *rc = &client->refresh_token;
    int64_t now = tg_now_s(), expires = family_expires_at;
    json_t *doc;

    *doc_out = NULL;
    if (!rc->infinite_idle_token_lifetime &&
        (expires == 0 || now + rc->idle_token_lifetime < expires))
        expires = now + rc->idle_token_lifetime;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "_id", id, "family_id",
                    family_id, "client_id", client->client_id, "user_id", user_id, "audience",
                    audience, "scope", scope, "issued_at", (json_int_t)now, "rotating",
                    rc->rotating);
    if (doc == NULL)
        return TG_ENOMEM;
    if ((family_expires_at != 0 &&
         json_object_set_new(doc, "family_expires_at", json_integer(family_expires_at)) != 0) ||
        (expires != 0 && json_object_set_new(doc, "expires_at", json_integer(expires)) != 0)) {
        json_decref(doc);
        return TG_ENOMEM;
    }
    *doc_out = doc;
    return TG_OK;
}

tg_err
token_refresh_new(bus_ctx *ctx, const config_client *client, const char *family_id,
                  int64_t family_expires_at, const char *user_id, const char *audience,
                  const char *scope, char **out, char **id_out, json_t **doc_out)
{
    char *token = NULL, *id = NULL;
    tg_err err = token_refresh_mint(ctx, &token, &id);

    *out = NULL;
    *doc_out = NULL;
    if (id_out != NULL)
        *id_out = NULL;
    if (err == TG_OK)
        err = token_refresh_record(client, id, family_id, family_expires_at, user_id, audience,
                                   scope, doc_out);
    if (err != TG_OK)
        return err;
    *out = token;
    if (id_out != NULL)
        *id_out = id;
    return TG_OK;
}

tg_err
token_refresh_issue(bus_ctx *ctx, const token_app *app, const config_client *client,
                    const char *family_id, int64_t family_expires_at, const char *user_id,
                    const char *audience, const char *scope, char **out, char **id_out)
{
    json_t *doc = NULL;
    tg_err err;

    err = token_refresh_new(ctx, client, family_id, family_expires_at, user_id, audience, scope,
                            out, id_out, &doc);
    if (err == TG_OK && (err = store_insert(app->st, TOKEN_COLL_REFRESH, doc)) != TG_OK)
        *out = NULL;
    json_decref(doc);
    return err;
}

tg_err
token_refresh_family_mark_revoked(const token_app *app, const char *family_id)
{
    json_t *set = json_pack("{s:b}", "revoked", 1);
    tg_err err;

    if (set == NULL)
        return TG_ENOMEM;
    err = store_update(app->st, TOKEN_COLL_FAMILIES, family_id, set);
    json_decref(set);
    if (err == TG_OK)
        LOG_INFO("refresh-token family %.8s... revoked", family_id);
    return err;
}

tg_err
token_refresh_family_revoke(const token_app *app, const char *family_id)
{
    json_t *fam = NULL;
    tg_err err;

    if ((err = token_refresh_family_mark_revoked(app, family_id)) != TG_OK)
        return err;
    /* out of the per-user count; a failure only over-counts until the family expires */
    if (store_get(app->st, TOKEN_COLL_FAMILIES, family_id, &fam) == TG_OK) {
        const char *client_id = json_string_value(json_object_get(fam, "client_id"));
        const char *user_id = json_string_value(json_object_get(fam, "user_id"));
        if (client_id != NULL && user_id != NULL)
            (void)token_refresh_cap_forget(app, client_id, user_id, family_id);
        json_decref(fam);
    }
    return TG_OK;
}

bool
token_refresh_family_is_live(const token_app *app, const char *family_id)
{
    json_t *doc = NULL;
    bool live;

    if (store_get(app->st, TOKEN_COLL_FAMILIES, family_id, &doc) != TG_OK)
        return false;
    live = !json_is_true(json_object_get(doc, "revoked"));
    json_decref(doc);
    return live;
}
