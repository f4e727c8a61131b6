/*
 * WAL checkpoints of the SQLite driver's database, run by a thread of their own.
 *
 * By default SQLite checkpoints on the connection that commits, after its COMMIT, once the WAL
 * holds 1,000 frames: the copy into the database file and its fsync then happen inside a
 * write, and with the driver's group commit every queued write waits for them. Attached to the
 * writer, the checkpointer takes that work off the write path: the writer only notes that a
 * checkpoint is due, and this thread runs it (PASSIVE: it never blocks the writer or readers).
 */
#ifndef TG_STORE_SQLITE_CHECKPOINT_H
#define TG_STORE_SQLITE_CHECKPOINT_H

#include <sqlite3.h>

#include "core/err.h"

typedef struct store_sqlite_checkpointer store_sqlite_checkpointer;

/* Opens its own connection to the database at path and starts its thread. *out is freed with
 * store_sqlite_checkpointer_stop(). */
tg_err store_sqlite_checkpointer_start(const char *path, store_sqlite_checkpointer **out);

/* Makes writer's commits wake the checkpointer (instead of checkpointing themselves) once the
 * WAL holds STORE_SQLITE_CHECKPOINT_FRAMES frames, and again after each further
 * STORE_SQLITE_CHECKPOINT_FRAMES while it has not started over; past
 * STORE_SQLITE_CHECKPOINT_FRAMES_MAX (the thread has not caught up with a busy writer) the
 * writer checkpoints itself. */
#define STORE_SQLITE_CHECKPOINT_FRAMES 1000
#define STORE_SQLITE_CHECKPOINT_FRAMES_MAX 4000
void store_sqlite_checkpointer_attach(store_sqlite_checkpointer *cp, sqlite3 *writer);

/* Stops the thread (after a checkpoint in progress) and closes its connection. Call after the
 * attached writer is closed. NULL is fine. */
void store_sqlite_checkpointer_stop(store_sqlite_checkpointer *cp);

#endif
