/*
 * MongoDB store driver on libmongoc: one mongoc_client_pool per store handle, majority write
 * concern (10 s wtimeout) on every write, a unique sparse index per unique field (sparse so
 * that documents lacking the field do not collide, as in the SQLite driver; an explicit null
 * still collides here, unlike SQLite), and a TTL index on expires_at. expires_at is kept as a
 * BSON date so the TTL monitor can see it; callers always see integer epoch seconds
 * (converted both ways by the walkers below). Every read filters on expires_at itself
 * because the TTL monitor runs only about once a minute.
 *
 * Consume. Real MongoDB runs findAndModify atomically, but FerretDB 1.x (which the tests use
 * when no mongod is available) implements it as a query followed by an unconditional write,
 * so two racing callers can both "win". Only an insert on a unique key is atomic on both, so
 * the first taker of a document is decided by inserting a claim {_id, consumer} into the
 * companion collection "<coll>.claims" (the dot keeps it apart from every valid collection
 * name); the winner then marks the document with one findAndModify that only matches a live
 * document with no consumed_by. The document's consumed_by stays the authority for replays:
 * a caller whose consumer matches it gets the document back unchanged. Claims carry the
 * document's expires_at and are removed by store_delete and store_purge_expired.
 *
 * Other FerretDB 1.24 gaps met here: it rejects expireAfterSeconds ("not implemented"), which
 * is logged as a warning and ignored (queries filter on expires_at anyway and purge deletes);
 * it reports a unique violation on update as InternalError, mapped to TG_EEXIST below; it
 * cannot store arrays nested directly in arrays nor top-level keys with quotes, which store.c
 * refuses for both drivers; and it ignores write concerns (harmless on a single server).
 */
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store_driver.h"

#define COLL_MAX (2 * STORE_MAX_NAME + 16)
#define WTIMEOUT_MS 10000
#define CODE_DUPLICATE_KEY 11000
#define CODE_DUPLICATE_KEY_LEGACY 11001
#define CODE_WRITE_CONCERN_FAILED 64
#define CODE_COMMAND_NOT_FOUND 59
#define CODE_NOT_IMPLEMENTED 238
#define CODE_INTERNAL_ERROR 1

/* A BCON fragment: expires_at absent or later than ms (epoch milliseconds). */
#define LIVE_FILTER(ms)                                                                            \
    "$or", "[", "{", "expires_at", "{", "$exists", BCON_BOOL(false), "}", "}", "{", "expires_at",  \
        "{", "$gt", BCON_DATE_TIME(ms), "}", "}", "]"

typedef struct mongo_store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    mongoc_write_concern_t *wc;
    char *db;     /* database name */
    char *prefix; /* "" or "<dbname>_" when the URL names the database */
} mongo_store;

/* One operation's borrowed client and collections. */
typedef struct mongo_op {
    mongo_store *m;
    mongoc_client_t *client;
    mongoc_collection_t *docs;
    mongoc_collection_t *claims;
} mongo_op;

static pthread_once_t mongo_once = PTHREAD_ONCE_INIT;

static void
on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    switch (level) {
    case MONGOC_LOG_LEVEL_CRITICAL: LOG_ERROR("mongoc %s: %s", domain, message); break;
    case MONGOC_LOG_LEVEL_ERROR: /* the failing call's error is logged by mongo_err */
    case MONGOC_LOG_LEVEL_WARNING: LOG_WARN("mongoc %s: %s", domain, message); break;
    default: LOG_DEBUG("mongoc %s: %s", domain, message); break;
    }
}

static void
mongo_global_init(void)
{
    mongoc_init();
    mongoc_log_set_handler(on_mongoc_log, NULL);
}

/* FerretDB 1.x reports a unique-index violation on update (not on insert) as InternalError
 * carrying SQLite's message instead of 11000. */
static bool
is_ferretdb_unique_violation(const bson_error_t *e)
{
    return e->domain == MONGOC_ERROR_SERVER && e->code == CODE_INTERNAL_ERROR &&
           strstr(e->message, "UNIQUE constraint failed") != NULL;
}

/* The one place libmongoc errors become tg_err; logs the detail. */
static tg_err
mongo_err(const bson_error_t *e, const char *what)
{
    if (e->code == CODE_DUPLICATE_KEY || e->code == CODE_DUPLICATE_KEY_LEGACY ||
        is_ferretdb_unique_violation(e)) {
        LOG_DEBUG("mongodb %s: %s", what, e->message);
        return TG_EEXIST;
    }
    LOG_ERROR("mongodb %s: %s (domain %u, code %u)", what, e->message, e->domain, e->code);
    switch (e->domain) {
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_POOL: return TG_EUNAVAILABLE;
    case MONGOC_ERROR_CLIENT:
        return e->code == MONGOC_ERROR_CLIENT_TOO_BIG ? TG_ETOOBIG : TG_EUNAVAILABLE;
    case MONGOC_ERROR_WRITE_CONCERN:
        return e->code == CODE_WRITE_CONCERN_FAILED ? TG_ETIMEDOUT : TG_EUNAVAILABLE;
    default: return TG_EIO;
    }
}

/* ---- jansson -> BSON ---- */

static tg_err json_members_to_bson(bson_t *b, const json_t *v, bool top);

static tg_err
json_value_to_bson(bson_t *b, const char *key, int klen, const json_t *v, bool top)
{
    bson_t child;
    bool ok;
    tg_err err;

    switch (json_typeof(v)) {
    case JSON_STRING:
        ok = bson_append_utf8(b, key, klen, json_string_value(v), (int)json_string_length(v));
        break;
    case JSON_INTEGER:
        if (top && strcmp(key, "expires_at") == 0) /* range checked by store.c */
            ok = bson_append_date_time(b, key, klen, json_integer_value(v) * 1000);
        else
            ok = bson_append_int64(b, key, klen, json_integer_value(v));
        break;
    case JSON_REAL: ok = bson_append_double(b, key, klen, json_real_value(v)); break;
    case JSON_TRUE:
    case JSON_FALSE: ok = bson_append_bool(b, key, klen, json_is_true(v)); break;
    case JSON_NULL: ok = bson_append_null(b, key, klen); break;
    case JSON_OBJECT:
    case JSON_ARRAY:
        ok = json_is_object(v) ? bson_append_document_begin(b, key, klen, &child)
                               : bson_append_array_begin(b, key, klen, &child);
        if (!ok)
            break;
        err = json_members_to_bson(&child, v, false);
        ok = json_is_object(v) ? bson_append_document_end(b, &child)
                               : bson_append_array_end(b, &child);
        if (err != TG_OK)
            return err;
        break;
    default: return TG_EINVAL;
    }
    return ok ? TG_OK : TG_ETOOBIG;
}

static tg_err
json_members_to_bson(bson_t *b, const json_t *v, bool top)
{
    const char *key;
    json_t *item;
    size_t i;
    tg_err err;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item)
        {
            err = json_value_to_bson(b, key, -1, item, top);
            if (err != TG_OK)
                return err;
        }
        return TG_OK;
    }
    json_array_foreach(v, i, item)
    {
        char buf[16];
        const char *k;
        size_t klen = bson_uint32_to_string((uint32_t)i, &k, buf, sizeof(buf));

        err = json_value_to_bson(b, k, (int)klen, item, false);
        if (err != TG_OK)
            return err;
    }
    return TG_OK;
}

/* ---- BSON -> jansson ---- */

static tg_err bson_members_to_json(bson_iter_t *it, json_t *container, bool top);

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static tg_err
bson_value_to_json(bson_iter_t *it, bool top, json_t **out)
{
    bson_iter_t child;
    const char *s;
    uint32_t len;
    char oid[25];
    tg_err err;

    *out = NULL;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        *out = json_stringn(s, len); /* NULL for invalid UTF-8 */
        break;
    case BSON_TYPE_INT32: *out = json_integer(bson_iter_int32(it)); break;
    case BSON_TYPE_INT64: *out = json_integer(bson_iter_int64(it)); break;
    case BSON_TYPE_DOUBLE: *out = json_real(bson_iter_double(it)); break;
    case BSON_TYPE_BOOL: *out = json_boolean(bson_iter_bool(it)); break;
    case BSON_TYPE_NULL: *out = json_null(); break;
    case BSON_TYPE_DATE_TIME:
        /* Only expires_at is written as a date; elsewhere a date reads as milliseconds. */
        if (top && strcmp(bson_iter_key(it), "expires_at") == 0)
            *out = json_integer(floor_div(bson_iter_date_time(it), 1000));
        else
            *out = json_integer(bson_iter_date_time(it));
        break;
    case BSON_TYPE_OID:
        bson_oid_to_string(bson_iter_oid(it), oid);
        *out = json_string(oid);
        break;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
        *out = bson_iter_type(it) == BSON_TYPE_DOCUMENT ? json_object() : json_array();
        if (*out == NULL || !bson_iter_recurse(it, &child))
            break;
        err = bson_members_to_json(&child, *out, false);
        if (err != TG_OK) {
            json_decref(*out);
            *out = NULL;
            return err;
        }
        break;
    default:
        LOG_ERROR("mongodb: field \"%s\" has unsupported BSON type 0x%x", bson_iter_key(it),
                  (unsigned)bson_iter_type(it));
        return TG_EPROTO;
    }
    return *out != NULL ? TG_OK : TG_EPROTO;
}

static tg_err
bson_members_to_json(bson_iter_t *it, json_t *container, bool top)
{
    json_t *v;
    tg_err err;
    int rc;

    while (bson_iter_next(it)) {
        err = bson_value_to_json(it, top, &v);
        if (err != TG_OK)
            return err;
        if (json_is_object(container))
            rc = json_object_setn_new(container, bson_iter_key(it), bson_iter_key_len(it), v);
        else
            rc = json_array_append_new(container, v);
        if (rc != 0)
            return TG_ENOMEM;
    }
    return TG_OK;
}

static tg_err
bson_to_json(const bson_t *b, json_t **out)
{
    bson_iter_t it;
    json_t *doc;
    tg_err err;

    *out = NULL;
    if (!bson_iter_init(&it, b)) {
        LOG_ERROR("mongodb: malformed BSON document");
        return TG_EPROTO;
    }
    doc = json_object();
    if (doc == NULL)
        return TG_ENOMEM;
    err = bson_members_to_json(&it, doc, true);
    if (err != TG_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return TG_OK;
}

/* ---- helpers ---- */

static mongoc_collection_t *
collection(mongo_store *m, mongoc_client_t *client, const char *coll, const char *suffix)
{
    char name[COLL_MAX];

    snprintf(name, sizeof(name), "%s%s%s", m->prefix, coll, suffix);
    return mongoc_client_get_collection(client, m->db, name);
}

static void
op_begin(mongo_store *m, const char *coll, mongo_op *op)
{
    op->m = m;
    op->client = mongoc_client_pool_pop(m->pool);
    op->docs = collection(m, op->client, coll, "");
    op->claims = collection(m, op->client, coll, ".claims");
}

static void
op_end(mongo_op *op)
{
    mongoc_collection_destroy(op->claims);
    mongoc_collection_destroy(op->docs);
    mongoc_client_pool_push(op->m->pool, op->client);
}

static int64_t
reply_count(const bson_t *reply, const char *field)
{
    bson_iter_t it;

    return bson_iter_init_find(&it, reply, field) ? bson_iter_as_int64(&it) : 0;
}

/* True when doc's top-level field is exactly the string value (MongoDB's {field: value} also
 * matches arrays containing value, SQLite's json_extract does not). */
static bool
field_is_string(const bson_t *doc, const char *field, const char *value)
{
    bson_iter_t it;
    uint32_t len;
    const char *s;

    if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_UTF8(&it))
        return false;
    s = bson_iter_utf8(&it, &len);
    return len == strlen(value) && memcmp(s, value, len) == 0;
}

/* First document matching filter (and, when field is set, field_is_string). */
static tg_err
find_doc(mongoc_collection_t *c, const bson_t *filter, const char *field, const char *value,
         json_t **out)
{
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;
    bson_t *opts = NULL;
    tg_err err = TG_ENOTFOUND;

    *out = NULL;
    if (field == NULL)
        opts = BCON_NEW("limit", BCON_INT64(1), "singleBatch", BCON_BOOL(true));
    cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        if (field == NULL || field_is_string(doc, field, value)) {
            err = bson_to_json(doc, out);
            break;
        }
    }
    if (err == TG_ENOTFOUND && mongoc_cursor_error(cur, &e))
        err = mongo_err(&e, "find");
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    return err;
}

static tg_err
find_live(mongoc_collection_t *c, const char *id, int64_t now, json_t **out)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), LIVE_FILTER(now * 1000));
    tg_err err = find_doc(c, filter, NULL, NULL, out);

    bson_destroy(filter);
    return err;
}

/* findAndModify; *out (may be NULL) gets the returned document, TG_ENOTFOUND when none. */
static tg_err
find_and_modify(mongo_store *m, mongoc_collection_t *c, const bson_t *query, const bson_t *update,
                json_t **out)
{
    mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new();
    bson_t reply, extra = BSON_INITIALIZER;
    bson_iter_t it;
    bson_error_t e;
    tg_err err = TG_OK;

    if (out != NULL)
        *out = NULL;
    if (update != NULL) {
        mongoc_find_and_modify_opts_set_update(fam, update);
        mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    } else {
        mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_REMOVE);
    }
    mongoc_write_concern_append(m->wc, &extra);
    mongoc_find_and_modify_opts_append(fam, &extra);
    if (!mongoc_collection_find_and_modify_with_opts(c, query, fam, &reply, &e)) {
        err = mongo_err(&e, "findAndModify");
        goto out;
    }
    if (!bson_iter_init_find(&it, &reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
        err = TG_ENOTFOUND;
        goto out;
    }
    if (out != NULL) {
        const uint8_t *data;
        uint32_t len;
        bson_t value;

        bson_iter_document(&it, &len, &data);
        if (!bson_init_static(&value, data, len))
            err = TG_EPROTO;
        else
            err = bson_to_json(&value, out);
    }
out:
    bson_destroy(&reply);
    bson_destroy(&extra);
    mongoc_find_and_modify_opts_destroy(fam);
    return err;
}

static tg_err
write_command(mongoc_collection_t *c, const bson_t *cmd, const char *what)
{
    bson_error_t e;
    bson_t reply;
    bool ok = mongoc_collection_write_command_with_opts(c, cmd, NULL, &reply, &e);

    bson_destroy(&reply);
    return ok ? TG_OK : mongo_err(&e, what);
}

/* ---- driver ---- */

static tg_err
mongo_configure(mongo_store *m, const char *location, const char *dbname)
{
    const char *urldb;
    bson_error_t e;

    m->uri = mongoc_uri_new_with_error(location, &e);
    if (m->uri == NULL) {
        LOG_ERROR("mongodb: invalid URL: %s", e.message);
        return TG_EINVAL;
    }
    m->wc = mongoc_write_concern_new();
    mongoc_write_concern_set_wmajority(m->wc, WTIMEOUT_MS);
    mongoc_uri_set_write_concern(m->uri, m->wc);
    if (mongoc_uri_get_appname(m->uri) == NULL)
        mongoc_uri_set_appname(m->uri, "tollgate");
    urldb = mongoc_uri_get_database(m->uri);
    if (urldb != NULL && urldb[0] != '\0') {
        size_t n = strlen(dbname) + 2;

        m->db = tg_strdup(urldb);
        m->prefix = malloc(n);
        if (m->prefix != NULL)
            snprintf(m->prefix, n, "%s_", dbname);
    } else {
        m->db = tg_strdup(dbname);
        m->prefix = tg_strdup("");
    }
    return m->db != NULL && m->prefix != NULL ? TG_OK : TG_ENOMEM;
}

static void
mongo_close(void *impl)
{
    mongo_store *m = impl;

    if (m == NULL)
        return;
    mongoc_client_pool_destroy(m->pool);
    mongoc_uri_destroy(m->uri);
    mongoc_write_concern_destroy(m->wc);
    free(m->db);
    free(m->prefix);
    free(m);
}

static tg_err
mongo_open(const char *location, const char *dbname, void **impl)
{
    mongo_store *m;
    mongoc_client_t *client;
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t e;
    bool ok;
    tg_err err;

    *impl = NULL;
    pthread_once(&mongo_once, mongo_global_init);
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    err = mongo_configure(m, location, dbname);
    if (err != TG_OK)
        goto out;
    m->pool = mongoc_client_pool_new(m->uri);
    if (m->pool == NULL) {
        LOG_ERROR("mongodb: cannot create a client pool for this URL");
        err = TG_EINVAL;
        goto out;
    }
    mongoc_client_pool_set_error_api(m->pool, MONGOC_ERROR_API_VERSION_2);
    /* Fail at open, not at the first request, when the server is unreachable. */
    client = mongoc_client_pool_pop(m->pool);
    ok = mongoc_client_command_simple(client, "admin", ping, NULL, NULL, &e);
    mongoc_client_pool_push(m->pool, client);
    if (!ok) {
        err = mongo_err(&e, "ping");
        goto out;
    }
    *impl = m;
    m = NULL;
out:
    mongo_close(m);
    bson_destroy(ping);
    return err;
}

/* Whether c already has an index named `name`. Ensuring only what is missing keeps a restart
 * (or a second process: a replica, the import tool) from re-sending createIndexes for indexes
 * that exist, which real MongoDB accepts but FerretDB 1.24 answers by dropping the connection
 * (a panic in its option comparison). A collection that does not exist yet has none. */
static bool
has_index(mongoc_collection_t *c, const char *name)
{
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
    const bson_t *doc;
    bson_iter_t it;
    bool found = false;

    while (!found && mongoc_cursor_next(cur, &doc))
        found = bson_iter_init_find(&it, doc, "name") && BSON_ITER_HOLDS_UTF8(&it) &&
                strcmp(bson_iter_utf8(&it, NULL), name) == 0;
    /* an error (NamespaceNotFound for a new collection) means: nothing to skip */
    mongoc_cursor_destroy(cur);
    return found;
}

/* TTL index on expires_at (a date; expireAfterSeconds 0 = expire at that instant). */
static tg_err
ensure_ttl(mongoc_collection_t *c)
{
    bson_t *cmd =
        BCON_NEW("createIndexes", BCON_UTF8(mongoc_collection_get_name(c)), "indexes", "[", "{",
                 "key", "{", "expires_at", BCON_INT32(1), "}", "name", BCON_UTF8("ttl_expires_at"),
                 "expireAfterSeconds", BCON_INT32(0), "}", "]");
    bson_error_t e;
    bson_t reply = BSON_INITIALIZER;
    tg_err err = TG_OK;

    if (has_index(c, "ttl_expires_at")) {
        bson_destroy(cmd);
        return TG_OK;
    }
    if (!mongoc_collection_write_command_with_opts(c, cmd, NULL, &reply, &e)) {
        if (e.code == CODE_NOT_IMPLEMENTED || e.code == CODE_COMMAND_NOT_FOUND) {
            /* FerretDB 1.x: queries filter on expires_at and purge deletes; see the top. */
            LOG_WARN("mongodb: TTL index on %s not supported by this server (%s); "
                     "expired documents are filtered and purged instead",
                     mongoc_collection_get_name(c), e.message);
        } else {
            err = mongo_err(&e, "createIndexes (TTL)");
        }
    }
    bson_destroy(&reply);
    bson_destroy(cmd);
    return err;
}

static tg_err
ensure_unique(mongoc_collection_t *c, const char *const *unique_fields)
{
    bson_t cmd = BSON_INITIALIZER, indexes, index, key;
    char name[STORE_MAX_NAME + 3];
    uint32_t n = 0;
    tg_err err = TG_OK;

    BSON_APPEND_UTF8(&cmd, "createIndexes", mongoc_collection_get_name(c));
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    for (uint32_t i = 0; unique_fields[i] != NULL; i++) {
        char buf[16];
        const char *k;

        snprintf(name, sizeof(name), "u_%s", unique_fields[i]);
        if (has_index(c, name))
            continue;
        bson_uint32_to_string(n++, &k, buf, sizeof(buf));
        BSON_APPEND_DOCUMENT_BEGIN(&indexes, k, &index);
        BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
        BSON_APPEND_INT32(&key, unique_fields[i], 1);
        bson_append_document_end(&index, &key);
        BSON_APPEND_UTF8(&index, "name", name);
        BSON_APPEND_BOOL(&index, "unique", true);
        BSON_APPEND_BOOL(&index, "sparse", true);
        bson_append_document_end(&indexes, &index);
    }
    bson_append_array_end(&cmd, &indexes);
    if (n > 0)
        err = write_command(c, &cmd, "createIndexes");
    bson_destroy(&cmd);
    return err;
}

static tg_err
mongo_ensure(void *impl, const char *coll, const char *const *unique_fields)
{
    mongo_op op;
    tg_err err = TG_OK;

    op_begin(impl, coll, &op);
    if (unique_fields != NULL && unique_fields[0] != NULL)
        err = ensure_unique(op.docs, unique_fields);
    if (err == TG_OK)
        err = ensure_ttl(op.docs);
    if (err == TG_OK)
        err = ensure_ttl(op.claims);
    op_end(&op);
    return err;
}

static tg_err
insert_json(mongoc_collection_t *c, const json_t *doc, const char *what)
{
    bson_t b = BSON_INITIALIZER;
    bson_error_t e;
    tg_err err;

    err = json_members_to_bson(&b, doc, true);
    if (err == TG_OK && !mongoc_collection_insert_one(c, &b, NULL, NULL, &e))
        err = mongo_err(&e, what);
    bson_destroy(&b);
    return err;
}

static tg_err
mongo_insert(void *impl, const char *coll, const json_t *doc, const char *text)
{
    mongo_op op;
    tg_err err;

    (void)text;
    op_begin(impl, coll, &op);
    err = insert_json(op.docs, doc, "insert");
    op_end(&op);
    return err;
}

static tg_err
mongo_get(void *impl, const char *coll, const char *id, json_t **out)
{
    mongo_op op;
    tg_err err;

    *out = NULL;
    op_begin(impl, coll, &op);
    err = find_live(op.docs, id, tg_now_s(), out);
    op_end(&op);
    return err;
}

static tg_err
mongo_find_one(void *impl, const char *coll, const char *field, const char *value, json_t **out)
{
    bson_t *filter;
    mongo_op op;
    tg_err err;

    *out = NULL;
    /* value goes in as a BSON string, never parsed, so "{\"$gt\":\"\"}" is just text. */
    filter = BCON_NEW(field, BCON_UTF8(value), LIVE_FILTER(tg_now_s() * 1000));
    op_begin(impl, coll, &op);
    err = find_doc(op.docs, filter, field, value, out);
    op_end(&op);
    bson_destroy(filter);
    return err;
}

static tg_err
mongo_update(void *impl, const char *coll, const char *id, const json_t *set_fields)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), LIVE_FILTER(tg_now_s() * 1000));
    bson_t update = BSON_INITIALIZER, set, reply;
    bson_error_t e;
    mongo_op op;
    tg_err err;

    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    err = json_members_to_bson(&set, set_fields, true);
    bson_append_document_end(&update, &set);
    if (err != TG_OK) {
        bson_destroy(&update);
        bson_destroy(filter);
        return err;
    }
    op_begin(impl, coll, &op);
    if (!mongoc_collection_update_one(op.docs, filter, &update, NULL, &reply, &e))
        err = mongo_err(&e, "update");
    else if (reply_count(&reply, "matchedCount") == 0)
        err = TG_ENOTFOUND;
    op_end(&op);
    bson_destroy(&reply);
    bson_destroy(&update);
    bson_destroy(filter);
    return err;
}

static tg_err
mongo_remove(void *impl, const char *coll, const char *id)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    const json_t *exp;
    json_t *doc = NULL;
    bson_error_t e;
    mongo_op op;
    tg_err err = TG_OK;

    op_begin(impl, coll, &op);
    /* Claim first: a document whose claim is gone still refuses other consumers through its
     * consumed_by, whereas a stale claim would block a new document with the same _id. */
    if (!mongoc_collection_delete_one(op.claims, filter, NULL, NULL, &e))
        err = mongo_err(&e, "delete claim");
    if (err == TG_OK)
        err = find_and_modify(op.m, op.docs, filter, NULL, &doc);
    /* An expired document was already absent for the caller; it is gone now anyway. */
    exp = json_object_get(doc, "expires_at");
    if (err == TG_OK && json_is_integer(exp) && json_integer_value(exp) <= tg_now_s())
        err = TG_ENOTFOUND;
    op_end(&op);
    json_decref(doc);
    bson_destroy(filter);
    return err;
}

/* Returns TG_OK when consumer may mark the document: it inserted the claim (*inserted set) or
 * an earlier attempt of the same consumer did. TG_ECONSUMED when another consumer holds it. */
static tg_err
claim_take(mongo_op *op, const char *id, const char *consumer, const json_t *doc, bool *inserted)
{
    json_t *claim = json_pack("{s:s, s:s}", "_id", id, "consumer", consumer), *held = NULL;
    const json_t *exp = json_object_get(doc, "expires_at");
    bson_t *filter = NULL;
    tg_err err;

    *inserted = false;
    if (claim == NULL)
        return TG_ENOMEM;
    if (exp != NULL && json_object_set(claim, "expires_at", (json_t *)exp) != 0) {
        err = TG_ENOMEM;
        goto out;
    }
    err = insert_json(op->claims, claim, "insert claim");
    if (err == TG_OK) {
        *inserted = true;
        goto out;
    }
    if (err != TG_EEXIST)
        goto out;
    filter = BCON_NEW("_id", BCON_UTF8(id));
    err = find_doc(op->claims, filter, NULL, NULL, &held);
    if (err == TG_ENOTFOUND) {
        err = TG_ECONSUMED; /* the claim was just deleted with its document */
    } else if (err == TG_OK) {
        const char *by = json_string_value(json_object_get(held, "consumer"));

        if (by == NULL || strcmp(by, consumer) != 0)
            err = TG_ECONSUMED;
    }
out:
    json_decref(claim);
    json_decref(held);
    bson_destroy(filter);
    return err;
}

/* The document as a replay sees it: TG_OK (with it) when consumed by this consumer,
 * TG_ECONSUMED when by another or not at all, TG_ENOTFOUND when absent or expired. */
static tg_err
consumed_state(mongo_op *op, const char *id, const char *consumer, int64_t now, json_t **out)
{
    json_t *doc = NULL;
    const char *by;
    tg_err err;

    *out = NULL;
    err = find_live(op->docs, id, now, &doc);
    if (err != TG_OK)
        return err;
    by = json_string_value(json_object_get(doc, "consumed_by"));
    if (by == NULL || strcmp(by, consumer) != 0) {
        json_decref(doc);
        return TG_ECONSUMED;
    }
    *out = doc;
    return TG_OK;
}

static tg_err
mongo_consume(void *impl, const char *coll, const char *id, const char *consumer,
              store_take_fn make, void *make_arg, bool *taken, json_t **out)
{
    int64_t now = tg_now_s();
    bson_t *query = NULL, *update = NULL, *filter = NULL, set;
    json_t *doc = NULL, *set_fields = NULL, *new_doc = NULL;
    char *new_text = NULL;
    const json_t *by;
    bool inserted = false;
    mongo_op op;
    tg_err err;

    *out = NULL;
    *taken = false;
    op_begin(impl, coll, &op);
    err = find_live(op.docs, id, now, &doc);
    if (err != TG_OK)
        goto out;
    by = json_object_get(doc, "consumed_by");
    if (by != NULL && !json_is_null(by)) { /* taken already: a replay or a refusal */
        err = consumed_state(&op, id, consumer, now, out);
        goto out;
    }
    /* made from the document as read; a take lost to another caller below discards it */
    if ((err = store_take_made(make, make_arg, doc, &set_fields, &new_doc, &new_text)) != TG_OK)
        goto out;
    err = claim_take(&op, id, consumer, doc, &inserted);
    if (err != TG_OK)
        goto out;
    /* {consumed_by: null} matches a missing or null field, like SQLite's IS NULL. */
    query = BCON_NEW("_id", BCON_UTF8(id), "consumed_by", BCON_NULL, LIVE_FILTER(now * 1000));
    update = bson_new();
    BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
    BSON_APPEND_UTF8(&set, "consumed_by", consumer);
    BSON_APPEND_INT64(&set, "consumed_at", now);
    err = set_fields != NULL ? json_members_to_bson(&set, set_fields, true) : TG_OK;
    bson_append_document_end(update, &set);
    if (err == TG_OK)
        err = find_and_modify(op.m, op.docs, query, update, out);
    if (err == TG_OK) {
        *taken = true;
        /* not atomic with the take here: a failed insert leaves it (store.h) */
        if (new_doc != NULL && (err = insert_json(op.docs, new_doc, "insert")) != TG_OK) {
            json_decref(*out);
            *out = NULL;
        }
    } else if (err == TG_ENOTFOUND)
        err = consumed_state(&op, id, consumer, now, out);
    if (err == TG_ENOTFOUND && inserted) {
        /* The document went away under us: leave no claim behind for its _id. */
        bson_error_t e;

        filter = BCON_NEW("_id", BCON_UTF8(id), "consumer", BCON_UTF8(consumer));
        if (!mongoc_collection_delete_one(op.claims, filter, NULL, NULL, &e))
            (void)mongo_err(&e, "delete claim");
    }
out:
    op_end(&op);
    json_decref(doc);
    json_decref(set_fields);
    json_decref(new_doc);
    free(new_text);
    bson_destroy(query);
    bson_destroy(update);
    bson_destroy(filter);
    return err;
}

static tg_err
delete_expired(mongoc_collection_t *c, int64_t now, int64_t *count)
{
    bson_t *filter = BCON_NEW("expires_at", "{", "$lte", BCON_DATE_TIME(now * 1000), "}");
    bson_error_t e;
    bson_t reply;
    tg_err err = TG_OK;

    if (!mongoc_collection_delete_many(c, filter, NULL, &reply, &e))
        err = mongo_err(&e, "purge");
    else if (count != NULL)
        *count = reply_count(&reply, "deletedCount");
    bson_destroy(&reply);
    bson_destroy(filter);
    return err;
}

static tg_err
mongo_purge_expired(void *impl, const char *coll, int64_t *purged)
{
    int64_t now = tg_now_s();
    mongo_op op;
    tg_err err;

    *purged = 0;
    op_begin(impl, coll, &op);
    err = delete_expired(op.docs, now, purged);
    if (err == TG_OK)
        err = delete_expired(op.claims, now, NULL);
    op_end(&op);
    return err;
}

const store_driver store_mongo_driver = {
    .name = "mongodb",
    .open = mongo_open,
    .close = mongo_close,
    .ensure = mongo_ensure,
    .insert = mongo_insert,
    .get = mongo_get,
    .find_one = mongo_find_one,
    .update = mongo_update,
    .remove = mongo_remove,
    .consume = mongo_consume,
    .purge_expired = mongo_purge_expired,
};
