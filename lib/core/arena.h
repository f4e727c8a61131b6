/*
 * Per-request arena: a chain of chunks with bump allocation, released all at once. Also usable
 * as the protobuf-c allocator so an unpacked request lives in the same arena as the reply
 * built from it (FRR qpb_allocator). Not thread-safe: one arena belongs to one request.
 */
#ifndef TG_CORE_ARENA_H
#define TG_CORE_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;
    size_t used;           /* bytes handed out, for the ceiling */
    size_t limit;          /* total ceiling; allocations beyond it return NULL */
    ProtobufCAllocator pb; /* protobuf-c allocator backed by this arena */
} arena;

/* limit = 0 means 16 MiB. */
void arena_init(arena *a, size_t limit);
/* Wipes (requests may hold secrets) and frees every chunk; the arena can be reused. */
void arena_reset(arena *a);
void arena_fini(arena *a);
/* Zeroed memory aligned for any type, or NULL when the ceiling would be exceeded. */
void *arena_alloc(arena *a, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
/* Copies s[0..n) plus a NUL into memory from any protobuf-c allocator (an arena, or h2o's
 * req->pool behind the gateway's adapter); NULL when it is exhausted. */
char *arena_pb_strndup(ProtobufCAllocator *pb, const char *s, size_t n);

#endif
