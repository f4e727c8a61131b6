/*
 * authorize.SignupPage (GET /u/signup?state=) and authorize.SignupSubmit (POST /u/signup): the
 * signup page of a login transaction (/authorize?screen_hint=signup, or the login page's
 * "Sign up" link), for the transaction's database connection.
 *
 * The page is the login page's sibling: no JavaScript, the same double-submit CSRF token (the
 * transaction's), its cookie scoped to Path=/u/signup. The account is made by svc-users'
 * users.Signup (the same checks as POST /dbconnections/signup); its refusals (user exists,
 * weak password, invalid email, signup disabled) re-render the form with the message (the
 * weak-password one with the policy in words). A new account is logged in exactly as the login
 * form does it (authorize_login_finish: the transaction taken once, a new SSO session, the
 * code).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

#define MSG_UNAVAILABLE "The service is temporarily unavailable. Please try again later."
#define MSG_NO_CONNECTION "Sign up is not available for this application."
#define MSG_WEAK "Your password is too weak. "
#define MSG_FAILED "We could not sign you up. Please try again."

const config_connection *
authorize_signup_connection(const authorize_app *app, const json_t *txn)
{
    const char *client_id = authorize_doc_str(txn, "client_id"),
               *name = authorize_doc_str(txn, "connection");
    const config_connection *conn;

    if (name[0] != '\0') {
        conn = config_connection_by_name(app->cfg, name);
        return conn != NULL && config_connection_enabled_for(conn, client_id) ? conn : NULL;
    }
    if (app->cfg->tenant.default_directory != NULL &&
        (conn = config_connection_by_name(app->cfg, app->cfg->tenant.default_directory)) != NULL &&
        config_connection_enabled_for(conn, client_id))
        return conn;
    for (size_t i = 0; i < app->cfg->n_connections; i++)
        if (config_connection_enabled_for(&app->cfg->connections[i], client_id))
            return &app->cfg->connections[i];
    return NULL;
}

bool
authorize_signup_is_offered(const authorize_app *app, const json_t *txn)
{
    const config_connection *conn = authorize_signup_connection(app, txn);

    return conn != NULL && !conn->disable_signup;
}

/* The signup page (again) with the CSRF cookie; email, username and error may be NULL. */
static tg_err
reply_signup(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
             int status, const json_t *txn, const config_connection *conn, const char *email,
             const char *username, const char *error)
{
    const config_client *client =
        authorize_client_find(ctx, app, authorize_doc_str(txn, "client_id"));
    authorize_cookies cookies = {.n = 1};
    char cookie[160], policy[512];

    snprintf(cookie, sizeof(cookie),
             AUTHORIZE_CSRF_COOKIE "=%s; Path=/u/signup; Secure; HttpOnly; SameSite=Strict",
             authorize_doc_str(txn, "csrf"));
    cookies.v[0] = cookie;
    authorize_policy_text(conn, policy, sizeof(policy));
    authorize_signup_view v = {
        .brand = &app->cfg->tenant.branding,
        .client_name = client != NULL ? client->name : NULL,
        .state = authorize_doc_str(txn, "_id"),
        .csrf = authorize_doc_str(txn, "csrf"),
        .email = email,
        .username = username,
        .policy = policy,
        .error = error,
        .ask_username = conn->requires_username,
    };
    return authorize_reply_html(ctx, reply, status, authorize_signup_html(&v),
                                authorize_form_csp(ctx, authorize_doc_str(txn, "redirect_uri")),
                                &cookies);
}

tg_err
authorize_on_signup_page(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__LoginPageRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const config_connection *conn;
    json_t *txn = NULL;
    tg_err err;

    err = authorize_txn_load(ctx, app, req->state, &txn);
    if (err == TG_ENOTFOUND)
        err = authorize_reply_txn_invalid(ctx, app, reply);
    else if (err == TG_OK && (conn = authorize_signup_connection(app, txn)) == NULL)
        err = authorize_reply_error_page(ctx, app, reply, 400, "invalid_request",
                                         MSG_NO_CONNECTION);
    else if (err == TG_OK)
        err = reply_signup(ctx, app, reply, 200, txn, conn, authorize_doc_str(txn, "login_hint"),
                           NULL, NULL);
    json_decref(txn);
    return err;
}

/* What a 400 directive from users.Signup says, in words for the page (into buf). Its body is
 * the dbconnections error (a string description, or password-sheriff's report object for a
 * weak password) or {"error": "..."}. */
static void
directive_message(const Tollgate__Web__Directive *d, const config_connection *conn, char *buf,
                  size_t len)
{
    json_t *body = json_loadb((const char *)d->body.data, d->body.len, 0, NULL);
    const json_t *desc = json_object_get(body, "description");
    char policy[512];

    snprintf(buf, len, "%s", MSG_FAILED);
    if (strcmp(authorize_doc_str(body, "code"), "invalid_password") == 0 && !json_is_string(desc)) {
        authorize_policy_text(conn, policy, sizeof(policy));
        snprintf(buf, len, MSG_WEAK "%s", policy);
    } else if (json_is_string(desc)) {
        snprintf(buf, len, "%s", json_string_value(desc));
    } else if (json_is_string(json_object_get(body, "error"))) {
        snprintf(buf, len, "%s", authorize_doc_str(body, "error"));
    }
    json_decref(body);
}

/* The _id of the user a 200 directive of users.Signup echoes, as "auth0|<_id>" into buf;
 * false when the body is not what svc-users sends. */
static bool
created_user_id(const Tollgate__Web__Directive *d, char *buf, size_t len)
{
    json_t *body = json_loadb((const char *)d->body.data, d->body.len, 0, NULL);
    const char *id = authorize_doc_str(body, "_id");
    int n = snprintf(buf, len, "auth0|%s", id);
    bool ok = id[0] != '\0' && n > 0 && (size_t)n < len;

    json_decref(body);
    return ok;
}

/* Calls users.Signup; on refusal re-renders the form (*user_id stays ""). */
static tg_err
signup_call(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
            const Tollgate__Authorize__SignupSubmitRequest *req, const json_t *txn,
            const config_connection *conn, char *user_id, size_t idlen)
{
    Tollgate__Users__SignupRequest sreq = TOLLGATE__USERS__SIGNUP_REQUEST__INIT;
    Tollgate__Users__SignupReply *sreply = NULL;
    bus_result *refusal = NULL;
    char msg[768];
    tg_err err;

    user_id[0] = '\0';
    sreq.web = req->web;
    sreq.client_id = (char *)authorize_doc_str(txn, "client_id");
    sreq.connection = conn->name;
    sreq.email = req->email;
    sreq.password = req->password;
    sreq.username = conn->requires_username ? req->username : (char *)"";
    err = authorize_users_call(ctx, app, "users.Signup", &sreq.base,
                               &tollgate__users__signup_reply__descriptor,
                               (ProtobufCMessage **)&sreply, &refusal);
    if (err == TG_EDENIED && refusal != NULL) {
        err = reply_signup(ctx, app, reply, 400, txn, conn, req->email, req->username,
                           refusal->error->error_description);
        goto out;
    }
    if (err == TG_EUNAVAILABLE) {
        err = authorize_reply_error_page(ctx, app, reply, 503, "temporarily_unavailable",
                                         MSG_UNAVAILABLE);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    if (sreply->http != NULL && sreply->http->status == 200 &&
        created_user_id(sreply->http, user_id, idlen))
        goto out;
    user_id[0] = '\0';
    if (sreply->http == NULL || sreply->http->status != 400) {
        LOG_ERROR("svc-users answered a signup with neither a user nor a refusal");
        err = TG_EPROTO;
        goto out;
    }
    directive_message(sreply->http, conn, msg, sizeof(msg));
    err = reply_signup(ctx, app, reply, 400, txn, conn, req->email, req->username, msg);
out:
    if (sreply != NULL)
        protobuf_c_message_free_unpacked(&sreply->base, NULL);
    bus_result_free(refusal);
    return err;
}

tg_err
authorize_on_signup_submit(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__SignupSubmitRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *cookie_header = req->web != NULL ? req->web->cookie : NULL;
    const config_connection *conn;
    char user_id[128];
    json_t *txn = NULL;
    tg_err err;

    err = authorize_form_txn(ctx, app, reply, req->state, req->web, req->csrf_token, NULL, &txn);
    if (err != TG_OK || txn == NULL)
        goto out;
    if ((conn = authorize_signup_connection(app, txn)) == NULL) {
        err = authorize_reply_error_page(ctx, app, reply, 400, "invalid_request",
                                         MSG_NO_CONNECTION);
        goto out;
    }
    if ((err = signup_call(ctx, app, reply, req, txn, conn, user_id, sizeof(user_id))) != TG_OK ||
        user_id[0] == '\0')
        goto out;
    LOG_INFO("signup page: user %s on connection %s", user_id, conn->name);
    err = authorize_login_finish(ctx, app, reply, cookie_header, txn, user_id);
out:
    json_decref(txn);
    return err;
}
