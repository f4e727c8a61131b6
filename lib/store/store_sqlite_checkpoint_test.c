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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_sqlite_checkpoint.h"

#define WRITES 8000
#define FRAME_BYTES (4096 + 24)

static void
test_wal_stays_bounded(void **state)
{
    char path[] = "/tmp/store_ckpt_XXXXXX", url[64], wal[80], shm[80], id[32], pad[1200];
    off_t biggest = 0;
    store *st = NULL;
    struct stat sb;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    assert_int_equal(store_open(url, "ckpt", &st), TG_OK);
    for (int i = 0; i < WRITES; i++) {
        json_t *doc;

        snprintf(id, sizeof(id), "d%06d", i);
        doc = json_pack("{s:s, s:s}", "_id", id, "pad", pad);
        assert_int_equal(store_insert(st, "docs", doc), TG_OK);
        json_decref(doc);
        if (stat(wal, &sb) == 0 && sb.st_size > biggest)
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
    unlink(path);
    unlink(wal);
    unlink(shm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_stays_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
