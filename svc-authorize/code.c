/*
 * Authorization codes (contract §5.5, §21.10): 32 random bytes, base64url; the store keeps
 * only their SHA-256 as _id with what the code stands for, for AUTHORIZE_CODE_SECONDS.
 *
 * authorize.RedeemCode (svc-token -> here) takes a code exactly once with store_consume keyed
 * by the bus request id: of concurrent redemptions one wins, and a request resent after a
 * replica died gets the same answer again. Any refusal is 403 invalid_grant "Invalid
 * authorization code", whatever the reason (unknown, expired, used, another client's, another
 * redirect_uri), so the answer reveals nothing about codes. A code presented with the wrong
 * client or redirect_uri is spent all the same (it was exposed).
 */
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

tg_err
authorize_code_issue(const authorize_app *app, const authorize_grant *g, char **code_out)
{
    char *code = NULL, hash[65];
    json_t *doc = NULL;
    tg_err err;

    *code_out = NULL;
    if ((err = tg_random_token(AUTHORIZE_SECRET_BYTES, &code)) != TG_OK)
        return err;
    authorize_sha256_hex(code, hash);
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "_id", hash,
                    "client_id", g->client_id, "redirect_uri", g->redirect_uri, "user_id",
                    g->user_id, "scope", g->scope, "audience", g->audience, "nonce", g->nonce,
                    "auth_time", (json_int_t)g->auth_time, "sid", g->sid, "code_challenge",
                    g->code_challenge, "code_challenge_method", g->code_challenge_method,
                    "expires_at", (json_int_t)tg_now_s() + AUTHORIZE_CODE_SECONDS);
    if (doc == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = store_insert(app->st, AUTHORIZE_COLL_CODES, doc)) != TG_OK)
        goto out;
    *code_out = code;
    code = NULL;
out:
    json_decref(doc);
    tg_free_secret_str(code);
    return err;
}

static tg_err
invalid_code(bus_ctx *ctx)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                        AUTHORIZE_MSG_INVALID_CODE);
}

tg_err
authorize_on_redeem_code(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Authorize__RedeemCodeRequest *req = (const void *)reqm;
    Tollgate__Authorize__RedeemCodeReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *client_id, *redirect_uri;
    json_t *doc = NULL;
    char hash[65];
    tg_err err;

    if (!authorize_secret_is_well_formed(req->code))
        return invalid_code(ctx);
    authorize_sha256_hex(req->code, hash);
    err = store_consume(app->st, AUTHORIZE_COLL_CODES, hash, bus_ctx_request_id(ctx), &doc);
    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        LOG_INFO("authorization code refused: %s", tg_strerror(err));
        err = invalid_code(ctx);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    client_id = json_string_value(json_object_get(doc, "client_id"));
    redirect_uri = json_string_value(json_object_get(doc, "redirect_uri"));
    /* RFC 6749 §4.1.3: the same redirect_uri when /authorize was given one */
    if (client_id == NULL || !tg_ct_streq(client_id, req->client_id) || redirect_uri == NULL ||
        (redirect_uri[0] != '\0' && strcmp(redirect_uri, req->redirect_uri) != 0)) {
        LOG_INFO("authorization code presented by another client or redirect_uri");
        err = invalid_code(ctx);
        goto out;
    }
    if ((reply->user_id = authorize_doc_strdup(ctx, doc, "user_id")) == NULL ||
        (reply->scope = authorize_doc_strdup(ctx, doc, "scope")) == NULL ||
        (reply->audience = authorize_doc_strdup(ctx, doc, "audience")) == NULL ||
        (reply->nonce = authorize_doc_strdup(ctx, doc, "nonce")) == NULL ||
        (reply->sid = authorize_doc_strdup(ctx, doc, "sid")) == NULL ||
        (reply->code_challenge = authorize_doc_strdup(ctx, doc, "code_challenge")) == NULL ||
        (reply->code_challenge_method = authorize_doc_strdup(ctx, doc, "code_challenge_method")) ==
            NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    reply->auth_time = json_integer_value(json_object_get(doc, "auth_time"));
    err = TG_OK;
out:
    json_decref(doc);
    return err;
}
