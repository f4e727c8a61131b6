/*
 * Auth0's cap on refresh tokens (contract.md §4: "200 active refresh tokens per user per
 * application; creating the 201st revokes the oldest"). A token here lives in a family (one
 * per login; rotation replaces the token inside it), so the cap counts families: one ledger
 * document per (user, client) lists its families oldest first, with their absolute expiry.
 * Admitting a family drops the expired entries, appends the new one and revokes the oldest
 * beyond the cap; revoking a family removes its entry.
 *
 * The list is one string, "<family id> <expiry>" entries joined by ',' (family ids are
 * base64url): a full ledger is 200 entries, and as a JSON array of objects it cost a third of
 * svc-token's CPU per login to parse and write back (bench/RESULTS.md).
 *
 * The ledger is read, changed and written back under a mutex of this process. Two replicas
 * admitting families of the same user and client at the same instant can still lose one entry
 * (the store has no compare-and-set); that family then escapes the count until it expires,
 * which bounds the error to the concurrent logins of one user on one application.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define FAMILY_ID_MAX 63

typedef struct entry {
    char id[FAMILY_ID_MAX + 1];
    int64_t exp; /* 0: never */
} entry;

typedef struct ledger {
    entry *v;
    size_t n, cap;
    bool exists; /* a stored ledger was read */
} ledger;

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

static tg_err
ledger_push(ledger *l, const char *id, size_t id_len, int64_t exp)
{
    if (id_len == 0 || id_len > FAMILY_ID_MAX)
        return TG_EINVAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        entry *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return TG_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    memcpy(l->v[l->n].id, id, id_len);
    l->v[l->n].id[id_len] = '\0';
    l->v[l->n].exp = exp;
    l->n++;
    return TG_OK;
}

/* Parses "<id> <exp>,..."; an entry that does not parse is dropped (logged once). */
static tg_err
ledger_parse(ledger *l, const char *s)
{
    bool bad = false;

    while (*s != '\0') {
        const char *sp = strchr(s, ' '), *end = strchr(s, ',');
        char *num_end = NULL;
        long long exp;
        tg_err err;

        if (end == NULL)
            end = s + strlen(s);
        if (sp != NULL && sp < end) {
            exp = strtoll(sp + 1, &num_end, 10);
            if (num_end == end && exp >= 0) {
                if ((err = ledger_push(l, s, (size_t)(sp - s), exp)) == TG_ENOMEM)
                    return err;
                bad |= err != TG_OK;
            } else {
                bad = true;
            }
        } else {
            bad = true;
        }
        s = *end == ',' ? end + 1 : end;
    }
    if (bad)
        LOG_WARN("refresh-token ledger: malformed entries dropped");
    return TG_OK;
}

static tg_err
ledger_read(const token_app *app, const char *id, ledger *l)
{
    json_t *doc = NULL;
    const char *list;
    tg_err err = store_get(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, &doc);

    memset(l, 0, sizeof(*l));
    if (err == TG_ENOTFOUND)
        return TG_OK;
    if (err != TG_OK)
        return err;
    l->exists = true;
    list = json_string_value(json_object_get(doc, "families"));
    err = list != NULL ? ledger_parse(l, list) : TG_OK;
    json_decref(doc);
    return err;
}

static tg_err
ledger_write(const token_app *app, const char *id, const ledger *l)
{
    char *text = malloc(l->n * (FAMILY_ID_MAX + 24) + 1);
    size_t off = 0;
    json_t *doc;
    tg_err err;

    if (text == NULL)
        return TG_ENOMEM;
    text[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        off += (size_t)sprintf(text + off, "%s%s %" PRId64, i ? "," : "", l->v[i].id,
                               l->v[i].exp);
    doc = l->exists ? json_pack("{s:s}", "families", text)
                    : json_pack("{s:s, s:s}", "_id", id, "families", text);
    free(text);
    if (doc == NULL)
        return TG_ENOMEM;
    err = l->exists ? store_update(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, doc)
                    : store_insert(app->st, TOKEN_COLL_REFRESH_LEDGERS, doc);
    if (err == TG_EEXIST && !l->exists) { /* another replica made it first */
        json_object_del(doc, "_id");
        err = store_update(app->st, TOKEN_COLL_REFRESH_LEDGERS, id, doc);
    }
    json_decref(doc);
    return err;
}

tg_err
token_refresh_cap_admit(const token_app *app, const char *client_id, const char *user_id,
                        const char *family_id, int64_t family_expires_at, size_t cap)
{
    char id[65];
    ledger l;
    int64_t now = tg_now_s();
    size_t kept = 0, first = 0;
    tg_err err;

    if ((err = ledger_id(user_id, client_id, id)) != TG_OK)
        return err;
    pthread_mutex_lock(&ledger_mu);
    if ((err = ledger_read(app, id, &l)) != TG_OK)
        goto out;
    for (size_t i = 0; i < l.n; i++) /* expired families leave the count */
        if (l.v[i].exp == 0 || l.v[i].exp > now)
            l.v[kept++] = l.v[i];
    l.n = kept;
    if ((err = ledger_push(&l, family_id, strlen(family_id), family_expires_at)) != TG_OK)
        goto out;
    while (l.n - first > cap) {
        const char *oldest = l.v[first].id;
        tg_err rerr = token_refresh_family_mark_revoked(app, oldest);

        if (rerr != TG_OK && rerr != TG_ENOTFOUND) {
            err = rerr; /* keep the ledger as it was: the next admission tries again */
            goto out;
        }
        LOG_INFO("refresh tokens: over %zu for one user on client %s, oldest family %.8s... "
                 "revoked",
                 cap, client_id, oldest);
        first++;
    }
    memmove(l.v, l.v + first, (l.n - first) * sizeof(*l.v));
    l.n -= first;
    err = ledger_write(app, id, &l);
out:
    pthread_mutex_unlock(&ledger_mu);
    free(l.v);
    return err;
}

tg_err
token_refresh_cap_forget(const token_app *app, const char *client_id, const char *user_id,
                         const char *family_id)
{
    char id[65];
    ledger l;
    tg_err err;

    if ((err = ledger_id(user_id, client_id, id)) != TG_OK)
        return err;
    pthread_mutex_lock(&ledger_mu);
    if ((err = ledger_read(app, id, &l)) != TG_OK || !l.exists)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i].id, family_id) == 0) {
            memmove(l.v + i, l.v + i + 1, (l.n - i - 1) * sizeof(*l.v));
            l.n--;
            err = ledger_write(app, id, &l);
            break;
        }
    }
out:
    pthread_mutex_unlock(&ledger_mu);
    free(l.v);
    return err;
}
