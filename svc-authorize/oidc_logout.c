/*
 * authorize.OidcLogout (GET and POST /oidc/logout): OpenID Connect RP-Initiated Logout 1.0 as
 * Auth0 implements it (contract §14.2; security.md 46-56, 59).
 *
 * id_token_hint must be an ID token we issued: a JWS (alg "none" refused) whose signature
 * verifies, with the tenant's signing keys fetched from svc-token (token.Jwks over the token
 * bus device: svc-authorize holds no keys; the certificate in each JWK's x5c is the key) or,
 * for an HS256 application, with that application's secret; whose iss is the issuer this
 * request reached, and whose aud is one application. Its expiry is not checked (the spec
 * allows expired hints). The aud selects the application; a client_id that differs from it,
 * or a logout_hint that differs from its sid, is refused. Without a hint, client_id names the
 * application.
 *
 * post_logout_redirect_uri must be byte-for-byte one of that application's Allowed Logout
 * URLs (no normalisation: look-alike hosts, userinfo@host, added queries never match) and a
 * safe URI; without an application it is refused. Every refusal is an error page with no
 * redirect, and the session stays.
 *
 * Forced logout (a cross-site link) is not possible: without a verified hint the session is
 * ended only when logout_hint names it (its sid, which another site cannot know), and a
 * verified hint ends it only when its sub is the session's user (§2: another user's valid ID
 * token must not log this one out); otherwise a confirmation page asks, and its button repeats
 * the request with logout_hint set. With no
 * session there is nothing to end. The logout itself is /v2/logout's
 * (authorize_logout_finish), then 302 to post_logout_redirect_uri with state, or a "Logged
 * out" page. ui_locales is accepted (pages are English only); federated needs upstream
 * identity providers, which do not exist yet: ignored.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"
#include "jose/jose.h"
#include "token.pb-c.h"

#define MSG_REDIRECT_CLIENT                                                                        \
    "The \"post_logout_redirect_uri\" querystring parameter \"%.1024s\" is not defined as a "      \
    "valid URL in \"Allowed Logout URLs\". To add a new URL, please do it here: "                  \
    "https://manage.auth0.com/#/applications/%.200s/settings"
#define MSG_REDIRECT_NO_CLIENT                                                                     \
    "The \"post_logout_redirect_uri\" parameter needs \"client_id\" or \"id_token_hint\" to "      \
    "know the application."
#define MSG_HINT_INVALID "The \"id_token_hint\" parameter is not a valid ID token of this tenant."
#define MSG_HINT_CLIENT "The \"client_id\" parameter does not match the \"id_token_hint\" audience."
#define MSG_HINT_SID "The \"logout_hint\" parameter does not match the \"id_token_hint\" session."
#define MSG_UNAVAILABLE "The service is temporarily unavailable. Please try again later."
#define MAX_HINT 16384 /* jose_jws_parse's own ceiling */
#define MAX_CERT 8192  /* base64 of one DER certificate */

/* A verified id_token_hint: what it names. Borrowed from the parsed JWS. */
typedef struct hint {
    const config_client *client;
    const char *sid; /* "" when the token has none */
    const char *sub; /* "" when the token has none */
} hint;

/* The PEM certificate of a JWK's first x5c entry (standard base64 DER), for
 * jose_key_from_public_pem. Heap string, free(); NULL when absent or too long. */
static char *
x5c_pem(const Tollgate__Token__Jwk *jwk)
{
    const char *b64 = jwk->n_x5c > 0 ? jwk->x5c[0] : NULL;
    size_t n = b64 != NULL ? strlen(b64) : 0;
    char *pem = NULL;
    size_t len = 0;
    FILE *f;

    if (n == 0 || n > MAX_CERT || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789+/=") != n ||
        (f = open_memstream(&pem, &len)) == NULL)
        return NULL;
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    for (size_t i = 0; i < n; i += 64)
        fprintf(f, "%.*s\n", (int)(n - i < 64 ? n - i : 64), b64 + i);
    fputs("-----END CERTIFICATE-----\n", f);
    if (fclose(f) != 0) {
        free(pem);
        return NULL;
    }
    return pem;
}

/* Verifies jws with the tenant key its kid names (token.Jwks from svc-token). TG_EDENIED: no
 * such key or a bad signature; TG_EUNAVAILABLE: svc-token did not answer. */
static tg_err
verify_with_tenant_key(bus_ctx *ctx, const authorize_app *app, const jose_jws *jws)
{
    Tollgate__Token__Empty empty = TOLLGATE__TOKEN__EMPTY__INIT;
    Tollgate__Token__Jwks *jwks = NULL;
    const char *kid = json_string_value(json_object_get(jws->header, "kid"));
    jose_key *key = NULL;
    char *pem = NULL;
    tg_err err;

    if (kid == NULL)
        return TG_EDENIED;
    err = authorize_token_call(ctx, app, "token.Jwks", &empty.base,
                               &tollgate__token__jwks__descriptor, (ProtobufCMessage **)&jwks,
                               NULL);
    if (err != TG_OK)
        return err == TG_EDENIED ? TG_EUNAVAILABLE : err;
    err = TG_EDENIED;
    for (size_t i = 0; i < jwks->n_keys; i++) {
        const Tollgate__Token__Jwk *k = jwks->keys[i];
        if (strcmp(k->kid, kid) != 0 || jose_alg_from_name(k->alg) != jws->alg)
            continue;
        if ((pem = x5c_pem(k)) == NULL ||
            jose_key_from_public_pem(jws->alg, pem, &key) != TG_OK)
            break;
        err = jose_jws_verify(jws, key, NULL, 0) == TG_OK ? TG_OK : TG_EDENIED;
        break;
    }
    jose_key_free(key);
    free(pem);
    protobuf_c_message_free_unpacked(&jwks->base, NULL);
    return err;
}

/* The one application an ID token is for: aud a string, or an array with azp naming one of
 * its entries (OIDC Core §2). */
static const config_client *
audience_client(bus_ctx *ctx, const authorize_app *app, const json_t *claims)
{
    const json_t *aud = json_object_get(claims, "aud");
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    size_t i;
    json_t *v;

    if (json_is_string(aud))
        return authorize_client_find(ctx, app, json_string_value(aud));
    if (!json_is_array(aud) || azp == NULL)
        return NULL;
    json_array_foreach(aud, i, v) if (json_is_string(v) && strcmp(json_string_value(v), azp) == 0)
        return authorize_client_find(ctx, app, azp);
    return NULL;
}

/* Checks id_token_hint (see the top of the file). TG_EDENIED: not ours; TG_EUNAVAILABLE:
 * the keys could not be fetched. *jws_out (freed with jose_jws_free) owns h's strings. */
static tg_err
hint_verify(bus_ctx *ctx, const authorize_app *app, const char *token, hint *h,
            jose_jws **jws_out)
{
    const char *iss, *sid;
    jose_jws *jws = NULL;
    tg_err err;

    *jws_out = NULL;
    h->client = NULL;
    h->sid = "";
    h->sub = "";
    if (strlen(token) > MAX_HINT || jose_jws_parse(token, &jws) != TG_OK)
        return TG_EDENIED;
    iss = json_string_value(json_object_get(jws->payload, "iss"));
    if (iss == NULL || strcmp(iss, bus_ctx_issuer(ctx)) != 0 ||
        (h->client = audience_client(ctx, app, jws->payload)) == NULL) {
        err = TG_EDENIED;
        goto out;
    }
    if (jws->alg == JOSE_ALG_HS256) /* only an HS256 application's tokens use its secret */
        err = h->client->jwt_alg != NULL && h->client->client_secret != NULL &&
                      strcmp(h->client->jwt_alg, "HS256") == 0 &&
                      jose_jws_verify(jws, NULL, h->client->client_secret,
                                      strlen(h->client->client_secret)) == TG_OK
                  ? TG_OK
                  : TG_EDENIED;
    else
        err = verify_with_tenant_key(ctx, app, jws);
    if (err != TG_OK)
        goto out;
    sid = json_string_value(json_object_get(jws->payload, "sid"));
    h->sid = sid != NULL ? sid : "";
    sid = json_string_value(json_object_get(jws->payload, "sub"));
    h->sub = sid != NULL ? sid : "";
    *jws_out = jws;
    jws = NULL;
out:
    if (err != TG_OK)
        h->client = NULL;
    jose_jws_free(jws);
    return err;
}

/* The confirmation page: a GET form back to /oidc/logout with the same parameters and
 * logout_hint set to the session's sid. */
static tg_err
reply_confirm(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
              const Tollgate__Authorize__OidcLogoutRequest *req, const config_client *client,
              const char *sid)
{
    const char *const kv[][2] = {
        {"client_id", client != NULL ? client->client_id : ""},
        {"post_logout_redirect_uri", req->post_logout_redirect_uri},
        {"state", req->state},
        {"ui_locales", req->ui_locales},
        {"logout_hint", sid},
    };

    return authorize_reply_html(
        ctx, reply, 200,
        authorize_logout_confirm_html(&app->cfg->tenant.branding,
                                      client != NULL ? client->name : NULL, kv,
                                      sizeof(kv) / sizeof(kv[0])),
        NULL, NULL);
}

/* Whether the browser's session may end without asking: a verified hint naming the session's
 * user (RP-Initiated Logout 1.0 §2: the OP asks when the hint's subject is not the user logged
 * in), or logout_hint naming the session; or there is no session at all. hint_sub is the
 * verified hint's sub, NULL without one. *sid_out: the session's sid (arena). */
static tg_err
may_end_session(bus_ctx *ctx, const authorize_app *app,
                const Tollgate__Authorize__OidcLogoutRequest *req, const char *hint_sub,
                bool *ok, const char **sid_out)
{
    const char *cookie = req->web != NULL ? req->web->cookie : NULL, *sid;
    json_t *session = NULL;
    tg_err err;

    *ok = true;
    *sid_out = "";
    err = authorize_session_find(app, cookie, &session);
    if (err == TG_ENOTFOUND)
        return TG_OK;
    if (err != TG_OK)
        return err;
    sid = json_string_value(json_object_get(session, "sid"));
    if (sid == NULL || (*sid_out = bus_ctx_strdup(ctx, sid)) == NULL)
        err = TG_ENOMEM;
    else if (hint_sub != NULL)
        *ok = strcmp(authorize_doc_str(session, "user_id"), hint_sub) == 0;
    else
        *ok = req->logout_hint[0] != '\0' && tg_ct_streq(req->logout_hint, sid);
    json_decref(session);
    return err;
}

static tg_err
error_page(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
           const char *desc)
{
    return authorize_reply_error_page(ctx, app, reply, 400, "invalid_request", desc);
}

tg_err
authorize_on_oidc_logout(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__OidcLogoutRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *uri = req->post_logout_redirect_uri, *sid = "";
    hint h = {.client = NULL, .sid = "", .sub = ""};
    jose_jws *jws = NULL;
    char *target = NULL, desc[1536];
    bool verified = false, ok;
    tg_err err = TG_OK;

    if (strlen(uri) > AUTHORIZE_MAX_PARAM || strlen(req->state) > AUTHORIZE_MAX_PARAM ||
        strlen(req->client_id) > AUTHORIZE_MAX_PARAM ||
        strlen(req->logout_hint) > AUTHORIZE_MAX_PARAM) {
        err = error_page(ctx, app, reply, "Parameter too long");
        goto out;
    }
    if (req->id_token_hint[0] != '\0') {
        err = hint_verify(ctx, app, req->id_token_hint, &h, &jws);
        if (err == TG_EUNAVAILABLE) {
            err = authorize_reply_error_page(ctx, app, reply, 503, "temporarily_unavailable",
                                             MSG_UNAVAILABLE);
            goto out;
        }
        if (err != TG_OK) {
            LOG_INFO("oidc logout: id_token_hint refused");
            err = error_page(ctx, app, reply, MSG_HINT_INVALID);
            goto out;
        }
        verified = true;
        if (req->client_id[0] != '\0' && strcmp(req->client_id, h.client->client_id) != 0) {
            err = error_page(ctx, app, reply, MSG_HINT_CLIENT);
            goto out;
        }
        if (req->logout_hint[0] != '\0' && strcmp(req->logout_hint, h.sid) != 0) {
            err = error_page(ctx, app, reply, MSG_HINT_SID);
            goto out;
        }
    } else if (req->client_id[0] != '\0' &&
               (h.client = authorize_client_find(ctx, app, req->client_id)) == NULL) {
        snprintf(desc, sizeof(desc), "Unknown client: %.200s", req->client_id);
        err = error_page(ctx, app, reply, desc);
        goto out;
    }
    if (uri[0] != '\0') {
        if (h.client == NULL) {
            err = error_page(ctx, app, reply, MSG_REDIRECT_NO_CLIENT);
            goto out;
        }
        if (!config_strv_has(&h.client->allowed_logout_urls, uri) || !authorize_uri_is_safe(uri)) {
            LOG_INFO("oidc logout: post_logout_redirect_uri not allowed for client %s",
                     h.client->client_id);
            snprintf(desc, sizeof(desc), MSG_REDIRECT_CLIENT, uri, h.client->client_id);
            err = error_page(ctx, app, reply, desc);
            goto out;
        }
        const char *const kv[][2] = {{"state", req->state}};
        if ((target = authorize_url_with_params(uri, '?', kv, 1)) == NULL) {
            err = TG_ENOMEM;
            goto out;
        }
    }
    if ((err = may_end_session(ctx, app, req, verified ? h.sub : NULL, &ok, &sid)) != TG_OK)
        goto out;
    if (!ok)
        err = reply_confirm(ctx, app, reply, req, h.client, sid);
    else
        err = authorize_logout_finish(ctx, app, reply, req->web, target);
out:
    free(target);
    jose_jws_free(jws);
    return err;
}
