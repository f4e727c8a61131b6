/* Web origins (lib/core/origin.c): the origin of an untrusted URL, and the allow-list match with
 * the input both as the candidate and as a listed (possibly wildcard) entry. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/origin.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const listed[] = {"https://app.example.com", "https://*.example.org",
                                   "http://localhost:3000"};
    char *text = malloc(size + 1), origin[TG_ORIGIN_MAX + 1];
    char *as_list[1];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (tg_origin_of(text, origin, sizeof(origin)))
        (void)tg_origin_is_listed(origin, listed, 3);
    (void)tg_origin_is_listed(text, listed, 3);
    as_list[0] = text;
    (void)tg_origin_is_listed("https://a.example.org", as_list, 1);
    free(text);
    return 0;
}
