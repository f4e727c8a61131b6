/* svc-authorize's parsers of browser input: response_type, the device user code a person
 * types, and the redirect checks (callback with wildcards, logout URL) with the input as the
 * URL asked for. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const urls[] = {"https://app.example.com/callback",
                                 "https://*.example.org/cb", "http://localhost:3000/"};
    const config_strv allowed = {(char **)urls, 3};
    char *text = malloc(size + 1), code[9];
    unsigned rt;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)authorize_response_type_parse(text, &rt);
    (void)authorize_user_code_normalise(text, code);
    (void)authorize_uri_is_safe(text);
    (void)authorize_callback_is_allowed(&allowed, text);
    (void)authorize_logout_url_is_allowed(&allowed, text);
    free(text);
    return 0;
}
