/*
 * grant_type=password and http://auth0.com/oauth/grant-type/password-realm (contract.md §6.3,
 * §4.2, §4.3, §21.2): the resource-owner password grants. svc-users checks the password
 * (users.VerifyPassword) and its Auth0 refusals go to the client unchanged; svc-token decides
 * scopes and audience and mints the tokens.
 *
 * offline_access is granted (and a refresh token issued) only when the client has the
 * refresh_token grant and the API, if any, allows offline access (§4.4, §21.2); otherwise it
 * is dropped from the granted scope so the response never claims a grant it did not make.
 *
 * Not here yet: MFA, organizations, and the tenant toggle "Trust Token Endpoint IP Header" (not modelled: the
 * auth0-forwarded-for header is trusted for every confidential client that authenticated).
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define GRANT_PASSWORD_REALM "http://auth0.com/oauth/grant-type/password-realm"
#define SCOPE_MAX 64
#define SCOPE_TEXT_MAX 4096

/* OIDC scopes that pass through as requested whatever the audience. */
static const char *const oidc_scopes[] = {"openid", "profile", "email", "phone", "address", NULL};

static tg_err
invalid_request(bus_ctx *ctx, const char *text)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request", text);
}

static bool
is_oidc_scope(const char *s)
{
    for (const char *const *p = oidc_scopes; *p != NULL; p++)
        if (strcmp(*p, s) == 0)
            return true;
    return false;
}

static bool
api_has_scope(const config_resource_server *api, const char *s)
{
    for (size_t i = 0; api != NULL && i < api->n_scopes; i++)
        if (strcmp(api->scopes[i].value, s) == 0)
            return true;
    return false;
}

/* Granted scope (arena; "" when nothing): requested OIDC scopes and offline_access (which the
 * caller drops again when no refresh token may be issued), plus requested ∩ API scopes,
 * or every API scope when no API scope was requested ("implied trust", §21.2). Words that are
 * neither are dropped, as Auth0 does. */
static tg_err
granted_scope(bus_ctx *ctx, const config_resource_server *api, const char *requested,
              char **out)
{
    char *result = bus_ctx_strdup(ctx, ""), word[256];
    bool api_requested = false;
    size_t n = 0;

    *out = NULL;
    if (strlen(requested) > SCOPE_TEXT_MAX)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_scope",
                            "Scope is too long");
    for (const char *p = requested + strspn(requested, " "); *p != '\0' && result != NULL;) {
        size_t len = strcspn(p, " ");
        if (len >= sizeof(word) || ++n > SCOPE_MAX)
            return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_scope",
                                "Scope is too long");
        memcpy(word, p, len);
        word[len] = '\0';
        if (api_has_scope(api, word))
            api_requested = true;
        if (is_oidc_scope(word) || api_has_scope(api, word) ||
            strcmp(word, "offline_access") == 0)
            result = token_scope_append(ctx, result, word);
        p += len;
        p += strspn(p, " ");
    }
    for (size_t i = 0; api != NULL && !api_requested && i < api->n_scopes && result != NULL; i++)
        result = token_scope_append(ctx, result, api->scopes[i].value);
    if (result == NULL)
        return TG_ENOMEM;
    *out = result;
    return TG_OK;
}

/* The audience (request, else the tenant default, else none). On an unknown one fills ctx's
 * error. *api stays NULL when there is no audience. */
static tg_err
resolve_audience(bus_ctx *ctx, const token_app *app, const char *audience,
                 const config_resource_server **api)
{
    char text[1024];

    if (token_api_for_audience(app, audience, api) == TG_OK)
        return TG_OK;
    if (audience[0] == '\0')
        audience = app->cfg->tenant.default_audience;
    snprintf(text, sizeof(text), "Service not enabled within domain: %.900s", audience);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied", text);
}

/* The end user's IP for brute-force protection: auth0-forwarded-for only from a confidential
 * client that proved itself (contract.md §1.3), else the peer address. */
static const char *
end_user_ip(const token_client_auth *auth, const Tollgate__Web__Context *web)
{
    if (strcmp(auth->method, "none") != 0 && web->forwarded_for[0] != '\0')
        return web->forwarded_for;
    return web->client_ip;
}

static tg_err
verify_password(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                const token_client_auth *auth, Tollgate__Users__VerifyPasswordReply **out)
{
    Tollgate__Users__VerifyPasswordRequest vr = TOLLGATE__USERS__VERIFY_PASSWORD_REQUEST__INIT;
    bool realm_grant = strcmp(req->grant_type, GRANT_PASSWORD_REALM) == 0;
    tg_err err;

    /* password: the tenant's default directory, which svc-users resolves from "". */
    vr.connection = realm_grant ? req->realm : "";
    vr.username = req->username;
    vr.password = req->password;
    vr.client_id = auth->client->client_id;
    vr.client_ip = (char *)end_user_ip(auth, req->web);
    /* the call waits for svc-users' hashing: a flood of them may not hold every worker */
    if (!bus_ctx_slow_enter(ctx))
        return bus_ctx_fail_busy(ctx);
    err = token_users_call(ctx, app, "users.VerifyPassword", &vr.base,
                           &tollgate__users__verify_password_reply__descriptor, true,
                           (ProtobufCMessage **)out);
    bus_ctx_slow_leave(ctx);
    if (err == TG_OK && ((*out)->user == NULL || (*out)->user->user_id[0] == '\0')) {
        LOG_ERROR("users.VerifyPassword answered without a user");
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        err = TG_EPROTO;
    }
    return err;
}

tg_err
token_grant_password(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                     const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    Tollgate__Users__VerifyPasswordReply *vp = NULL;
    const config_resource_server *api;
    char *scope = NULL;
    tg_err err;

    if (req->username[0] == '\0')
        return invalid_request(ctx, "Missing required parameter: username");
    if (req->password[0] == '\0')
        return invalid_request(ctx, "Missing required parameter: password");
    if (strcmp(req->grant_type, GRANT_PASSWORD_REALM) == 0 && req->realm[0] == '\0')
        return invalid_request(ctx, "Missing required parameter: realm");
    if ((err = resolve_audience(ctx, app, req->audience, &api)) != TG_OK)
        return err;
    if ((err = granted_scope(ctx, api, req->scope, &scope)) != TG_OK)
        return err;
    if ((err = verify_password(ctx, app, req, auth, &vp)) != TG_OK)
        return err;
    token_issue_req ir = {.api = api, .client = auth->client, .user = vp->user, .scope = scope,
                          .gty = "password"};
    err = token_issue_with_refresh(ctx, app, &ir, reply);
    if (err == TG_OK)
        LOG_INFO("%s tokens issued client_id=%s user_id=%s audience=%s", req->grant_type,
                 auth->client->client_id, vp->user->user_id, api ? api->identifier : "-");
    protobuf_c_message_free_unpacked(&vp->base, NULL);
    return err;
}
