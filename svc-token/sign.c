/* Token signing with the algorithm each API asks for. */
#include <string.h>

#include "core/log.h"
#include "token.h"

tg_err
token_sign_for_api(const token_app *app, const config_resource_server *api, const json_t *claims,
                   char **out)
{
    jose_alg alg = jose_alg_from_name(api->signing_alg ? api->signing_alg : "RS256");
    const jose_key *key;

    *out = NULL;
    if (alg == JOSE_ALG_HS256) {
        if (api->signing_secret == NULL)
            return TG_ECONFIG;
        return jose_sign(alg, NULL, api->signing_secret, strlen(api->signing_secret), claims,
                         out);
    }
    key = token_keys_get(&app->keys, alg);
    if (key == NULL) {
        LOG_ERROR("no %s key for API %s", jose_alg_name(alg), api->identifier);
        return TG_ECONFIG;
    }
    return jose_sign(alg, key, NULL, 0, claims, out);
}
