/*
 * users.VerifyPassword — the password check behind the password and password-realm grants
 * (contract.md §6.3, §21.4). Refusals are Auth0's exact texts:
 *   400 invalid_request "Authorization server not configured with default connection."
 *       (realm "" and no tenant default_directory)
 *   400 invalid_request "the connection was not found" / "the connection was disabled"
 *       (unknown connection / not enabled for the client — Auth0's ROPG wordings)
 *   429 too_many_attempts (brute-force block for this identifier from this IP; the password
 *       is not checked). A password reset lifts it: counters whose last failure is not later
 *       than the user's attempts_reset_at are deleted here (store_users.c).
 *   403 invalid_grant "Wrong email or password." (unknown user or wrong password; an unknown
 *       user is verified against a dummy hash so both cost the same)
 *   401 unauthorized "user is blocked" (only after the right password, so it reveals nothing)
 *   429 too_many_requests with Retry-After: 1 when the hashing threads already hold as many
 *       computations as svc-users allows (--hash-queue): a login flood is turned away rather
 *       than holding every bus worker (hash_pool.c)
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define TOO_MANY_ATTEMPTS                                                                      \
    "Your account has been blocked after multiple consecutive login attempts. We've sent you " \
    "an email with instructions on how to unblock it."
#define DEFAULT_MAX_ATTEMPTS 10

static tg_err
fail(bus_ctx *ctx, Tollgate__Bus__ErrorClass cls, const char *code, const char *text)
{
    return bus_ctx_fail(ctx, cls, code, text);
}

/* Finds the user the identifier names: email, or username on connections with usernames. */
static tg_err
find_user(const users_app *app, const config_connection *conn, const char *identifier,
          json_t **out)
{
    if (strchr(identifier, '@') != NULL)
        return users_store_find_by_email(app->st, conn->name, identifier, out);
    if (conn->requires_username)
        return users_store_find_by_username(app->st, conn->name, identifier, out);
    *out = NULL;
    return TG_ENOTFOUND;
}

/* Whether a password reset since the counter's last failure lifted the block
 * (users_store_set_password). */
static bool
counter_is_stale(const json_t *user, int64_t last_ms)
{
    json_int_t reset_ms = json_integer_value(json_object_get(user, "attempts_reset_at"));

    return user != NULL && reset_ms > 0 && last_ms <= reset_ms;
}

static tg_err
wrong_password(bus_ctx *ctx, const users_app *app, const config_connection *conn,
               const Tollgate__Users__VerifyPasswordRequest *req, bool protect)
{
    if (protect)
        (void)users_store_attempts_fail(app->st, conn->name, req->username, req->client_ip);
    return fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                "Wrong email or password.");
}

tg_err
users_on_verify_password(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__VerifyPasswordRequest *req = (const void *)reqm;
    Tollgate__Users__VerifyPasswordReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const config_tenant *tenant = &app->cfg->tenant;
    const char *realm = req->connection, *pw = req->password, *hash;
    const config_connection *conn;
    Tollgate__Users__User *u = NULL;
    json_t *user = NULL;
    char *new_hash = NULL;
    int64_t attempts = 0, last_ms = 0;
    bool protect;
    tg_err err;

    if (realm[0] == '\0') {
        if (tenant->default_directory == NULL || tenant->default_directory[0] == '\0')
            return fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                        "Authorization server not configured with default connection.");
        realm = tenant->default_directory;
    }
    if ((conn = users_connection_find(app->cfg, realm)) == NULL)
        return fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                    "the connection was not found");
    if (!users_connection_enabled_for_verified(app->cfg, conn, req->client_id))
        return fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                    "the connection was disabled");
    protect = conn->brute_force_protection && tenant->brute_force_enabled;
    if (protect) {
        int64_t max = tenant->brute_force_max_attempts > 0 ? tenant->brute_force_max_attempts
                                                           : DEFAULT_MAX_ATTEMPTS;
        if ((err = users_store_attempts_get(app->st, conn->name, req->username, req->client_ip,
                                            &attempts, &last_ms)) != TG_OK)
            return err; /* fail closed: no password check without the counter */
        if (attempts > 0 && req->username[0] != '\0' &&
            find_user(app, conn, req->username, &user) == TG_OK &&
            counter_is_stale(user, last_ms)) {
            (void)users_store_attempts_clear(app->st, conn->name, req->username,
                                             req->client_ip);
            attempts = 0;
        }
        json_decref(user);
        user = NULL;
        if (attempts >= max)
            return fail(ctx, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, "too_many_attempts",
                        TOO_MANY_ATTEMPTS);
    }
    if (req->username[0] == '\0' || pw[0] == '\0') {
        if (users_hash_verify_dummy(app->hasher, pw, strlen(pw)) == TG_EUNAVAILABLE)
            return bus_ctx_fail_busy(ctx); /* refused before any work: no attempt counted */
        return wrong_password(ctx, app, conn, req, protect);
    }
    err = find_user(app, conn, req->username, &user);
    if (err == TG_ENOTFOUND) {
        err = users_hash_verify_dummy(app->hasher, pw, strlen(pw)) == TG_EUNAVAILABLE
                  ? bus_ctx_fail_busy(ctx)
                  : wrong_password(ctx, app, conn, req, protect);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    hash = json_string_value(json_object_get(user, "password_hash"));
    err = users_hash_verify(app->hasher, hash != NULL ? hash : "", pw, strlen(pw));
    if (err == TG_EINVAL) {
        LOG_WARN("user %s has a password hash in no supported format",
                 json_string_value(json_object_get(user, "_id")));
        if (users_hash_verify_dummy(app->hasher, pw, strlen(pw)) == TG_EUNAVAILABLE)
            err = TG_EUNAVAILABLE;
    }
    if (err == TG_EUNAVAILABLE) { /* the same for known and unknown users */
        err = bus_ctx_fail_busy(ctx);
        goto out;
    }
    if (err == TG_EDENIED || err == TG_EINVAL) {
        err = wrong_password(ctx, app, conn, req, protect);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    if (protect && attempts > 0)
        (void)users_store_attempts_clear(app->st, conn->name, req->username, req->client_ip);
    if (json_is_true(json_object_get(user, "blocked"))) {
        err = fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized",
                   "user is blocked");
        goto out;
    }
    /* Best effort: a failed upgrade leaves the old (still valid) hash in place. */
    if (users_hash_needs_rehash(app->hasher, hash) &&
        users_hash_password(app->hasher, pw, strlen(pw), &new_hash) != TG_OK)
        new_hash = NULL;
    if (users_store_record_login(app->st, user, new_hash) != TG_OK)
        LOG_WARN("login of user %s not recorded", json_string_value(json_object_get(user, "_id")));
    if ((u = bus_ctx_alloc(ctx, sizeof(*u))) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    tollgate__users__user__init(u);
    if ((err = users_user_from_doc(ctx, user, u)) != TG_OK)
        goto out;
    u->logins_count++;
    reply->user = u;
out:
    json_decref(user);
    free(new_hash);
    return err;
}
