/*
 * Algorithm names and the OpenSSL error translation shared by the jose files.
 */
#include <openssl/err.h>
#include <string.h>

#include "core/log.h"
#include "jose/jose_internal.h"

static const struct {
    jose_alg alg;
    const char *name;
} alg_names[] = {
    {JOSE_ALG_RS256, "RS256"}, {JOSE_ALG_RS384, "RS384"}, {JOSE_ALG_PS256, "PS256"},
    {JOSE_ALG_ES256, "ES256"}, {JOSE_ALG_HS256, "HS256"},
};

jose_alg
jose_alg_from_name(const char *name)
{
    if (name == NULL)
        return JOSE_ALG_NONE;
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strcmp(name, alg_names[i].name) == 0)
            return alg_names[i].alg;
    return JOSE_ALG_NONE;
}

const char *
jose_alg_name(jose_alg alg)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    return "none";
}

bool
jose_alg_is_rsa(jose_alg alg)
{
    return alg == JOSE_ALG_RS256 || alg == JOSE_ALG_RS384 || alg == JOSE_ALG_PS256;
}

void
jose_log_openssl(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        LOG_WARN("%s: %s", what, buf);
    } else {
        LOG_WARN("%s failed", what);
    }
    ERR_clear_error();
}
