/* Reading string fields of svc-authorize's stored documents (transactions, sessions, codes,
 * device codes), which hold "" rather than null for an absent value. */
#include "authorize.h"

const char *
authorize_doc_str(const json_t *doc, const char *name)
{
    const char *s = json_string_value(json_object_get(doc, name));

    return s != NULL ? s : "";
}

char *
authorize_doc_strdup(bus_ctx *ctx, const json_t *doc, const char *name)
{
    return bus_ctx_strdup(ctx, authorize_doc_str(doc, name));
}
