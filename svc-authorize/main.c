/*
 * tollgate-svc-authorize: reads the tenant file, opens its store, dials the users bus device
 * and serves its bus methods until SIGTERM.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/service.h"
#include "core/util.h"

#define MAX_CALLERS 8
#define PURGE_EVERY_S 60

typedef struct options {
    tg_service_opts svc;       /* --tenant --store --workers --master-key-file --replica-id */
    char *bus_urls;  /* comma-separated callers to dial */
    char *users_bus; /* the users bus device front(s) to dial, comma-separated */
    char *token_bus; /* the token bus device front(s) to dial, comma-separated */
} options;

static void
usage(FILE *f)
{
    fputs("usage: tollgate-svc-authorize --tenant FILE [--store URL] [--bus URL[,URL...]]\n"
          "         [--users-bus URL[,URL...]] [--token-bus URL[,URL...]] [--workers N]\n"
          "         [--master-key-file FILE] [--replica-id ID]\n"
          "env: TG_TENANT_FILE TG_STORE TG_BUS_AUTHORIZE TG_USERS_BUS TG_TOKEN_BUS TG_WORKERS "
          "TG_MASTER_KEY_FILE TG_MASTER_KEY\n",
          f);
}

static int
parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        TG_SERVICE_LONGOPTS,
        {"bus", required_argument, NULL, 'b'},
        {"users-bus", required_argument, NULL, 'u'},
        {"token-bus", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The gateway's authorize address, and the back of the authorize bus device svc-token
     * calls RedeemCode through. */
    const char *bus = tg_env_or("TG_BUS_AUTHORIZE", "tcp://127.0.0.1:7103,tcp://127.0.0.1:7116");
    const char *users_bus = tg_env_or("TG_USERS_BUS", "tcp://127.0.0.1:7112");
    const char *token_bus = tg_env_or("TG_TOKEN_BUS", "tcp://127.0.0.1:7117");
    int c;

    tg_service_opts_init(&o->svc, "sqlite:tollgate-authorize.db");
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (tg_service_opt(&o->svc, c, optarg))
            continue;
        switch (c) {
        case 'b': bus = optarg; break;
        case 'u': users_bus = optarg; break;
        case 'k': token_bus = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || !tg_service_opts_ok(&o->svc))
        return -1;
    o->bus_urls = strdup(bus);
    o->users_bus = strdup(users_bus); /* all are split in place later */
    o->token_bus = strdup(token_bus);
    return o->bus_urls != NULL && o->users_bus != NULL && o->token_bus != NULL ? 0 : -1;
}

/* Housekeeping between signals: expired transactions, sessions and codes go. */
static void
purge_expired(void *arg)
{
    store *st = arg;

    store_purge_expired(st, AUTHORIZE_COLL_TXN, NULL);
    store_purge_expired(st, AUTHORIZE_COLL_SESSIONS, NULL);
    store_purge_expired(st, AUTHORIZE_COLL_CODES, NULL);
    store_purge_expired(st, AUTHORIZE_COLL_DEVICE_CODES, NULL);
    store_purge_expired(st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, NULL);
    store_purge_expired(st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, NULL);
}

int
main(int argc, char **argv)
{
    options opt = {0};
    char errbuf[512], *master = NULL, *callers[MAX_CALLERS + 1] = {0};
    char *devices[MAX_CALLERS + 1] = {0}, *users_log = NULL, *token_log = NULL;
    config *cfg = NULL;
    authorize_app app = {.session_lifetime_s = AUTHORIZE_SESSION_LIFETIME_S,
                         .session_idle_s = AUTHORIZE_SESSION_IDLE_S};
    bus_server *srv = NULL;
    sigset_t sigs;
    int rc = 1;

    log_init("svc-authorize", TG_LOG_INFO);
    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        free(opt.bus_urls);
        free(opt.users_bus);
        free(opt.token_bus);
        return 2;
    }
    /* Signals are taken synchronously by main; block them before any thread starts. */
    tg_signals_block(&sigs);

    master = tg_master_key_read(opt.svc.master_key_file);
    if (config_load(opt.svc.tenant, master, &cfg, errbuf, sizeof(errbuf)) != TG_OK) {
        fprintf(stderr, "tollgate-svc-authorize: %s\n", errbuf);
        goto out;
    }
    if (store_open(opt.svc.store_url, "authorize", &app.st) != TG_OK ||
        authorize_store_ensure(app.st) != TG_OK)
        goto out;
    app.cfg = cfg;
    authorize_session_settings(&app, cfg);
    /* svc-users is reached through its bus device, which its replicas dial too. */
    users_log = strdup(opt.users_bus);
    if (users_log == NULL || tg_split_list(opt.users_bus, ',', devices, MAX_CALLERS) == 0 ||
        bus_client_open_dial((const char *const *)devices, &app.users) != TG_OK) {
        LOG_ERROR("cannot dial the svc-users bus device(s) %s", users_log ? users_log : "");
        goto out;
    }
    /* svc-token (it mints the implicit/hybrid and logout tokens) through the token bus device. */
    memset(devices, 0, sizeof(devices));
    token_log = strdup(opt.token_bus);
    if (token_log == NULL || tg_split_list(opt.token_bus, ',', devices, MAX_CALLERS) == 0 ||
        bus_client_open_dial((const char *const *)devices, &app.token) != TG_OK) {
        LOG_ERROR("cannot dial the svc-token bus device(s) %s", token_log ? token_log : "");
        goto out;
    }
    /* back-channel logout POSTs (backchannel.c) run on their own threads */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        LOG_ERROR("cannot initialise libcurl");
        goto out;
    }
    tg_split_list(opt.bus_urls, ',', callers, MAX_CALLERS);
    bus_server_opts so = {.dial_urls = (const char *const *)callers,
                          .methods = authorize_methods,
                          .n_methods = authorize_n_methods,
                          .workers = (size_t)opt.svc.workers,
                          .app = &app,
                          .replica_id = opt.svc.replica_id};
    if (bus_server_open(&so, &srv) != TG_OK)
        goto out;
    LOG_INFO("serving %zu clients on %s with %ld workers (store: %s, svc-users: %s, svc-token: "
             "%s)",
             cfg->n_clients, opt.bus_urls, opt.svc.workers, store_driver_name(app.st), users_log,
             token_log);
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
    bus_client_close(app.token);
    store_close(app.st);
    config_free(cfg);
    tg_free_secret_str(master);
    free(opt.bus_urls);
    free(opt.users_bus);
    free(users_log);
    free(opt.token_bus);
    free(token_log);
    return rc;
}
