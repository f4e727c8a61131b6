/*
 * Internal methods for svc-authorize (proto/token.proto), reached only through the token bus
 * device, whose back svc-token dials next to the gateway's address. The bus does not tell a
 * handler which socket a request came in on, so the boundary is the network: the device is
 * on a private address and the gateway has no route to these methods (docs/architecture.md).
 *
 * token.IssueForAuthorize: the tokens of the implicit and hybrid response types. svc-authorize
 * authenticated the user and checked client, redirect_uri, scope and audience; here the same
 * issue.c / id_token.c / claims.c as every grant mint them, with the front channel's access
 * token lifetime, never a refresh token (offline_access is dropped from the access token's
 * scope), and an ID token carrying nonce, auth_time, sid, at_hash (with an access token) and
 * c_hash (with a code), signed with the client's alg.
 *
 * token.LogoutToken: the back-channel logout token of one client for an ended session, typed
 * "logout+jwt" (Back-Channel Logout 1.0 §2.4, security.md 58) so it can never pass for an ID
 * token.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define LOGOUT_TOKEN_LIFETIME 120 /* ASVS 5.0 V10.5.5: a short exp */
#define LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"
#define JTI_BYTES 16

static tg_err
bad_request(bus_ctx *ctx, const char *error, const char *text)
{
    LOG_WARN("internal token request refused: %s", text);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, error, text);
}

/* Mints what was asked into reply (arena copies). */
static tg_err
mint(bus_ctx *ctx, const token_app *app, const Tollgate__Token__IssueForAuthorizeRequest *req,
     token_issue_req *ir, Tollgate__Token__IssueForAuthorizeReply *reply)
{
    char *access = NULL, *id_token = NULL;
    int64_t expires_in = 0;
    tg_err err = TG_OK;

    if (req->want_access_token &&
        (err = token_issue_access_token(ctx, app, ir, &access, &expires_in)) != TG_OK)
        goto out;
    if (req->want_id_token &&
        (err = token_id_token_sign(app, ir, bus_ctx_issuer(ctx), access, &id_token)) != TG_OK)
        goto out;
    reply->access_token = bus_ctx_strdup(ctx, access != NULL ? access : "");
    reply->id_token = bus_ctx_strdup(ctx, id_token != NULL ? id_token : "");
    reply->scope = bus_ctx_strdup(ctx, ir->scope);
    if (reply->access_token == NULL || reply->id_token == NULL || reply->scope == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    reply->expires_in = expires_in;
out:
    tg_free_secret_str(access);
    tg_free_secret_str(id_token);
    return err;
}

tg_err
token_on_issue_for_authorize(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__IssueForAuthorizeRequest *req = (const void *)reqm;
    Tollgate__Token__IssueForAuthorizeReply *reply = (void *)replym;
    const token_app *app = bus_ctx_app(ctx);
    Tollgate__Users__GetUserReply *gu = NULL;
    token_issue_req ir = {.for_web = true};
    tg_err err;

    if ((ir.client = config_client_by_id(app->cfg, req->client_id)) == NULL)
        return bad_request(ctx, "invalid_request", "Unknown client");
    if (!req->want_access_token && !req->want_id_token)
        return bad_request(ctx, "invalid_request", "Nothing to issue");
    if (req->want_id_token && !token_scope_has(req->scope, "openid"))
        return bad_request(ctx, "invalid_request", "An ID token needs the openid scope");
    if (req->user_id[0] == '\0')
        return bad_request(ctx, "invalid_request", "No user");
    if (token_api_for_audience(app, req->audience, &ir.api) != TG_OK)
        return bad_request(ctx, "access_denied", "Service not found");
    if ((err = token_grant_user(ctx, app, req->user_id, &gu)) == TG_ENOTFOUND)
        return bad_request(ctx, "access_denied", "The user does not exist any more");
    if (err != TG_OK)
        return err;
    ir.user = gu->user;
    ir.scope = req->scope;
    ir.nonce = req->nonce;
    ir.sid = req->sid;
    ir.auth_time = req->auth_time;
    ir.code = req->code;
    /* the front channel never hands out a refresh token (contract.md §4.4) */
    if ((err = token_scope_drop_offline(ctx, &ir.scope)) == TG_OK &&
        (err = mint(ctx, app, req, &ir, reply)) == TG_OK)
        LOG_INFO("front-channel tokens issued client_id=%s user_id=%s access=%d id=%d code=%d",
                 ir.client->client_id, ir.user->user_id, req->want_access_token, req->want_id_token,
                 req->code[0] != '\0');
    protobuf_c_message_free_unpacked(&gu->base, NULL);
    return err;
}

json_t *
token_logout_claims(const char *issuer, const char *client_id, const char *user_id, const char *sid,
                    const char *jti, int64_t now)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}", "iss", issuer, "aud",
                     client_id, "iat", (json_int_t)now, "exp",
                     (json_int_t)(now + LOGOUT_TOKEN_LIFETIME), "jti", jti, "sub", user_id, "sid",
                     sid, "events", LOGOUT_EVENT);
}

tg_err
token_on_logout_token(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__LogoutTokenRequest *req = (const void *)reqm;
    Tollgate__Token__LogoutTokenReply *reply = (void *)replym;
    const token_app *app = bus_ctx_app(ctx);
    const config_client *client = config_client_by_id(app->cfg, req->client_id);
    char *jti = NULL, *token = NULL;
    json_t *claims = NULL;
    tg_err err;

    if (client == NULL)
        return bad_request(ctx, "invalid_request", "Unknown client");
    if (req->sid[0] == '\0' || req->user_id[0] == '\0')
        return bad_request(ctx, "invalid_request", "A logout token needs sid and sub");
    if ((err = tg_random_token(JTI_BYTES, &jti)) != TG_OK)
        return err;
    claims = token_logout_claims(bus_ctx_issuer(ctx), client->client_id, req->user_id, req->sid,
                                 jti, tg_now_s());
    if (claims == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = token_sign_for_client(app, client, "logout+jwt", claims, &token)) != TG_OK)
        goto out;
    if ((reply->logout_token = bus_ctx_strdup(ctx, token)) == NULL)
        err = TG_ENOMEM;
out:
    json_decref(claims);
    tg_free_secret_str(token);
    free(jti);
    return err;
}
