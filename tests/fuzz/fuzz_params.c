/* The gateway's request translation: the same bytes as a form/query string and as JSON, for a
 * message of scalars (token) and one with an object-valued field (signup). */
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "params.h"
#include "token.pb-c.h"
#include "users.pb-c.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    gw_param_error err;
    ProtobufCMessage *msg;

    arena_init(&a, 4 << 20);
    msg = gw_message_new(&tollgate__token__token_request__descriptor, &a.pb);
    if (msg != NULL)
        (void)gw_params_from_form(msg, (const char *)data, size, &a.pb, &err);
    msg = gw_message_new(&tollgate__token__token_request__descriptor, &a.pb);
    if (msg != NULL)
        (void)gw_params_from_json(msg, (const char *)data, size, &a.pb, &err);
    /* signup has a tollgate.web.Json field (user_metadata): the object-valued path */
    msg = gw_message_new(&tollgate__users__signup_request__descriptor, &a.pb);
    if (msg != NULL)
        (void)gw_params_from_json(msg, (const char *)data, size, &a.pb, &err);
    arena_fini(&a);
    return 0;
}
