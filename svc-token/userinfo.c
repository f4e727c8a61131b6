/*
 * GET /userinfo (contract.md §9): the claims of the user behind a bearer token, by the token's
 * scope. Accepted tokens: the opaque userinfo tokens the password grants mint (looked up by
 * hash), and JWT access tokens we signed whose aud holds "<issuer>userinfo". Only the tenant's
 * asymmetric keys verify here, never HS256: an API's HS256 secret is shared with the API, so
 * a token signed with it proves nothing about us.
 *
 * Every refusal is Auth0's plain-text 401 "Unauthorized" with a WWW-Authenticate header.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define REALM "Bearer realm=\"Users\""
#define BEARER_MAX 16384

static tg_err
unauthorized(bus_ctx *ctx, const char *description)
{
    char header[256];
    tg_err err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "invalid_token",
                              "Unauthorized");

    bus_ctx_fail_shape(ctx, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_TEXT, NULL);
    if (description == NULL) {
        bus_ctx_fail_header(ctx, "WWW-Authenticate", REALM);
    } else {
        snprintf(header, sizeof(header),
                 REALM ", error=\"invalid_token\", error_description=\"%s\"", description);
        bus_ctx_fail_header(ctx, "WWW-Authenticate", header);
    }
    return err;
}

/* The token of "Bearer <token>" (scheme case-insensitive, one space), or NULL. */
static const char *
bearer_token(const char *authorization)
{
    const char *t;

    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    t = authorization + 7;
    if (t[0] == '\0' || strlen(t) > BEARER_MAX)
        return NULL;
    for (const char *p = t; *p != '\0'; p++)
        if (!isgraph((unsigned char)*p))
            return NULL;
    return t;
}

static bool
aud_has(const json_t *aud, const char *want)
{
    const json_t *v;
    size_t i;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return true;
    }
    return false;
}

/* Checks a JWT access token; on success *sub and *scope are arena copies and *iat its issue
 * time. Returns the reason for refusal, or NULL. *client_id (arena copy, or left NULL) is the
 * client the token was issued to (azp), also when the token is refused for having expired. */
static const char *
check_jwt(bus_ctx *ctx, const token_app *app, const char *token, char **sub, char **scope,
          int64_t *iat, char **client_id)
{
    const char *issuer = bus_ctx_issuer(ctx), *why = NULL;
    char userinfo[512];
    jose_jws *jws = NULL;
    const jose_key *key;
    const json_t *p, *exp, *kid;

    if (jose_jws_parse(token, &jws) != TG_OK)
        return "Invalid token";
    key = jws->alg != JOSE_ALG_HS256 ? token_keys_get(&app->keys, jws->alg) : NULL;
    kid = json_object_get(jws->header, "kid");
    if (key == NULL || !json_is_string(kid) ||
        strcmp(json_string_value(kid), jose_key_kid(key)) != 0 ||
        jose_jws_verify(jws, key, NULL, 0) != TG_OK) {
        why = "Invalid token";
        goto out;
    }
    p = jws->payload;
    if (json_is_string(json_object_get(p, "azp")))
        *client_id = bus_ctx_strdup(ctx, json_string_value(json_object_get(p, "azp")));
    exp = json_object_get(p, "exp");
    snprintf(userinfo, sizeof(userinfo), "%suserinfo", issuer);
    if (!json_is_integer(exp) || json_integer_value(exp) <= tg_now_s())
        why = "The token has expired";
    else if (!json_is_string(json_object_get(p, "iss")) ||
             strcmp(json_string_value(json_object_get(p, "iss")), issuer) != 0 ||
             !aud_has(json_object_get(p, "aud"), userinfo) ||
             !json_is_string(json_object_get(p, "sub")))
        why = "Invalid token";
    if (why == NULL) {
        const json_t *sc = json_object_get(p, "scope");
        *sub = bus_ctx_strdup(ctx, json_string_value(json_object_get(p, "sub")));
        *scope = bus_ctx_strdup(ctx, json_is_string(sc) ? json_string_value(sc) : "");
        *iat = (int64_t)json_integer_value(json_object_get(p, "iat"));
    }
out:
    jose_jws_free(jws);
    return why;
}

/* Checks an opaque userinfo token; same contract as check_jwt. A token minted with a refresh
 * token dies with its family. */
static const char *
check_opaque(bus_ctx *ctx, const token_app *app, const char *token, char **sub, char **scope,
             int64_t *iat, char **client_id)
{
    json_t *doc = NULL;
    const char *s, *sc, *family, *cid;

    if (token_userinfo_token_find(app, token, &doc) != TG_OK)
        return "Invalid token"; /* unknown, or expired and so filtered by the store */
    if ((cid = json_string_value(json_object_get(doc, "client_id"))) != NULL)
        *client_id = bus_ctx_strdup(ctx, cid);
    family = json_string_value(json_object_get(doc, "family_id"));
    if (family != NULL && !token_refresh_family_is_live(app, family)) {
        json_decref(doc);
        return "Invalid token";
    }
    *iat = (int64_t)json_integer_value(json_object_get(doc, "iat"));
    s = json_string_value(json_object_get(doc, "sub"));
    sc = json_string_value(json_object_get(doc, "scope"));
    *sub = bus_ctx_strdup(ctx, s != NULL ? s : "");
    *scope = bus_ctx_strdup(ctx, sc != NULL ? sc : "");
    json_decref(doc);
    return NULL;
}

/* The 200 directive: {"sub", ...claims by scope}. */
static tg_err
answer(bus_ctx *ctx, const Tollgate__Users__User *user, const char *scope,
       Tollgate__Token__UserinfoReply *reply)
{
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    json_t *body = json_pack("{s:s}", "sub", user->user_id);
    char *text = NULL;
    tg_err err = TG_ENOMEM;

    if (d == NULL || body == NULL || token_claims_add_user(body, user, scope) != TG_OK)
        goto out;
    if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
        goto out;
    tollgate__web__directive__init(d);
    d->status = 200;
    d->content_type = "application/json";
    d->body.len = strlen(text);
    if ((d->body.data = (uint8_t *)bus_ctx_strdup(ctx, text)) == NULL)
        goto out;
    reply->http = d;
    err = TG_OK;
out:
    free(text);
    json_decref(body);
    return err;
}

/* The answer for the token in req; *client_id (arena, or left NULL) names the client the token
 * was issued to once the token is known. */
static tg_err
serve(bus_ctx *ctx, const token_app *app, const Tollgate__Token__Empty *req,
      Tollgate__Token__UserinfoReply *reply, char **client_id)
{
    Tollgate__Users__GetUserRequest gr = TOLLGATE__USERS__GET_USER_REQUEST__INIT;
    Tollgate__Users__GetUserReply *gu = NULL;
    const char *token, *why;
    char *sub = NULL, *scope = NULL;
    int64_t iat = 0;
    tg_err err;

    if (req->web == NULL || req->web->authorization[0] == '\0')
        return unauthorized(ctx, NULL);
    if ((token = bearer_token(req->web->authorization)) == NULL)
        return unauthorized(ctx, "Invalid authorization header");
    why = strchr(token, '.') != NULL
              ? check_jwt(ctx, app, token, &sub, &scope, &iat, client_id)
              : check_opaque(ctx, app, token, &sub, &scope, &iat, client_id);
    if (why != NULL)
        return unauthorized(ctx, why);
    if (sub == NULL || scope == NULL)
        return TG_ENOMEM;
    if (!token_scope_has(scope, "openid"))
        return unauthorized(ctx, "Insufficient scope, expected openid");
    gr.user_id = sub;
    err = token_users_call(ctx, app, "users.GetUser", &gr.base,
                           &tollgate__users__get_user_reply__descriptor, false,
                           (ProtobufCMessage **)&gu);
    if (err == TG_EDENIED) {
        /* svc-users refused (the user is gone): the token no longer names anyone. */
        LOG_INFO("userinfo: svc-users refused user %s", sub);
        return unauthorized(ctx, "Invalid token");
    }
    if (err != TG_OK)
        return err;
    if (gu->user == NULL)
        err = unauthorized(ctx, "Invalid token");
    else if (iat < gu->user->tokens_valid_after) /* e.g. issued before a password reset */
        err = unauthorized(ctx, "Invalid token");
    else
        err = answer(ctx, gu->user, scope, reply);
    protobuf_c_message_free_unpacked(&gu->base, NULL);
    return err;
}

tg_err
token_on_userinfo(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__Empty *req = (const void *)reqm;
    Tollgate__Token__UserinfoReply *reply = (void *)replym;
    const token_app *app = bus_ctx_app(ctx);
    char *client_id = NULL;
    tg_err err = serve(ctx, app, req, reply, &client_id);

    /* no client_id in the request: CORS follows the client the token was issued to (none for
     * an unknown token) */
    return token_cors_finish(ctx, app, req->web, client_id != NULL ? client_id : "",
                             &reply->http, err);
}
