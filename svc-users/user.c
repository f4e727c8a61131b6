/*
 * The User message other services see (never the password hash), and users.GetUser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"

static char *
str_field(bus_ctx *ctx, const json_t *doc, const char *name)
{
    const char *v = json_string_value(json_object_get(doc, name));
    return bus_ctx_strdup(ctx, v != NULL ? v : "");
}

/* JSON text of an object field, "" when absent or empty. */
static char *
json_field(bus_ctx *ctx, const json_t *doc, const char *name)
{
    const json_t *v = json_object_get(doc, name);
    char *text, *copy;

    if (!json_is_object(v) || json_object_size(v) == 0)
        return bus_ctx_strdup(ctx, "");
    if ((text = json_dumps(v, JSON_COMPACT)) == NULL)
        return NULL;
    copy = bus_ctx_strdup(ctx, text);
    free(text);
    return copy;
}

char *
users_public_id(bus_ctx *ctx, const json_t *doc)
{
    const char *id = json_string_value(json_object_get(doc, "_id"));
    size_t n;
    char *out;

    if (id == NULL)
        return NULL;
    n = strlen(id) + sizeof("auth0|");
    if ((out = bus_ctx_alloc(ctx, n)) != NULL)
        snprintf(out, n, "auth0|%s", id);
    return out;
}

tg_err
users_user_from_doc(bus_ctx *ctx, const json_t *doc, Tollgate__Users__User *u)
{
    if (json_string_value(json_object_get(doc, "_id")) == NULL)
        return TG_EINTERNAL;
    if ((u->user_id = users_public_id(ctx, doc)) == NULL)
        return TG_ENOMEM;
    u->connection = str_field(ctx, doc, "connection");
    u->email = str_field(ctx, doc, "email");
    u->email_verified = json_is_true(json_object_get(doc, "email_verified"));
    u->username = str_field(ctx, doc, "username");
    u->phone_number = str_field(ctx, doc, "phone_number");
    u->phone_verified = json_is_true(json_object_get(doc, "phone_verified"));
    u->name = str_field(ctx, doc, "name");
    u->given_name = str_field(ctx, doc, "given_name");
    u->family_name = str_field(ctx, doc, "family_name");
    u->nickname = str_field(ctx, doc, "nickname");
    u->picture = str_field(ctx, doc, "picture");
    u->created_at = str_field(ctx, doc, "created_at");
    u->updated_at = str_field(ctx, doc, "updated_at");
    u->user_metadata_json = json_field(ctx, doc, "user_metadata");
    u->app_metadata_json = json_field(ctx, doc, "app_metadata");
    u->blocked = json_is_true(json_object_get(doc, "blocked"));
    u->logins_count = json_integer_value(json_object_get(doc, "logins_count"));
    u->last_login = str_field(ctx, doc, "last_login");
    u->tokens_valid_after = json_integer_value(json_object_get(doc, "tokens_valid_after"));
    if (u->connection == NULL || u->email == NULL || u->username == NULL ||
        u->phone_number == NULL || u->name == NULL || u->given_name == NULL ||
        u->family_name == NULL || u->nickname == NULL || u->picture == NULL ||
        u->created_at == NULL || u->updated_at == NULL || u->user_metadata_json == NULL ||
        u->app_metadata_json == NULL || u->last_login == NULL)
        return TG_ENOMEM;
    return TG_OK;
}

bool
users_id_is_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > USERS_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

tg_err
users_on_get_user(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__GetUserRequest *req = (const void *)reqm;
    Tollgate__Users__GetUserReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const char *id = req->user_id;
    Tollgate__Users__User *u = NULL;
    json_t *doc = NULL;
    tg_err err;

    if (strncmp(id, "auth0|", 6) == 0)
        id += 6;
    if (!users_id_is_valid(id))
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND, "not_found",
                            "The user does not exist.");
    err = users_store_get(app->st, id, &doc);
    if (err == TG_ENOTFOUND)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND, "not_found",
                            "The user does not exist.");
    if (err != TG_OK)
        goto out;
    if ((u = bus_ctx_alloc(ctx, sizeof(*u))) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    tollgate__users__user__init(u);
    if ((err = users_user_from_doc(ctx, doc, u)) != TG_OK)
        goto out;
    reply->user = u;
out:
    json_decref(doc);
    return err;
}
