/* GET /.well-known/jwks.json and /.well-known/openid-configuration. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "token.h"

static char *
jwk_str(bus_ctx *ctx, const json_t *jwk, const char *name)
{
    const char *v = json_string_value(json_object_get(jwk, name));
    return bus_ctx_strdup(ctx, v ? v : "");
}

static tg_err
fill_jwk(bus_ctx *ctx, const json_t *jwk, Tollgate__Token__Jwk *out)
{
    const json_t *x5c = json_object_get(jwk, "x5c"), *v;
    size_t i;

    tollgate__token__jwk__init(out);
    out->kid = jwk_str(ctx, jwk, "kid");
    out->kty = jwk_str(ctx, jwk, "kty");
    out->alg = jwk_str(ctx, jwk, "alg");
    out->use = jwk_str(ctx, jwk, "use");
    out->n = jwk_str(ctx, jwk, "n");
    out->e = jwk_str(ctx, jwk, "e");
    out->crv = jwk_str(ctx, jwk, "crv");
    out->x = jwk_str(ctx, jwk, "x");
    out->y = jwk_str(ctx, jwk, "y");
    out->x5t = jwk_str(ctx, jwk, "x5t");
    if (json_is_array(x5c) && json_array_size(x5c) > 0) {
        out->x5c = bus_ctx_alloc(ctx, json_array_size(x5c) * sizeof(char *));
        if (out->x5c == NULL)
            return TG_ENOMEM;
        json_array_foreach(x5c, i, v) {
            out->x5c[out->n_x5c] = bus_ctx_strdup(ctx, json_is_string(v) ? json_string_value(v) : "");
            if (out->x5c[out->n_x5c++] == NULL)
                return TG_ENOMEM;
        }
    }
    return TG_OK;
}

tg_err
token_on_jwks(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const token_app *app = bus_ctx_app(ctx);
    Tollgate__Token__Jwks *reply = (void *)replym;
    tg_err err = TG_OK;
    (void)reqm;

    reply->keys = bus_ctx_alloc(ctx, app->keys.n * sizeof(*reply->keys));
    if (reply->keys == NULL && app->keys.n > 0)
        return TG_ENOMEM;
    for (size_t i = 0; i < app->keys.n && err == TG_OK; i++) {
        json_t *jwk = jose_key_to_jwk(app->keys.keys[i]);
        Tollgate__Token__Jwk *k = bus_ctx_alloc(ctx, sizeof(*k));
        if (jwk == NULL || k == NULL) {
            json_decref(jwk);
            return TG_ENOMEM;
        }
        err = fill_jwk(ctx, jwk, k);
        json_decref(jwk);
        reply->keys[reply->n_keys++] = k;
    }
    return err;
}

static char *
endpoint(bus_ctx *ctx, const char *path)
{
    const char *issuer = bus_ctx_issuer(ctx);
    size_t len = strlen(issuer) + strlen(path) + 1;
    char *s = bus_ctx_alloc(ctx, len);

    if (s != NULL)
        snprintf(s, len, "%s%s", issuer, path);
    return s;
}

#define LIST(field, ...)                                                                       \
    do {                                                                                       \
        static char *const v_[] = {__VA_ARGS__};                                               \
        reply->field = (char **)v_;                                                            \
        reply->n_##field = sizeof(v_) / sizeof(v_[0]);                                         \
    } while (0)

/* Lists only what works today; grows as grants and endpoints land. */
tg_err
token_on_discovery(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    Tollgate__Token__OpenIdConfiguration *reply = (void *)replym;
    const token_app *app = bus_ctx_app(ctx);
    (void)reqm;

    reply->issuer = bus_ctx_strdup(ctx, bus_ctx_issuer(ctx));
    reply->authorization_endpoint = endpoint(ctx, "authorize");
    reply->token_endpoint = endpoint(ctx, "oauth/token");
    reply->jwks_uri = endpoint(ctx, ".well-known/jwks.json");
    reply->userinfo_endpoint = endpoint(ctx, "userinfo");
    reply->revocation_endpoint = endpoint(ctx, "oauth/revoke");
    reply->device_authorization_endpoint = endpoint(ctx, "oauth/device/code");
    if (reply->issuer == NULL || reply->authorization_endpoint == NULL ||
        reply->token_endpoint == NULL || reply->jwks_uri == NULL ||
        reply->userinfo_endpoint == NULL || reply->revocation_endpoint == NULL ||
        reply->device_authorization_endpoint == NULL)
        return TG_ENOMEM;
    /* dynamic registration (svc-authorize's register.c), only where the tenant enables it */
    if (app->cfg->tenant.dynamic_client_registration &&
        (reply->registration_endpoint = endpoint(ctx, "oidc/register")) == NULL)
        return TG_ENOMEM;
    /* RP-initiated logout (svc-authorize's oidc_logout.c) */
    if ((reply->end_session_endpoint = endpoint(ctx, "oidc/logout")) == NULL)
        return TG_ENOMEM;
    LIST(grant_types_supported, "authorization_code", "client_credentials", "password",
         "http://auth0.com/oauth/grant-type/password-realm", "refresh_token", "implicit",
         "urn:ietf:params:oauth:grant-type:device_code");
    LIST(response_types_supported, "code", "token", "id_token", "id_token token", "code id_token",
         "code token", "code id_token token");
    LIST(response_modes_supported, "query", "fragment", "form_post", "web_message");
    /* Auth0 also lists plain; we refuse it (RFC 9700 §2.1.1), so only S256. */
    LIST(code_challenge_methods_supported, "S256");
    LIST(scopes_supported, "openid", "profile", "email", "phone", "offline_access");
    LIST(subject_types_supported, "public");
    LIST(id_token_signing_alg_values_supported, "RS256", "HS256");
    /* What claims.c, id_token.c and the access tokens emit. */
    LIST(claims_supported, "aud", "auth_time", "email", "email_verified", "exp", "family_name",
         "given_name", "iat", "iss", "name", "nickname", "nonce", "phone_number",
         "phone_number_verified", "picture", "sid", "sub", "updated_at", "at_hash", "c_hash");
    LIST(token_endpoint_auth_methods_supported, "client_secret_basic", "client_secret_post",
         "private_key_jwt");
    /* svc-authorize POSTs logout tokens, with sid, to the clients of an ended session */
    reply->backchannel_logout_supported = true;
    reply->backchannel_logout_session_supported = true;
    LIST(token_endpoint_auth_signing_alg_values_supported, "RS256", "RS384", "PS256", "ES256");
    return TG_OK;
}
