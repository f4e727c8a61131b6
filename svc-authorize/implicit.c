/*
 * The response types beyond `code` (contract §5.1, §5.3; OAuth 2.0 Multiple Response Type
 * Encoding Practices; OIDC Core §3.2, §3.3): `token`, `id_token`, `id_token token`,
 * `code id_token`, `code token`, `code id_token token`, in any order of their words.
 *
 * Rules, checked once the redirect_uri is trusted:
 *   - each word at most once, separated by single spaces; anything else (including `none`)
 *     is unsupported_response_type;
 *   - a token or an ID token from the authorization endpoint needs the client's `implicit`
 *     grant (Auth0's grant type; its dashboard default), a code the `authorization_code` one;
 *   - the default response mode is fragment for every type but `code`, and query is refused
 *     for them: tokens never travel in a query string (they would land in logs and Referer);
 *   - an ID token from the authorization endpoint needs a nonce (OIDC Core §3.2.2.1, §3.3.2.11)
 *     and the openid scope.
 *
 * Issuing: the code (if any) is minted here as in the code flow; the access and ID tokens come
 * from svc-token's token.IssueForAuthorize through the token bus device (only svc-token holds
 * the signing keys). The ID token carries nonce, auth_time, sid, at_hash and c_hash.
 */
#include <stdio.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"
#include "token.pb-c.h"

#define MSG_IMPLICIT_NOT_ALLOWED "Grant type 'implicit' not allowed for the client."
#define MSG_UNAVAILABLE "The service is temporarily unavailable. Please try again later."

bool
authorize_response_type_parse(const char *s, unsigned *out)
{
    static const struct {
        const char *word;
        unsigned bit;
    } words[] = {
        {"code", AUTHORIZE_RT_CODE},
        {"token", AUTHORIZE_RT_TOKEN},
        {"id_token", AUTHORIZE_RT_ID_TOKEN},
    };
    unsigned seen = 0;

    *out = 0;
    if (s == NULL || s[0] == '\0')
        return false;
    for (const char *p = s;;) {
        size_t len = strcspn(p, " "), i;

        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (len == strlen(words[i].word) && strncmp(p, words[i].word, len) == 0)
                break;
        if (i == sizeof(words) / sizeof(words[0]) || (seen & words[i].bit) != 0)
            return false;
        seen |= words[i].bit;
        p += len;
        if (*p == '\0')
            break;
        p++; /* the one space; a second one, or a trailing one, is an empty word above */
    }
    *out = seen;
    return true;
}

bool
authorize_response_type_has_tokens(unsigned rt)
{
    return (rt & (AUTHORIZE_RT_TOKEN | AUTHORIZE_RT_ID_TOKEN)) != 0;
}

bool
authorize_response_mode_fits(const char *response_type, const char *response_mode,
                             authorize_mode *mode)
{
    unsigned rt;

    if (!authorize_response_type_parse(response_type, &rt) ||
        !authorize_response_type_has_tokens(rt))
        return true; /* code (the caller's default), or refused later */
    if (response_mode[0] == '\0') {
        *mode = AUTHORIZE_MODE_FRAGMENT;
        return true;
    }
    if (*mode == AUTHORIZE_MODE_QUERY) {
        *mode = AUTHORIZE_MODE_FRAGMENT; /* even the refusal stays out of the query */
        return false;
    }
    return true;
}

const char *
authorize_response_type_check(const config_client *client, unsigned rt, const char *nonce,
                              const char *scope, char *desc, size_t desclen)
{
    if (authorize_response_type_has_tokens(rt) &&
        !config_strv_has(&client->grant_types, "implicit")) {
        snprintf(desc, desclen, "%s", MSG_IMPLICIT_NOT_ALLOWED);
        return "unauthorized_client";
    }
    if ((rt & AUTHORIZE_RT_ID_TOKEN) != 0 && nonce[0] == '\0') {
        snprintf(desc, desclen, "Missing required parameter: nonce");
        return "invalid_request";
    }
    if ((rt & AUTHORIZE_RT_ID_TOKEN) != 0 && !authorize_scope_has(scope, "openid")) {
        snprintf(desc, desclen, "The openid scope is required for response_type id_token");
        return "invalid_scope";
    }
    return NULL;
}

bool
authorize_scope_has(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, " ");

        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len;
        p += strspn(p, " ");
    }
    return false;
}

/* Asks svc-token for the tokens; on a refusal or silence the client gets an OAuth error. */
static tg_err
issue_tokens(bus_ctx *ctx, const authorize_app *app, Tollgate__Authorize__PageReply *reply,
             const authorize_target *t, const authorize_grant *g, const char *code,
             Tollgate__Token__IssueForAuthorizeReply **out, bool *answered)
{
    Tollgate__Token__IssueForAuthorizeRequest r =
        TOLLGATE__TOKEN__ISSUE_FOR_AUTHORIZE_REQUEST__INIT;
    bus_result *refusal = NULL;
    tg_err err;

    *answered = false;
    r.client_id = (char *)g->client_id;
    r.user_id = (char *)g->user_id;
    r.scope = (char *)g->scope;
    r.audience = (char *)g->audience;
    r.nonce = (char *)g->nonce;
    r.auth_time = g->auth_time;
    r.sid = (char *)g->sid;
    r.want_access_token = (t->response_type & AUTHORIZE_RT_TOKEN) != 0;
    r.want_id_token = (t->response_type & AUTHORIZE_RT_ID_TOKEN) != 0;
    r.code = (char *)(code != NULL ? code : "");
    err = authorize_token_call(ctx, app, "token.IssueForAuthorize", &r.base,
                               &tollgate__token__issue_for_authorize_reply__descriptor,
                               (ProtobufCMessage **)out, &refusal);
    if (err == TG_EDENIED && refusal != NULL) {
        *answered = true;
        err = authorize_reply_oauth_error(ctx, reply, t, refusal->error->error,
                                          refusal->error->error_description);
    } else if (err == TG_EUNAVAILABLE) {
        *answered = true;
        err =
            authorize_reply_oauth_error(ctx, reply, t, "temporarily_unavailable", MSG_UNAVAILABLE);
    }
    bus_result_free(refusal);
    return err;
}

tg_err
authorize_implicit_complete(bus_ctx *ctx, const authorize_app *app,
                            Tollgate__Authorize__PageReply *reply, const authorize_target *t,
                            const authorize_grant *g, const authorize_cookies *cookies)
{
    Tollgate__Token__IssueForAuthorizeReply *tokens = NULL;
    char *code = NULL, expires_in[24] = "";
    bool answered = false;
    size_t n = 0;
    tg_err err;
    const char *kv[6][2];

    if ((t->response_type & AUTHORIZE_RT_CODE) != 0 &&
        (err = authorize_code_issue(app, g, &code)) != TG_OK)
        return err;
    err = issue_tokens(ctx, app, reply, t, g, code, &tokens, &answered);
    if (err != TG_OK || answered)
        goto out;
    if (code != NULL) {
        kv[n][0] = "code";
        kv[n++][1] = code;
    }
    if (tokens->access_token[0] != '\0') {
        snprintf(expires_in, sizeof(expires_in), "%lld", (long long)tokens->expires_in);
        kv[n][0] = "access_token";
        kv[n++][1] = tokens->access_token;
        kv[n][0] = "token_type";
        kv[n++][1] = "Bearer";
        kv[n][0] = "expires_in";
        kv[n++][1] = expires_in;
        kv[n][0] = "scope";
        kv[n++][1] = tokens->scope;
    }
    kv[n][0] = "id_token";
    kv[n++][1] = tokens->id_token; /* "" (skipped) when none was asked for */
    err = authorize_reply_to_client(ctx, reply, t, kv, n, cookies);
    if (err == TG_OK)
        LOG_INFO("front-channel response for client %s (response_type bits %u)", g->client_id,
                 t->response_type);
out:
    if (tokens != NULL) {
        if (tokens->access_token != NULL)
            explicit_bzero(tokens->access_token, strlen(tokens->access_token));
        protobuf_c_message_free_unpacked(&tokens->base, NULL);
    }
    tg_free_secret_str(code);
    return err;
}
