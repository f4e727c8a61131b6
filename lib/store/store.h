/*
 * The narrow document store every service uses for its own collections. Documents are JSON
 * objects (jansson) with a string "_id". Two drivers sit behind this one interface:
 *   - embedded SQLite (WAL), selected by "sqlite:<path>" or a plain file path, the default;
 *   - MongoDB (libmongoc client pool, majority write concern), selected by "mongodb://...".
 *
 * Expiry: a document whose integer field "expires_at" (epoch SECONDS) is <= now is never
 * returned by any call, and store_purge_expired() deletes such documents (MongoDB also gets a
 * TTL index; queries always filter on expires_at themselves because the TTL monitor is lazy).
 *
 * Thread safety: one store handle is shared by all threads of a process; every call may be
 * made concurrently.
 *
 * Documents (checked centrally in store.c for every driver, TG_EINVAL otherwise): top-level
 * keys match [A-Za-z0-9_]{1,64}; nested keys are non-empty, do not start with '$' and hold no
 * '.' or NUL (MongoDB's reserved forms); no array directly inside an array; no NUL inside
 * strings; "expires_at", when present, is an integer; "_id" and consumers are at most 1024
 * bytes; nesting is at most 64 levels; a serialized document is at most 1 MiB (TG_ETOOBIG).
 *
 * Ownership: documents passed in are borrowed (the caller keeps its reference); documents
 * returned through json_t **out are new references the caller releases with json_decref().
 */
#ifndef TG_STORE_STORE_H
#define TG_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct store store;

/* Opens the store at url for the database/namespace `dbname` (a service name such as
 * "token"). SQLite: url "sqlite:<path>" or a bare path; the file is created if missing and the
 * namespace becomes a table-name prefix. MongoDB: the database is `dbname` unless the URL
 * names one, in which case dbname prefixes collection names.
 * On success *out is a handle freed with store_close(). */
tg_err store_open(const char *url, const char *dbname, store **out);
void store_close(store *st); /* NULL is fine */

/* Creates collection `coll` if missing, with a unique index on each field named in
 * unique_fields (NULL-terminated array of top-level field names; may be NULL). Idempotent. */
tg_err store_collection_ensure(store *st, const char *coll, const char *const *unique_fields);

/* Inserts doc (must hold a string "_id"). TG_EEXIST when _id or a unique field collides. */
tg_err store_insert(store *st, const char *coll, const json_t *doc);

/* Gets the document with this _id. TG_ENOTFOUND when absent or expired. */
tg_err store_get(store *st, const char *coll, const char *id, json_t **out);

/* Finds one document whose top-level string field `field` equals value. TG_ENOTFOUND when
 * none (expired ones count as none). */
tg_err store_find_one(store *st, const char *coll, const char *field, const char *value,
                      json_t **out);

/* Sets the given top-level fields of document `id` ($set semantics; other fields kept).
 * TG_ENOTFOUND when absent or expired; TG_EEXIST on a unique collision. */
tg_err store_update(store *st, const char *coll, const char *id, const json_t *set_fields);

/* Deletes document `id`. TG_ENOTFOUND when absent. */
tg_err store_delete(store *st, const char *coll, const char *id);

/* Atomic one-time take: marks document `id` consumed by `consumer` (an idempotency key, usually
 * the bus request id) by setting "consumed_by" and "consumed_at", and returns the document as
 * it is after the change. Exactly one of many concurrent callers with different consumers
 * gets TG_OK; the others get TG_ECONSUMED. A caller presenting the same consumer again (a
 * resent request) gets TG_OK and the same document. TG_ENOTFOUND when absent or expired. */
tg_err store_consume(store *st, const char *coll, const char *id, const char *consumer,
                     json_t **out);

/* store_consume that, when this call is the one that takes `id`, also sets set_fields on it (as
 * store_update; may be NULL; not consumed_by/consumed_at) and inserts new_doc (may be NULL) into
 * the same collection: one commit on SQLite, where a failed insert undoes the take; on MongoDB
 * the take and set_fields are one atomic update and the insert follows, so a failed insert
 * leaves the take. *taken says whether this call made the take: false with TG_OK is a resend
 * of the same consumer (nothing set or inserted), and *out is the document as it is. */
tg_err store_consume_insert(store *st, const char *coll, const char *id, const char *consumer,
                            const json_t *set_fields, const json_t *new_doc, bool *taken,
                            json_t **out);

/* What store_take does with the document it finds untaken, just before the take: it may fill
 * *set_fields (fields to set on it, as store_consume_insert's) and *new_doc (a document to
 * insert in the same step); the store frees both. An error leaves the document untaken and is
 * store_take's answer. Called at most once per store_take, only when this call is about to
 * take: not for a resend nor for a document taken by another. It may read the store but must
 * not write to it (on SQLite it runs inside the write transaction) nor wait on other services. */
typedef tg_err (*store_take_fn)(const json_t *doc, void *arg, json_t **set_fields,
                                json_t **new_doc);

/* store_consume_insert whose fields and new document are made by make(doc, arg) from the
 * document as found: one read instead of a read before the call and another inside it. */
tg_err store_take(store *st, const char *coll, const char *id, const char *consumer,
                  store_take_fn make, void *arg, bool *taken, json_t **out);

/* Deletes every expired document of coll; *purged (may be NULL) gets the count. */
tg_err store_purge_expired(store *st, const char *coll, int64_t *purged);

/* "sqlite" or "mongodb". */
const char *store_driver_name(const store *st);

#endif
