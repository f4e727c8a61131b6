/*
 * POST /oidc/register: OpenID Connect Dynamic Client Registration (RFC 7591) as Auth0 offers it
 * (contract.md §18). Open registration, only when the tenant file sets
 * tenant.flags.enable_dynamic_client_registration. A registered client is third-party
 * (client_id "tpc_..."), public with token_endpoint_auth_method none (app_type spa), else
 * confidential (regular_web); it may use the authorization code flow (and refresh tokens) at
 * the redirect URIs it registered. The secret is shown once, in the 201; only its SHA-256 is
 * stored (config/config_registered.h has the stored document).
 */
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "config/config_registered.h"
#include "core/log.h"
#include "core/util.h"

#define ID_BYTES 24     /* client_id: "tpc_" + 32 base64url characters */
#define SECRET_BYTES 32 /* client_secret: 43 base64url characters */

static const char *const registrable_grants[] = {"authorization_code", "refresh_token"};

/* "https://HOST[:port]/..." or "http://localhost|127.0.0.1[:port]/...": an explicit host, no
 * userinfo, no wildcard, no fragment. */
bool
authorize_redirect_uri_is_registrable(const char *uri)
{
    const char *host, *end;
    size_t host_len;
    bool https;

    if (!authorize_uri_is_safe(uri) || strchr(uri, '#') != NULL || strchr(uri, '*') != NULL)
        return false;
    if (strncmp(uri, "https://", 8) == 0)
        https = true;
    else if (strncmp(uri, "http://", 7) == 0)
        https = false;
    else
        return false;
    host = uri + (https ? 8 : 7);
    end = host + strcspn(host, "/?");
    if (memchr(host, '@', (size_t)(end - host)) != NULL || memchr(host, '%', (size_t)(end - host)))
        return false;
    host_len = strcspn(host, ":/?");
    if (host_len == 0 || host + host_len > end)
        return false;
    if (host + host_len < end) { /* a port: digits only */
        const char *p = host + host_len + 1;

        if (p == end)
            return false;
        for (; p < end; p++)
            if (*p < '0' || *p > '9')
                return false;
    }
    if (https)
        return true;
    return (host_len == 9 && strncmp(host, "localhost", 9) == 0) ||
           (host_len == 9 && strncmp(host, "127.0.0.1", 9) == 0);
}

static bool
name_is_ok(const char *s)
{
    size_t len = strlen(s);

    if (len > AUTHORIZE_REGISTER_NAME_MAX || !tg_utf8_is_valid(s, len))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '<' || *s == '>')
            return false;
    return true;
}

static const char *
fail(char *desc, size_t len, const char *error, const char *text)
{
    snprintf(desc, len, "%s", text);
    return error;
}

const char *
authorize_register_check(const Tollgate__Authorize__RegisterRequest *req,
                         authorize_registration *out, char *desc, size_t desclen)
{
    const char *m = req->token_endpoint_auth_method;

    memset(out, 0, sizeof(*out));
    out->client_name = req->client_name[0] != '\0' ? req->client_name : "My App";
    if (!name_is_ok(out->client_name))
        return fail(desc, desclen, "invalid_client_metadata",
                    "client_name must be at most 128 characters without control characters, "
                    "< or >");
    if (req->n_redirect_uris == 0)
        return fail(desc, desclen, "invalid_redirect_uri", "redirect_uris is required");
    if (req->n_redirect_uris > AUTHORIZE_REGISTER_MAX_URIS)
        return fail(desc, desclen, "invalid_redirect_uri", "Too many redirect_uris");
    for (size_t i = 0; i < req->n_redirect_uris; i++)
        if (!authorize_redirect_uri_is_registrable(req->redirect_uris[i]))
            return fail(desc, desclen, "invalid_redirect_uri",
                        "Every redirect_uri must be an https URL (http only for localhost or "
                        "127.0.0.1) without userinfo, wildcard or fragment");
    out->redirect_uris = (const char *const *)req->redirect_uris;
    out->n_redirect_uris = req->n_redirect_uris;
    if (m[0] == '\0' || strcmp(m, "client_secret_post") == 0)
        out->method = "client_secret_post";
    else if (strcmp(m, "client_secret_basic") == 0)
        out->method = "client_secret_basic";
    else if (strcmp(m, "none") == 0)
        out->method = "none";
    else if (strcmp(m, "private_key_jwt") == 0)
        return fail(desc, desclen, "invalid_client_metadata",
                    "token_endpoint_auth_method private_key_jwt is not supported for dynamically "
                    "registered clients");
    else
        return fail(desc, desclen, "invalid_client_metadata",
                    "token_endpoint_auth_method must be client_secret_post, client_secret_basic "
                    "or none");
    for (size_t i = 0; i < req->n_response_types; i++)
        if (strcmp(req->response_types[i], "code") != 0)
            return fail(desc, desclen, "invalid_client_metadata",
                        "response_types may only contain code");
    /* Auth0 keeps only the grants a registered client may use. */
    for (size_t g = 0; g < 2; g++)
        for (size_t i = 0; i < req->n_grant_types; i++)
            if (strcmp(req->grant_types[i], registrable_grants[g]) == 0) {
                out->grant_types[out->n_grant_types++] = registrable_grants[g];
                break;
            }
    if (out->n_grant_types == 0)
        out->grant_types[out->n_grant_types++] = "authorization_code";
    return NULL;
}

static json_t *
strv_json(const char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The stored document (config_registered.h) of reg under id; secret_hash NULL for none. */
static json_t *
registration_doc(const authorize_registration *reg, const char *id, const char *secret_hash)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:I}", "_id", id, "client_name", reg->client_name,
                  "redirect_uris", strv_json(reg->redirect_uris, reg->n_redirect_uris),
                  "token_endpoint_auth_method", reg->method, "grant_types",
                  strv_json(reg->grant_types, reg->n_grant_types), "app_type",
                  strcmp(reg->method, "none") == 0 ? "spa" : "regular_web", "created_at",
                  (json_int_t)tg_now_s());

    if (doc != NULL && secret_hash != NULL &&
        json_object_set_new(doc, "secret_hash", json_string(secret_hash)) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* The 201 body: RFC 7591 §3.2.1's registered metadata (the route adds Cache-Control:
 * no-store, which §3.2.1 requires). */
static tg_err
reply_created(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, const json_t *doc,
              const char *secret)
{
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    json_t *body = json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:[s], s:i, s:O}", "client_id", json_object_get(doc, "_id"),
        "client_name", json_object_get(doc, "client_name"), "redirect_uris",
        json_object_get(doc, "redirect_uris"), "grant_types", json_object_get(doc, "grant_types"),
        "token_endpoint_auth_method", json_object_get(doc, "token_endpoint_auth_method"),
        "response_types", "code", "client_secret_expires_at", 0, "client_id_issued_at",
        json_object_get(doc, "created_at"));
    char *text = NULL;

    if (body != NULL && secret != NULL)
        json_object_set_new(body, "client_secret", json_string(secret));
    if (body != NULL)
        text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (d == NULL || text == NULL) {
        tg_free_secret_str(text);
        return TG_ENOMEM;
    }
    tollgate__web__directive__init(d);
    d->status = 201;
    d->content_type = "application/json";
    d->body.len = strlen(text);
    d->body.data = bus_ctx_alloc(ctx, d->body.len);
    if (d->body.data == NULL) {
        tg_free_secret_str(text);
        return TG_ENOMEM;
    }
    memcpy(d->body.data, text, d->body.len);
    tg_free_secret_str(text);
    reply->http = d;
    return TG_OK;
}

tg_err
authorize_on_register(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__RegisterRequest *req = (const void *)reqm;
    Tollgate__Authorize__PageReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    authorize_registration reg;
    char desc[256], hash[65], *idpart = NULL, *secret = NULL, id[64];
    const char *error;
    json_t *doc = NULL;
    tg_err err;

    if (!app->cfg->tenant.dynamic_client_registration)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                            "Dynamic client registration is not enabled for this tenant");
    if ((error = authorize_register_check(req, &reg, desc, sizeof(desc))) != NULL)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, error, desc);
    if ((err = tg_random_token(ID_BYTES, &idpart)) != TG_OK)
        goto out;
    snprintf(id, sizeof(id), "%s%s", CONFIG_REGISTERED_PREFIX, idpart);
    if (strcmp(reg.method, "none") != 0) {
        if ((err = tg_random_token(SECRET_BYTES, &secret)) != TG_OK)
            goto out;
        config_registered_hash_secret(secret, hash);
    }
    if ((doc = registration_doc(&reg, id, secret != NULL ? hash : NULL)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    /* 192 random bits: a collision (TG_EEXIST) is not worth a retry path */
    if ((err = store_insert(app->st, AUTHORIZE_COLL_CLIENTS, doc)) != TG_OK)
        goto out;
    LOG_INFO("registered client %s (%s, %zu redirect URIs)", id, reg.method, reg.n_redirect_uris);
    err = reply_created(ctx, reply, doc, secret);
out:
    json_decref(doc);
    free(idpart);
    tg_free_secret_str(secret);
    return err;
}
