/*
 * Auth0's cap on refresh tokens (contract.md §4: "200 active refresh tokens per user per
 * application; creating the 201st revokes the oldest"). A token here lives in a family (one
 * per login; rotation replaces the token inside it), so the cap counts families: one ledger
 * document per (user, client) lists its families oldest first, with their absolute expiry.
 * Admitting a family drops the expired entries, appends the new one and revokes the oldest
 * beyond the cap; revoking a family removes its entry.
 *
 * The ledger is read, changed and written back under a mutex of this process. Two replicas
 * admitting families of the same user and client at the same instant can still lose one entry
 * (the store has no compare-and-set); that family then escapes the count until it expires,
 * which bounds the error to the concurrent logins of one user on one application.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

static pthread_mutex_t ledger_mu = PTHREAD_MUTEX_INITIALIZER;

static tg_err
ledger_id(const char *user_id, const char *client_id, char id[65])
{
    char *key = NULL;
    tg_err err;

    if (asprintf(&key, "%s\n%s", user_id, client_id) < 0)
        return TG_ENOMEM;
    err = token_hash_id(key, id);
    free(key);
    return err;
}

/* The ledger's families (a new reference; [] when there is no ledger) and whether it exists. */
static tg_err
ledger_read(const token_app *app, const char *id, json_t **families, bool *exists)
{
    json_t *doc = NULL;
    tg_err err = store_get(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, &doc);

    *exists = err == TG_OK;
    if (err == TG_ENOTFOUND) {
        *families = json_array();
        return *families != NULL ? TG_OK : TG_ENOMEM;
    }
    if (err != TG_OK)
        return err;
    *families = json_object_get(doc, "families");
    *families = json_is_array(*families) ? json_deep_copy(*families) : json_array();
    json_decref(doc);
    return *families != NULL ? TG_OK : TG_ENOMEM;
}

static tg_err
ledger_write(const token_app *app, const char *id, json_t *families, bool exists)
{
    json_t *doc = exists ? json_pack("{s:O}", "families", families)
                         : json_pack("{s:s, s:O}", "_id", id, "families", families);
    tg_err err;

    if (doc == NULL)
        return TG_ENOMEM;
    err = exists ? store_update(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, doc)
                 : store_insert(app->st, TOKEN_COLL_REFRESH_LEDGERS, doc);
    if (err == TG_EEXIST && !exists) { /* another replica made it first */
        json_object_del(doc, "_id");
        err = store_update(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, doc);
    }
    json_decref(doc);
    return err;
}

/* An entry is {"f": family id, "e": absolute expiry or 0} (the store allows no array in an
 * array). */
static const char *
entry_family(const json_t *e)
{
    return json_string_value(json_object_get(e, "f"));
}

tg_err
token_refresh_cap_admit(const token_app *app, const char *client_id, const char *user_id,
                        const char *family_id, int64_t family_expires_at, size_t cap)
{
    char id[65];
    json_t *families = NULL, *kept = NULL, *e;
    int64_t now = tg_now_s();
    bool exists = false;
    size_t i;
    tg_err err;

    if ((err = ledger_id(user_id, client_id, id)) != TG_OK)
        return err;
    pthread_mutex_lock(&ledger_mu);
    if ((err = ledger_read(app, id, &families, &exists)) != TG_OK)
        goto out;
    err = TG_ENOMEM;
    if ((kept = json_array()) == NULL)
        goto out;
    json_array_foreach(families, i, e)
    {
        json_int_t exp = json_integer_value(json_object_get(e, "e"));
        if (entry_family(e) != NULL && (exp == 0 || exp > now))
            json_array_append(kept, e);
    }
    if (json_array_append_new(
            kept, json_pack("{s:s, s:I}", "f", family_id, "e", (json_int_t)family_expires_at)) != 0)
        goto out;
    while (json_array_size(kept) > cap) {
        const char *oldest = entry_family(json_array_get(kept, 0));
        tg_err rerr = token_refresh_family_mark_revoked(app, oldest);

        if (rerr != TG_OK && rerr != TG_ENOTFOUND) {
            err = rerr; /* keep the ledger as it was: the next admission tries again */
            goto out;
        }
        LOG_INFO("refresh tokens: over %zu for one user on client %s, oldest family %.8s... "
                 "revoked",
                 cap, client_id, oldest);
        json_array_remove(kept, 0);
    }
    err = ledger_write(app, id, kept, exists);
out:
    pthread_mutex_unlock(&ledger_mu);
    json_decref(families);
    json_decref(kept);
    return err;
}

tg_err
token_refresh_cap_forget(const token_app *app, const char *client_id, const char *user_id,
                         const char *family_id)
{
    char id[65];
    json_t *families = NULL, *e;
    bool exists = false;
    size_t i;
    tg_err err;

    if ((err = ledger_id(user_id, client_id, id)) != TG_OK)
        return err;
    pthread_mutex_lock(&ledger_mu);
    if ((err = ledger_read(app, id, &families, &exists)) != TG_OK || !exists)
        goto out;
    json_array_foreach(families, i, e)
    {
        if (entry_family(e) != NULL && strcmp(entry_family(e), family_id) == 0) {
            json_array_remove(families, i);
            err = ledger_write(app, id, families, true);
            break;
        }
    }
out:
    pthread_mutex_unlock(&ledger_mu);
    json_decref(families);
    return err;
}
