/* Space-separated scope lists kept in the request arena. */
#include <string.h>

#include "token.h"

bool
token_scope_has(const char *list, const char *word)
{
    size_t wlen = strlen(word);

    if (list == NULL || wlen == 0)
        return false;
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wlen)
        if ((p == list || p[-1] == ' ') && (p[wlen] == ' ' || p[wlen] == '\0'))
            return true;
    return false;
}

char *
token_scope_append(bus_ctx *ctx, char *list, const char *word)
{
    size_t llen = list != NULL ? strlen(list) : 0, wlen = strlen(word);
    char *out;

    if (token_scope_has(list, word))
        return list;
    out = bus_ctx_alloc(ctx, llen + wlen + 2);
    if (out == NULL)
        return NULL;
    if (llen > 0) {
        memcpy(out, list, llen);
        out[llen++] = ' ';
    }
    memcpy(out + llen, word, wlen + 1);
    return out;
}
