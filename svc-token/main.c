/*
 * tollgate-svc-token: reads the tenant file, opens its store, makes sure the signing keys
 * exist, and serves its bus methods until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/service.h"
#include "core/util.h"
#include "token.h"

#define MAX_CALLERS 8
#define PURGE_EVERY_S 60

typedef struct options {
    tg_service_opts svc;       /* --tenant --store --workers --master-key-file --replica-id */
    char *bus_urls;            /* comma-separated callers to dial */
    char *users_bus;           /* the svc-users bus device(s) to dial, comma-separated */
    char *authorize_bus;       /* the svc-authorize bus device(s) to dial, comma-separated */
    const char *key_cn;
    int print_credentials;
} options;

static void
usage(FILE *f)
{
    fputs("usage: tollgate-svc-token --tenant FILE [--store URL] [--bus URL[,URL...]]\n"
          "         [--users-bus URL[,URL...]] [--authorize-bus URL[,URL...]] [--workers N]\n"
          "         [--master-key-file FILE] [--key-cn CN] [--replica-id ID] [--print-credentials]\n"
          "env: TG_TENANT_FILE TG_STORE TG_BUS_TOKEN TG_USERS_BUS TG_AUTHORIZE_BUS TG_WORKERS "
          "TG_MASTER_KEY_FILE TG_MASTER_KEY TG_KEY_CN\n",
          f);
}

static int
parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        TG_SERVICE_LONGOPTS,
        {"bus", required_argument, NULL, 'b'},
        {"users-bus", required_argument, NULL, 'u'},
        {"authorize-bus", required_argument, NULL, 'a'},
        {"key-cn", required_argument, NULL, 'c'},
        {"print-credentials", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The gateway's token address, and the back of the token bus device svc-authorize calls
     * IssueForAuthorize and LogoutToken through. */
    const char *bus = tg_env_or("TG_BUS_TOKEN", "tcp://127.0.0.1:7101,tcp://127.0.0.1:7118");
    const char *users_bus, *authorize_bus;
    int c;

    tg_service_opts_init(&o->svc, "sqlite:tollgate-token.db");
    users_bus = tg_env_or("TG_USERS_BUS", "tcp://127.0.0.1:7112");
    authorize_bus = tg_env_or("TG_AUTHORIZE_BUS", "tcp://127.0.0.1:7115");
    o->key_cn = tg_env_or("TG_KEY_CN", "tollgate");
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (tg_service_opt(&o->svc, c, optarg))
            continue;
        switch (c) {
        case 'b': bus = optarg; break;
        case 'u': users_bus = optarg; break;
        case 'a': authorize_bus = optarg; break;
        case 'c': o->key_cn = optarg; break;
        case 'p': o->print_credentials = 1; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || !tg_service_opts_ok(&o->svc))
        return -1;
    o->bus_urls = strdup(bus);
    o->users_bus = strdup(users_bus); /* all are split in place later */
    o->authorize_bus = strdup(authorize_bus);
    return o->bus_urls != NULL && o->users_bus != NULL && o->authorize_bus != NULL ? 0 : -1;
}

static void
print_credentials(const config *cfg)
{
    printf("name\tclient_id\tclient_secret\n");
    for (size_t i = 0; i < cfg->n_clients; i++)
        printf("%s\t%s\t%s\n", cfg->clients[i].name, cfg->clients[i].client_id,
               cfg->clients[i].client_secret);
}

/* Housekeeping between signals: expired one-time records go. */
static void
purge_expired(void *arg)
{
    store *st = arg;

    store_purge_expired(st, TOKEN_COLL_JTI, NULL);
    store_purge_expired(st, TOKEN_COLL_USERINFO, NULL);
    store_purge_expired(st, TOKEN_COLL_REFRESH, NULL);
    store_purge_expired(st, TOKEN_COLL_FAMILIES, NULL);
    store_purge_expired(st, TOKEN_COLL_CODE_GRANTS, NULL);
}

int
main(int argc, char **argv)
{
    options opt = {0};
    char errbuf[512], *master = NULL, *callers[MAX_CALLERS + 1] = {0};
    char *devices[MAX_CALLERS + 1] = {0}, *users_log = NULL, *authorize_log = NULL;
    config *cfg = NULL;
    token_app app = {0};
    bus_server *srv = NULL;
    sigset_t sigs;
    int rc = 1;

    log_init("svc-token", TG_LOG_INFO);
    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        return 2;
    }
    /* Signals are taken synchronously by main; block them before any thread starts. */
    tg_signals_block(&sigs);

    master = tg_master_key_read(opt.svc.master_key_file);
    if (config_load(opt.svc.tenant, master, &cfg, errbuf, sizeof(errbuf)) != TG_OK) {
        fprintf(stderr, "tollgate-svc-token: %s\n", errbuf);
        goto out;
    }
    if (opt.print_credentials) {
        print_credentials(cfg);
        rc = 0;
        goto out;
    }
    if (store_open(opt.svc.store_url, "token", &app.st) != TG_OK ||
        token_store_ensure(app.st) != TG_OK)
        goto out;
    app.cfg = cfg;
    if (token_keys_init_sealed(&app.keys, app.st, cfg, opt.key_cn, master) != TG_OK)
        goto out;
    /* svc-token calls svc-users through the users bus device(s), which svc-users replicas also
     * dial: any number of svc-token and svc-users replicas (docs/architecture.md). */
    users_log = strdup(opt.users_bus);
    if (users_log == NULL || tg_split_list(opt.users_bus, ',', devices, MAX_CALLERS) == 0 ||
        bus_client_open_dial((const char *const *)devices, &app.users) != TG_OK) {
        LOG_ERROR("cannot dial the svc-users bus device(s) %s", users_log ? users_log : "");
        goto out;
    }
    /* The same for svc-authorize, which redeems authorization codes. */
    memset(devices, 0, sizeof(devices));
    authorize_log = strdup(opt.authorize_bus);
    if (authorize_log == NULL ||
        tg_split_list(opt.authorize_bus, ',', devices, MAX_CALLERS) == 0 ||
        bus_client_open_dial((const char *const *)devices, &app.authorize) != TG_OK) {
        LOG_ERROR("cannot dial the svc-authorize bus device(s) %s",
                  authorize_log ? authorize_log : "");
        goto out;
    }
    tg_split_list(opt.bus_urls, ',', callers, MAX_CALLERS);
    bus_server_opts so = {.dial_urls = (const char *const *)callers, .methods = token_methods,
                          .n_methods = token_n_methods, .workers = (size_t)opt.svc.workers,
                          .app = &app, .replica_id = opt.svc.replica_id};
    if (bus_server_open(&so, &srv) != TG_OK)
        goto out;
    LOG_INFO("serving %zu clients, %zu APIs on %s with %ld workers (store: %s, svc-users: %s, "
             "svc-authorize: %s)",
             cfg->n_clients, cfg->n_resource_servers, opt.bus_urls, opt.svc.workers,
             store_driver_name(app.st), users_log, authorize_log);
    tg_serve_until_signal(&sigs, PURGE_EVERY_S, purge_expired, app.st);
    LOG_INFO("shutting down");
    rc = 0;
out:
    if (srv != NULL) {
        uint64_t served = bus_server_served(srv);
        bus_server_close(srv);
        LOG_INFO("stopped; served=%llu", (unsigned long long)served);
    }
    bus_client_close(app.users);
    bus_client_close(app.authorize);
    token_keys_fini(&app.keys);
    store_close(app.st);
    config_free(cfg);
    tg_free_secret_str(master);
    free(opt.bus_urls);
    free(opt.users_bus);
    free(users_log);
    free(opt.authorize_bus);
    free(authorize_log);
    return rc;
}
