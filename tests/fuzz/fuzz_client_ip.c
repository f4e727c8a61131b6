/* The gateway's trusted-proxy list (--trusted-proxies) and the client's address from an
 * X-Forwarded-For header: the input's first line is the list, the rest the header, and the
 * peer is a fixed trusted address. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_ip.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *nl, out[64], err[160];
    gw_proxies p;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nl = strchr(text, '\n');
    if (nl != NULL)
        *nl = '\0';
    (void)gw_proxies_parse(text, &p, err, sizeof(err));
    if (gw_proxies_parse("10.0.0.0/8,::1,fd00::/8", &p, err, sizeof(err)) == 0 && nl != NULL) {
        gw_client_ip(&p, "10.0.0.1", nl + 1, size - (size_t)(nl + 1 - text), out, sizeof(out));
        gw_client_ip(&p, "::1", nl + 1, size - (size_t)(nl + 1 - text), out, 8);
    }
    free(text);
    return 0;
}
