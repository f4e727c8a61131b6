#include "ratelimit.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define NIL UINT32_MAX

typedef struct entry {
    char key[GW_RATELIMIT_KEY_MAX + 1];
    uint8_t key_len;
    uint32_t hash_next;          /* chain in the hash bucket */
    uint32_t lru_prev, lru_next; /* prev = more recent */
    int64_t tat_us;              /* GCRA's theoretical arrival time */
} entry;

struct gw_ratelimit {
    entry *entries;
    uint32_t *heads; /* n_heads chains, a power of two */
    uint32_t n_heads;
    uint32_t max, used;
    uint32_t lru_head, lru_tail; /* head = most recently used */
    uint64_t seed;
};

static uint64_t
hash_key(uint64_t seed, const char *key, size_t len)
{
    uint64_t h = 14695981039346656037ull ^ seed; /* FNV-1a, seeded */

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

tg_err
gw_ratelimit_new(size_t max_keys, gw_ratelimit **out)
{
    gw_ratelimit *rl;
    uint32_t n = 1;

    *out = NULL;
    assert(max_keys >= 1 && max_keys < (1u << 30));
    while (n < max_keys * 2)
        n <<= 1;
    if ((rl = calloc(1, sizeof(*rl))) == NULL)
        return TG_ENOMEM;
    rl->entries = calloc(max_keys, sizeof(*rl->entries));
    rl->heads = malloc(n * sizeof(*rl->heads));
    if (rl->entries == NULL || rl->heads == NULL) {
        gw_ratelimit_free(rl);
        return TG_ENOMEM;
    }
    memset(rl->heads, 0xff, n * sizeof(*rl->heads));
    rl->n_heads = n;
    rl->max = (uint32_t)max_keys;
    rl->lru_head = rl->lru_tail = NIL;
    if (tg_random_bytes(&rl->seed, sizeof(rl->seed)) != TG_OK)
        rl->seed = (uint64_t)tg_now_ms();
    *out = rl;
    return TG_OK;
}

void
gw_ratelimit_free(gw_ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->entries);
    free(rl->heads);
    free(rl);
}

size_t
gw_ratelimit_size(const gw_ratelimit *rl)
{
    return rl->used;
}

static void
lru_unlink(gw_ratelimit *rl, uint32_t i)
{
    entry *e = &rl->entries[i];

    if (e->lru_prev != NIL)
        rl->entries[e->lru_prev].lru_next = e->lru_next;
    else
        rl->lru_head = e->lru_next;
    if (e->lru_next != NIL)
        rl->entries[e->lru_next].lru_prev = e->lru_prev;
    else
        rl->lru_tail = e->lru_prev;
}

static void
lru_push_front(gw_ratelimit *rl, uint32_t i)
{
    entry *e = &rl->entries[i];

    e->lru_prev = NIL;
    e->lru_next = rl->lru_head;
    if (rl->lru_head != NIL)
        rl->entries[rl->lru_head].lru_prev = i;
    rl->lru_head = i;
    if (rl->lru_tail == NIL)
        rl->lru_tail = i;
}

static void
chain_remove(gw_ratelimit *rl, uint32_t i)
{
    const entry *e = &rl->entries[i];
    uint32_t *p = &rl->heads[hash_key(rl->seed, e->key, e->key_len) & (rl->n_heads - 1)];

    while (*p != i) {
        assert(*p != NIL);
        p = &rl->entries[*p].hash_next;
    }
    *p = e->hash_next;
}

/* The entry for key, created (evicting the least recently used) when absent; most recent now. */
static entry *
lookup(gw_ratelimit *rl, const char *key, size_t len, int64_t now_us)
{
    uint32_t *head = &rl->heads[hash_key(rl->seed, key, len) & (rl->n_heads - 1)];
    uint32_t i;
    entry *e;

    for (i = *head; i != NIL; i = rl->entries[i].hash_next) {
        e = &rl->entries[i];
        if (e->key_len == len && memcmp(e->key, key, len) == 0) {
            lru_unlink(rl, i);
            lru_push_front(rl, i);
            return e;
        }
    }
    if (rl->used < rl->max) {
        i = rl->used++;
    } else {
        i = rl->lru_tail;
        lru_unlink(rl, i);
        chain_remove(rl, i);
    }
    e = &rl->entries[i];
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->key_len = (uint8_t)len;
    e->tat_us = now_us; /* a new bucket is full */
    e->hash_next = *head;
    *head = i;
    lru_push_front(rl, i);
    return e;
}

void
gw_ratelimit_take(gw_ratelimit *rl, const char *key, size_t key_len, const gw_rate *rate,
                  int64_t now_us, int64_t now_s, gw_rate_verdict *out)
{
    int64_t interval, tau, tat, next;
    entry *e;

    assert(rate->limit >= 1 && rate->limit <= GW_RATELIMIT_MAX_LIMIT && rate->period_s >= 1);
    if (key_len > GW_RATELIMIT_KEY_MAX)
        key_len = GW_RATELIMIT_KEY_MAX;
    interval = rate->period_s * 1000000 / rate->limit; /* one request's worth of refill */
    if (interval < 1)
        interval = 1;
    tau = interval * rate->limit; /* a full bucket's worth */
    e = lookup(rl, key, key_len, now_us);
    tat = e->tat_us > now_us ? e->tat_us : now_us;
    next = tat + interval;
    out->limit = rate->limit;
    out->allowed = next - now_us <= tau;
    if (out->allowed)
        e->tat_us = tat = next;
    out->remaining = (tau - (tat - now_us)) / interval;
    /* full again at tat; rounded up to a whole second */
    out->reset = now_s + (tat - now_us + 999999) / 1000000;
}
