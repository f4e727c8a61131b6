/*
 * grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4–3.5, contract.md
 * §6.5; security.md T-98, T-99).
 *
 * svc-authorize owns device codes: authorize.PollDeviceCode answers each poll, and its
 * refusals reach the device unchanged (403 authorization_pending, 429 slow_down, 403
 * expired_token once, 403 access_denied when the user cancelled, 403 invalid_grant for
 * unknown, another client's or redeemed codes). An approved code is taken there exactly once,
 * keyed by our bus request id, so of parallel polls one gets tokens and a resent poll gets the
 * same answer. The tokens are a login's (token_issue_with_refresh): an access token for the
 * code's audience, an ID token with openid, a refresh token with offline_access when allowed.
 * The client authenticated as usual before (public device clients with none).
 */
#include <string.h>

#include "core/log.h"
#include "token.h"

#define DEVICE_CODE_MAX 512
#define INVALID_DEVICE_CODE "Invalid or expired device code."

static tg_err
invalid_grant(bus_ctx *ctx, const char *why)
{
    LOG_INFO("device code refused: %s", why);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                        INVALID_DEVICE_CODE);
}

tg_err
token_grant_device(bus_ctx *ctx, const token_app *app, const Tollgate__Token__TokenRequest *req,
                   const token_client_auth *auth, Tollgate__Token__TokenReply *reply)
{
    Tollgate__Device__PollDeviceCodeRequest pr = TOLLGATE__DEVICE__POLL_DEVICE_CODE_REQUEST__INIT;
    Tollgate__Device__PollDeviceCodeReply *grant = NULL;
    Tollgate__Users__GetUserReply *gu = NULL;
    token_issue_req ir = {.client = auth->client};
    tg_err err;

    if (req->device_code[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: device_code");
    if (strlen(req->device_code) > DEVICE_CODE_MAX)
        return invalid_grant(ctx, "too long");
    pr.device_code = req->device_code;
    pr.client_id = (char *)auth->client->client_id;
    err = token_authorize_call(ctx, app, "authorize.PollDeviceCode", &pr.base,
                               &tollgate__device__poll_device_code_reply__descriptor, true,
                               (ProtobufCMessage **)&grant);
    if (err != TG_OK)
        return err;
    if (grant->user_id[0] == '\0') {
        LOG_ERROR("authorize.PollDeviceCode answered without a user");
        err = TG_EPROTO;
        goto out;
    }
    if (token_api_for_audience(app, grant->audience, &ir.api) != TG_OK) {
        err = invalid_grant(ctx, "its API is gone from the tenant");
        goto out;
    }
    if ((err = token_grant_user(ctx, app, grant->user_id, &gu)) == TG_ENOTFOUND) {
        err = invalid_grant(ctx, "its user does not exist any more");
        goto out;
    }
    if (err != TG_OK)
        goto out;
    ir.user = gu->user;
    ir.scope = grant->scope;
    ir.sid = grant->sid;
    ir.auth_time = grant->auth_time;
    if ((err = token_issue_with_refresh(ctx, app, &ir, reply)) != TG_OK)
        goto out;
    LOG_INFO("device_code exchanged client_id=%s user_id=%s audience=%s",
             auth->client->client_id, gu->user->user_id, ir.api ? ir.api->identifier : "-");
out:
    if (gu != NULL)
        protobuf_c_message_free_unpacked(&gu->base, NULL);
    if (grant != NULL)
        protobuf_c_message_free_unpacked(&grant->base, NULL);
    return err;
}
