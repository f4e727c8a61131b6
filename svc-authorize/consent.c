/*
 * Consent for third-party applications (Auth0: clients with is_first_party false; first-party
 * ones never ask). After the user is authenticated and before the code, authorize_complete asks
 * authorize_consent_check: when the user has not yet granted this application every requested
 * scope for the audience, or prompt=consent, the browser gets the consent page (the scopes and
 * the API) with Accept and Decline; prompt=none then gets consent_required instead.
 *
 * The page belongs to a consent transaction (AUTHORIZE_COLL_TXN, kind "consent": the grant and
 * the target, 10 minutes, taken once) with the login form's double-submit CSRF token (cookie
 * Path=/u/consent). Accept stores the grant in AUTHORIZE_COLL_CONSENTS under the SHA-256 of
 * (user, client, audience) with the union of the scopes granted so far, then finishes as
 * authorize_complete does; Decline sends access_denied to the redirect_uri.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

#define MSG_DENIED "User did not authorize the request"
#define CSRF_COOKIE_PATH "/u/consent"
#define MAX_SCOPES 64

/* The _id of a (user, client, audience) grant. */
static void
grant_id(const char *user_id, const char *client_id, const char *audience, char out[65])
{
    char *key = NULL;

    if (asprintf(&key, "%s\n%s\n%s", user_id, client_id, audience) < 0) {
        out[0] = '\0';
        return;
    }
    authorize_sha256_hex(key, out);
    free(key);
}

/* Whether every space-separated word of scope is one of granted's. */
static bool
scopes_covered(const char *scope, const char *granted)
{
    const char *p = scope;

    while (*p) {
        size_t n = strcspn(p, " ");
        char word[256];

        if (n > 0) {
            if (n >= sizeof(word))
                return false;
            memcpy(word, p, n);
            word[n] = '\0';
            if (!authorize_scope_has(granted, word))
                return false;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return true;
}

bool
authorize_consent_is_granted(const authorize_app *app, const char *user_id,
                             const char *client_id, const char *audience, const char *scope)
{
    char id[65];
    json_t *doc = NULL;
    bool ok;

    grant_id(user_id, client_id, audience, id);
    if (id[0] == '\0' || store_get(app->st, AUTHORIZE_COLL_CONSENTS, id, &doc) != TG_OK)
        return false;
    ok = scopes_covered(scope, authorize_doc_str(doc, "scope"));
    json_decref(doc);
    return ok;
}

/* Stores (or widens) the grant: the union of the scopes granted before and scope. */
static tg_err
grant_store(const authorize_app *app, const char *user_id, const char *client_id,
            const char *audience, const char *scope)
{
    char id[65], *merged = NULL;
    json_t *old = NULL, *doc = NULL;
    const char *before;
    tg_err err;

    grant_id(user_id, client_id, audience, id);
    if (id[0] == '\0')
        return TG_ENOMEM;
    err = store_get(app->st, AUTHORIZE_COLL_CONSENTS, id, &old);
    if (err != TG_OK && err != TG_ENOTFOUND)
        return err;
    before = authorize_doc_str(old, "scope");
    if (asprintf(&merged, "%s%s%s", before, before[0] != '\0' ? " " : "", scope) < 0) {
        merged = NULL;
        err = TG_ENOMEM;
        goto out;
    }
    if (old != NULL) {
        doc = json_pack("{s:s, s:I}", "scope", merged, "updated_at", (json_int_t)tg_now_s());
        err = doc == NULL ? TG_ENOMEM : store_update(app->st, AUTHORIZE_COLL_CONSENTS, id, doc);
    } else {
        doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "_id", id, "user_id", user_id,
                        "client_id", client_id, "audience", audience, "scope", merged,
                        "updated_at", (json_int_t)tg_now_s());
        err = doc == NULL ? TG_ENOMEM : store_insert(app->st, AUTHORIZE_COLL_CONSENTS, doc);
    }
out:
    free(merged);
    json_decref(old);
    json_decref(doc);
    return err;
}

/* The consent page for transaction txn with its CSRF cookie and the caller's cookies. */
static tg_err
reply_page(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
           const json_t *txn, const authorize_cookies *extra)
{
    const config_client *client =
        config_client_by_id(app->cfg, authorize_doc_str(txn, "client_id"));
    const config_resource_server *api =
        config_api_by_identifier(app->cfg, authorize_doc_str(txn, "audience"));
    authorize_cookies cookies = {0};
    char cookie[160];

    for (size_t i = 0; extra != NULL && i < extra->n && i + 1 < AUTHORIZE_MAX_COOKIES; i++)
        cookies.v[cookies.n++] = extra->v[i];
    snprintf(cookie, sizeof(cookie),
             AUTHORIZE_CSRF_COOKIE "=%s; Path=" CSRF_COOKIE_PATH "; Secure; HttpOnly; "
                                   "SameSite=Strict",
             authorize_doc_str(txn, "csrf"));
    cookies.v[cookies.n++] = cookie;
    return authorize_reply_html(
        ctx, reply, 200,
        authorize_consent_html(&app->cfg->tenant.branding, client != NULL ? client->name : "",
                               api != NULL ? api->name : authorize_doc_str(txn, "audience"),
                               authorize_doc_str(txn, "scope"), authorize_doc_str(txn, "_id"),
                               authorize_doc_str(txn, "csrf")),
        NULL, &cookies);
}

tg_err
authorize_consent_check(bus_ctx *ctx, const authorize_app *app,
                        Tollgate__Authorize__PageReply *reply, const authorize_target *t,
                        const authorize_grant *g, const authorize_cookies *cookies, bool *handled)
{
    /* a client registered at /oidc/register is third-party too (is_first_party false) */
    const config_client *client = authorize_client_find(ctx, app, g->client_id);
    char *id = NULL, *csrf = NULL;
    json_t *doc = NULL;
    tg_err err;

    *handled = false;
    if (client == NULL || client->is_first_party)
        return TG_OK;
    if (!g->prompt_consent &&
        authorize_consent_is_granted(app, g->user_id, g->client_id, g->audience, g->scope))
        return TG_OK;
    *handled = true;
    if (g->prompt_none)
        return authorize_reply_oauth_error(ctx, reply, t, "consent_required", "Consent required");
    if ((err = tg_random_token(AUTHORIZE_TXN_BYTES, &id)) != TG_OK ||
        (err = tg_random_token(AUTHORIZE_SECRET_BYTES, &csrf)) != TG_OK)
        goto out;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, "
                    "s:s, s:s, s:I}",
                    "_id", id, "kind", "consent", "client_id", g->client_id, "redirect_uri",
                    t->redirect_uri, "redirect_uri_sent", g->redirect_uri, "response_mode",
                    (json_int_t)t->mode, "response_type", (json_int_t)t->response_type, "state",
                    t->state, "user_id", g->user_id, "scope", g->scope, "audience", g->audience,
                    "nonce", g->nonce, "auth_time", (json_int_t)g->auth_time, "sid", g->sid,
                    "code_challenge", g->code_challenge, "code_challenge_method",
                    g->code_challenge_method, "csrf", csrf, "expires_at",
                    (json_int_t)tg_now_s() + AUTHORIZE_TXN_SECONDS);
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, AUTHORIZE_COLL_TXN, doc)) != TG_OK)
        goto out;
    err = reply_page(ctx, app, reply, doc, cookies);
out:
    json_decref(doc);
    free(id);
    tg_free_secret_str(csrf);
    return err;
}

tg_err
authorize_on_consent_submit(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__ConsentSubmitRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    authorize_cookies cookies = {
        .v = {AUTHORIZE_CSRF_COOKIE "=; Path=" CSRF_COOKIE_PATH "; Max-Age=0; Secure; HttpOnly; "
                                    "SameSite=Strict"},
        .n = 1};
    authorize_target t;
    json_t *txn = NULL, *taken = NULL;
    bool accept = strcmp(req->action, "accept") == 0;
    tg_err err;

    err = authorize_form_txn(ctx, app, reply, req->state, req->web, req->csrf_token, "consent",
                             &txn);
    if (err != TG_OK || txn == NULL)
        goto out;
    if (!accept && strcmp(req->action, "deny") != 0) {
        err = authorize_reply_error_page(ctx, app, reply, 400, "invalid_request",
                                         "Choose Accept or Decline.");
        goto out;
    }
    /* one transaction, one answer */
    err = store_consume(app->st, AUTHORIZE_COLL_TXN, authorize_doc_str(txn, "_id"),
                        bus_ctx_request_id(ctx), &taken);
    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        err = authorize_reply_txn_invalid(ctx, app, reply);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    authorize_txn_target(txn, &t);
    if (!accept) {
        LOG_INFO("consent declined by user %s for client %s", authorize_doc_str(txn, "user_id"),
                 authorize_doc_str(txn, "client_id"));
        err = authorize_reply_oauth_error(ctx, reply, &t, "access_denied", MSG_DENIED);
        goto out;
    }
    if ((err = grant_store(app, authorize_doc_str(txn, "user_id"),
                           authorize_doc_str(txn, "client_id"), authorize_doc_str(txn, "audience"),
                           authorize_doc_str(txn, "scope"))) != TG_OK)
        goto out;
    authorize_grant g = {
        .client_id = authorize_doc_str(txn, "client_id"),
        .redirect_uri = authorize_doc_str(txn, "redirect_uri_sent"),
        .user_id = authorize_doc_str(txn, "user_id"),
        .scope = authorize_doc_str(txn, "scope"),
        .audience = authorize_doc_str(txn, "audience"),
        .nonce = authorize_doc_str(txn, "nonce"),
        .auth_time = json_integer_value(json_object_get(txn, "auth_time")),
        .sid = authorize_doc_str(txn, "sid"),
        .code_challenge = authorize_doc_str(txn, "code_challenge"),
        .code_challenge_method = authorize_doc_str(txn, "code_challenge_method"),
    };
    LOG_INFO("consent given by user %s to client %s", g.user_id, g.client_id);
    err = authorize_complete(ctx, app, reply, &t, &g, &cookies);
out:
    json_decref(taken);
    json_decref(txn);
    return err;
}
