/*
 * authorize.Authorize (GET /authorize), authorization code flow (contract §5).
 *
 * Validation in Auth0's order (§5.2). Until the redirect_uri is trusted nothing is sent to
 * it: an unknown client_id or a redirect_uri that is not byte-for-byte one of the client's
 * callbacks gets an HTML error page (400) and no Location. After that, every refusal goes back
 * to the redirect_uri in the requested response mode with error, error_description, state and
 * iss: response_mode, response_type (code here; the types bearing tokens: implicit.c), the
 * client's grant types, parameter sizes, PKCE (public clients must send an S256 challenge when
 * a code is asked for; plain is refused), the audience, prompt and max_age.
 *
 * Then: a live SSO session that nothing forces to re-authenticate (prompt=login, or max_age
 * older than the session's auth_time) gets a code at once; prompt=none without one gets
 * login_required; otherwise the validated request is stored as a login transaction and the
 * browser goes to /u/login?state=<transaction>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/origin.h"
#include "core/util.h"

/* Auth0's words for the grant a client lacks (contract §24). */
#define MSG_GRANT_NOT_ALLOWED "Grant type 'authorization_code' not allowed for the client."

/* The checked request: what a transaction or a code is made of. Strings borrowed. */
typedef struct checked {
    const char *scope;
    const char *audience;
    bool prompt_none;
    bool prompt_login;
    int64_t max_age; /* -1: none */
    unsigned response_type; /* AUTHORIZE_RT_* (implicit.c) */
} checked;

/* Same defaults as svc-token's token_client_allows_grant (Auth0's dashboard defaults by
 * application type when the file lists no grant_types). */
static bool
allows_code_grant(const config_client *client)
{
    if (client->grant_types.n > 0)
        return config_strv_has(&client->grant_types, "authorization_code");
    return client->app_type == NULL || strcmp(client->app_type, "non_interactive") != 0;
}

static bool
parse_mode(const char *s, authorize_mode *mode)
{
    *mode = AUTHORIZE_MODE_QUERY;
    if (s[0] == '\0' || strcmp(s, "query") == 0)
        return true;
    if (strcmp(s, "fragment") == 0)
        *mode = AUTHORIZE_MODE_FRAGMENT;
    else if (strcmp(s, "form_post") == 0)
        *mode = AUTHORIZE_MODE_FORM_POST;
    else if (strcmp(s, "web_message") == 0)
        *mode = AUTHORIZE_MODE_WEB_MESSAGE;
    else
        return false;
    return true;
}

/* A non-negative whole number of at most 10 digits, else -2; "" is -1 (none). */
static int64_t
parse_max_age(const char *s)
{
    size_t n = strlen(s);

    if (n == 0)
        return -1;
    if (n > 10 || strspn(s, "0123456789") != n)
        return -2;
    return strtoll(s, NULL, 10);
}

/* The parameters echoed or stored must stay within a fixed size. */
static const char *
oversized_param(const Tollgate__Authorize__AuthorizeRequest *req)
{
    const struct {
        const char *name, *value;
    } p[] = {
        {"state", req->state},
        {"nonce", req->nonce},
        {"scope", req->scope},
        {"audience", req->audience},
        {"connection", req->connection},
        {"login_hint", req->login_hint},
        {"code_challenge", req->code_challenge},
        {"prompt", req->prompt},
        {"organization", req->organization},
        {"invitation", req->invitation},
    };

    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
        if (strlen(p[i].value) > AUTHORIZE_MAX_PARAM)
            return p[i].name;
    return NULL;
}

/* Everything checked after the redirect_uri is trusted. On refusal returns the OAuth error
 * and writes its description into desc. */
static const char *
check_request(const authorize_app *app, const config_client *client,
              const Tollgate__Authorize__AuthorizeRequest *req, checked *c, char *desc,
              size_t desclen)
{
    const char *name, *method = req->code_challenge_method;

    desc[0] = '\0';
    if ((name = oversized_param(req)) != NULL) {
        snprintf(desc, desclen, "Parameter too long: %s", name);
        return "invalid_request";
    }
    if (req->response_type[0] == '\0') {
        snprintf(desc, desclen, "Missing required parameter: response_type");
        return "invalid_request";
    }
    if (!authorize_response_type_parse(req->response_type, &c->response_type)) {
        snprintf(desc, desclen, "Unsupported response type: %.100s", req->response_type);
        return "unsupported_response_type";
    }
    if ((c->response_type & AUTHORIZE_RT_CODE) != 0 && !allows_code_grant(client)) {
        snprintf(desc, desclen, "%s", MSG_GRANT_NOT_ALLOWED);
        return "unauthorized_client";
    }
    if (req->code_challenge[0] != '\0' || method[0] != '\0') {
        if (method[0] == '\0' || strcmp(method, "plain") == 0) {
            snprintf(desc, desclen, "code_challenge_method plain not supported");
            return "invalid_request";
        }
        if (strcmp(method, "S256") != 0) {
            snprintf(desc, desclen, "Unsupported code_challenge_method: %.40s", method);
            return "invalid_request";
        }
        /* an S256 challenge is base64url(SHA-256): 43 characters, like our secrets */
        if (!authorize_secret_is_well_formed(req->code_challenge)) {
            snprintf(desc, desclen, "Invalid code_challenge");
            return "invalid_request";
        }
    } else if ((client->auth_method == CONFIG_AUTH_NONE ||
                authorize_client_is_registered(app, client)) &&
               (c->response_type & AUTHORIZE_RT_CODE) != 0) { /* no code, no PKCE */
        snprintf(desc, desclen, "Missing required parameter: code_challenge");
        return "invalid_request";
    }
    c->scope = req->scope[0] != '\0' ? req->scope : "openid";
    if ((name = authorize_response_type_check(client, c->response_type, req->nonce, c->scope, desc,
                                              desclen)) != NULL)
        return name;
    c->audience = req->audience;
    if (c->audience[0] == '\0' && app->cfg->tenant.default_audience != NULL)
        c->audience = app->cfg->tenant.default_audience;
    if (c->audience[0] != '\0' && config_api_by_identifier(app->cfg, c->audience) == NULL) {
        snprintf(desc, desclen, "Service not found: %.300s", c->audience);
        return "access_denied";
    }
    c->prompt_none = strcmp(req->prompt, "none") == 0;
    c->prompt_login = strcmp(req->prompt, "login") == 0;
    if (req->prompt[0] != '\0' && !c->prompt_none && !c->prompt_login &&
        strcmp(req->prompt, "consent") != 0 && strcmp(req->prompt, "select_account") != 0) {
        snprintf(desc, desclen, "Unsupported prompt: %.40s", req->prompt);
        return "invalid_request";
    }
    if ((c->max_age = parse_max_age(req->max_age)) < -1) {
        snprintf(desc, desclen, "Invalid max_age");
        return "invalid_request";
    }
    /* organizations are carried in the transaction; a tenant without any has none to name */
    if ((req->organization[0] != '\0' || req->invitation[0] != '\0') &&
        !app->cfg->has_organizations) {
        snprintf(desc, desclen, "parameter %s is invalid: %.200s",
                 req->organization[0] != '\0' ? "organization" : "invitation",
                 req->organization[0] != '\0' ? req->organization : req->invitation);
        return "invalid_request";
    }
    return NULL;
}

/* Stores the login transaction and sends the browser to the login page. */
static tg_err
start_login(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
            const Tollgate__Authorize__AuthorizeRequest *req, const authorize_target *t,
            const checked *c)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "client_id",
        req->client_id, "redirect_uri", t->redirect_uri, "redirect_uri_sent", req->redirect_uri,
        "response_mode", (json_int_t)t->mode, "state", req->state, "nonce", req->nonce, "scope",
        c->scope, "audience", c->audience, "connection", req->connection, "code_challenge",
        req->code_challenge, "code_challenge_method", req->code_challenge_method, "login_hint",
        req->login_hint, "response_type", (json_int_t)c->response_type);
    if (doc != NULL && (json_object_set_new(doc, "prompt", json_string(req->prompt)) != 0 ||
                        json_object_set_new(doc, "organization", json_string(req->organization)) !=
                            0 ||
                        json_object_set_new(doc, "invitation", json_string(req->invitation)) != 0)) {
        json_decref(doc);
        doc = NULL;
    }
    tg_err err;

    if (doc == NULL)
        return TG_ENOMEM;
    /* screen_hint=signup opens the signup page of the same transaction (it links back) */
    err = authorize_txn_start(ctx, app, reply, doc,
                              strcmp(req->screen_hint, "signup") == 0 ? "signup" : "login");
    json_decref(doc);
    return err;
}

/* Whether the session may be used as it is: nothing forces a new login. */
static bool
session_satisfies(const json_t *session, const checked *c)
{
    int64_t auth_time = json_integer_value(json_object_get(session, "auth_time"));

    if (session == NULL || c->prompt_login || c->max_age == 0) /* max_age=0: always log in */
        return false;
    return c->max_age < 0 || tg_now_s() - auth_time <= c->max_age;
}

tg_err
authorize_complete(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
                   const authorize_target *t, const authorize_grant *g,
                   const authorize_cookies *cookies)
{
    char *code = NULL;
    tg_err err;

    bool handled;

    /* a third-party application may have to ask the user first (consent.c) */
    if ((err = authorize_consent_check(ctx, app, reply, t, g, cookies, &handled)) != TG_OK ||
        handled)
        return err;
    authorize_session_add_client(app, g->sid, g->client_id); /* back-channel logout */
    if (authorize_response_type_has_tokens(t->response_type))
        return authorize_implicit_complete(ctx, app, reply, t, g, cookies);
    if ((err = authorize_code_issue(app, g, &code)) != TG_OK)
        return err;
    const char *const kv[][2] = {{"code", code}};
    err = authorize_reply_to_client(ctx, reply, t, kv, 1, cookies);
    tg_free_secret_str(code);
    return err;
}

/* A code straight from the SSO session. */
static tg_err
issue_from_session(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
                   const Tollgate__Authorize__AuthorizeRequest *req, const authorize_target *t,
                   const checked *c, const json_t *session)
{
    const char *user_id = json_string_value(json_object_get(session, "user_id"));
    const char *sid = json_string_value(json_object_get(session, "sid"));
    authorize_grant g = {
        .client_id = req->client_id,
        .redirect_uri = req->redirect_uri,
        .user_id = user_id != NULL ? user_id : "",
        .scope = c->scope,
        .audience = c->audience,
        .nonce = req->nonce,
        .auth_time = json_integer_value(json_object_get(session, "auth_time")),
        .sid = sid != NULL ? sid : "",
        .code_challenge = req->code_challenge,
        .code_challenge_method = req->code_challenge_method,
        .prompt_consent = strcmp(req->prompt, "consent") == 0,
        .prompt_none = c->prompt_none,
    };

    return authorize_complete(ctx, app, reply, t, &g, NULL);
}

tg_err
authorize_on_authorize(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__AuthorizeRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *cookie = req->web != NULL ? req->web->cookie : NULL, *error;
    const config_client *client;
    authorize_target t = {.state = req->state};
    checked c = {0};
    json_t *session = NULL;
    char desc[512];
    tg_err err;

    if (req->client_id[0] == '\0')
        return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request",
                                          "Missing required parameter: client_id");
    if ((client = authorize_client_find(ctx, app, req->client_id)) == NULL) {
        snprintf(desc, sizeof(desc), "Unknown client: %.200s", req->client_id);
        return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request", desc);
    }
    t.redirect_uri = req->redirect_uri;
    if (t.redirect_uri[0] == '\0' && client->callbacks.n == 1)
        t.redirect_uri = client->callbacks.v[0];
    if (!authorize_callback_is_allowed(&client->callbacks, t.redirect_uri)) {
        LOG_INFO("authorize: redirect_uri not registered for client %s", client->client_id);
        return authorize_reply_error_page(ctx, app, reply, 400, "unauthorized_client",
                                          AUTHORIZE_MSG_CALLBACK_MISMATCH);
    }
    /* From here on the redirect_uri is trusted. */
    if (strlen(t.state) > AUTHORIZE_MAX_PARAM)
        t.state = "";
    if (!parse_mode(req->response_mode, &t.mode)) {
        snprintf(desc, sizeof(desc), "Unsupported response_mode: %.40s", req->response_mode);
        return authorize_reply_oauth_error(ctx, reply, &t, "invalid_request", desc);
    }
    if (!authorize_response_mode_fits(req->response_type, req->response_mode, &t.mode))
        return authorize_reply_oauth_error(ctx, reply, &t, "invalid_request",
                                           "response_mode=query is not allowed for a "
                                           "response_type that returns tokens");
    if (t.mode == AUTHORIZE_MODE_WEB_MESSAGE) {
        /* nothing is posted to an origin the client did not list (web_message.c) */
        char origin[TG_ORIGIN_MAX + 1];
        if (!authorize_web_message_origin(client, t.redirect_uri, origin, sizeof(origin))) {
            LOG_INFO("authorize: web_message origin not allowed for client %s", client->client_id);
            snprintf(desc, sizeof(desc),
                     "The specified redirect_uri '%.300s' does not have a registered origin.",
                     t.redirect_uri);
            return authorize_reply_error_page(ctx, app, reply, 400, "access_denied", desc);
        }
    }
    if ((error = check_request(app, client, req, &c, desc, sizeof(desc))) != NULL)
        return authorize_reply_oauth_error(ctx, reply, &t, error, desc);
    t.response_type = c.response_type;
    err = authorize_session_find(app, cookie, &session);
    if (err != TG_OK && err != TG_ENOTFOUND)
        return err;
    if (session_satisfies(session, &c))
        err = issue_from_session(ctx, app, reply, req, &t, &c, session);
    else if (c.prompt_none)
        err = authorize_reply_oauth_error(ctx, reply, &t, "login_required", "Login required");
    else
        err = start_login(ctx, app, reply, req, &t, &c);
    json_decref(session);
    return err;
}
