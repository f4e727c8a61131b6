/* svc-users' Auth0 bulk-import record checker (import.h) on arbitrary JSON: a single record,
 * or each element of an array, against a connection with and one without usernames. Every
 * document it accepts must carry a password hash users_hash_verify understands (or none). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "import.h"

static config_connection plain = {.name = "Username-Password-Authentication",
                                  .strategy = "auth0", .all_clients = true};
static config_connection named = {.name = "With-Usernames", .strategy = "auth0",
                                  .all_clients = true, .requires_username = true,
                                  .password_history = true, .password_history_size = 3};

static void
check(const json_t *rec)
{
    const config_connection *conns[] = {&plain, &named};
    char why[512];

    for (size_t c = 0; c < 2; c++) {
        json_t *doc = NULL;
        if (users_import_check(conns[c], rec, &doc, why, sizeof(why)) == TG_OK) {
            const char *hash = json_string_value(json_object_get(doc, "password_hash"));
            /* invariants hold in every build, not only where assert() is compiled in */
            if ((hash != NULL && !users_hash_is_supported(hash)) ||
                !json_is_string(json_object_get(doc, "email_key")))
                abort();
        }
        json_decref(doc);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *e;
    size_t i;

    if (v == NULL)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (i >= 64)
                break;
            check(e);
        }
    } else {
        check(v);
    }
    json_decref(v);
    return 0;
}
