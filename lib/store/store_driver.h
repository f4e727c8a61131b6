/*
 * Private to lib/store: the vtable each store driver fills, and the validation helpers
 * store.c shares with the drivers and with store_test.c. Not for use outside lib/store.
 *
 * store.c validates every argument before a driver sees it, so drivers may rely on:
 *   - coll and field names match [A-Za-z0-9_]{1,64}, dbname too;
 *   - ids, consumers and values are valid UTF-8 of at most STORE_MAX_ID (values:
 *     STORE_MAX_DOC) bytes, ids and consumers non-empty;
 *   - documents are JSON objects with a string "_id", an integer "expires_at" (when present)
 *     within +-STORE_MAX_EXPIRES, top-level keys that are valid names, nested keys that are
 *     non-empty and never start with '$' nor contain '.' or NUL, no array directly inside
 *     an array, no NUL inside strings, at most STORE_MAX_DEPTH levels deep, and at most
 *     STORE_MAX_DOC bytes serialized;
 *   - update field sets are non-empty objects whose keys are valid names other than "_id".
 * Drivers translate their library's errors into tg_err and log them there, once.
 *
 * Ownership is as in store.h: documents passed in are borrowed, documents returned through
 * json_t **out are new references.
 */
#ifndef TG_STORE_STORE_DRIVER_H
#define TG_STORE_STORE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define STORE_MAX_NAME 64                    /* collection, field and dbname length */
#define STORE_MAX_ID 1024                    /* _id and consumer length in bytes */
#define STORE_MAX_DOC (1024 * 1024)          /* serialized document (compact JSON) */
#define STORE_MAX_DEPTH 64                   /* nesting of objects/arrays in a document */
#define STORE_MAX_EXPIRES (INT64_MAX / 1000) /* expires_at must fit as epoch milliseconds */

typedef struct store_driver {
    const char *name;
    /* location: the SQLite path or the whole mongodb:// URL. *impl is freed by close(). */
    tg_err (*open)(const char *location, const char *dbname, void **impl);
    void (*close)(void *impl);
    tg_err (*ensure)(void *impl, const char *coll, const char *const *unique_fields);
    /* text is doc serialized as compact JSON (what store.c measured against STORE_MAX_DOC). */
    tg_err (*insert)(void *impl, const char *coll, const json_t *doc, const char *text);
    tg_err (*get)(void *impl, const char *coll, const char *id, json_t **out);
    tg_err (*find_one)(void *impl, const char *coll, const char *field, const char *value,
                       json_t **out);
    tg_err (*update)(void *impl, const char *coll, const char *id, const json_t *set_fields);
    tg_err (*remove)(void *impl, const char *coll, const char *id);
    /* store_take (store_consume_insert and store_consume through it). make may be NULL
     * (nothing to set or insert); what it makes goes through store_take_made before use.
     * *taken: this call made the take. */
    tg_err (*consume)(void *impl, const char *coll, const char *id, const char *consumer,
                      store_take_fn make, void *arg, bool *taken, json_t **out);
    tg_err (*purge_expired)(void *impl, const char *coll, int64_t *purged);
} store_driver;

extern const store_driver store_sqlite_driver;
extern const store_driver store_mongo_driver;

/* Which driver a URL selects and where it points. location points into url (borrowed). */
typedef struct store_url {
    const store_driver *driver;
    const char *location;
} store_url;

/* TG_EINVAL for an empty URL, an unknown scheme, "sqlite:" without a path or ":memory:"
 * (each pooled connection would see its own empty database). */
tg_err store_url_parse(const char *url, store_url *out);

/* [A-Za-z0-9_]{1,64}: the only names that reach SQL identifiers and BSON keys. */
bool store_name_is_valid(const char *name);


/* Document rules listed above; TG_EINVAL or TG_ETOOBIG. On TG_OK *text gets the compact
 * serialization, freed by the caller with free(). */
tg_err store_doc_check(const json_t *doc, char **text);

/* Update field-set rules listed above; TG_EINVAL or TG_ETOOBIG. */
tg_err store_set_check(const json_t *set_fields);

/* Calls make (may be NULL) for a driver's consume and checks what it made: set_fields by the
 * rules above and without consumed_by/consumed_at, new_doc as a document (*text its compact
 * JSON, caller frees). On any error all three come back NULL. */
tg_err store_take_made(store_take_fn make, void *arg, const json_t *doc, json_t **set_fields,
                       json_t **new_doc, char **text);

#endif
