/*
 * grant_type=authorization_code (contract.md §6.1, §5.5, §21.10; security.md T-72…T-80).
 *
 * svc-authorize owns the codes: authorize.RedeemCode takes one exactly once (keyed by our bus
 * request id, so a resent request gets the same answer) and checks its client and
 * redirect_uri; its refusals (403 invalid_grant "Invalid authorization code") reach the client
 * unchanged. svc-token then checks PKCE (S256 only), the user, and mints the tokens with the
 * code's scope, audience, nonce, auth_time and sid.
 *
 * PKCE: a code with a challenge needs a verifier that matches it; a verifier without a
 * challenge is a downgrade; a public client (auth method none) must have used PKCE. All of
 * these are 403 invalid_grant "Failed to verify code verifier" (the code is gone either way).
 *
 * Replay (RFC 9700 §4.2.4, contract §5.5): what a code issued is recorded in TOKEN_COLL_CODE_
 * GRANTS under the code's hash {family_id?, userinfo_id?}. When svc-authorize later refuses
 * that code, the refresh family is revoked and the opaque /userinfo token deleted. JWT access
 * tokens for an API are self-contained and live out their lifetime. Not covered: a replay that
 * arrives while the first exchange is still minting (before its record is written) finds
 * nothing to revoke; it still gets invalid_grant.
 */
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define CODE_MAX 512
#define VERIFIER_MIN 43
#define VERIFIER_MAX 128
#define CODE_GRANT_LIFETIME 86400 /* far beyond any code's life: replays come soon after */
#define INVALID_CODE "Invalid authorization code"
#define INVALID_VERIFIER "Failed to verify code verifier"

static tg_err
invalid_grant(bus_ctx *ctx, const char *text, const char *why)
{
    LOG_INFO("authorization code refused: %s", why);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant", text);
}

/* RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~]. */
static bool
verifier_is_wellformed(const char *v)
{
    size_t len = strlen(v);

    if (len < VERIFIER_MIN || len > VERIFIER_MAX)
        return false;
    for (const char *p = v; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_' || *p == '~'))
            return false;
    return true;
}

/* Whether BASE64URL(SHA256(verifier)) equals challenge, compared in constant time. */
static tg_err
s256_matches(const char *verifier, const char *challenge, bool *match)
{
    unsigned char digest[TG_SHA256_LEN];
    char *computed = NULL;
    tg_err err;

    *match = false;
    if (tg_sha256(verifier, strlen(verifier), digest) != TG_OK) {
        LOG_ERROR("PKCE: SHA-256 failed");
        return TG_ECRYPTO;
    }
    if ((err = tg_b64url_encode(digest, sizeof(digest), &computed)) != TG_OK)
        return err;
    *match = tg_ct_equal(computed, strlen(computed), challenge, strlen(challenge));
    free(computed);
    return TG_OK;
}

static tg_err
check_pkce(bus_ctx *ctx, const token_client_auth *auth,
           const Tollgate__Authorize__RedeemCodeReply *code, const char *verifier)
{
    bool match = false;
    tg_err err;

    if (code->code_challenge[0] == '\0') {
        if (verifier[0] != '\0')
            return invalid_grant(ctx, INVALID_VERIFIER, "code_verifier without a challenge");
        if (strcmp(auth->method, "none") == 0)
            return invalid_grant(ctx, INVALID_VERIFIER, "public client without PKCE");
        return TG_OK;
    }
    if (strcmp(code->code_challenge_method, "S256") != 0)
        return invalid_grant(ctx, INVALID_VERIFIER, "challenge method other than S256");
    if (!verifier_is_wellformed(verifier))
        return invalid_grant(ctx, INVALID_VERIFIER, "code_verifier missing or malformed");
    if ((err = s256_matches(verifier, code->code_challenge, &match)) != TG_OK)
        return err;
    return match ? TG_OK : invalid_grant(ctx, INVALID_VERIFIER, "code_verifier does not match");
}

/* Voids what the code issued, if anything: on a replay (svc-authorize refused a code that once
 * issued tokens; the client's answer, already in ctx, stays the same) or a resend. */
static void
void_code_grant(const token_app *app, const char *code_id, bool replay)
{
    const char *family, *userinfo;
    json_t *doc = NULL;

    if (store_get(app->st, TOKEN_COLL_CODE_GRANTS, code_id, &doc) != TG_OK)
        return;
    family = json_string_value(json_object_get(doc, "family_id"));
    userinfo = json_string_value(json_object_get(doc, "userinfo_id"));
    if (replay)
        LOG_WARN("authorization code replayed client_id=%s user_id=%s: its tokens are revoked",
                 json_string_value(json_object_get(doc, "client_id")),
                 json_string_value(json_object_get(doc, "user_id")));
    else
        LOG_INFO("code exchange resent: the first answer's tokens are voided");
    if (family != NULL && family[0] != '\0')
        token_refresh_family_revoke(app, family);
    if (userinfo != NULL && userinfo[0] != '\0')
        store_delete(app->st, TOKEN_COLL_USERINFO, userinfo);
    json_decref(doc);
}

/* Records what the code issued (see the file comment): family_id (NULL: none) and, for an
 * opaque access token, its hash. A resent request (same bus request id, so RedeemCode answered
 * again) replaces its first answer, whose tokens never reached the client: those are voided. */
static tg_err
record_code_grant(const token_app *app, const char *code_id, const config_client *client,
                  const char *user_id, const char *family_id, const char *opaque_token)
{
    char userinfo_id[65] = "";
    json_t *doc;
    tg_err err;

    if (opaque_token != NULL && (err = token_hash_id(opaque_token, userinfo_id)) != TG_OK)
        return err;
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "_id", code_id, "client_id",
                    client->client_id, "user_id", user_id, "family_id",
                    family_id != NULL ? family_id : "", "userinfo_id", userinfo_id, "expires_at",
                    (json_int_t)(tg_now_s() + CODE_GRANT_LIFETIME));
    if (doc == NULL)
        return TG_ENOMEM;
    if ((err = store_insert(app->st, TOKEN_COLL_CODE_GRANTS, doc)) == TG_EEXIST) {
        void_code_grant(app, code_id, false);
        json_object_del(doc, "_id");
        err = store_update(app->st, TOKEN_COLL_CODE_GRANTS, code_id, doc);
    }
    json_decref(doc);
    return err;
}

static tg_err
redeem(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
       const token_client_auth *auth, const char *code_id,
       Tollgate__Authorize__RedeemCodeReply **out)
{
    Tollgate__Authorize__RedeemCodeRequest rr = TOLLGATE__AUTHORIZE__REDEEM_CODE_REQUEST__INIT;
    tg_err err;

    rr.code = req->code;
    rr.client_id = (char *)auth->client->client_id;
    rr.redirect_uri = req->redirect_uri;
    err = token_authorize_call(ctx, app, "authorize.RedeemCode", &rr.base,
                               &tollgate__authorize__redeem_code_reply__descriptor, true,
                               (ProtobufCMessage **)out);
    if (err == TG_EDENIED)
        void_code_grant(app, code_id, true);
    if (err == TG_OK && (*out)->user_id[0] == '\0') {
        LOG_ERROR("authorize.RedeemCode answered without a user");
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        err = TG_EPROTO;
    }
    return err;
}

/* The code's user, refused when gone or blocked. Caller frees *out. */
static tg_err
code_user(bus_ctx *ctx, const token_app *app, const char *user_id,
          Tollgate__Users__GetUserReply **out)
{
    tg_err err = token_grant_user(ctx, app, user_id, out);

    if (err == TG_ENOTFOUND)
        return invalid_grant(ctx, INVALID_CODE, "its user does not exist any more");
    return err;
}

tg_err
token_grant_code(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                 const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    Tollgate__Authorize__RedeemCodeReply *code = NULL;
    Tollgate__Users__GetUserReply *gu = NULL;
    token_issue_req ir = {.client = auth->client};
    char code_id[65];
    tg_err err;

    if (req->code[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: code");
    if (strlen(req->code) > CODE_MAX)
        return invalid_grant(ctx, INVALID_CODE, "too long");
    if ((err = token_hash_id(req->code, code_id)) != TG_OK)
        return err;
    if ((err = redeem(ctx, app, req, auth, code_id, &code)) != TG_OK)
        return err;
    if ((err = check_pkce(ctx, auth, code, req->code_verifier)) != TG_OK)
        goto out;
    if (token_api_for_audience(app, code->audience, &ir.api) != TG_OK) {
        err = invalid_grant(ctx, INVALID_CODE, "its API is gone from the tenant");
        goto out;
    }
    if ((err = code_user(ctx, app, code->user_id, &gu)) != TG_OK)
        goto out;
    ir.user = gu->user;
    ir.scope = code->scope;
    ir.nonce = code->nonce;
    ir.sid = code->sid;
    ir.auth_time = code->auth_time;
    if ((err = token_issue_with_refresh(ctx, app, &ir, reply)) != TG_OK)
        goto out;
    err = record_code_grant(app, code_id, auth->client, gu->user->user_id, ir.family_id,
                            ir.api == NULL ? reply->access_token : NULL);
    if (err != TG_OK) {
        LOG_ERROR("cannot record what code issued: %s", tg_strerror(err));
        goto out;
    }
    LOG_INFO("authorization_code exchanged client_id=%s user_id=%s audience=%s pkce=%d",
             auth->client->client_id, gu->user->user_id, ir.api ? ir.api->identifier : "-",
             code->code_challenge[0] != '\0');
out:
    if (gu != NULL)
        protobuf_c_message_free_unpacked(&gu->base, NULL);
    if (code != NULL)
        protobuf_c_message_free_unpacked(&code->base, NULL);
    return err;
}
