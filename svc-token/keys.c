/*
 * Signing keys. The first replica to start generates a key per algorithm and inserts it under
 * a fixed id; a replica that loses that race reads the winner's key, so every replica signs
 * with the same key. With a master key (every deployment through deploy/local/up has one) the
 * private key is stored sealed (AES-256-GCM, lib/core/seal.h): the store alone reveals nothing.
 * Without one it is stored as PEM, and the start says so.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/seal.h"
#include "core/util.h"

#define SEAL_PURPOSE "signing-key"
#include "token.h"

static tg_err
load_key(store *st, const char *master, jose_alg alg, jose_key **out)
{
    char id[32];
    json_t *doc = NULL;
    const char *sealed;
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    tg_err err;

    *out = NULL;
    snprintf(id, sizeof(id), "active:%s", jose_alg_name(alg));
    if ((err = store_get(st, TOKEN_COLL_KEYS, id, &doc)) != TG_OK)
        return err;
    sealed = json_string_value(json_object_get(doc, "private_sealed"));
    if (sealed != NULL) {
        if ((err = tg_unseal(master, SEAL_PURPOSE, sealed, &pem, &pem_len)) != TG_OK) {
            LOG_ERROR("cannot open the sealed %s signing key: %s (is this the master key it was "
                      "sealed with?)",
                      jose_alg_name(alg), tg_strerror(err));
            goto out;
        }
        err = jose_key_from_pem(alg, (const char *)pem,
                                json_string_value(json_object_get(doc, "cert_pem")), out);
    } else {
        err = jose_key_from_pem(alg, json_string_value(json_object_get(doc, "private_pem")),
                                json_string_value(json_object_get(doc, "cert_pem")), out);
    }
out:
    tg_free_secret(pem, pem_len);
    json_decref(doc);
    return err;
}

static tg_err
create_key(store *st, const char *master, jose_alg alg, const char *cn)
{
    char id[32];
    jose_key *key = NULL;
    char *priv = NULL, *cert = NULL, *sealed = NULL;
    json_t *doc = NULL;
    tg_err err;

    snprintf(id, sizeof(id), "active:%s", jose_alg_name(alg));
    if ((err = jose_key_generate(alg, cn, &key)) != TG_OK)
        goto out;
    if ((err = jose_key_to_pem(key, &priv, &cert)) != TG_OK)
        goto out;
    if (master != NULL && (err = tg_seal(master, SEAL_PURPOSE, priv, strlen(priv), &sealed)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "_id", id, "alg", jose_alg_name(alg),
                    "kid", jose_key_kid(key), sealed != NULL ? "private_sealed" : "private_pem",
                    sealed != NULL ? sealed : priv, "cert_pem", cert, "created_at",
                    (json_int_t)tg_now_s());
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    err = store_insert(st, TOKEN_COLL_KEYS, doc);
    if (err == TG_EEXIST)
        err = TG_OK; /* another replica won the race; its key is the one */
    else if (err == TG_OK)
        LOG_INFO("generated %s signing key kid=%s", jose_alg_name(alg), jose_key_kid(key));
out:
    if (doc != NULL) {
        /* the document may hold a copy of the private key */
        if (sealed == NULL)
            json_object_set_new(doc, "private_pem", json_string(""));
        json_decref(doc);
    }
    free(sealed);
    tg_free_secret_str(priv);
    free(cert);
    jose_key_free(key);
    return err;
}

static tg_err
add_alg(token_keys *keys, store *st, const char *master, jose_alg alg, const char *cn)
{
    jose_key *key = NULL;
    tg_err err;

    if (token_keys_get(keys, alg) != NULL)
        return TG_OK;
    if (keys->n == TOKEN_MAX_KEYS)
        return TG_ETOOBIG;
    err = load_key(st, master, alg, &key);
    if (err == TG_ENOTFOUND) {
        if ((err = create_key(st, master, alg, cn)) != TG_OK)
            return err;
        err = load_key(st, master, alg, &key);
    }
    if (err != TG_OK) {
        LOG_ERROR("cannot load the %s signing key: %s", jose_alg_name(alg), tg_strerror(err));
        return err;
    }
    keys->keys[keys->n++] = key;
    return TG_OK;
}

tg_err
token_keys_init(token_keys *keys, store *st, const config *cfg, const char *cn)
{
    return token_keys_init_sealed(keys, st, cfg, cn, NULL);
}

tg_err
token_keys_init_sealed(token_keys *keys, store *st, const config *cfg, const char *cn,
                       const char *master)
{
    tg_err err;

    memset(keys, 0, sizeof(*keys));
    if (master == NULL)
        LOG_WARN("no master key: private signing keys are stored unsealed");
    if ((err = add_alg(keys, st, master, JOSE_ALG_RS256, cn)) != TG_OK)
        goto fail;
    for (size_t i = 0; i < cfg->n_resource_servers; i++) {
        jose_alg alg = jose_alg_from_name(cfg->resource_servers[i].signing_alg);
        if (alg == JOSE_ALG_HS256 || alg == JOSE_ALG_NONE)
            continue;
        if ((err = add_alg(keys, st, master, alg, cn)) != TG_OK)
            goto fail;
    }
    return TG_OK;
fail:
    token_keys_fini(keys);
    return err;
}

void
token_keys_fini(token_keys *keys)
{
    for (size_t i = 0; i < keys->n; i++)
        jose_key_free(keys->keys[i]);
    memset(keys, 0, sizeof(*keys));
}

const jose_key *
token_keys_get(const token_keys *keys, jose_alg alg)
{
    for (size_t i = 0; i < keys->n; i++)
        if (jose_key_alg(keys->keys[i]) == alg)
            return keys->keys[i];
    return NULL;
}

tg_err
token_store_ensure(store *st)
{
    tg_err err;

    if ((err = store_collection_ensure(st, TOKEN_COLL_KEYS, NULL)) != TG_OK)
        return err;
    if ((err = store_collection_ensure(st, TOKEN_COLL_USERINFO, NULL)) != TG_OK ||
        (err = store_collection_ensure(st, TOKEN_COLL_REFRESH, NULL)) != TG_OK ||
        (err = store_collection_ensure(st, TOKEN_COLL_FAMILIES, NULL)) != TG_OK ||
        (err = store_collection_ensure(st, TOKEN_COLL_REFRESH_LEDGERS, NULL)) != TG_OK ||
        (err = store_collection_ensure(st, TOKEN_COLL_CODE_GRANTS, NULL)) != TG_OK ||
        (err = store_collection_ensure(st, TOKEN_COLL_USER_STATES, NULL)) != TG_OK)
        return err;
    return store_collection_ensure(st, TOKEN_COLL_JTI, NULL);
}
