/*
 * The device activation pages (RFC 8628 §3.3, contract.md §8; security.md T-100…T-102):
 *
 *   GET  /activate[?user_code=]   the code form (prefilled from verification_uri_complete)
 *   POST /activate                checks the code; a right one starts an activation and goes to
 *   GET  /activate/confirm?state= which sends a browser without an SSO session through the
 *                                 login page (a login transaction of kind "device", so the
 *                                 login comes back here) and shows the app and the code
 *   POST /activate/confirm        Confirm approves the device code for the session's user,
 *                                 Cancel denies it; then a done page.
 *
 * Plain HTML, no JavaScript, the headers of every page (reply.c: CSP, X-Frame-Options DENY,
 * no-referrer; the gateway adds no-store). CSRF: the code form is a double submit (a random
 * token in the form and in the tg_login_csrf cookie, Path=/activate, SameSite=Strict); the
 * confirmation form's token is bound to the activation (stored) and must also be in the
 * cookie, compared in constant time (authorize_csrf_ok, login.c). Wrong codes are counted
 * per IP and against every device code's failure budget (device.c).
 *
 * An activation (AUTHORIZE_COLL_DEVICE_ACTIVATIONS) is {device_id, user_code (as shown, so the
 * confirmation can display it; the hash of a 34-bit code hides nothing anyway), csrf,
 * expires_at}; it is taken once (store_consume) by the confirmation. A device code gets one
 * answer: two browsers that entered the same code race for a marker document ("answer:<device
 * code hash>", insert-once), and only the winner's Confirm or Cancel is recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

#define ACTIVATION_SECONDS 600
#define CSRF_COOKIE_ATTRS "; Path=/activate; Secure; HttpOnly; SameSite=Strict"
#define MSG_CSRF "This form could not be verified. Enter the code again."
#define MSG_WRONG_CODE "Invalid or expired code. Check the code on your device and try again."
#define MSG_TOO_MANY "Too many attempts. Please wait a minute and try again."
#define MSG_ACTIVATION_INVALID                                                                     \
    "This activation link is invalid or has expired. Enter the code again."
#define MSG_CODE_GONE "This code has expired or was already used. Start again on your device."
#define MSG_NO_SESSION "Your session has ended. Enter the code again."

static const char *
cookie_header(const Tollgate__Web__Context *web)
{
    return web != NULL ? web->cookie : NULL;
}

/* The code form with its CSRF cookie; user_code (prefill) and error may be NULL. */
static tg_err
reply_form(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
           int status, const char *csrf, const char *user_code, const char *error)
{
    authorize_cookies cookies = {.n = 1};
    char cookie[160];

    if (user_code != NULL && strlen(user_code) > AUTHORIZE_USER_CODE_MAX)
        user_code = NULL;
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s" CSRF_COOKIE_ATTRS, csrf);
    cookies.v[0] = cookie;
    return authorize_reply_html(
        ctx, reply, status,
        authorize_activate_html(&app->cfg->tenant.branding, csrf, user_code, error), NULL,
        &cookies);
}

static tg_err
error_page(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
           int status, const char *text)
{
    return authorize_reply_error_page(ctx, app, reply, status, "invalid_request", text);
}

tg_err
authorize_on_activate_page(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Device__ActivatePageRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    char *csrf = NULL;
    tg_err err;

    if ((err = tg_random_token(AUTHORIZE_SECRET_BYTES, &csrf)) != TG_OK)
        return err;
    err = reply_form(ctx, bus_ctx_app(ctx), reply, 200, csrf, req->user_code, NULL);
    tg_free_secret_str(csrf);
    return err;
}

/* Starts the activation of a right code and sends the browser to its confirmation. */
static tg_err
start_activation(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
                 const json_t *device, const char *typed)
{
    char *id = NULL, *csrf = NULL, *location = NULL, norm[AUTHORIZE_USER_CODE_LETTERS + 1];
    char shown[10];
    int64_t exp = json_integer_value(json_object_get(device, "device_expires_at"));
    json_t *doc = NULL;
    tg_err err;

    (void)authorize_user_code_normalise(typed, norm); /* it named a code: it is well formed */
    authorize_user_code_format(norm, shown);
    if (exp > tg_now_s() + ACTIVATION_SECONDS)
        exp = tg_now_s() + ACTIVATION_SECONDS;
    if ((err = tg_random_token(AUTHORIZE_TXN_BYTES, &id)) != TG_OK ||
        (err = tg_random_token(AUTHORIZE_SECRET_BYTES, &csrf)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:I}", "_id", id, "device_id",
                    authorize_doc_str(device, "_id"), "user_code", shown, "csrf", csrf,
                    "expires_at", (json_int_t)exp);
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, doc)) != TG_OK)
        goto out;
    if (asprintf(&location, "/activate/confirm?state=%s", id) < 0) {
        location = NULL;
        err = TG_ENOMEM;
        goto out;
    }
    err = authorize_reply_redirect(ctx, reply, location, NULL);
out:
    explicit_bzero(norm, sizeof(norm));
    explicit_bzero(shown, sizeof(shown));
    json_decref(doc);
    free(id);
    tg_free_secret_str(csrf);
    free(location);
    return err;
}

tg_err
authorize_on_activate_submit(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Device__ActivateSubmitRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *ip = req->web != NULL ? req->web->client_ip : "";
    json_t *device = NULL;
    tg_err err;

    /* a pure double submit: nothing is stored before the code is known */
    if (!authorize_secret_is_well_formed(req->csrf_token) ||
        !authorize_csrf_ok(cookie_header(req->web), req->csrf_token, req->csrf_token))
        return error_page(ctx, app, reply, 403, MSG_CSRF);
    if (!authorize_device_ip_may_try(app, ip)) {
        LOG_WARN("user code entry refused: too many wrong codes from this IP");
        return reply_form(ctx, app, reply, 429, req->csrf_token, req->user_code, MSG_TOO_MANY);
    }
    err = authorize_device_find_by_user_code(app, req->user_code, &device);
    if (err == TG_ENOTFOUND) {
        LOG_INFO("wrong user code entered");
        authorize_device_attempt_failed(app, ip);
        return reply_form(ctx, app, reply, 400, req->csrf_token, req->user_code, MSG_WRONG_CODE);
    }
    if (err == TG_OK)
        err = start_activation(ctx, app, reply, device, req->user_code);
    json_decref(device);
    return err;
}

/* The live activation named by state (one taken by this very request still counts) and its
 * device code, which must still be pending. TG_ENOTFOUND otherwise. */
static tg_err
load_activation(bus_ctx *ctx, const authorize_app *app, const char *state, json_t **act,
                json_t **device)
{
    const char *by, *status;
    tg_err err;

    *act = *device = NULL;
    if (state == NULL || state[0] == '\0' || strlen(state) > 64)
        return TG_ENOTFOUND;
    if ((err = store_get(app->st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, state, act)) != TG_OK)
        return err;
    by = json_string_value(json_object_get(*act, "consumed_by"));
    if (by != NULL && strcmp(by, bus_ctx_request_id(ctx)) != 0) {
        err = TG_ENOTFOUND;
        goto fail;
    }
    err = store_get(app->st, AUTHORIZE_COLL_DEVICE_CODES, authorize_doc_str(*act, "device_id"),
                    device);
    if (err != TG_OK)
        goto fail;
    status = json_string_value(json_object_get(*device, "status"));
    if (status == NULL || strcmp(status, "pending") != 0 ||
        json_object_get(*device, "consumed_by") != NULL ||
        json_integer_value(json_object_get(*device, "device_expires_at")) <= tg_now_s()) {
        err = TG_ENOTFOUND;
        goto fail;
    }
    return TG_OK;
fail:
    json_decref(*act);
    json_decref(*device);
    *act = *device = NULL;
    return err;
}

/* No SSO session yet: a login transaction that comes back to the confirmation. */
static tg_err
start_login(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
            const json_t *act, const json_t *device)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "device", "activation",
        authorize_doc_str(act, "_id"), "client_id", authorize_doc_str(device, "client_id"), "scope",
        authorize_doc_str(device, "scope"), "audience", authorize_doc_str(device, "audience"),
        "connection", "", "login_hint", "");
    tg_err err;

    if (doc == NULL)
        return TG_ENOMEM;
    err = authorize_txn_start(ctx, app, reply, doc, "login");
    json_decref(doc);
    return err;
}

bool
authorize_txn_is_device(const json_t *txn)
{
    const char *kind = json_string_value(json_object_get(txn, "kind"));

    return kind != NULL && strcmp(kind, "device") == 0;
}

tg_err
authorize_device_after_login(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                             const json_t *txn, const authorize_cookies *cookies)
{
    char location[128];

    snprintf(location, sizeof(location), "/activate/confirm?state=%.64s",
             authorize_doc_str(txn, "activation"));
    return authorize_reply_redirect(ctx, reply, location, cookies);
}

tg_err
authorize_on_device_confirm_page(bus_ctx *ctx, const ProtobufCMessage *reqm,
                                 ProtobufCMessage *replym)
{
    const Tollgate__Device__ConfirmPageRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const config_client *client;
    authorize_cookies cookies = {.n = 1};
    json_t *act = NULL, *device = NULL, *session = NULL;
    char cookie[160];
    tg_err err;

    err = load_activation(ctx, app, req->state, &act, &device);
    if (err == TG_ENOTFOUND)
        return error_page(ctx, app, reply, 400, MSG_ACTIVATION_INVALID);
    if (err != TG_OK)
        return err;
    err = authorize_session_find(app, cookie_header(req->web), &session);
    if (err == TG_ENOTFOUND) {
        err = start_login(ctx, app, reply, act, device);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    client = authorize_client_find(ctx, app, authorize_doc_str(device, "client_id"));
    snprintf(cookie, sizeof(cookie), AUTHORIZE_CSRF_COOKIE "=%s" CSRF_COOKIE_ATTRS,
             authorize_doc_str(act, "csrf"));
    cookies.v[0] = cookie;
    err = authorize_reply_html(ctx, reply, 200,
                               authorize_device_confirm_html(
                                   &app->cfg->tenant.branding, client != NULL ? client->name : NULL,
                                   authorize_doc_str(act, "user_code"),
                                   authorize_doc_str(act, "_id"), authorize_doc_str(act, "csrf")),
                               NULL, &cookies);
out:
    json_decref(session);
    json_decref(device);
    json_decref(act);
    return err;
}

/* Claims the one answer a device code gets: a marker document whose insert only one request
 * can win (two browsers confirming the same code: the first decides, the second is told the
 * code is used). The same request again (a resend) still holds it. TG_ECONSUMED: taken. */
static tg_err
claim_answer(bus_ctx *ctx, const authorize_app *app, const json_t *device)
{
    char id[80];
    const char *by;
    json_t *doc, *old = NULL;
    tg_err err;

    snprintf(id, sizeof(id), "answer:%.64s", authorize_doc_str(device, "_id"));
    doc = json_pack("{s:s, s:s, s:I}", "_id", id, "by", bus_ctx_request_id(ctx), "expires_at",
                    json_integer_value(json_object_get(device, "expires_at")));
    if (doc == NULL)
        return TG_ENOMEM;
    err = store_insert(app->st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, doc);
    json_decref(doc);
    if (err != TG_EEXIST)
        return err;
    if ((err = store_get(app->st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, id, &old)) == TG_OK) {
        by = json_string_value(json_object_get(old, "by"));
        err = by != NULL && strcmp(by, bus_ctx_request_id(ctx)) == 0 ? TG_OK : TG_ECONSUMED;
    }
    json_decref(old);
    return err == TG_ENOTFOUND ? TG_ECONSUMED : err;
}

/* Records the user's answer on the device code: approved for the session's user, or denied. */
static tg_err
record_answer(const authorize_app *app, const json_t *device, const json_t *session,
              bool approve)
{
    json_t *set;
    tg_err err;

    if (approve)
        set = json_pack("{s:s, s:s, s:s, s:I}", "status", "approved", "user_id",
                        authorize_doc_str(session, "user_id"), "sid",
                        authorize_doc_str(session, "sid"), "auth_time",
                        json_integer_value(json_object_get(session, "auth_time")));
    else
        set = json_pack("{s:s}", "status", "denied");
    if (set == NULL)
        return TG_ENOMEM;
    err = store_update(app->st, AUTHORIZE_COLL_DEVICE_CODES, authorize_doc_str(device, "_id"), set);
    json_decref(set);
    return err;
}

tg_err
authorize_on_device_confirm_submit(bus_ctx *ctx, const ProtobufCMessage *reqm,
                                   ProtobufCMessage *replym)
{
    const Tollgate__Device__ConfirmSubmitRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    authorize_cookies cookies = {.n = 1,
                                 .v = {AUTHORIZE_CSRF_COOKIE "=; Max-Age=0" CSRF_COOKIE_ATTRS}};
    json_t *act = NULL, *device = NULL, *session = NULL, *taken = NULL;
    bool approve = strcmp(req->action, "confirm") == 0;
    tg_err err;

    err = load_activation(ctx, app, req->state, &act, &device);
    if (err == TG_ENOTFOUND)
        return error_page(ctx, app, reply, 400, MSG_ACTIVATION_INVALID);
    if (err != TG_OK)
        return err;
    if (!authorize_csrf_ok(cookie_header(req->web), req->csrf_token,
                           authorize_doc_str(act, "csrf"))) {
        err = error_page(ctx, app, reply, 403, MSG_CSRF);
        goto out;
    }
    if (!approve && strcmp(req->action, "cancel") != 0) {
        err = error_page(ctx, app, reply, 400, "Choose Confirm or Cancel.");
        goto out;
    }
    err = authorize_session_find(app, cookie_header(req->web), &session);
    if (err == TG_ENOTFOUND) {
        err = error_page(ctx, app, reply, 401, MSG_NO_SESSION);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    /* one activation, one answer, even when the form is posted twice at once */
    err = store_consume(app->st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, authorize_doc_str(act, "_id"),
                        bus_ctx_request_id(ctx), &taken);
    if (err == TG_OK)
        err = claim_answer(ctx, app, device);
    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        err = error_page(ctx, app, reply, 400, MSG_CODE_GONE);
        goto out;
    }
    if (err != TG_OK || (err = record_answer(app, device, session, approve)) != TG_OK)
        goto out;
    LOG_INFO("device code %s by user %s for client %s", approve ? "approved" : "denied",
             authorize_doc_str(session, "user_id"), authorize_doc_str(device, "client_id"));
    err = authorize_reply_html(
        ctx, reply, 200,
        authorize_message_html(&app->cfg->tenant.branding,
                               approve ? "Device connected" : "Request cancelled", NULL,
                               approve ? "Your device is now connected. You can close this "
                                         "window and return to your device."
                                       : "You cancelled the request. The device was not "
                                         "connected to your account."),
        NULL, &cookies);
out:
    json_decref(taken);
    json_decref(session);
    json_decref(device);
    json_decref(act);
    return err;
}
