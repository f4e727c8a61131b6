/*
 * Public store API: URL parsing, argument validation and size ceilings, then dispatch to the
 * driver chosen at open (store_sqlite.c, store_mongo.c). Every rule that keeps names out of
 * SQL identifiers and BSON operators is enforced here, once, for both drivers.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store_driver.h"

struct store {
    const store_driver *drv;
    void *impl;
};

bool
store_name_is_valid(const char *name)
{
    size_t n = 0;

    if (name == NULL)
        return false;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        if (n >= STORE_MAX_NAME)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return n > 0;
}

tg_err
store_url_parse(const char *url, store_url *out)
{
    const char *path;

    out->driver = NULL;
    out->location = NULL;
    if (url == NULL || url[0] == '\0')
        return TG_EINVAL;
    if (strncmp(url, "mongodb://", 10) == 0 || strncmp(url, "mongodb+srv://", 14) == 0) {
        out->driver = &store_mongo_driver;
        out->location = url;
        return TG_OK;
    }
    if (strncmp(url, "sqlite://", 9) == 0)
        path = url + 9;
    else if (strncmp(url, "sqlite:", 7) == 0)
        path = url + 7;
    else if (strstr(url, "://") != NULL)
        return TG_EINVAL; /* some other scheme, not a file name */
    else
        path = url;
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0)
        return TG_EINVAL;
    out->driver = &store_sqlite_driver;
    out->location = path;
    return TG_OK;
}

/* Top-level keys are field names like any other in this API ([A-Za-z0-9_]{1,64}); nested keys
 * only avoid what MongoDB reserves (empty, NUL, leading '$', '.'). */
static bool
key_is_valid(const char *key, size_t key_len, int depth)
{
    if (depth == 1)
        return store_name_is_valid(key);
    return key_len > 0 && strlen(key) == key_len && key[0] != '$' && strchr(key, '.') == NULL;
}

/* Rules both drivers can honour alike. Arrays directly inside arrays are refused because
 * FerretDB 1.x cannot store them; strings with NUL because C consumers would truncate them;
 * depth is bounded so the BSON walkers and the server's nesting limit are never reached. */
static tg_err
value_check(const json_t *v, int depth)
{
    const char *key;
    json_t *item;
    size_t i, key_len;

    if (depth > STORE_MAX_DEPTH)
        return TG_EINVAL;
    if (json_is_object(v)) {
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            if (!key_is_valid(key, key_len, depth) || value_check(item, depth + 1) != TG_OK)
                return TG_EINVAL;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (json_is_array(item) || value_check(item, depth + 1) != TG_OK)
                return TG_EINVAL;
        }
    } else if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v))
            return TG_EINVAL;
    }
    return TG_OK;
}

static bool
expires_is_valid(const json_t *v)
{
    json_int_t t;

    if (v == NULL)
        return true;
    if (!json_is_integer(v))
        return false;
    t = json_integer_value(v);
    return t >= -STORE_MAX_EXPIRES && t <= STORE_MAX_EXPIRES;
}

static bool
id_is_valid(const char *id)
{
    size_t len;

    if (id == NULL)
        return false;
    len = strnlen(id, STORE_MAX_ID + 1);
    return len > 0 && len <= STORE_MAX_ID && tg_utf8_is_valid(id, len);
}

tg_err
store_doc_check(const json_t *doc, char **text)
{
    const json_t *id;
    char *s = NULL;
    tg_err err;

    *text = NULL;
    if (!json_is_object(doc))
        return TG_EINVAL;
    id = json_object_get(doc, "_id");
    if (!json_is_string(id) || json_string_length(id) > STORE_MAX_ID ||
        !id_is_valid(json_string_value(id)) ||
        strlen(json_string_value(id)) != json_string_length(id))
        return TG_EINVAL;
    if (!expires_is_valid(json_object_get(doc, "expires_at")))
        return TG_EINVAL;
    err = value_check(doc, 1);
    if (err != TG_OK)
        return err;
    s = json_dumps(doc, JSON_COMPACT);
    if (s == NULL)
        return TG_ENOMEM;
    if (strlen(s) > STORE_MAX_DOC) {
        free(s);
        return TG_ETOOBIG;
    }
    *text = s;
    return TG_OK;
}

tg_err
store_set_check(const json_t *set_fields)
{
    const char *key;
    json_t *item;
    size_t len;
    tg_err err;

    if (!json_is_object(set_fields) || json_object_size(set_fields) == 0)
        return TG_EINVAL;
    json_object_foreach((json_t *)set_fields, key, item)
    {
        if (!store_name_is_valid(key) || strcmp(key, "_id") == 0)
            return TG_EINVAL;
    }
    if (!expires_is_valid(json_object_get(set_fields, "expires_at")))
        return TG_EINVAL;
    err = value_check(set_fields, 1);
    if (err != TG_OK)
        return err;
    len = json_dumpb(set_fields, NULL, 0, JSON_COMPACT);
    if (len == 0)
        return TG_ENOMEM;
    return len > STORE_MAX_DOC ? TG_ETOOBIG : TG_OK;
}

tg_err
store_open(const char *url, const char *dbname, store **out)
{
    store_url parsed;
    store *st = NULL;
    tg_err err;

    *out = NULL;
    err = store_url_parse(url, &parsed);
    if (err != TG_OK)
        goto out;
    if (!store_name_is_valid(dbname)) {
        err = TG_EINVAL;
        goto out;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    st->drv = parsed.driver;
    err = st->drv->open(parsed.location, dbname, &st->impl);
    if (err != TG_OK)
        goto out;
    *out = st;
    st = NULL;
out:
    free(st);
    return err;
}

void
store_close(store *st)
{
    if (st == NULL)
        return;
    st->drv->close(st->impl);
    free(st);
}

const char *
store_driver_name(const store *st)
{
    return st->drv->name;
}

tg_err
store_collection_ensure(store *st, const char *coll, const char *const *unique_fields)
{
    if (st == NULL || !store_name_is_valid(coll))
        return TG_EINVAL;
    for (size_t i = 0; unique_fields != NULL && unique_fields[i] != NULL; i++) {
        if (!store_name_is_valid(unique_fields[i]) || strcmp(unique_fields[i], "_id") == 0)
            return TG_EINVAL;
    }
    return st->drv->ensure(st->impl, coll, unique_fields);
}

/* A collision may come from an expired document that nobody purged yet; expired documents
 * must not exist for callers, so purge them and try once more. */
static bool
purged_some(store *st, const char *coll)
{
    int64_t n = 0;

    return st->drv->purge_expired(st->impl, coll, &n) == TG_OK && n > 0;
}

tg_err
store_insert(store *st, const char *coll, const json_t *doc)
{
    char *text = NULL;
    tg_err err;

    if (st == NULL || !store_name_is_valid(coll))
        return TG_EINVAL;
    err = store_doc_check(doc, &text);
    if (err != TG_OK)
        goto out;
    err = st->drv->insert(st->impl, coll, doc, text);
    if (err == TG_EEXIST && purged_some(st, coll))
        err = st->drv->insert(st->impl, coll, doc, text);
out:
    free(text);
    return err;
}

tg_err
store_get(store *st, const char *coll, const char *id, json_t **out)
{
    *out = NULL;
    if (st == NULL || !store_name_is_valid(coll) || !id_is_valid(id))
        return TG_EINVAL;
    return st->drv->get(st->impl, coll, id, out);
}

tg_err
store_find_one(store *st, const char *coll, const char *field, const char *value, json_t **out)
{
    size_t len;

    *out = NULL;
    if (st == NULL || !store_name_is_valid(coll) || !store_name_is_valid(field) || value == NULL)
        return TG_EINVAL;
    len = strnlen(value, STORE_MAX_DOC + 1);
    if (len > STORE_MAX_DOC)
        return TG_ETOOBIG;
    if (!tg_utf8_is_valid(value, len))
        return TG_EINVAL;
    return st->drv->find_one(st->impl, coll, field, value, out);
}

tg_err
store_update(store *st, const char *coll, const char *id, const json_t *set_fields)
{
    tg_err err;

    if (st == NULL || !store_name_is_valid(coll) || !id_is_valid(id))
        return TG_EINVAL;
    err = store_set_check(set_fields);
    if (err != TG_OK)
        return err;
    err = st->drv->update(st->impl, coll, id, set_fields);
    if (err == TG_EEXIST && purged_some(st, coll))
        err = st->drv->update(st->impl, coll, id, set_fields);
    return err;
}

tg_err
store_delete(store *st, const char *coll, const char *id)
{
    if (st == NULL || !store_name_is_valid(coll) || !id_is_valid(id))
        return TG_EINVAL;
    return st->drv->remove(st->impl, coll, id);
}

tg_err
store_consume(store *st, const char *coll, const char *id, const char *consumer, json_t **out)
{
    bool taken;

    return store_consume_insert(st, coll, id, consumer, NULL, NULL, &taken, out);
}

/* Fields a consume may set: the update rules, and never the take's own fields. */
static tg_err
take_set_check(const json_t *set_fields)
{
    tg_err err = store_set_check(set_fields);

    if (err == TG_OK && (json_object_get(set_fields, "consumed_by") != NULL ||
                         json_object_get(set_fields, "consumed_at") != NULL))
        err = TG_EINVAL;
    return err;
}

tg_err
store_take_made(store_take_fn make, void *arg, const json_t *doc, json_t **set_fields,
                json_t **new_doc, char **text)
{
    tg_err err = TG_OK;

    *set_fields = *new_doc = NULL;
    *text = NULL;
    if (make == NULL)
        return TG_OK;
    if ((err = make(doc, arg, set_fields, new_doc)) != TG_OK)
        goto fail;
    if (*set_fields != NULL && (err = take_set_check(*set_fields)) != TG_OK)
        goto fail;
    if (*new_doc != NULL && (err = store_doc_check(*new_doc, text)) != TG_OK)
        goto fail;
    return TG_OK;
fail:
    json_decref(*set_fields);
    json_decref(*new_doc);
    *set_fields = *new_doc = NULL;
    return err;
}

tg_err
store_take(store *st, const char *coll, const char *id, const char *consumer, store_take_fn make,
           void *arg, bool *taken, json_t **out)
{
    *out = NULL;
    *taken = false;
    if (st == NULL || !store_name_is_valid(coll) || !id_is_valid(id) || !id_is_valid(consumer))
        return TG_EINVAL;
    return st->drv->consume(st->impl, coll, id, consumer, make, arg, taken, out);
}

/* store_consume_insert's make: the caller's own fields and document, checked before the call. */
typedef struct fixed_take {
    const json_t *set_fields, *new_doc;
} fixed_take;

static tg_err
fixed_make(const json_t *doc, void *arg, json_t **set_fields, json_t **new_doc)
{
    const fixed_take *f = arg;

    (void)doc;
    *set_fields = f->set_fields != NULL ? json_incref((json_t *)f->set_fields) : NULL;
    *new_doc = f->new_doc != NULL ? json_incref((json_t *)f->new_doc) : NULL;
    return TG_OK;
}

tg_err
store_consume_insert(store *st, const char *coll, const char *id, const char *consumer,
                     const json_t *set_fields, const json_t *new_doc, bool *taken, json_t **out)
{
    fixed_take f = {.set_fields = set_fields, .new_doc = new_doc};
    char *text = NULL;
    tg_err err;

    *out = NULL;
    *taken = false;
    /* checked here too, so a bad argument is refused before the document is even read */
    if (set_fields != NULL && (err = take_set_check(set_fields)) != TG_OK)
        return err;
    if (new_doc != NULL && (err = store_doc_check(new_doc, &text)) != TG_OK)
        return err;
    free(text);
    return store_take(st, coll, id, consumer,
                      set_fields != NULL || new_doc != NULL ? fixed_make : NULL, &f, taken, out);
}

tg_err
store_purge_expired(store *st, const char *coll, int64_t *purged)
{
    int64_t n = 0;
    tg_err err;

    if (purged != NULL)
        *purged = 0;
    if (st == NULL || !store_name_is_valid(coll))
        return TG_EINVAL;
    err = st->drv->purge_expired(st->impl, coll, &n);
    if (err == TG_OK && purged != NULL)
        *purged = n;
    return err;
}
