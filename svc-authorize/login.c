/*
 * authorize.LoginPage (GET /u/login?state=) and authorize.LoginSubmit (POST /u/login): the
 * server-rendered login page of a login transaction. Plain HTML form, no JavaScript; headers
 * forbid framing (clickjacking), scripts, foreign form targets and referrers.
 *
 * CSRF is a double submit bound to the transaction: the transaction holds a random token; the
 * page puts it in a hidden field and in the cookie tg_login_csrf (Path /u/login, Secure,
 * HttpOnly, SameSite=Strict), and the POST must carry both, equal to the transaction's
 * (constant time), else 403.
 *
 * The password check is svc-users' users.VerifyPassword; its refusal text ("Wrong email or
 * password.", the brute-force block, "user is blocked") is shown on the page as it is. A good
 * password takes the transaction exactly once (store_consume), starts a new SSO session and
 * sends the code to the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/web.h"
#include "core/log.h"
#include "core/util.h"

#define MSG_TXN_INVALID                                                                            \
    "This login link is invalid or has expired. Return to the application and sign in again."
#define MSG_CSRF "This form could not be verified. Return to the application and sign in again."
#define MSG_UNAVAILABLE "The service is temporarily unavailable. Please try again later."
#define CSRF_MAX 64

void
authorize_txn_target(const json_t *txn, authorize_target *t)
{
    const char *state = json_string_value(json_object_get(txn, "state"));
    json_int_t mode = json_integer_value(json_object_get(txn, "response_mode"));

    t->redirect_uri = json_string_value(json_object_get(txn, "redirect_uri"));
    t->state = state != NULL ? state : "";
    /* web_message too: auth0-spa-js's loginWithPopup logs in interactively in the popup,
     * whose answer page posts to window.opener (the origin was checked at /authorize) */
    t->mode = mode == AUTHORIZE_MODE_FRAGMENT || mode == AUTHORIZE_MODE_FORM_POST ||
                      mode == AUTHORIZE_MODE_WEB_MESSAGE
                  ? (authorize_mode)mode
                  : AUTHORIZE_MODE_QUERY;
    t->response_type = (unsigned)json_integer_value(json_object_get(txn, "response_type"));
}

tg_err
authorize_txn_load(bus_ctx *ctx, const authorize_app *app, const char *state, json_t **out)
{
    const char *by;
    tg_err err;

    *out = NULL;
    if (state == NULL || state[0] == '\0' || strlen(state) > 64)
        return TG_ENOTFOUND;
    if ((err = store_get(app->st, AUTHORIZE_COLL_TXN, state, out)) != TG_OK)
        return err;
    by = json_string_value(json_object_get(*out, "consumed_by"));
    if (by != NULL && strcmp(by, bus_ctx_request_id(ctx)) != 0) {
        json_decref(*out);
        *out = NULL;
        return TG_ENOTFOUND;
    }
    return TG_OK;
}

tg_err
authorize_reply_txn_invalid(bus_ctx *ctx, const authorize_app *app,
                            Tollgate__Authorize__PageReply *reply)
{
    return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request", MSG_TXN_INVALID);
}

tg_err
authorize_txn_start(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
                    json_t *fields, const char *page)
{
    char *id = NULL, *csrf = NULL, *location = NULL;
    tg_err err;

    if ((err = tg_random_token(AUTHORIZE_TXN_BYTES, &id)) != TG_OK ||
        (err = tg_random_token(AUTHORIZE_SECRET_BYTES, &csrf)) != TG_OK)
        goto out;
    if (json_object_set_new(fields, "_id", json_string(id)) != 0 ||
        json_object_set_new(fields, "csrf", json_string(csrf)) != 0 ||
        json_object_set_new(fields, "expires_at",
                            json_integer((json_int_t)tg_now_s() + AUTHORIZE_TXN_SECONDS)) != 0) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, AUTHORIZE_COLL_TXN, fields)) != TG_OK)
        goto out;
    if (asprintf(&location, "/u/%s?state=%s", page, id) < 0) {
        location = NULL;
        err = TG_ENOMEM;
        goto out;
    }
    err = authorize_reply_redirect(ctx, reply, location, NULL);
out:
    free(id);
    tg_free_secret_str(csrf);
    free(location);
    return err;
}

/* The login page (again), with error (may be NULL) and the CSRF cookie. */
static tg_err
reply_login(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
            int status, const json_t *txn, const char *username, const char *error)
{
    const config_client *client =
        authorize_client_find(ctx, app, authorize_doc_str(txn, "client_id"));
    authorize_cookies cookies = {.n = 1};
    char cookie[160];

    snprintf(cookie, sizeof(cookie),
             AUTHORIZE_CSRF_COOKIE "=%s; Path=/u/login; Secure; HttpOnly; SameSite=Strict",
             authorize_doc_str(txn, "csrf"));
    cookies.v[0] = cookie;
    return authorize_reply_html(
        ctx, reply, status,
        authorize_login_html(&app->cfg->tenant.branding, client != NULL ? client->name : NULL,
                             authorize_doc_str(txn, "_id"), authorize_doc_str(txn, "csrf"),
                             username, error, authorize_signup_is_offered(app, txn)),
        authorize_form_csp(ctx, authorize_doc_str(txn, "redirect_uri")), &cookies);
}

tg_err
authorize_on_login_page(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__LoginPageRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    json_t *txn = NULL;
    tg_err err;

    err = authorize_txn_load(ctx, app, req->state, &txn);
    if (err == TG_ENOTFOUND)
        err = authorize_reply_txn_invalid(ctx, app, reply);
    else if (err == TG_OK)
        err = reply_login(ctx, app, reply, 200, txn, authorize_doc_str(txn, "login_hint"), NULL);
    json_decref(txn);
    return err;
}

bool
authorize_csrf_ok(const char *cookie_header, const char *form_token, const char *expected)
{
    char cookie[CSRF_MAX + 1];
    bool a, b;

    if (expected[0] == '\0' ||
        !tg_cookie_get(cookie_header, AUTHORIZE_CSRF_COOKIE, cookie, sizeof(cookie)))
        return false;
    /* both compared, always, so the time says nothing about which one failed */
    a = tg_ct_streq(cookie, expected);
    b = tg_ct_streq(form_token, expected);
    return a && b;
}

tg_err
authorize_form_txn(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
                   const char *state, const Tollgate__Web__Context *web, const char *csrf_token,
                   const char *kind, json_t **txn)
{
    tg_err err = authorize_txn_load(ctx, app, state, txn);

    if (err == TG_OK && kind != NULL && strcmp(authorize_doc_str(*txn, "kind"), kind) != 0)
        err = TG_ENOTFOUND;
    if (err == TG_OK && !authorize_csrf_ok(web != NULL ? web->cookie : NULL, csrf_token,
                                           authorize_doc_str(*txn, "csrf")))
        err = authorize_reply_error_page(ctx, app, reply, 403, "invalid_request", MSG_CSRF);
    else if (err == TG_ENOTFOUND)
        err = authorize_reply_txn_invalid(ctx, app, reply);
    else if (err == TG_OK)
        return TG_OK;
    json_decref(*txn);
    *txn = NULL;
    return err;
}

/* The page status for a svc-users refusal. */
static int
refusal_status(const Tollgate__Bus__Error *e)
{
    switch (e->error_class) {
    case TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST: return 400;
    case TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS: return 429;
    default: return 401;
    }
}

tg_err
authorize_login_finish(bus_ctx *ctx, const authorize_app *app,
                       Tollgate__Authorize__PageReply *reply, const char *cookie_header,
                       const json_t *txn, const char *user_id)
{
    authorize_cookies cookies = {0};
    authorize_target t;
    char *sid = NULL, *value = NULL;
    int64_t now = tg_now_s();
    json_t *taken = NULL;
    tg_err err;

    /* one transaction, one login, even when the form is posted twice at once */
    err = store_consume(app->st, AUTHORIZE_COLL_TXN, authorize_doc_str(txn, "_id"),
                        bus_ctx_request_id(ctx), &taken);
    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        err = authorize_reply_txn_invalid(ctx, app, reply);
        goto out;
    }
    if (err != TG_OK ||
        (err = authorize_session_start(ctx, app, cookie_header, user_id, now, &sid,
                                       &value)) != TG_OK ||
        (err = authorize_session_cookies(ctx, app, value, &cookies)) != TG_OK)
        goto out;
    cookies.v[cookies.n++] =
        AUTHORIZE_CSRF_COOKIE "=; Path=/u/login; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
    cookies.v[cookies.n++] =
        AUTHORIZE_CSRF_COOKIE "=; Path=/u/signup; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
    if (authorize_txn_is_device(txn)) { /* /activate's login: back to its confirmation */
        err = authorize_device_after_login(ctx, reply, txn, &cookies);
        goto out;
    }
    authorize_grant g = {
        .client_id = authorize_doc_str(txn, "client_id"),
        .redirect_uri = authorize_doc_str(txn, "redirect_uri_sent"),
        .user_id = user_id,
        .scope = authorize_doc_str(txn, "scope"),
        .audience = authorize_doc_str(txn, "audience"),
        .nonce = authorize_doc_str(txn, "nonce"),
        .auth_time = now,
        .sid = sid,
        .code_challenge = authorize_doc_str(txn, "code_challenge"),
        .code_challenge_method = authorize_doc_str(txn, "code_challenge_method"),
        .prompt_consent = strcmp(authorize_doc_str(txn, "prompt"), "consent") == 0,
    };
    authorize_txn_target(txn, &t);
    LOG_INFO("login of user %s for client %s", user_id, g.client_id);
    err = authorize_complete(ctx, app, reply, &t, &g, &cookies);
out:
    json_decref(taken);
    tg_free_secret_str(value);
    return err;
}

tg_err
authorize_on_login_submit(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__LoginSubmitRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    Tollgate__Users__VerifyPasswordRequest vreq = TOLLGATE__USERS__VERIFY_PASSWORD_REQUEST__INIT;
    Tollgate__Users__VerifyPasswordReply *vreply = NULL;
    bus_result *refusal = NULL;
    json_t *txn = NULL;
    tg_err err;

    err = authorize_form_txn(ctx, app, reply, req->state, req->web, req->csrf_token, NULL, &txn);
    if (err != TG_OK || txn == NULL)
        goto out;
    vreq.connection = (char *)authorize_doc_str(txn, "connection");
    vreq.username = req->username;
    vreq.password = req->password;
    vreq.client_id = (char *)authorize_doc_str(txn, "client_id");
    vreq.client_ip = req->web != NULL ? req->web->client_ip : (char *)"";
    /* the call waits for svc-users' hashing: a flood of them may not hold every worker */
    if (!bus_ctx_slow_enter(ctx)) {
        err = reply_login(ctx, app, reply, 429, txn, req->username, BUS_BUSY_TEXT);
        goto out;
    }
    err = authorize_users_call(ctx, app, "users.VerifyPassword", &vreq.base,
                               &tollgate__users__verify_password_reply__descriptor,
                               (ProtobufCMessage **)&vreply, &refusal);
    bus_ctx_slow_leave(ctx);
    if (err == TG_EDENIED && refusal != NULL) {
        err = reply_login(ctx, app, reply, refusal_status(refusal->error), txn, req->username,
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
    if (vreply->user == NULL || vreply->user->user_id[0] == '\0') {
        LOG_ERROR("svc-users verified a password without a user");
        err = TG_EPROTO;
        goto out;
    }
    err = authorize_login_finish(ctx, app, reply, req->web != NULL ? req->web->cookie : NULL, txn,
                                 vreply->user->user_id);
out:
    if (vreply != NULL)
        protobuf_c_message_free_unpacked(&vreply->base, NULL);
    bus_result_free(refusal);
    json_decref(txn);
    return err;
}
