#include "core/arena.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    size_t off;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

static void *
pb_alloc(void *ud, size_t size)
{
    return arena_alloc(ud, size);
}

static void
pb_free(void *ud, void *p)
{
    (void)ud;
    (void)p; /* released with the arena */
}

void
arena_init(arena *a, size_t limit)
{
    a->head = NULL;
    a->used = 0;
    a->limit = limit == 0 ? (size_t)16 << 20 : limit;
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
}

void
arena_reset(arena *a)
{
    arena_chunk *c = a->head, *next;

    while (c != NULL) {
        next = c->next;
        OPENSSL_cleanse(c->data, c->off);
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void
arena_fini(arena *a)
{
    arena_reset(a);
}

void *
arena_alloc(arena *a, size_t size)
{
    arena_chunk *c = a->head;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (need < size || a->used + need > a->limit)
        return NULL;
    if (c == NULL || c->size - c->off < need) {
        size_t csize = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = malloc(sizeof(*c) + csize);
        if (c == NULL)
            return NULL;
        c->size = csize;
        c->off = 0;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->off;
    c->off += need;
    a->used += need;
    memset(p, 0, size);
    return p;
}

char *
arena_strndup(arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);

    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_pb_strndup(ProtobufCAllocator *pb, const char *s, size_t n)
{
    char *d = pb->alloc(pb->allocator_data, n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
