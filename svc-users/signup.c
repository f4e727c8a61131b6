/*
 * users.Signup — POST /dbconnections/signup (contract.md §10).
 *
 * Error texts (one table, `refusals` below). Where the contract quotes Auth0 the text is
 * Auth0's; the rest are Tollgate's choices, all in the dbconnections shape with status 400:
 *   - bad or missing input: code "invalid_signup" (name BadRequestError) with a description
 *     naming the field and the limit ("Missing required parameter: email", "given_name: at most
 *     300 characters", "user_metadata: at most 10 properties", ...). Auth0 answers some of these
 *     with its JSON-schema texts, which SDKs don't key on.
 *   - unknown connection / connection not enabled for the client: "invalid_signup" with the
 *     ROPG wording "the connection was not found" / "the connection was disabled".
 *   - disable_signup: code "operation_not_allowed", Auth0's text "public signup is disabled".
 *   - password over the hash's byte limit (72 for bcrypt, 1024 for argon2id): never truncated;
 *     "invalid_password" (name PasswordStrengthError) "Password is too long".
 *   - policy: "invalid_password" (name PasswordStrengthError) with password-sheriff's object
 *     description — rendered here as a directive, the generic renderer only has strings.
 *   - dictionary: "password_dictionary_error" "The chosen password is too common."; personal
 *     info: "password_no_user_info_error" "The chosen password is based on user information."
 *   - duplicate: "invalid_signup" "Invalid sign up", or with the tenant flag
 *     enable_public_signup_user_exists_error "user_exists" "The user already exists." /
 *     "username_exists" "The username already exists.".
 *   - requires_username without a username: the error-shape body Auth0 sends, exactly
 *     {"error":"missing username for <connection> connection with requires_username enabled"}.
 * A username sent to a connection without requires_username is ignored (not stored), and
 * usernames may not contain '@' (see validate.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

typedef enum refusal {
    R_MISSING,
    R_INVALID,
    R_NO_CONNECTION,
    R_CONNECTION_DISABLED,
    R_SIGNUP_DISABLED,
    R_PASSWORD_TOO_LONG,
    R_DICTIONARY,
    R_PERSONAL_INFO,
    R_DUPLICATE,
    R_USER_EXISTS,
    R_USERNAME_EXISTS,
} refusal;

static const struct {
    const char *name;
    const char *code;
    const char *text; /* NULL: the caller's detail */
} refusals[] = {
    [R_MISSING] = {"BadRequestError", "invalid_signup", NULL},
    [R_INVALID] = {"BadRequestError", "invalid_signup", NULL},
    [R_NO_CONNECTION] = {"BadRequestError", "invalid_signup", "the connection was not found"},
    [R_CONNECTION_DISABLED] = {"BadRequestError", "invalid_signup",
                               "the connection was disabled"},
    [R_SIGNUP_DISABLED] = {"BadRequestError", "operation_not_allowed",
                           "public signup is disabled"},
    [R_PASSWORD_TOO_LONG] = {"PasswordStrengthError", "invalid_password", "Password is too long"},
    [R_DICTIONARY] = {"PasswordDictionaryError", "password_dictionary_error",
                      "The chosen password is too common."},
    [R_PERSONAL_INFO] = {"PasswordNoUserInfoError", "password_no_user_info_error",
                         "The chosen password is based on user information."},
    [R_DUPLICATE] = {"BadRequestError", "invalid_signup", "Invalid sign up"},
    [R_USER_EXISTS] = {"BadRequestError", "user_exists", "The user already exists."},
    [R_USERNAME_EXISTS] = {"BadRequestError", "username_exists",
                           "The username already exists."},
};

static tg_err
refuse(bus_ctx *ctx, refusal r, const char *detail)
{
    tg_err err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, refusals[r].code,
                              refusals[r].text != NULL ? refusals[r].text : detail);
    bus_ctx_fail_shape(ctx, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN, refusals[r].name);
    return err;
}

/* Replies with a JSON directive; body is borrowed. */
static tg_err
reply_json(bus_ctx *ctx, Tollgate__Users__SignupReply *reply, int status, const json_t *body)
{
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    char *text = json_dumps(body, JSON_COMPACT);
    tg_err err = TG_ENOMEM;

    if (d == NULL || text == NULL)
        goto out;
    tollgate__web__directive__init(d);
    d->status = status;
    d->content_type = "application/json";
    d->body.len = strlen(text);
    if ((d->body.data = bus_ctx_alloc(ctx, d->body.len + 1)) == NULL)
        goto out;
    memcpy(d->body.data, text, d->body.len);
    reply->http = d;
    err = TG_OK;
out:
    free(text);
    return err;
}

typedef struct field_rule {
    const char *name;
    size_t offset;
    size_t max; /* characters */
} field_rule;

#define FIELD(f, m) {#f, offsetof(Tollgate__Users__SignupRequest, f), m}
static const field_rule profile_fields[] = {
    FIELD(given_name, USERS_MAX_FIELD),   FIELD(family_name, USERS_MAX_FIELD),
    FIELD(name, USERS_MAX_FIELD),         FIELD(nickname, USERS_MAX_FIELD),
    FIELD(picture, USERS_MAX_PICTURE),    FIELD(phone_number, USERS_MAX_FIELD),
};

static const char *
field_of(const Tollgate__Users__SignupRequest *req, const field_rule *f)
{
    const char *v = *(char *const *)((const char *)req + f->offset);
    return v != NULL ? v : "";
}

static const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

/* Required parameters, the connection, the email, the username and the profile fields.
 * On refusal ctx or reply is filled and the return value is not TG_OK. */
static tg_err
check_input(bus_ctx *ctx, const users_app *app, const Tollgate__Users__SignupRequest *req,
            const config_connection **conn_out, Tollgate__Users__SignupReply *reply)
{
    static const char *const required[] = {"client_id", "email", "password", "connection"};
    const char *values[] = {nz(req->client_id), nz(req->email), nz(req->password),
                            nz(req->connection)};
    const config_connection *conn;
    char why[160];

    *conn_out = NULL;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (values[i][0] == '\0') {
            snprintf(why, sizeof(why), "Missing required parameter: %s", required[i]);
            return refuse(ctx, R_MISSING, why);
        }
        if (!tg_utf8_is_valid(values[i], strlen(values[i]))) {
            snprintf(why, sizeof(why), "%s: must be valid UTF-8", required[i]);
            return refuse(ctx, R_INVALID, why);
        }
    }
    if ((conn = users_connection_find(app->cfg, req->connection)) == NULL)
        return refuse(ctx, R_NO_CONNECTION, NULL);
    if (!users_connection_enabled_for(app->cfg, conn, req->client_id))
        return refuse(ctx, R_CONNECTION_DISABLED, NULL);
    if (conn->disable_signup)
        return refuse(ctx, R_SIGNUP_DISABLED, NULL);
    if (!users_email_is_valid(req->email))
        return refuse(ctx, R_INVALID, "email: invalid email address");
    if (conn->requires_username) {
        const char *u = nz(req->username);
        if (u[0] == '\0') {
            char text[400];
            json_t *body;
            tg_err err;
            snprintf(text, sizeof(text),
                     "missing username for %s connection with requires_username enabled",
                     conn->name);
            if ((body = json_pack("{s:s}", "error", text)) == NULL)
                return TG_ENOMEM;
            err = reply_json(ctx, reply, 400, body);
            json_decref(body);
            return err == TG_OK ? TG_EDENIED : err;
        }
        if (!users_username_is_valid(conn, u, why, sizeof(why)))
            return refuse(ctx, R_INVALID, why);
    }
    for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++) {
        const char *v = field_of(req, &profile_fields[i]);
        if (!tg_utf8_is_valid(v, strlen(v))) {
            snprintf(why, sizeof(why), "%s: must be valid UTF-8", profile_fields[i].name);
            return refuse(ctx, R_INVALID, why);
        }
        if (users_utf8_length(v) > profile_fields[i].max) {
            snprintf(why, sizeof(why), "%s: at most %zu characters", profile_fields[i].name,
                     profile_fields[i].max);
            return refuse(ctx, R_INVALID, why);
        }
    }
    *conn_out = conn;
    return TG_OK;
}

static int
set_str(json_t *obj, const char *key, const char *v)
{
    return v != NULL && v[0] != '\0' ? json_object_set_new(obj, key, json_string(v)) : 0;
}

/* The connection's policy (users_policy_check: legacy or flexible) against the fields sent. */
static tg_err
check_password(bus_ctx *ctx, const users_app *app, const config_connection *conn,
               const Tollgate__Users__SignupRequest *req, const json_t *meta,
               Tollgate__Users__SignupReply *reply)
{
    users_policy_verdict verdict;
    json_t *report = NULL, *body = NULL, *profile;
    tg_err err;
    int rc = 0;

    if ((profile = json_pack("{s:s, s:O?}", "email", nz(req->email), "user_metadata", meta)) == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++)
        rc |= set_str(profile, profile_fields[i].name, field_of(req, &profile_fields[i]));
    if (conn->requires_username) /* otherwise it is ignored, not stored */
        rc |= set_str(profile, "username", req->username);
    err = rc != 0 ? TG_ENOMEM
                  : users_policy_check(conn, profile, req->password,
                                       users_hash_max_bytes(app->hasher), &verdict, &report);
    json_decref(profile);
    if (err != TG_OK)
        return err;
    switch (verdict) {
    case USERS_POLICY_OK:
        break;
    case USERS_POLICY_TOO_LONG:
        err = refuse(ctx, R_PASSWORD_TOO_LONG, NULL);
        break;
    case USERS_POLICY_WEAK:
        body = json_pack("{s:s, s:s, s:O, s:i}", "name", "PasswordStrengthError", "code",
                         "invalid_password", "description", report, "statusCode", 400);
        err = body == NULL ? TG_ENOMEM : reply_json(ctx, reply, 400, body);
        if (err == TG_OK)
            err = TG_EDENIED;
        break;
    case USERS_POLICY_DICTIONARY:
        err = refuse(ctx, R_DICTIONARY, NULL);
        break;
    case USERS_POLICY_PERSONAL_INFO:
        err = refuse(ctx, R_PERSONAL_INFO, NULL);
        break;
    }
    json_decref(report);
    json_decref(body);
    return err;
}

/* The stored document: the shared core (users_doc_new) plus the profile fields. *out a new
 * reference. */
static tg_err
build_doc(const config_connection *conn, const Tollgate__Users__SignupRequest *req,
          const json_t *meta, const char *id, const char *hash, json_t **out)
{
    const users_new_user u = {.id = id, .email = req->email,
                              .username = conn->requires_username ? req->username : NULL,
                              .password_hash = hash, .user_metadata = meta};
    json_t *doc = NULL;
    tg_err err;
    int rc = 0;

    *out = NULL;
    if ((err = users_doc_new(conn, &u, &doc)) != TG_OK)
        return err;
    for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++)
        rc |= set_str(doc, profile_fields[i].name, field_of(req, &profile_fields[i]));
    if (rc != 0 || (err = users_profile_defaults(doc)) != TG_OK) {
        json_decref(doc);
        return rc != 0 ? TG_ENOMEM : err;
    }
    *out = doc;
    return TG_OK;
}

tg_err
users_doc_new(const config_connection *conn, const users_new_user *u, json_t **out)
{
    char now[32], *email = users_lower(u->email), *email_key = NULL, *username_key = NULL;
    const char *username = nz(u->username);
    json_t *doc = NULL;
    tg_err err = TG_ENOMEM;
    int rc = 0;

    *out = NULL;
    users_store_now_iso(now);
    if (email == NULL)
        goto out;
    if (asprintf(&email_key, "%s|%s", conn->name, email) < 0) {
        email_key = NULL;
        goto out;
    }
    if (username[0] != '\0') {
        char *low = users_lower(username);
        if (low == NULL || asprintf(&username_key, "%s|%s", conn->name, low) < 0)
            username_key = NULL;
        free(low);
        if (username_key == NULL)
            goto out;
    }
    doc = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:[], s:b, s:i, s:s, s:s, s:s}", "_id",
                    u->id, "connection", conn->name, "email", email, "email_verified",
                    u->email_verified,
                    "user_metadata",
                    u->user_metadata != NULL ? json_deep_copy(u->user_metadata) : json_object(),
                    "app_metadata",
                    u->app_metadata != NULL ? json_deep_copy(u->app_metadata) : json_object(),
                    "password_history", "blocked", u->blocked, "logins_count", 0, "created_at",
                    now, "updated_at", now, "email_key", email_key);
    if (doc == NULL)
        goto out;
    if (u->password_hash != NULL) {
        rc |= json_object_set_new(doc, "password_hash", json_string(u->password_hash));
        if (conn->password_history && conn->password_history_size > 0)
            rc |= json_array_append_new(json_object_get(doc, "password_history"),
                                        json_string(u->password_hash));
    }
    rc |= set_str(doc, "username", username);
    rc |= set_str(doc, "username_key", username_key);
    if (rc != 0)
        goto out;
    *out = doc;
    doc = NULL;
    err = TG_OK;
out:
    json_decref(doc);
    free(email);
    free(email_key);
    free(username_key);
    return err;
}

/* A unique key collided: which one, and what the tenant lets us say. */
static tg_err
refuse_duplicate(bus_ctx *ctx, const users_app *app, const config_connection *conn,
                 const char *email)
{
    json_t *found = NULL;
    bool email_taken;

    if (!app->cfg->tenant.signup_user_exists_error)
        return refuse(ctx, R_DUPLICATE, NULL);
    email_taken = users_store_find_by_email(app->st, conn->name, email, &found) == TG_OK;
    json_decref(found);
    return refuse(ctx, email_taken ? R_USER_EXISTS : R_USERNAME_EXISTS, NULL);
}

/* The 200 body: the user as Auth0 echoes it: the email, the username, and the profile fields
 * the request sent (not the defaults the stored profile got). */
static tg_err
reply_created(bus_ctx *ctx, const Tollgate__Users__SignupRequest *req, const json_t *doc,
              Tollgate__Users__SignupReply *reply)
{
    static const char *const keys[] = {"email", "username"};
    json_t *body = json_pack("{s:O, s:b}", "_id", json_object_get(doc, "_id"), "email_verified",
                             0);
    const json_t *meta = json_object_get(doc, "user_metadata");
    tg_err err = TG_ENOMEM;
    int rc = 0;

    if (body == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_get(doc, keys[i]) != NULL)
            rc |= json_object_set(body, keys[i], json_object_get(doc, keys[i]));
    for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++)
        if (field_of(req, &profile_fields[i])[0] != '\0')
            rc |= json_object_set(body, profile_fields[i].name,
                                  json_object_get(doc, profile_fields[i].name));
    if (json_object_size(meta) > 0)
        rc |= json_object_set(body, "user_metadata", (json_t *)meta);
    if (rc == 0)
        err = reply_json(ctx, reply, 200, body);
    json_decref(body);
    return err;
}

tg_err
users_on_signup(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__SignupRequest *req = (const void *)reqm;
    Tollgate__Users__SignupReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const config_connection *conn = NULL;
    char id[USERS_ID_HEX + 1], why[160], *hash = NULL;
    json_t *meta = NULL, *doc = NULL;
    tg_err err;

    if ((err = check_input(ctx, app, req, &conn, reply)) != TG_OK)
        goto out;
    if (req->user_metadata != NULL && nz(req->user_metadata->text)[0] != '\0') {
        if (users_metadata_parse(req->user_metadata->text, &meta, why, sizeof(why)) != TG_OK) {
            err = refuse(ctx, R_INVALID, why);
            goto out;
        }
    } else if ((meta = json_object()) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = check_password(ctx, app, conn, req, meta, reply)) != TG_OK)
        goto out;
    err = users_hash_password(app->hasher, req->password, strlen(req->password), &hash);
    if (err == TG_EUNAVAILABLE) { /* the hashing threads are full (users_hasher_limit) */
        err = bus_ctx_fail_busy(ctx);
        goto out;
    }
    if (err != TG_OK || (err = users_store_new_id(id)) != TG_OK ||
        (err = build_doc(conn, req, meta, id, hash, &doc)) != TG_OK)
        goto out;
    err = users_store_insert(app->st, doc);
    if (err == TG_EEXIST) {
        err = refuse_duplicate(ctx, app, conn, req->email);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    LOG_INFO("signup: user %s on connection %s", id, conn->name);
    err = reply_created(ctx, req, doc, reply);
out:
    /* A refusal already rendered as a directive is a normal reply for the bus. */
    if (err == TG_EDENIED && reply->http != NULL)
        err = TG_OK;
    json_decref(meta);
    json_decref(doc);
    free(hash);
    return err;
}
