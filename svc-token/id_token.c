/*
 * ID tokens (contract.md §4.1, §4.2): signed with the client's jwt_configuration.alg, RS256
 * with the tenant key by default, HS256 keyed with the client secret (raw bytes) for legacy
 * clients. auth_time is the code's when the tokens come from an authorization code, else now
 * (the password grants authenticate the user in this very request); validators demand it when
 * max_age is used. nonce and sid come from the code. at_hash binds the ID token to the access
 * token issued with it (OIDC Core §3.1.3.6, §3.2.2.9).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

/* at_hash: base64url of the left half of the access token's hash. Every alg we sign ID tokens
 * with (RS256, HS256, and the 256-bit family) hashes with SHA-256. *out: heap, caller frees. */
static tg_err
at_hash(const char *access_token, char **out)
{
    unsigned char digest[32];
    unsigned int len = 0;

    *out = NULL;
    if (EVP_Digest(access_token, strlen(access_token), digest, &len, EVP_sha256(), NULL) != 1 ||
        len != sizeof(digest)) {
        LOG_ERROR("at_hash: SHA-256 failed");
        return TG_ECRYPTO;
    }
    return tg_b64url_encode(digest, sizeof(digest) / 2, out);
}

/* nonce, sid and at_hash, each only when there is one. */
static tg_err
add_session_claims(json_t *claims, const token_issue_req *ir, const char *access_token)
{
    char *hash = NULL;
    tg_err err;

    if (ir->nonce != NULL && ir->nonce[0] != '\0' &&
        json_object_set_new(claims, "nonce", json_string(ir->nonce)) != 0)
        return TG_ENOMEM;
    if (ir->sid != NULL && ir->sid[0] != '\0' &&
        json_object_set_new(claims, "sid", json_string(ir->sid)) != 0)
        return TG_ENOMEM;
    if (access_token == NULL || access_token[0] == '\0')
        return TG_OK;
    if ((err = at_hash(access_token, &hash)) != TG_OK)
        return err;
    if (json_object_set_new(claims, "at_hash", json_string(hash)) != 0)
        err = TG_ENOMEM;
    free(hash);
    return err;
}

tg_err
token_id_token_sign(const token_app *app, const token_issue_req *ir, const char *issuer,
                    const char *access_token, char **out)
{
    const config_client *client = ir->client;
    jose_alg alg = jose_alg_from_name(client->jwt_alg != NULL ? client->jwt_alg : "RS256");
    int64_t now = tg_now_s();
    const jose_key *key = NULL;
    json_t *claims;
    tg_err err;

    *out = NULL;
    if (alg != JOSE_ALG_HS256 && (key = token_keys_get(&app->keys, alg)) == NULL) {
        LOG_ERROR("no %s key for the ID tokens of client %s", client->jwt_alg, client->client_id);
        return TG_ECONFIG;
    }
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "iss", issuer, "sub", ir->user->user_id,
                       "aud", client->client_id, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + client->jwt_lifetime_in_seconds), "auth_time",
                       (json_int_t)(ir->auth_time > 0 ? ir->auth_time : now));
    if (claims == NULL)
        return TG_ENOMEM;
    err = token_claims_add_user(claims, ir->user, ir->scope);
    if (err == TG_OK)
        err = add_session_claims(claims, ir, access_token);
    if (err == TG_OK) {
        if (alg == JOSE_ALG_HS256)
            err = jose_sign(alg, NULL, client->client_secret, strlen(client->client_secret),
                            claims, out);
        else
            err = jose_sign(alg, key, NULL, 0, claims, out);
    }
    json_decref(claims);
    return err;
}
