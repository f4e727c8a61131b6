/*
 * Process plumbing shared by every service binary: the master key, signals, and the main
 * thread's wait until SIGTERM. (Not used by the gateway, whose main thread runs the h2o loop.)
 */
#ifndef TG_CORE_SERVICE_H
#define TG_CORE_SERVICE_H

#include <signal.h>
#include <stdbool.h>

/* The environment variable's value, or fallback when it is unset or empty. Borrowed. */
const char *tg_env_or(const char *name, const char *fallback);

/* A whole decimal number in [min, max] (an option's value), or -1 when s is anything else. */
long tg_parse_long(const char *s, long min, long max);

/* The options every service binary takes, with their environment defaults. Borrowed strings
 * (argv or the environment). */
typedef struct tg_service_opts {
    const char *tenant;          /* --tenant, TG_TENANT_FILE: required */
    const char *store_url;       /* --store, TG_STORE */
    const char *master_key_file; /* --master-key-file, TG_MASTER_KEY_FILE */
    const char *replica_id;      /* --replica-id */
    long workers;                /* --workers, TG_WORKERS: 1..256, default 64 */
} tg_service_opts;

/* Their getopt_long entries (needs <getopt.h>), first in a service's own table; a service's
 * own options must not use the letters t, s, w, m, r. */
#define TG_SERVICE_LONGOPTS                                                                    \
    {"tenant", required_argument, NULL, 't'}, {"store", required_argument, NULL, 's'},        \
        {"workers", required_argument, NULL, 'w'},                                             \
        {"master-key-file", required_argument, NULL, 'm'},                                     \
        {"replica-id", required_argument, NULL, 'r'}

/* Fills o from the environment; default_store is the --store default (TG_STORE unset). */
void tg_service_opts_init(tg_service_opts *o, const char *default_store);
/* Takes getopt_long's answer c and its argument when c is one of TG_SERVICE_LONGOPTS' letters;
 * false otherwise (the service's own option, or an error). */
bool tg_service_opt(tg_service_opts *o, int c, const char *arg);
/* Whether the common options are complete and in range (a tenant file; 1..256 workers). */
bool tg_service_opts_ok(const tg_service_opts *o);

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
