/*
 * ID tokens (contract.md §4.1, §4.2): signed with the client's jwt_configuration.alg, RS256
 * with the tenant key by default, HS256 keyed with the client secret (raw bytes) for legacy
 * clients. auth_time is now: the password grants authenticate the user in this very request,
 * and validators demand it when max_age is used.
 */
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "token.h"

tg_err
token_id_token_sign(const token_app *app, const config_client *client, const char *issuer,
                    const Tollgate__Users__User *user, const char *scope, char **out)
{
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
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "iss", issuer, "sub", user->user_id,
                       "aud", client->client_id, "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + client->jwt_lifetime_in_seconds), "auth_time",
                       (json_int_t)now);
    if (claims == NULL)
        return TG_ENOMEM;
    if ((err = token_claims_add_user(claims, user, scope)) == TG_OK) {
        if (alg == JOSE_ALG_HS256)
            err = jose_sign(alg, NULL, client->client_secret, strlen(client->client_secret),
                            claims, out);
        else
            err = jose_sign(alg, key, NULL, 0, claims, out);
    }
    json_decref(claims);
    return err;
}
