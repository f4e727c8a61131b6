/* Compact JWS parsing (untrusted bearer tokens and client assertions), then verification with
 * keys of every kind, which must refuse without crashing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "jose/jose.h"

static jose_key *rsa_key, *ec_key; /* made once; stay reachable until exit */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char secret[] = "fuzz-hmac-secret-0123456789abcdef";
    jose_jws *jws = NULL;
    char *text;

    if (rsa_key == NULL) {
        log_init("fuzz_jws", TG_LOG_ERROR);
        if (jose_key_generate(JOSE_ALG_RS256, "fuzz", &rsa_key) != TG_OK ||
            jose_key_generate(JOSE_ALG_ES256, "fuzz", &ec_key) != TG_OK)
            abort();
    }
    if ((text = malloc(size + 1)) == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (jose_jws_parse(text, &jws) == TG_OK) {
        (void)jose_jws_verify(jws, rsa_key, NULL, 0);
        (void)jose_jws_verify(jws, ec_key, NULL, 0);
        (void)jose_jws_verify(jws, NULL, secret, sizeof(secret) - 1);
        jose_jws_free(jws);
    }
    free(text);
    return 0;
}
