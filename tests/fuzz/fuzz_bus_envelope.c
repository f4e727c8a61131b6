/* The bus envelope and a service payload as a server decodes them from the socket. */
#include <stddef.h>
#include <stdint.h>

#include "bus.pb-c.h"
#include "core/arena.h"
#include "token.pb-c.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    Tollgate__Bus__Request *env;

    arena_init(&a, 1 << 20);
    env = tollgate__bus__request__unpack(&a.pb, size, data);
    if (env != NULL)
        (void)protobuf_c_message_unpack(&tollgate__token__token_request__descriptor, &a.pb,
                                        env->payload.len, env->payload.data);
    /* the reply side too: what a client decodes */
    Tollgate__Bus__Reply *reply = tollgate__bus__reply__unpack(&a.pb, size, data);
    (void)reply;
    arena_fini(&a);
    return 0;
}
