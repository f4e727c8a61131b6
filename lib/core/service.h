/*
 * Process plumbing shared by every service binary: the master key, signals, and the main
 * thread's wait until SIGTERM. (Not used by the gateway, whose main thread runs the h2o loop.)
 */
#ifndef TG_CORE_SERVICE_H
#define TG_CORE_SERVICE_H

#include <signal.h>

/* The environment variable's value, or fallback when it is unset or empty. Borrowed. */
const char *tg_env_or(const char *name, const char *fallback);

/* A whole decimal number in [min, max] (an option's value), or -1 when s is anything else. */
long tg_parse_long(const char *s, long min, long max);

/* The tenant master key (seeds derived client ids and secrets): the first line of the file at
 * path, or the environment variable TG_MASTER_KEY when path is NULL. Trailing whitespace is
 * dropped; a key under 16 characters counts as none. Returns a heap string the caller frees
 * with tg_free_secret_str(), or NULL (the reason is logged). */
char *tg_master_key_read(const char *path);

/* Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later (call it
 * before starting any), fills sigs with them for tg_serve_until_signal, and ignores SIGPIPE. */
void tg_signals_block(sigset_t *sigs);

/* Waits on the main thread until SIGTERM or SIGINT, calling tick(arg) every every_s seconds
 * (housekeeping such as purging expired records); tick may be NULL. */
void tg_serve_until_signal(const sigset_t *sigs, int every_s, void (*tick)(void *arg), void *arg);

#endif
