/*
 * tollgate-svc-users: reads the tenant file, opens its store, prepares the password hasher
 * and serves its bus methods until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/service.h"
#include "core/util.h"
#include "users.h"

#define MAX_CALLERS 8
#define PURGE_EVERY_S 60

typedef struct options {
    tg_service_opts svc;       /* --tenant --store --workers --master-key-file --replica-id */
    char *bus_urls;            /* comma-separated callers to dial */
    char *token_bus;           /* svc-token's bus device(s), comma-separated; "none": no svc-token */
    const char *outbox;        /* reset emails as files when no smtp provider is configured */
    long hash_threads;
    long hash_queue; /* computations queued or running at most; 0: from workers */
    users_hash_params hash;
} options;

static void
usage(FILE *f)
{
    fputs("usage: tollgate-svc-users --tenant FILE [--store URL] [--bus URL[,URL...]]\n"
          "         [--workers N] [--master-key-file FILE] [--replica-id ID]\n"
          "         [--hash argon2id|bcrypt] [--argon2-memory-kib N] [--argon2-iterations N]\n"
          "         [--argon2-parallelism N] [--bcrypt-cost N] [--hash-threads N]\n"
          "         [--hash-queue N]\n"
          "         [--outbox DIR] [--token-bus URL[,URL...]|none]\n"
          "env: TG_TENANT_FILE TG_STORE TG_BUS_USERS TG_TOKEN_BUS TG_WORKERS TG_MASTER_KEY_FILE "
          "TG_MASTER_KEY TG_OUTBOX\n",
          f);
}

static int
parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        TG_SERVICE_LONGOPTS,
        {"bus", required_argument, NULL, 'b'},
        {"hash", required_argument, NULL, 'H'},
        {"argon2-memory-kib", required_argument, NULL, 'M'},
        {"argon2-iterations", required_argument, NULL, 'I'},
        {"argon2-parallelism", required_argument, NULL, 'P'},
        {"bcrypt-cost", required_argument, NULL, 'C'},
        {"hash-threads", required_argument, NULL, 'T'},
        {"hash-queue", required_argument, NULL, 'Q'},
        {"outbox", required_argument, NULL, 'o'},
        {"token-bus", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The gateway's users address, and the back of the users bus device svc-token calls through. */
    const char *bus = tg_env_or("TG_BUS_USERS", "tcp://127.0.0.1:7102,tcp://127.0.0.1:7113");
    /* the front of svc-token's bus device, as svc-authorize dials it (token_notify.c) */
    const char *token_bus = tg_env_or("TG_TOKEN_BUS", "tcp://127.0.0.1:7117");
    long v = 0, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int c, bad = 0;

    users_hash_params_default(&o->hash);
    tg_service_opts_init(&o->svc, "sqlite:tollgate-users.db");
    o->outbox = tg_env_or("TG_OUTBOX", "outbox");
    o->hash_threads = ncpu > 0 ? ncpu : 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (tg_service_opt(&o->svc, c, optarg))
            continue;
        switch (c) {
        case 'b': bus = optarg; break;
        case 'o': o->outbox = optarg; break;
        case 'k': token_bus = optarg; break;
        case 'T': o->hash_threads = tg_parse_long(optarg, 1, 1024); break;
        case 'Q': o->hash_queue = tg_parse_long(optarg, 1, 1024); break;
        case 'H':
            if (strcmp(optarg, "argon2id") == 0)
                o->hash.alg = USERS_HASH_ARGON2ID;
            else if (strcmp(optarg, "bcrypt") == 0)
                o->hash.alg = USERS_HASH_BCRYPT;
            else
                bad = 1;
            break;
        case 'M':
            bad |= (v = tg_parse_long(optarg, 8, 4 * 1024 * 1024)) < 0;
            o->hash.argon2_memory_kib = (uint32_t)v;
            break;
        case 'I':
            bad |= (v = tg_parse_long(optarg, 1, 64)) < 0;
            o->hash.argon2_iterations = (uint32_t)v;
            break;
        case 'P':
            bad |= (v = tg_parse_long(optarg, 1, 64)) < 0;
            o->hash.argon2_parallelism = (uint32_t)v;
            break;
        case 'C':
            bad |= (v = tg_parse_long(optarg, 4, 31)) < 0;
            o->hash.bcrypt_cost = (int)v;
            break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (bad || optind != argc || !tg_service_opts_ok(&o->svc) || o->hash_threads < 1 ||
        o->hash_queue < 0)
        return -1;
    /* A password check holds its worker while it waits for a hash thread: as many as the bus
     * lets slow requests hold, so a login flood leaves workers free (hash_pool.c). */
    if (o->hash_queue == 0)
        o->hash_queue = bus_slow_limit((size_t)o->svc.workers);
    o->bus_urls = strdup(bus);
    o->token_bus = strdup(token_bus); /* both are split in place later */
    return o->bus_urls != NULL && o->token_bus != NULL ? 0 : -1;
}

/* Housekeeping between signals: expired one-time records go. */
static void
purge_expired(void *arg)
{
    store *st = arg;

    store_purge_expired(st, USERS_COLL_ATTEMPTS, NULL);
    store_purge_expired(st, USERS_COLL_TICKETS, NULL);
}

int
main(int argc, char **argv)
{
    options opt = {0};
    char errbuf[512], *master = NULL, *callers[MAX_CALLERS + 1] = {0};
    char *devices[MAX_CALLERS + 1] = {0}, *token_log = NULL;
    config *cfg = NULL;
    users_app app = {0};
    users_hasher *hasher = NULL;
    bus_server *srv = NULL;
    sigset_t sigs;
    int rc = 1;

    log_init("svc-users", TG_LOG_INFO);
    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        free(opt.bus_urls);
        free(opt.token_bus);
        return 2;
    }
    /* Signals are taken synchronously by main; block them before any thread starts. */
    tg_signals_block(&sigs);

    master = tg_master_key_read(opt.svc.master_key_file);
    if (config_load(opt.svc.tenant, master, &cfg, errbuf, sizeof(errbuf)) != TG_OK) {
        fprintf(stderr, "tollgate-svc-users: %s\n", errbuf);
        goto out;
    }
    if (users_hasher_new(&opt.hash, (unsigned)opt.hash_threads, &hasher) != TG_OK) {
        LOG_ERROR("cannot set up password hashing with the given parameters");
        goto out;
    }
    users_hasher_limit(hasher, (unsigned)opt.hash_queue);
    if (store_open(opt.svc.store_url, "users", &app.st) != TG_OK ||
        users_store_ensure(app.st) != TG_OK)
        goto out;
    app.cfg = cfg;
    app.hasher = hasher;
    if (users_mailer_new(cfg, app.st, opt.outbox, USERS_TICKET_SECONDS, &app.mailer) != TG_OK)
        goto out;
    /* svc-token hears of password resets through its bus device (token_notify.c) */
    if ((token_log = strdup(opt.token_bus)) == NULL)
        goto out;
    if (strcmp(opt.token_bus, "none") == 0) {
        LOG_WARN("no svc-token (--token-bus none): a password reset voids no tokens");
    } else if (tg_split_list(opt.token_bus, ',', devices, MAX_CALLERS) == 0 ||
               bus_client_open_dial((const char *const *)devices, &app.token) != TG_OK) {
        LOG_ERROR("cannot dial the svc-token bus device(s) %s", token_log);
        goto out;
    }
    tg_split_list(opt.bus_urls, ',', callers, MAX_CALLERS);
    bus_server_opts so = {.dial_urls = (const char *const *)callers, .methods = users_methods,
                          .n_methods = users_n_methods, .workers = (size_t)opt.svc.workers,
                          .app = &app, .replica_id = opt.svc.replica_id};
    if (bus_server_open(&so, &srv) != TG_OK)
        goto out;
    LOG_INFO("serving %zu database connections on %s with %ld workers, %ld hash threads "
             "(%ld pending at most), %s (store: %s, mail: %s%s, svc-token: %s)",
             cfg->n_connections, opt.bus_urls, opt.svc.workers, opt.hash_threads, opt.hash_queue,
             opt.hash.alg == USERS_HASH_BCRYPT ? "bcrypt" : "argon2id",
             store_driver_name(app.st), cfg->email.enabled ? "smtp " : "outbox ",
             cfg->email.enabled ? cfg->email.smtp_host : opt.outbox, token_log);
    tg_serve_until_signal(&sigs, PURGE_EVERY_S, purge_expired, app.st);
    LOG_INFO("shutting down");
    rc = 0;
out:
    if (srv != NULL) {
        uint64_t served = bus_server_served(srv);
        bus_server_close(srv);
        LOG_INFO("stopped; served=%llu", (unsigned long long)served);
    }
    users_mailer_free(app.mailer); /* after the server: no handler queues any more */
    bus_client_close(app.token);
    store_close(app.st);
    users_hasher_free(hasher);
    config_free(cfg);
    tg_free_secret_str(master);
    free(opt.bus_urls);
    free(opt.token_bus);
    free(token_log);
    return rc;
}
