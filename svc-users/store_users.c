/*
 * The collections svc-users owns (namespace "users"):
 *   users           one document per user; unique email_key = connection|lower(email) and
 *                   username_key = connection|lower(username) (only when a username is set).
 *   login_attempts  brute-force counters {_id: hex sha256(connection|lower(id)|ip), count,
 *                   last_ms = last failure (epoch ms), expires_at = last failure + 30 days}.
 *   tickets         password-reset tickets (ticket.c).
 *
 * A password reset lifts the user's brute-force blocks without knowing their keys (one per
 * identifier and IP): it sets attempts_reset_at (epoch ms) on the user, and verify.c ignores
 * and deletes counters whose last failure is not later than that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/digest.h"
#include "core/log.h"
#include "core/util.h"
#include "users.h"

tg_err
users_store_ensure(store *st)
{
    static const char *const user_keys[] = {"email_key", "username_key", NULL};
    tg_err err;

    if ((err = store_collection_ensure(st, USERS_COLL_USERS, user_keys)) != TG_OK ||
        (err = store_collection_ensure(st, USERS_COLL_TICKETS, NULL)) != TG_OK)
        return err;
    return store_collection_ensure(st, USERS_COLL_ATTEMPTS, NULL);
}

tg_err
users_store_new_id(char out[USERS_ID_HEX + 1])
{
    unsigned char raw[USERS_ID_HEX / 2];
    tg_err err;

    out[0] = '\0';
    if ((err = tg_random_bytes(raw, sizeof(raw))) != TG_OK)
        return err;
    tg_hex_encode(raw, sizeof(raw), out);
    return TG_OK;
}

void
users_store_now_iso(char out[32])
{
    int64_t ms = tg_now_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char base[24];

    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

/* connection|lower(value), heap; NULL on allocation failure. */
static char *
key_of(const char *connection, const char *value)
{
    char *low = users_lower(value), *key = NULL;
    size_t n;

    if (low == NULL)
        return NULL;
    n = strlen(connection) + strlen(low) + 2;
    if ((key = malloc(n)) != NULL)
        snprintf(key, n, "%s|%s", connection, low);
    free(low);
    return key;
}

tg_err
users_store_insert(store *st, const json_t *doc)
{
    return store_insert(st, USERS_COLL_USERS, doc);
}

static tg_err
find_by_key(store *st, const char *field, const char *connection, const char *value,
            json_t **out)
{
    char *key = key_of(connection, value);
    tg_err err;

    *out = NULL;
    if (key == NULL)
        return TG_ENOMEM;
    err = store_find_one(st, USERS_COLL_USERS, field, key, out);
    free(key);
    return err;
}

tg_err
users_store_find_by_email(store *st, const char *connection, const char *email, json_t **out)
{
    return find_by_key(st, "email_key", connection, email, out);
}

tg_err
users_store_find_by_username(store *st, const char *connection, const char *username,
                             json_t **out)
{
    return find_by_key(st, "username_key", connection, username, out);
}

tg_err
users_store_get(store *st, const char *id, json_t **out)
{
    return store_get(st, USERS_COLL_USERS, id, out);
}

tg_err
users_store_record_login(store *st, const json_t *user, const char *new_hash)
{
    const char *id = json_string_value(json_object_get(user, "_id"));
    json_int_t count = json_integer_value(json_object_get(user, "logins_count"));
    char now[32];
    json_t *set;
    tg_err err;

    if (id == NULL)
        return TG_EINVAL;
    users_store_now_iso(now);
    set = json_pack("{s:I, s:s, s:s}", "logins_count", count + 1, "last_login", now,
                    "updated_at", now);
    if (set == NULL)
        return TG_ENOMEM;
    if (new_hash != NULL && json_object_set_new(set, "password_hash", json_string(new_hash)) != 0)
        err = TG_ENOMEM;
    else
        err = store_update(st, USERS_COLL_USERS, id, set);
    json_decref(set);
    return err;
}

/* hex sha256(connection|lower(identifier)|ip) into out (65 bytes). */
static tg_err
attempts_id(const char *connection, const char *identifier, const char *ip, char out[65])
{
    char *key = key_of(connection, identifier), *full;
    size_t n;
    tg_err err;

    if (key == NULL)
        return TG_ENOMEM;
    n = strlen(key) + strlen(ip) + 2;
    if ((full = malloc(n)) == NULL) {
        free(key);
        return TG_ENOMEM;
    }
    snprintf(full, n, "%s|%s", key, ip);
    err = tg_sha256_hex(full, strlen(full), out);
    free(full);
    free(key);
    return err;
}

tg_err
users_store_attempts_get(store *st, const char *connection, const char *identifier,
                         const char *ip, int64_t *count, int64_t *last_ms)
{
    char id[65];
    json_t *doc = NULL;
    tg_err err;

    *count = 0;
    *last_ms = 0;
    if ((err = attempts_id(connection, identifier, ip, id)) != TG_OK)
        return err;
    err = store_get(st, USERS_COLL_ATTEMPTS, id, &doc);
    if (err == TG_OK) {
        *count = json_integer_value(json_object_get(doc, "count"));
        *last_ms = json_integer_value(json_object_get(doc, "last_ms"));
        /* counters written before last_ms existed: their expiry tells the last failure */
        if (*last_ms == 0)
            *last_ms = (json_integer_value(json_object_get(doc, "expires_at")) -
                        USERS_BLOCK_SECONDS) * 1000;
    }
    json_decref(doc);
    return err == TG_ENOTFOUND ? TG_OK : err;
}

/* Increments the counter. Concurrent failures may lose an increment, never the document: an
 * insert that collides falls back to an update. An expired counter starts again at 1. */
tg_err
users_store_attempts_fail(store *st, const char *connection, const char *identifier,
                          const char *ip)
{
    char id[65];
    json_t *doc = NULL, *set = NULL;
    json_int_t now_ms = tg_now_ms(), expires = now_ms / 1000 + USERS_BLOCK_SECONDS;
    tg_err err;

    if ((err = attempts_id(connection, identifier, ip, id)) != TG_OK)
        return err;
    for (int tries = 0; tries < 3; tries++) {
        err = store_get(st, USERS_COLL_ATTEMPTS, id, &doc);
        if (err == TG_OK) {
            set = json_pack("{s:I, s:I, s:I}", "count",
                            json_integer_value(json_object_get(doc, "count")) + 1, "last_ms",
                            now_ms, "expires_at", expires);
            err = set != NULL ? store_update(st, USERS_COLL_ATTEMPTS, id, set) : TG_ENOMEM;
        } else if (err == TG_ENOTFOUND) {
            /* absent, or expired but not purged yet: drop it and start again */
            (void)store_delete(st, USERS_COLL_ATTEMPTS, id);
            set = json_pack("{s:s, s:i, s:I, s:I}", "_id", id, "count", 1, "last_ms", now_ms,
                            "expires_at", expires);
            err = set != NULL ? store_insert(st, USERS_COLL_ATTEMPTS, set) : TG_ENOMEM;
        }
        json_decref(doc);
        json_decref(set);
        doc = set = NULL;
        if (err != TG_EEXIST && err != TG_ENOTFOUND)
            break;
    }
    if (err != TG_OK)
        LOG_WARN("login attempt counter not updated: %s", tg_strerror(err));
    return err;
}

tg_err
users_store_attempts_clear(store *st, const char *connection, const char *identifier,
                           const char *ip)
{
    char id[65];
    tg_err err;

    if ((err = attempts_id(connection, identifier, ip, id)) != TG_OK)
        return err;
    err = store_delete(st, USERS_COLL_ATTEMPTS, id);
    return err == TG_ENOTFOUND ? TG_OK : err;
}

tg_err
users_store_set_password(store *st, const json_t *user, const char *new_hash,
                         int64_t history_size, int64_t tokens_valid_after)
{
    const char *id = json_string_value(json_object_get(user, "_id"));
    const json_t *old = json_object_get(user, "password_history");
    json_t *set = NULL, *history = json_array();
    int64_t now_ms = tg_now_ms();
    size_t n = json_array_size(old), first;
    char now[32];
    tg_err err = TG_ENOMEM;

    if (id == NULL) {
        json_decref(history);
        return TG_EINVAL;
    }
    if (history == NULL)
        goto out;
    if (history_size > 0) {
        /* keep the newest history_size - 1 old hashes, then the new one */
        first = n + 1 > (size_t)history_size ? n + 1 - (size_t)history_size : 0;
        for (size_t i = first; i < n; i++)
            if (json_array_append(history, json_array_get(old, i)) != 0)
                goto out;
        if (json_array_append_new(history, json_string(new_hash)) != 0)
            goto out;
    }
    users_store_now_iso(now);
    set = json_pack("{s:s, s:O, s:I, s:I, s:s, s:s}", "password_hash", new_hash,
                    "password_history", history, "tokens_valid_after",
                    (json_int_t)tokens_valid_after, "attempts_reset_at", (json_int_t)now_ms,
                    "updated_at", now, "last_password_reset", now);
    if (set == NULL)
        goto out;
    err = store_update(st, USERS_COLL_USERS, id, set);
out:
    json_decref(history);
    json_decref(set);
    return err;
}
