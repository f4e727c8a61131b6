/*
 * Per-client rate limiting: one token bucket per (client address, route group), kept in a
 * bounded table on the loop thread. Pure: the clock is passed in, nothing here knows h2o.
 *
 * Buckets are GCRA (the "virtual scheduling" form of a token bucket): a bucket of `limit`
 * requests refilled evenly over `period_s`, so a client may send `limit` requests at once and
 * then one every period_s / limit. One 64-bit timestamp per bucket, integer arithmetic in
 * microseconds.
 *
 * The table holds at most `max_keys` buckets, allocated up front, and evicts the least recently
 * used one when full: a client spraying source addresses recycles entries instead of growing
 * memory. The price is that such a flood can also evict a limited client's bucket (it then
 * starts full again); with 65,536 entries that needs 65,536 distinct addresses per eviction
 * cycle. The hash is seeded at random per table so chains cannot be aimed at.
 *
 * Not thread-safe: one table per loop thread.
 */
#ifndef TG_GATEWAY_RATELIMIT_H
#define TG_GATEWAY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define GW_RATELIMIT_KEY_MAX 63 /* bytes of a key ("<group>|<numeric address>") */
#define GW_RATELIMIT_MAX_LIMIT 1000000

typedef struct gw_ratelimit gw_ratelimit;

/* A limit: `limit` requests per `period_s` seconds; limit 0 disables it. */
typedef struct gw_rate {
    int64_t limit;
    int64_t period_s;
} gw_rate;

/* The outcome of one request, with what the X-RateLimit-* headers say. */
typedef struct gw_rate_verdict {
    bool allowed;
    int64_t limit;     /* X-RateLimit-Limit */
    int64_t remaining; /* X-RateLimit-Remaining, after this request */
    int64_t reset;     /* X-RateLimit-Reset: epoch seconds when the bucket is full again */
} gw_rate_verdict;

/* A table of at most max_keys (>= 1) buckets. *out freed with gw_ratelimit_free(). */
tg_err gw_ratelimit_new(size_t max_keys, gw_ratelimit **out);
void gw_ratelimit_free(gw_ratelimit *rl); /* NULL is fine */

/* Takes one request from the bucket of key (key_len bytes, at most GW_RATELIMIT_KEY_MAX; longer
 * keys are truncated) under rate. now_us is a monotonic clock in microseconds (buckets are
 * computed on it), now_s the wall clock in epoch seconds (for `reset` only). rate->limit must be
 * in [1, GW_RATELIMIT_MAX_LIMIT] and period_s >= 1. A refused request does not use up anything. */
void gw_ratelimit_take(gw_ratelimit *rl, const char *key, size_t key_len, const gw_rate *rate,
                       int64_t now_us, int64_t now_s, gw_rate_verdict *out);

/* Buckets in use (for tests and metrics). */
size_t gw_ratelimit_size(const gw_ratelimit *rl);

#endif
