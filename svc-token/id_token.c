/*
 * ID tokens (contract.md §4.1, §4.2): signed with the client's jwt_configuration.alg, RS256
 * with the tenant key by default, HS256 keyed with the client secret (raw bytes) for legacy
 * clients. auth_time is the code's when the tokens come from an authorization code, else now
 * (the password grants authenticate the user in this very request); validators demand it when
 * max_age is used. nonce and sid come from the code. at_hash binds the ID token to the access
 * token issued with it (OIDC Core §3.1.3.6, §3.2.2.9), c_hash to the code issued with it from
 * the authorization endpoint (hybrid, §3.3.2.11).
 */
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"

/* at_hash and c_hash: base64url of the left half of the value's hash. Every alg we sign ID
 * tokens with (RS256, PS256, HS256) hashes with SHA-256. */
tg_err
token_half_hash(const char *value, char **out)
{
    unsigned char digest[TG_SHA256_LEN];

    *out = NULL;
    if (tg_sha256(value, strlen(value), digest) != TG_OK) {
        LOG_ERROR("at_hash/c_hash: SHA-256 failed");
        return TG_ECRYPTO;
    }
    return tg_b64url_encode(digest, sizeof(digest) / 2, out);
}

/* claims[name] = token_half_hash(value), when value is not NULL or "". */
static tg_err
add_hash_claim(json_t *claims, const char *name, const char *value)
{
    char *hash = NULL;
    tg_err err;

    if (value == NULL || value[0] == '\0')
        return TG_OK;
    if ((err = token_half_hash(value, &hash)) != TG_OK)
        return err;
    if (json_object_set_new(claims, name, json_string(hash)) != 0)
        err = TG_ENOMEM;
    free(hash);
    return err;
}

/* nonce, sid, at_hash and c_hash, each only when there is one. */
static tg_err
add_session_claims(json_t *claims, const token_issue_req *ir, const char *access_token)
{
    tg_err err;

    if (ir->nonce != NULL && ir->nonce[0] != '\0' &&
        json_object_set_new(claims, "nonce", json_string(ir->nonce)) != 0)
        return TG_ENOMEM;
    if (ir->sid != NULL && ir->sid[0] != '\0' &&
        json_object_set_new(claims, "sid", json_string(ir->sid)) != 0)
        return TG_ENOMEM;
    if ((err = add_hash_claim(claims, "at_hash", access_token)) != TG_OK)
        return err;
    return add_hash_claim(claims, "c_hash", ir->code);
}

tg_err
token_sign_for_client(const token_app *app, const config_client *client, const char *typ,
                      const json_t *claims, char **out)
{
    jose_alg alg = jose_alg_from_name(client->jwt_alg != NULL ? client->jwt_alg : "RS256");
    const jose_key *key = NULL;

    *out = NULL;
    if (alg == JOSE_ALG_HS256)
        return jose_sign_typ(alg, NULL, client->client_secret, strlen(client->client_secret), typ,
                             claims, out);
    if ((key = token_keys_get(&app->keys, alg)) == NULL) {
        LOG_ERROR("no %s key for the tokens of client %s", client->jwt_alg, client->client_id);
        return TG_ECONFIG;
    }
    return jose_sign_typ(alg, key, NULL, 0, typ, claims, out);
}

tg_err
token_id_token_sign(const token_app *app, const token_issue_req *ir, const char *issuer,
                    const char *access_token, char **out)
{
    const config_client *client = ir->client;
    int64_t now = tg_now_s();
    json_t *claims;
    tg_err err;

    *out = NULL;
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "iss", issuer, "sub", ir->user->user_id,
                       "aud", client->client_id, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + client->jwt_lifetime_in_seconds), "auth_time",
                       (json_int_t)(ir->auth_time > 0 ? ir->auth_time : now));
    if (claims == NULL)
        return TG_ENOMEM;
    err = token_claims_add_user(claims, ir->user, ir->scope);
    if (err == TG_OK)
        err = add_session_claims(claims, ir, access_token);
    if (err == TG_OK)
        err = token_sign_for_client(app, client, "JWT", claims, out);
    json_decref(claims);
    return err;
}
