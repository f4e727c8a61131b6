/*
 * users.ChangePassword — POST /dbconnections/change_password (contract.md §11): sends a reset
 * link by email. The answer is always 200 text/html "We've just sent you an email to reset
 * your password.", whether or not the user exists (security.md #122): the request does the
 * same lookup and queues one job either way; the mailer's background thread does the rest
 * (mail.c). At most so many emails go to one address (reset_limit.c: Auth0's burst of 10, then
 * one a minute): every request counts against its address, known or not, and one beyond the
 * limit gets the same answer after the same work (the lookup, a queued job that does nothing);
 * only the log says so, naming the address by a hash prefix.
 * Refusals, in the dbconnections shape with status 400 (name BadRequestError):
 *   - "invalid_request" "Missing required parameter: email" / "...: connection";
 *   - "invalid_request" "the connection was not found" (unknown or not a database
 *     connection), "the connection was disabled" (client_id given and not enabled on it);
 *   - "invalid_request" "Self-service password change is disabled for this connection"
 *     (disable_self_service_change_password).
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define SENT "We've just sent you an email to reset your password."

static tg_err
refuse(bus_ctx *ctx, const char *text)
{
    tg_err err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                              text);
    bus_ctx_fail_shape(ctx, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN, "BadRequestError");
    return err;
}

static const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

tg_err
users_on_change_password(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__ChangePasswordRequest *req = (const void *)reqm;
    Tollgate__Users__ChangePasswordReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const char *email = nz(req->email), *client_id = nz(req->client_id);
    const config_connection *conn;
    Tollgate__Web__Directive *d;
    json_t *user = NULL;
    const char *user_id = NULL, *to = NULL;
    char tag[USERS_RESET_TAG_HEX + 1];
    bool allowed = false;
    tg_err err;

    if (email[0] == '\0')
        return refuse(ctx, "Missing required parameter: email");
    if (nz(req->connection)[0] == '\0')
        return refuse(ctx, "Missing required parameter: connection");
    if ((conn = users_connection_find(app->cfg, req->connection)) == NULL)
        return refuse(ctx, "the connection was not found");
    if (client_id[0] != '\0' && !users_connection_enabled_for(app->cfg, conn, client_id))
        return refuse(ctx, "the connection was disabled");
    if (conn->disable_self_service_change_password)
        return refuse(ctx, "Self-service password change is disabled for this connection");
    if (strlen(email) > USERS_MAX_EMAIL || !tg_utf8_is_valid(email, strlen(email)) ||
        !users_email_is_valid(email))
        email = ""; /* looked up anyway (finds nobody), so a bad address costs the same */
    if ((err = users_reset_limit_take(app->st, &app->reset_limit, email, tg_now_s(), &allowed,
                                      tag)) != TG_OK)
        goto out;
    err = users_store_find_by_email(app->st, conn->name, email, &user);
    if (err != TG_OK && err != TG_ENOTFOUND)
        goto out;
    if (user != NULL && !json_is_true(json_object_get(user, "blocked")) &&
        (to = json_string_value(json_object_get(user, "email"))) != NULL)
        user_id = json_string_value(json_object_get(user, "_id"));
    if (!allowed) { /* known or not: the log must not tell either */
        LOG_WARN("reset email limit reached for address #%s: no email sent", tag);
        user_id = NULL;
    }
    err = users_mailer_enqueue_reset(app->mailer, user_id, user_id != NULL ? to : "", conn->name,
                                     bus_ctx_issuer(ctx));
    if (err != TG_OK) /* the same for everyone: the queue does not know who is who */
        LOG_WARN("reset email not queued: %s", tg_strerror(err));
    if ((d = bus_ctx_alloc(ctx, sizeof(*d))) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    tollgate__web__directive__init(d);
    d->status = 200;
    d->content_type = "text/html; charset=utf-8";
    if ((d->body.data = (uint8_t *)bus_ctx_strdup(ctx, SENT)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    d->body.len = strlen(SENT);
    reply->http = d;
    err = TG_OK;
out:
    json_decref(user);
    return err;
}
