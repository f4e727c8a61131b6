/*
 * The per-address limit on password-reset emails, so that POST /dbconnections/change_password
 * cannot mail-bomb a user or flood the SMTP relay. Auth0 documents, for that endpoint, a burst
 * of 10 and then one a minute ("from an IP address to a unique email address", the rate-limit
 * configurations of every plan); Tollgate applies the same figures to the recipient address
 * alone, from whatever IP, and the gateway's per-IP limit does the rest.
 *
 * The bucket is a token bucket made of store documents, so it holds across replicas and
 * restarts on both drivers and never lets concurrent requests past it: time is cut into
 * periods of period_s seconds; period m brings one token, which stays usable for `burst`
 * periods (m .. m + burst - 1). Taking a token is inserting the document
 *     {_id: "reset|<hex sha256(lower(address))>|<burst>|<period_s>|<m>",
 *      expires_at: (m + burst) * period_s}
 * into login_attempts (svc-users' collection of counters, purged of expired documents every
 * minute). The insert on a unique _id is the one operation that is atomic on SQLite, MongoDB
 * and FerretDB alike, so of any number of racing requests exactly one gets each token.
 * A request reads the burst slots of its window (oldest first) and inserts into the first free
 * one, moving on when another request took it meanwhile; with none free it still makes one
 * insert (which collides), so a refused request costs the store what an allowed one does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/util.h"
#include "users.h"

#define SLOT_ID_MAX 128

/* hex sha256(lower(address)) into out (65 bytes). */
static tg_err
address_hash(const char *address, char out[65])
{
    char *low = users_lower(address);
    tg_err err;

    out[0] = '\0';
    if (low == NULL)
        return TG_ENOMEM;
    err = tg_sha256_hex(low, strlen(low), out);
    free(low);
    return err;
}

static void
slot_id(const char *hash, int64_t burst, int64_t period_s, int64_t m, char out[SLOT_ID_MAX])
{
    snprintf(out, SLOT_ID_MAX, "reset|%s|%lld|%lld|%lld", hash, (long long)burst,
             (long long)period_s, (long long)m);
}

/* Inserts slot m's token: TG_OK when this caller took it, TG_EEXIST when someone had. */
static tg_err
slot_take(store *st, const char *hash, int64_t burst, int64_t period_s, int64_t m)
{
    char id[SLOT_ID_MAX];
    json_t *doc;
    tg_err err;

    slot_id(hash, burst, period_s, m, id);
    doc = json_pack("{s:s, s:I}", "_id", id, "expires_at", (json_int_t)((m + burst) * period_s));
    if (doc == NULL)
        return TG_ENOMEM;
    err = store_insert(st, USERS_COLL_ATTEMPTS, doc);
    json_decref(doc);
    return err;
}

tg_err
users_reset_limit_take(store *st, const users_reset_limit *lim, const char *address,
                       int64_t now_s, bool *allowed, char tag[USERS_RESET_TAG_HEX + 1])
{
    int64_t burst = lim != NULL && lim->burst != 0 ? lim->burst : USERS_RESET_BURST;
    int64_t period_s = lim != NULL && lim->period_s != 0 ? lim->period_s : USERS_RESET_PERIOD_S;
    bool is_free[USERS_RESET_BURST_MAX];
    char hash[65], id[SLOT_ID_MAX];
    int64_t first, last;
    json_t *doc = NULL;
    bool tried = false;
    tg_err err;

    *allowed = false;
    tag[0] = '\0';
    if (burst < 1 || burst > USERS_RESET_BURST_MAX || period_s < 1 ||
        period_s > USERS_RESET_PERIOD_MAX_S || now_s < 0)
        return TG_EINVAL;
    if ((err = address_hash(address != NULL ? address : "", hash)) != TG_OK)
        return err;
    memcpy(tag, hash, USERS_RESET_TAG_HEX);
    tag[USERS_RESET_TAG_HEX] = '\0';
    last = now_s / period_s;
    first = last - burst + 1;
    for (int64_t m = first; m <= last; m++) {
        slot_id(hash, burst, period_s, m, id);
        err = store_get(st, USERS_COLL_ATTEMPTS, id, &doc);
        json_decref(doc);
        doc = NULL;
        if (err != TG_OK && err != TG_ENOTFOUND)
            return err;
        is_free[m - first] = err == TG_ENOTFOUND;
    }
    for (int64_t m = first; m <= last && !*allowed; m++) {
        if (!is_free[m - first])
            continue;
        tried = true;
        if ((err = slot_take(st, hash, burst, period_s, m)) == TG_OK)
            *allowed = true;
        else if (err != TG_EEXIST)
            return err;
    }
    if (!tried) { /* the one write an allowed request makes; it collides */
        if ((err = slot_take(st, hash, burst, period_s, last)) == TG_OK)
            *allowed = true;
        else if (err != TG_EEXIST)
            return err;
    }
    return TG_OK;
}
