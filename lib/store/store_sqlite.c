/*
 * Embedded store driver on SQLite (WAL). One table per collection, "<dbname>_<coll>" with
 * (id TEXT PRIMARY KEY, doc TEXT NOT NULL -- the JSON document, expires_at INTEGER -- a copy
 * of doc.expires_at for the expiry filter and purge). Unique fields are unique expression
 * indexes on json_extract(doc,'$.<field>'); SQLite treats NULLs as distinct, so documents
 * without the field never collide (the MongoDB driver uses sparse indexes to match).
 *
 * Identifiers in SQL text are only names store.c has validated ([A-Za-z0-9_]); every value is
 * a bound parameter. Reads take a connection from a small pool (opened lazily up to POOL_MAX; a
 * caller waits when all are busy), each used by one thread at a time; writes all run on one
 * more connection, batched (see write_run).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store_driver.h"
#include "store/store_sqlite_checkpoint.h"

#define POOL_MAX 8
#define STMT_CACHE 96 /* prepared statements kept per connection (collections x operations) */
#define BUSY_TIMEOUT_MS 10000
#define TABLE_MAX (2 * STORE_MAX_NAME + 2)
#define SQL_MAX 1024

/* A pooled connection and the statements prepared on it, kept for reuse: every operation's SQL
 * is one of a few texts per collection, and preparing it again on every call cost about a tenth
 * of a lookup (bench/RESULTS.md). A connection is used by one thread at a time, so is its
 * cache. A statement made by prepare_on is also found by its format and collection, without
 * formatting its text again. */
typedef struct sq_conn {
    sqlite3 *db;
    struct {
        char *sql;
        const char *fmt; /* prepare_on's format (a string literal), or NULL */
        char *coll;      /* and its collection */
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
    int n_cached;
} sq_conn;

typedef struct sqlite_store {
    char *path;
    char *dbname;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* writes: see write_run */
    pthread_mutex_t q_mu;
    struct wjob *q_head, **q_tail; /* writes waiting for the next batch */
    bool leading;                  /* a thread is running a batch */
    sq_conn *writer;               /* the connection every write uses, by the leader only */
    store_sqlite_checkpointer *checkpointer; /* the writer's checkpoints (NULL: SQLite's own) */
    sq_conn *idle[POOL_MAX];
    int n_idle;
    int n_open;
    char **tables; /* collections whose table this process has already created */
    size_t n_tables;
} sqlite_store;

/* The one place SQLite result codes become tg_err; logs the detail. */
static tg_err
sql_err(sqlite3 *db, int rc, const char *what)
{
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            LOG_DEBUG("sqlite %s: %s", what, msg);
            return TG_EEXIST;
        }
        LOG_ERROR("sqlite %s: %s (%d)", what, msg, rc);
        return TG_EINTERNAL;
    case SQLITE_NOMEM: LOG_ERROR("sqlite %s: out of memory", what); return TG_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: LOG_ERROR("sqlite %s: %s (%d)", what, msg, rc); return TG_ETIMEDOUT;
    case SQLITE_TOOBIG: LOG_ERROR("sqlite %s: %s", what, msg); return TG_ETOOBIG;
    default: LOG_ERROR("sqlite %s: %s (%d)", what, msg, rc); return TG_EIO;
    }
}

static tg_err
exec(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? TG_OK : sql_err(db, rc, what);
}

static void
conn_close(sq_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n_cached; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
        free(c->cache[i].coll);
    }
    sqlite3_close(c->db);
    free(c);
}

static tg_err
conn_open(const char *path, sq_conn **out)
{
    sqlite3 *db = NULL;
    tg_err err;
    int rc;

    *out = NULL;
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                             SQLITE_OPEN_EXRESCODE,
                         NULL);
    if (rc != SQLITE_OK) {
        err = sql_err(db, rc, "open");
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    err = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "pragmas");
    if (err != TG_OK)
        goto out;
    if ((*out = calloc(1, sizeof(**out))) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    (*out)->db = db;
    db = NULL;
out:
    sqlite3_close(db);
    return err;
}

static tg_err
conn_acquire(sqlite_store *s, sq_conn **out)
{
    tg_err err;

    *out = NULL;
    pthread_mutex_lock(&s->mu);
    while (s->n_idle == 0 && s->n_open >= POOL_MAX)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->n_idle > 0) {
        *out = s->idle[--s->n_idle];
        pthread_mutex_unlock(&s->mu);
        return TG_OK;
    }
    s->n_open++;
    pthread_mutex_unlock(&s->mu);

    err = conn_open(s->path, out);
    if (err != TG_OK) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return err;
}

static void
conn_release(sqlite_store *s, sq_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->idle[s->n_idle++] = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void
table_name(const sqlite_store *s, const char *coll, char buf[TABLE_MAX])
{
    snprintf(buf, TABLE_MAX, "%s_%s", s->dbname, coll);
}

static bool
table_is_known(sqlite_store *s, const char *coll)
{
    bool known = false;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_tables && !known; i++)
        known = strcmp(s->tables[i], coll) == 0;
    pthread_mutex_unlock(&s->mu);
    return known;
}

static tg_err
table_remember(sqlite_store *s, const char *coll)
{
    char *copy = tg_strdup(coll), **grown;
    tg_err err = TG_OK;

    if (copy == NULL)
        return TG_ENOMEM;
    pthread_mutex_lock(&s->mu);
    grown = realloc(s->tables, (s->n_tables + 1) * sizeof(*s->tables));
    if (grown == NULL) {
        err = TG_ENOMEM;
        free(copy);
    } else {
        s->tables = grown;
        s->tables[s->n_tables++] = copy;
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

/* Collections spring into existence on first use, as MongoDB's do. */
static tg_err
table_ensure(sqlite_store *s, sq_conn *c, const char *coll)
{
    char t[TABLE_MAX], sql[SQL_MAX];
    tg_err err;

    if (table_is_known(s, coll))
        return TG_OK;
    table_name(s, coll, t);
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS \"%s\" (id TEXT PRIMARY KEY, doc TEXT NOT NULL, "
             "expires_at INTEGER);"
             "CREATE INDEX IF NOT EXISTS \"%s__expires_at\" ON \"%s\"(expires_at) "
             "WHERE expires_at IS NOT NULL;",
             t, t, t);
    err = exec(c->db, sql, "create table");
    if (err != TG_OK)
        return err;
    return table_remember(s, coll);
}

/* The writer and its store while this thread runs a write job (batch_run): a store_take's
 * maker reading the store. Its reads run on the writer, inside the batch's transaction, rather
 * than on a pooled connection whose page cache the writer's commits keep invalidating. */
static _Thread_local struct {
    const sqlite_store *s;
    sq_conn *c;
} job_writer;

/* A connection, for a read, whose collection table exists: the writer inside a write job of
 * this store (a table it does not know yet excepted), else one from the pool. */
static tg_err
begin_read(sqlite_store *s, const char *coll, sq_conn **out)
{
    sq_conn *c = NULL;
    tg_err err;

    *out = NULL;
    if (job_writer.s == s && table_is_known(s, coll)) {
        *out = job_writer.c;
        return TG_OK;
    }
    err = conn_acquire(s, &c);
    if (err == TG_OK && (err = table_ensure(s, c, coll)) != TG_OK)
        conn_release(s, c);
    if (err == TG_OK)
        *out = c;
    return err;
}

static void
end_read(sqlite_store *s, sq_conn *c)
{
    if (c != job_writer.c || job_writer.s != s)
        conn_release(s, c);
}

/* The statement for sql on c: the cached one (reset by stmt_done after its last use), else a
 * new one, kept when the cache has room. */
static tg_err
prepare(sq_conn *c, const char *sql, sqlite3_stmt **out)
{
    char *copy;
    int rc;

    for (int i = 0; i < c->n_cached; i++)
        if (strcmp(c->cache[i].sql, sql) == 0) {
            *out = c->cache[i].stmt;
            return TG_OK;
        }
    if (c->n_cached == STMT_CACHE || (copy = tg_strdup(sql)) == NULL) {
        rc = sqlite3_prepare_v2(c->db, sql, -1, out, NULL);
        return rc == SQLITE_OK ? TG_OK : sql_err(c->db, rc, "prepare");
    }
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK) {
        free(copy);
        return sql_err(c->db, rc, "prepare");
    }
    c->cache[c->n_cached].sql = copy;
    c->cache[c->n_cached].stmt = *out;
    c->n_cached++;
    return TG_OK;
}

/* Done with stmt: a cached statement is reset for its next use, another one finalized. */
static void
stmt_done(sq_conn *c, sqlite3_stmt *stmt)
{
    if (stmt == NULL)
        return;
    for (int i = 0; i < c->n_cached; i++)
        if (c->cache[i].stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            return;
        }
    sqlite3_finalize(stmt);
}

/* Prepares a statement from a format holding the table name once. */
static tg_err
prepare_on(sqlite_store *s, sq_conn *c, const char *coll, const char *fmt, sqlite3_stmt **out)
{
    char t[TABLE_MAX], sql[SQL_MAX];
    int n = c->n_cached;
    tg_err err;

    for (int i = 0; i < n; i++)
        if (c->cache[i].fmt == fmt && strcmp(c->cache[i].coll, coll) == 0) {
            *out = c->cache[i].stmt;
            return TG_OK;
        }
    table_name(s, coll, t);
    snprintf(sql, sizeof(sql), fmt, t);
    err = prepare(c, sql, out);
    /* newly kept: findable by format from now on (without the copy, by its text only) */
    if (err == TG_OK && c->n_cached == n + 1 && (c->cache[n].coll = tg_strdup(coll)) != NULL)
        c->cache[n].fmt = fmt;
    return err;
}

/* BEGIN IMMEDIATE, COMMIT or ROLLBACK, as a kept statement: parsed on every write, they showed
 * in profiles. */
static tg_err
txn_step(sq_conn *c, const char *sql, const char *what)
{
    sqlite3_stmt *stmt = NULL;
    tg_err err = prepare(c, sql, &stmt);
    int rc;

    if (err != TG_OK)
        return err;
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        err = sql_err(c->db, rc, what);
    stmt_done(c, stmt);
    return err;
}

static tg_err
column_doc(sqlite3_stmt *stmt, int col, json_t **out)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    json_error_t jerr;

    *out = NULL;
    if (text == NULL)
        return TG_ENOMEM;
    *out = json_loadb(text, (size_t)sqlite3_column_bytes(stmt, col), 0, &jerr);
    if (*out == NULL || !json_is_object(*out)) {
        LOG_ERROR("sqlite: stored document is not a JSON object: %s", jerr.text);
        json_decref(*out);
        *out = NULL;
        return TG_EIO;
    }
    return TG_OK;
}

/* Steps a statement expecting at most one row; *doc (may be NULL) gets column 0 parsed. */
static tg_err
step_doc(sqlite3 *db, sqlite3_stmt *stmt, const char *what, json_t **doc)
{
    int rc = sqlite3_step(stmt);

    if (doc != NULL)
        *doc = NULL;
    if (rc == SQLITE_DONE)
        return TG_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return sql_err(db, rc, what);
    return doc != NULL ? column_doc(stmt, 0, doc) : TG_OK;
}

static void
bind_expires(sqlite3_stmt *stmt, int idx, const json_t *doc)
{
    const json_t *e = json_object_get(doc, "expires_at");

    if (e != NULL)
        sqlite3_bind_int64(stmt, idx, json_integer_value(e));
    else
        sqlite3_bind_null(stmt, idx);
}

/* Before SQLite's first use in the process: no memory statistics. They take one global mutex
 * on every allocation, and Debian's SQLite (built without lookaside) allocates for nearly
 * every step; the connections of every thread then meet on that mutex. Too late (SQLite
 * already in use) is harmless: the statistics stay on. */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void
sqlite_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static tg_err
sqlite_open(const char *location, const char *dbname, void **impl)
{
    sqlite_store *s;
    sq_conn *c = NULL;
    tg_err err;

    *impl = NULL;
    if (!sqlite3_threadsafe()) {
        LOG_ERROR("sqlite: library built without thread support");
        return TG_ECONFIG;
    }
    pthread_once(&sqlite_config_once, sqlite_config);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TG_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    s->q_tail = &s->q_head;
    pthread_cond_init(&s->cv, NULL);
    s->path = tg_strdup(location);
    s->dbname = tg_strdup(dbname);
    if (s->path == NULL || s->dbname == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    /* Open one connection now so a bad path fails here, and WAL is set before any sharing. */
    err = conn_acquire(s, &c);
    if (err != TG_OK)
        goto out;
    conn_release(s, c);
    *impl = s;
    s = NULL;
out:
    if (s != NULL) {
        free(s->path);
        free(s->dbname);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->q_mu);
        free(s);
    }
    return err;
}

static void
sqlite_close(void *impl)
{
    sqlite_store *s = impl;

    /* Every call returns its connection before returning, so all are idle now. */
    for (int i = 0; i < s->n_idle; i++)
        conn_close(s->idle[i]);
    conn_close(s->writer);
    store_sqlite_checkpointer_stop(s->checkpointer);
    for (size_t i = 0; i < s->n_tables; i++)
        free(s->tables[i]);
    free(s->tables);
    free(s->path);
    free(s->dbname);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->q_mu);
    free(s);
}



/* ---- writes ------------------------------------------------------------------------------
 *
 * Every write runs on one connection, the process's writer, inside a transaction, and writes
 * that arrive while one is running are committed together (group commit):
 * - SQLite admits one writer at a time; writers of one process that met in SQLite's busy
 *   handler slept a millisecond and more per retry. They queue here instead.
 * - A write is a job; the thread that finds no batch running takes every queued job, runs each
 *   inside a savepoint of one transaction (a job that fails is rolled back alone), commits
 *   once, and wakes their threads. A job is answered only after its batch's COMMIT, so a write
 *   that returns TG_OK is as durable as one committed alone.
 * - One connection writes, so its page cache is never invalidated by another's commit.
 * (Writers in other processes sharing the file still meet SQLite's busy handler.)
 */
typedef tg_err (*wjob_fn)(sqlite_store *s, sq_conn *c, void *arg);

typedef struct wjob {
    wjob_fn run;
    void *arg;
    const char *coll;
    tg_err err;
    bool done;
    pthread_cond_t cv; /* its thread waits here: for its batch, or to lead the next */
    struct wjob *next;
} wjob;

static void
batch_fail(wjob *batch, tg_err err)
{
    for (wjob *j = batch; j != NULL; j = j->next)
        if (j->err == TG_OK)
            j->err = err;
}

/* The writer, with its checkpoints off the write path (when that thread cannot start, SQLite
 * checkpoints on the writer's commits as usual). */
static tg_err
writer_open(sqlite_store *s)
{
    tg_err err = conn_open(s->path, &s->writer);

    if (err != TG_OK)
        return err;
    if (store_sqlite_checkpointer_start(s->path, &s->checkpointer) == TG_OK)
        store_sqlite_checkpointer_attach(s->checkpointer, s->writer->db);
    else
        LOG_WARN("sqlite: no checkpoint thread; the writer checkpoints itself");
    return TG_OK;
}

/* Runs a batch on the writer: tables first (DDL commits on its own), then one transaction. */
static void
batch_run(sqlite_store *s, wjob *batch)
{
    bool single = batch->next == NULL;
    tg_err err = TG_OK;
    sq_conn *c;

    if (s->writer == NULL && (err = writer_open(s)) != TG_OK) {
        batch_fail(batch, err);
        return;
    }
    c = s->writer;
    for (wjob *j = batch; j != NULL; j = j->next)
        j->err = table_ensure(s, c, j->coll);
    if ((err = txn_step(c, "BEGIN IMMEDIATE", "begin")) != TG_OK) {
        batch_fail(batch, err);
        return;
    }
    for (wjob *j = batch; j != NULL; j = j->next) {
        if (j->err != TG_OK)
            continue;
        if (!single && (j->err = txn_step(c, "SAVEPOINT job", "savepoint")) != TG_OK)
            continue;
        job_writer.s = s;
        job_writer.c = c;
        j->err = j->run(s, c, j->arg);
        job_writer.s = NULL;
        job_writer.c = NULL;
        if (!single && j->err != TG_OK && txn_step(c, "ROLLBACK TO job", "rollback to") != TG_OK)
            err = TG_EIO; /* cannot undo this job alone: nothing of the batch may commit */
        if (!single && txn_step(c, "RELEASE job", "release") != TG_OK)
            err = TG_EIO;
    }
    if (err == TG_OK && !(single && batch->err != TG_OK))
        err = txn_step(c, "COMMIT", "commit");
    else if (err == TG_OK)
        err = batch->err; /* one job, failed: roll it back below */
    if (err != TG_OK) {
        if (!sqlite3_get_autocommit(c->db))
            (void)txn_step(c, "ROLLBACK", "rollback");
        batch_fail(batch, err);
    }
}

/* Runs run(s, writer, arg) as a write of collection coll; returns its result once committed. */
static tg_err
write_run(sqlite_store *s, const char *coll, wjob_fn run, void *arg)
{
    wjob job = {.run = run, .arg = arg, .coll = coll};

    pthread_cond_init(&job.cv, NULL);
    pthread_mutex_lock(&s->q_mu);
    *s->q_tail = &job;
    s->q_tail = &job.next;
    while (!job.done) {
        wjob *batch;

        if (s->leading) {
            pthread_cond_wait(&job.cv, &s->q_mu);
            continue;
        }
        /* lead one batch (it holds this job), then hand the lead to the next queued job */
        s->leading = true;
        batch = s->q_head;
        s->q_head = NULL;
        s->q_tail = &s->q_head;
        pthread_mutex_unlock(&s->q_mu);
        batch_run(s, batch);
        pthread_mutex_lock(&s->q_mu);
        for (wjob *j = batch, *next; j != NULL; j = next) {
            next = j->next;
            j->done = true; /* its thread wakes, and may free j, only after we release q_mu */
            if (j != &job)
                pthread_cond_signal(&j->cv);
        }
        s->leading = false;
        if (s->q_head != NULL) /* the next leader: only its thread wakes, not every waiter */
            pthread_cond_signal(&s->q_head->cv);
    }
    pthread_cond_destroy(&job.cv);
    pthread_mutex_unlock(&s->q_mu);
    return job.err;
}

typedef struct ensure_arg {
    const char *coll;
    const char *const *unique_fields;
} ensure_arg;

static tg_err
ensure_job(sqlite_store *s, sq_conn *c, void *arg)
{
    const ensure_arg *a = arg;
    char t[TABLE_MAX], sql[SQL_MAX];
    tg_err err = TG_OK;

    table_name(s, a->coll, t);
    for (size_t i = 0; a->unique_fields != NULL && a->unique_fields[i] != NULL && err == TG_OK;
         i++) {
        const char *f = a->unique_fields[i];

        snprintf(
            sql, sizeof(sql),
            "CREATE UNIQUE INDEX IF NOT EXISTS \"%s__u_%s\" ON \"%s\"(json_extract(doc,'$.%s'))", t,
            f, t, f);
        err = exec(c->db, sql, "create unique index");
    }
    return err;
}

static tg_err
sqlite_ensure(void *impl, const char *coll, const char *const *unique_fields)
{
    ensure_arg a = {.coll = coll, .unique_fields = unique_fields};

    return write_run(impl, coll, ensure_job, &a);
}

/* The insert itself, on a connection the caller holds (insert_job, consume_job). */
static tg_err
insert_on(sqlite_store *s, sq_conn *c, const char *coll, const json_t *doc, const char *text)
{
    sqlite3_stmt *stmt = NULL;
    tg_err err;
    int rc;

    err = prepare_on(s, c, coll, "INSERT INTO \"%s\" (id, doc, expires_at) VALUES (?1, ?2, ?3)",
                     &stmt);
    if (err != TG_OK)
        return err;
    sqlite3_bind_text(stmt, 1, json_string_value(json_object_get(doc, "_id")), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
    bind_expires(stmt, 3, doc);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        err = sql_err(c->db, rc, "insert");
    stmt_done(c, stmt);
    return err;
}

typedef struct insert_arg {
    const char *coll;
    const json_t *doc;
    const char *text;
} insert_arg;

static tg_err
insert_job(sqlite_store *s, sq_conn *c, void *arg)
{
    const insert_arg *a = arg;

    return insert_on(s, c, a->coll, a->doc, a->text);
}

static tg_err
sqlite_insert(void *impl, const char *coll, const json_t *doc, const char *text)
{
    insert_arg a = {.coll = coll, .doc = doc, .text = text};

    return write_run(impl, coll, insert_job, &a);
}

/* The live (unexpired) document id, read on connection c. */
static tg_err
doc_read(sqlite_store *s, sq_conn *c, const char *coll, const char *id, int64_t now, json_t **doc)
{
    sqlite3_stmt *stmt = NULL;
    tg_err err;

    err = prepare_on(s, c, coll,
                     "SELECT doc FROM \"%s\" WHERE id = ?1 "
                     "AND (expires_at IS NULL OR expires_at > ?2)",
                     &stmt);
    if (err != TG_OK)
        return err;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    err = step_doc(c->db, stmt, "get", doc);
    stmt_done(c, stmt);
    return err;
}

static tg_err
sqlite_get(void *impl, const char *coll, const char *id, json_t **out)
{
    sqlite_store *s = impl;
    sq_conn *c = NULL;
    tg_err err;

    *out = NULL;
    if ((err = begin_read(s, coll, &c)) != TG_OK)
        return err;
    err = doc_read(s, c, coll, id, tg_now_s(), out);
    end_read(s, c);
    return err;
}

static tg_err
sqlite_find_one(void *impl, const char *coll, const char *field, const char *value, json_t **out)
{
    sqlite_store *s = impl;
    char t[TABLE_MAX], sql[SQL_MAX];
    sqlite3_stmt *stmt = NULL;
    sq_conn *c = NULL;
    tg_err err;

    *out = NULL;
    err = begin_read(s, coll, &c);
    if (err != TG_OK)
        return err;
    /* Same expression as the unique index so the planner uses it; json_type excludes objects
     * and arrays whose JSON text happens to equal the value. */
    table_name(s, coll, t);
    snprintf(sql, sizeof(sql),
             "SELECT doc FROM \"%s\" WHERE json_extract(doc,'$.%s') = ?1 "
             "AND json_type(doc,'$.%s') = 'text' "
             "AND (expires_at IS NULL OR expires_at > ?2) LIMIT 1",
             t, field, field);
    err = prepare(c, sql, &stmt);
    if (err != TG_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, tg_now_s());
    err = step_doc(c->db, stmt, "find_one", out);
out:
    stmt_done(c, stmt);
    end_read(s, c);
    return err;
}


/* Writes doc back as document id (its expires_at column with it). */
static tg_err
doc_write(sqlite_store *s, sq_conn *c, const char *coll, const char *id, const json_t *doc)
{
    sqlite3_stmt *stmt = NULL;
    char *text = json_dumps(doc, JSON_COMPACT);
    tg_err err;
    int rc;

    if (text == NULL)
        return TG_ENOMEM;
    err =
        prepare_on(s, c, coll, "UPDATE \"%s\" SET doc = ?1, expires_at = ?2 WHERE id = ?3", &stmt);
    if (err == TG_OK) {
        sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
        bind_expires(stmt, 2, doc);
        sqlite3_bind_text(stmt, 3, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
            err = sql_err(c->db, rc, "update");
    }
    stmt_done(c, stmt);
    free(text);
    return err;
}

/* Read-merge-write inside BEGIN IMMEDIATE (the write lock is taken first, so the row cannot
 * change in between). Merging in C gives exact $set semantics, which json_patch (a merge
 * patch: null deletes, objects merge) does not. */
static tg_err
update_locked(sqlite_store *s, sq_conn *c, const char *coll, const char *id,
              const json_t *set_fields)
{
    json_t *doc = NULL;
    tg_err err = doc_read(s, c, coll, id, tg_now_s(), &doc);

    if (err == TG_OK)
        err = json_object_update(doc, (json_t *)set_fields) == 0 ? doc_write(s, c, coll, id, doc)
                                                                  : TG_ENOMEM;
    json_decref(doc);
    return err;
}

typedef struct update_arg {
    const char *coll, *id;
    const json_t *set_fields;
} update_arg;

static tg_err
update_job(sqlite_store *s, sq_conn *c, void *arg)
{
    const update_arg *a = arg;

    return update_locked(s, c, a->coll, a->id, a->set_fields);
}

static tg_err
sqlite_update(void *impl, const char *coll, const char *id, const json_t *set_fields)
{
    update_arg a = {.coll = coll, .id = id, .set_fields = set_fields};

    return write_run(impl, coll, update_job, &a);
}

typedef struct remove_arg {
    const char *coll, *id;
} remove_arg;

static tg_err
remove_job(sqlite_store *s, sq_conn *c, void *arg)
{
    const remove_arg *a = arg;
    sqlite3_stmt *stmt = NULL;
    tg_err err;
    int rc;

    err = prepare_on(s, c, a->coll, "DELETE FROM \"%s\" WHERE id = ?1 RETURNING expires_at",
                     &stmt);
    if (err != TG_OK)
        return err;
    sqlite3_bind_text(stmt, 1, a->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        err = TG_ENOTFOUND;
    } else if (rc != SQLITE_ROW) {
        err = sql_err(c->db, rc, "delete");
    } else {
        /* An expired document was already absent for the caller; it is gone now anyway. */
        if (sqlite3_column_type(stmt, 0) != SQLITE_NULL &&
            sqlite3_column_int64(stmt, 0) <= tg_now_s())
            err = TG_ENOTFOUND;
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
            err = sql_err(c->db, rc, "delete");
    }
    stmt_done(c, stmt);
    return err; /* an expired row stays for the purge: the job's failure rolls its delete back */
}

static tg_err
sqlite_remove(void *impl, const char *coll, const char *id)
{
    remove_arg a = {.coll = coll, .id = id};

    return write_run(impl, coll, remove_job, &a);
}

/*
 * The take: read, check and write in one transaction under the write lock, so of many callers
 * exactly one finds the document untaken. A document already taken by this consumer is a
 * resend (TG_OK, *taken false, nothing written); by another, TG_ECONSUMED. The checks and the
 * merge are done in C on the one parsed document: SQLite's JSON functions parsed it three times
 * (json_extract, json_set, json_patch) and RETURNING materialized it once more.
 */
/*
 * The take: read, check and write in one transaction on the writer, so of many callers exactly
 * one finds the document untaken. A document already taken by this consumer is a resend (TG_OK,
 * *taken false, nothing written); by another, TG_ECONSUMED. The checks and the merge are done
 * in C on the one parsed document: SQLite's JSON functions parsed it three times (json_extract,
 * json_set, json_patch) and RETURNING materialized it once more.
 */
typedef struct consume_arg {
    const char *coll, *id, *consumer;
    store_take_fn make;
    void *arg;
    bool taken;
    json_t *doc;
} consume_arg;

static tg_err
consume_job(sqlite_store *s, sq_conn *c, void *arg)
{
    consume_arg *a = arg;
    int64_t now = tg_now_s();
    json_t *set_fields = NULL, *new_doc = NULL;
    char *new_text = NULL;
    const json_t *by;
    tg_err err;

    a->taken = false;
    json_decref(a->doc);
    a->doc = NULL;
    if ((err = doc_read(s, c, a->coll, a->id, now, &a->doc)) != TG_OK)
        return err;
    by = json_object_get(a->doc, "consumed_by");
    if (by != NULL && !json_is_null(by))
        return json_is_string(by) && strcmp(json_string_value(by), a->consumer) == 0
                   ? TG_OK
                   : TG_ECONSUMED;
    if ((err = store_take_made(a->make, a->arg, a->doc, &set_fields, &new_doc, &new_text)) !=
        TG_OK)
        return err;
    if (json_object_set_new(a->doc, "consumed_by", json_string(a->consumer)) != 0 ||
        json_object_set_new(a->doc, "consumed_at", json_integer((json_int_t)now)) != 0 ||
        (set_fields != NULL && json_object_update(a->doc, set_fields) != 0))
        err = TG_ENOMEM;
    if (err == TG_OK)
        err = doc_write(s, c, a->coll, a->id, a->doc);
    /* the take and the insert commit together, or neither */
    if (err == TG_OK && new_doc != NULL)
        err = insert_on(s, c, a->coll, new_doc, new_text);
    a->taken = err == TG_OK;
    json_decref(set_fields);
    json_decref(new_doc);
    free(new_text);
    return err;
}

static tg_err
sqlite_consume(void *impl, const char *coll, const char *id, const char *consumer,
               store_take_fn make, void *make_arg, bool *taken, json_t **out)
{
    consume_arg a = {.coll = coll, .id = id, .consumer = consumer, .make = make, .arg = make_arg};
    tg_err err = write_run(impl, coll, consume_job, &a);

    *taken = err == TG_OK && a.taken;
    *out = err == TG_OK ? a.doc : NULL;
    if (err != TG_OK)
        json_decref(a.doc);
    return err;
}

typedef struct purge_arg {
    const char *coll;
    int64_t purged;
} purge_arg;

static tg_err
purge_job(sqlite_store *s, sq_conn *c, void *arg)
{
    purge_arg *a = arg;
    sqlite3_stmt *stmt = NULL;
    tg_err err;
    int rc;

    err = prepare_on(s, c, a->coll,
                     "DELETE FROM \"%s\" WHERE expires_at IS NOT NULL AND expires_at <= ?1", &stmt);
    if (err != TG_OK)
        return err;
    sqlite3_bind_int64(stmt, 1, tg_now_s());
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        err = sql_err(c->db, rc, "purge");
    else
        a->purged = sqlite3_changes64(c->db);
    stmt_done(c, stmt);
    return err;
}

static tg_err
sqlite_purge_expired(void *impl, const char *coll, int64_t *purged)
{
    purge_arg a = {.coll = coll};
    tg_err err = write_run(impl, coll, purge_job, &a);

    *purged = err == TG_OK ? a.purged : 0;
    return err;
}

const store_driver store_sqlite_driver = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .ensure = sqlite_ensure,
    .insert = sqlite_insert,
    .get = sqlite_get,
    .find_one = sqlite_find_one,
    .update = sqlite_update,
    .remove = sqlite_remove,
    .consume = sqlite_consume,
    .purge_expired = sqlite_purge_expired,
};
