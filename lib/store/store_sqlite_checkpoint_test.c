/*
 * The SQLite driver's checkpoints, through the store on a real file: under a tight loop of
 * writes the WAL stays bounded (the checkpoint thread, or the writer past the hard limit,
 * keeps copying it into the database so it can start over), and every write is there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_sqlite_checkpoint.h"

#define WRITES 8000
#define FRAME_BYTES (4096 + 24)

/* A fresh database file's path and its WAL's, for one test. */
typedef struct temp_db {
    char path[64], wal[80], shm[80];
} temp_db;

static void
temp_db_make(temp_db *t)
{
    int fd;

    snprintf(t->path, sizeof(t->path), "/tmp/store_ckpt_XXXXXX");
    fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(t->wal, sizeof(t->wal), "%s-wal", t->path);
    snprintf(t->shm, sizeof(t->shm), "%s-shm", t->path);
}

static void
temp_db_remove(const temp_db *t)
{
    unlink(t->path);
    unlink(t->wal);
    unlink(t->shm);
}

static void
test_wal_stays_bounded(void **state)
{
    char url[96], id[32], pad[1200];
    off_t biggest = 0;
    store *st = NULL;
    struct stat sb;
    temp_db db;

    (void)state;
    temp_db_make(&db);
    snprintf(url, sizeof(url), "sqlite:%s", db.path);
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    assert_int_equal(store_open(url, "ckpt", &st), TG_OK);
    for (int i = 0; i < WRITES; i++) {
        json_t *doc;

        snprintf(id, sizeof(id), "d%06d", i);
        doc = json_pack("{s:s, s:s}", "_id", id, "pad", pad);
        assert_int_equal(store_insert(st, "docs", doc), TG_OK);
        json_decref(doc);
        if (stat(db.wal, &sb) == 0 && sb.st_size > biggest)
            biggest = sb.st_size;
    }
    /* without checkpoints the WAL would hold every one of these commits (over 2 frames each) */
    assert_true(biggest > 0);
    assert_true(biggest < (off_t)(STORE_SQLITE_CHECKPOINT_FRAMES_MAX + 1000) * FRAME_BYTES);
    for (int i = 0; i < WRITES; i += 997) {
        json_t *got = NULL;

        snprintf(id, sizeof(id), "d%06d", i);
        assert_int_equal(store_get(st, "docs", id, &got), TG_OK);
        json_decref(got);
    }
    store_close(st);
    temp_db_remove(&db);
}

static off_t
file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* The thread itself copies the WAL into the database. Below the writer's own limit
 * (STORE_SQLITE_CHECKPOINT_FRAMES_MAX) only the thread checkpoints, and until a checkpoint the
 * database file keeps its first page only: it grows by the thread's work alone. */
static void
test_thread_copies_wal(void **state)
{
    store_sqlite_checkpointer *cp = NULL;
    sqlite3 *writer = NULL;
    sqlite3_stmt *ins = NULL;
    char pad[1000];
    off_t initial;
    temp_db db;

    (void)state;
    temp_db_make(&db);
    memset(pad, 'y', sizeof(pad));
    assert_int_equal(sqlite3_open(db.path, &writer), SQLITE_OK);
    assert_int_equal(sqlite3_exec(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_sqlite_checkpointer_start(db.path, &cp), TG_OK);
    store_sqlite_checkpointer_attach(cp, writer);
    assert_int_equal(sqlite3_exec(writer, "CREATE TABLE t (x BLOB)", NULL, NULL, NULL), SQLITE_OK);
    initial = file_size(db.path);
    assert_true(initial >= 0);
    assert_int_equal(sqlite3_prepare_v2(writer, "INSERT INTO t VALUES (?1)", -1, &ins, NULL),
                     SQLITE_OK);
    /* one commit each: at least one frame each, past the thread's threshold, below the limit */
    for (int i = 0; i < STORE_SQLITE_CHECKPOINT_FRAMES * 3 / 2; i++) {
        sqlite3_bind_blob(ins, 1, pad, sizeof(pad), SQLITE_STATIC);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    for (int waited = 0; waited < 100 && file_size(db.path) < initial + 100 * 4096; waited++)
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    assert_true(file_size(db.path) >= initial + 100 * 4096);
    sqlite3_close(writer);
    store_sqlite_checkpointer_stop(cp);
    temp_db_remove(&db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_stays_bounded),
        cmocka_unit_test(test_thread_copies_wal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
