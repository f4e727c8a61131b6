/*
 * Password-reset tickets (collection `tickets`). The link carries 32 random bytes as
 * base64url; the store keeps only their SHA-256 (hex) as _id, so a copy of the database does
 * not hold usable links. Each ticket also holds a random CSRF token for the reset form (the
 * double-submit cookie, reset_page.c). A ticket is taken exactly once with store_consume.
 */
#include <string.h>

#include "core/digest.h"
#include "core/util.h"
#include "users.h"

/* hex sha256 of a well-formed ticket into out (65 bytes); TG_ENOTFOUND for anything that is
 * not base64url of the right length, so hostile input never reaches the store. */
static tg_err
ticket_id(const char *ticket, char out[65])
{
    size_t n = ticket != NULL ? strlen(ticket) : 0;

    out[0] = '\0';
    if (n < 40 || n > USERS_TICKET_MAX)
        return TG_ENOTFOUND;
    for (size_t i = 0; i < n; i++) {
        char c = ticket[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return TG_ENOTFOUND;
    }
    return tg_sha256_hex(ticket, n, out);
}

tg_err
users_ticket_issue(store *st, const char *user_id, const char *connection, int64_t lifetime_s,
                   char **ticket_out)
{
    char *ticket = NULL, *csrf = NULL, id[65];
    json_t *doc = NULL;
    tg_err err;

    *ticket_out = NULL;
    if ((err = tg_random_token(USERS_TICKET_BYTES, &ticket)) != TG_OK ||
        (err = tg_random_token(USERS_TICKET_BYTES, &csrf)) != TG_OK ||
        (err = ticket_id(ticket, id)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "_id", id, "user_id", user_id,
                    "connection", connection, "purpose", "reset", "csrf", csrf, "expires_at",
                    (json_int_t)(tg_now_s() + lifetime_s));
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(st, USERS_COLL_TICKETS, doc)) != TG_OK)
        goto out;
    *ticket_out = ticket;
    ticket = NULL;
out:
    json_decref(doc);
    tg_free_secret_str(ticket);
    tg_free_secret_str(csrf);
    return err;
}

static bool
is_live_reset(const json_t *doc)
{
    const char *purpose = json_string_value(json_object_get(doc, "purpose"));

    return purpose != NULL && strcmp(purpose, "reset") == 0 &&
           json_object_get(doc, "consumed_by") == NULL &&
           json_string_value(json_object_get(doc, "user_id")) != NULL &&
           json_string_value(json_object_get(doc, "csrf")) != NULL;
}

tg_err
users_ticket_find(store *st, const char *ticket, json_t **out)
{
    char id[65];
    json_t *doc = NULL;
    tg_err err;

    *out = NULL;
    if ((err = ticket_id(ticket, id)) != TG_OK)
        return err;
    if ((err = store_get(st, USERS_COLL_TICKETS, id, &doc)) != TG_OK)
        return err;
    if (!is_live_reset(doc)) {
        json_decref(doc);
        return TG_ENOTFOUND;
    }
    *out = doc;
    return TG_OK;
}

tg_err
users_ticket_consume(store *st, const char *ticket, const char *consumer)
{
    char id[65];
    json_t *doc = NULL;
    tg_err err;

    if ((err = ticket_id(ticket, id)) != TG_OK)
        return err;
    err = store_consume(st, USERS_COLL_TICKETS, id, consumer, &doc);
    json_decref(doc);
    return err;
}
