/*
 * The SQLite driver's checkpointer: see store_sqlite_checkpoint.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/log.h"
#include "store/store_sqlite_checkpoint.h"

#define BUSY_TIMEOUT_MS 10000

struct store_sqlite_checkpointer {
    sqlite3 *db; /* its own connection, used by its thread only */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool due;      /* a commit left the WAL at or over the threshold */
    bool stopping; /* store_sqlite_checkpointer_stop was called */
    /* Used by on_commit only, which runs under the writer's lock: one commit at a time. */
    int frames_seen; /* the WAL's frames after the last commit */
    int next_wake;   /* wake the thread when the WAL reaches this many frames */
    int next_self;   /* checkpoint on the writer when it reaches this many */
};

/* The writer's WAL hook, after each commit: usually it does nothing, or wakes the thread. The
 * WAL starts over only once a checkpoint has copied all of it, which a checkpoint running beside
 * a busy writer seldom does, so after a wake the WAL keeps growing for a while: the thread is
 * woken again only after another STORE_SQLITE_CHECKPOINT_FRAMES frames, not on every commit
 * (each wake is a context switch and a checkpoint's fsync). Past
 * STORE_SQLITE_CHECKPOINT_FRAMES_MAX frames the writer checkpoints itself, as SQLite would, so
 * the WAL stays bounded; when readers keep even that from finishing, it tries again after
 * another STORE_SQLITE_CHECKPOINT_FRAMES frames, and when the thread's own checkpoint is
 * running, at the next commit. */
static int
on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    store_sqlite_checkpointer *cp = arg;

    if (frames < cp->frames_seen) { /* the WAL started over */
        cp->next_wake = STORE_SQLITE_CHECKPOINT_FRAMES;
        cp->next_self = STORE_SQLITE_CHECKPOINT_FRAMES_MAX;
    }
    cp->frames_seen = frames;
    if (frames >= cp->next_self) {
        /* SQLITE_BUSY: the thread is checkpointing right now; try again at the next commit
         * (waiting 1,000 frames let a busy writer take the WAL well past the bound) */
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
            SQLITE_BUSY)
            cp->next_self = frames + STORE_SQLITE_CHECKPOINT_FRAMES;
    } else if (frames >= cp->next_wake) {
        cp->next_wake = frames + STORE_SQLITE_CHECKPOINT_FRAMES;
        pthread_mutex_lock(&cp->mu);
        cp->due = true;
        pthread_cond_signal(&cp->cv);
        pthread_mutex_unlock(&cp->mu);
    }
    return SQLITE_OK;
}

static void *
run(void *arg)
{
    store_sqlite_checkpointer *cp = arg;

    pthread_mutex_lock(&cp->mu);
    for (;;) {
        int rc, logged = 0, copied = 0;

        while (!cp->due && !cp->stopping)
            pthread_cond_wait(&cp->cv, &cp->mu);
        if (cp->stopping)
            break;
        cp->due = false;
        pthread_mutex_unlock(&cp->mu);
        rc = sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            LOG_WARN("sqlite: checkpoint failed: %s (%d)", sqlite3_errmsg(cp->db), rc);
        else if (rc == SQLITE_OK && logged < 0)
            LOG_WARN("sqlite: checkpoint did nothing: the database is not in WAL mode");
        pthread_mutex_lock(&cp->mu);
    }
    pthread_mutex_unlock(&cp->mu);
    return NULL;
}

tg_err
store_sqlite_checkpointer_start(const char *path, store_sqlite_checkpointer **out)
{
    store_sqlite_checkpointer *cp;
    int rc;

    *out = NULL;
    if ((cp = calloc(1, sizeof(*cp))) == NULL)
        return TG_ENOMEM;
    rc = sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        LOG_ERROR("sqlite: checkpointer: %s", cp->db != NULL ? sqlite3_errmsg(cp->db)
                                                             : sqlite3_errstr(rc));
        sqlite3_close(cp->db);
        free(cp);
        return TG_EIO;
    }
    sqlite3_busy_timeout(cp->db, BUSY_TIMEOUT_MS);
    /* A connection learns that the database is in WAL mode on its first read; until then a
     * checkpoint on it does nothing (and reports -1 frames). */
    rc = sqlite3_exec(cp->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                      NULL);
    if (rc != SQLITE_OK) {
        LOG_ERROR("sqlite: checkpointer: %s", sqlite3_errmsg(cp->db));
        sqlite3_close(cp->db);
        free(cp);
        return TG_EIO;
    }
    cp->next_wake = STORE_SQLITE_CHECKPOINT_FRAMES;
    cp->next_self = STORE_SQLITE_CHECKPOINT_FRAMES_MAX;
    pthread_mutex_init(&cp->mu, NULL);
    pthread_cond_init(&cp->cv, NULL);
    if (pthread_create(&cp->thread, NULL, run, cp) != 0) {
        pthread_cond_destroy(&cp->cv);
        pthread_mutex_destroy(&cp->mu);
        sqlite3_close(cp->db);
        free(cp);
        return TG_ENOMEM;
    }
    *out = cp;
    return TG_OK;
}

void
store_sqlite_checkpointer_attach(store_sqlite_checkpointer *cp, sqlite3 *writer)
{
    sqlite3_wal_hook(writer, on_commit, cp); /* replaces the writer's own autocheckpoint */
}

void
store_sqlite_checkpointer_stop(store_sqlite_checkpointer *cp)
{
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->mu);
    cp->stopping = true;
    pthread_cond_signal(&cp->cv);
    pthread_mutex_unlock(&cp->mu);
    pthread_join(cp->thread, NULL);
    pthread_cond_destroy(&cp->cv);
    pthread_mutex_destroy(&cp->mu);
    sqlite3_close(cp->db);
    free(cp);
}
