/*
 * tollgate-users-import: loads an Auth0 bulk user import file (a JSON array) into the users
 * store of one database connection. Refused records go to stderr as "record <i>: <reason>"
 * and are skipped; the last line is "imported N, skipped M" (plus "updated U" with --upsert).
 * Exit status: 0 when nothing was skipped, 1 when some records were, 2 when nothing could be
 * done (usage, tenant, store or file).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/service.h"
#include "core/log.h"
#include "core/util.h"
#include "import.h"

typedef struct options {
    const char *tenant;
    const char *store_url;
    const char *connection;
    const char *master_key_file;
    const char *file;
    bool upsert;
} options;

static void
usage(FILE *f)
{
    fputs("usage: tollgate-users-import --tenant FILE --store URL --connection NAME\n"
          "         [--master-key-file FILE] [--upsert] USERS.json\n"
          "env: TG_MASTER_KEY (when no --master-key-file)\n",
          f);
}

static int
parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"tenant", required_argument, NULL, 't'},
        {"store", required_argument, NULL, 's'},
        {"connection", required_argument, NULL, 'c'},
        {"master-key-file", required_argument, NULL, 'm'},
        {"upsert", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't': o->tenant = optarg; break;
        case 's': o->store_url = optarg; break;
        case 'c': o->connection = optarg; break;
        case 'm': o->master_key_file = optarg; break;
        case 'u': o->upsert = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc - 1 || o->tenant == NULL || o->store_url == NULL ||
        o->connection == NULL)
        return -1;
    o->file = argv[optind];
    return 0;
}

int
main(int argc, char **argv)
{
    options opt = {0};
    char errbuf[512], *master = NULL;
    const config_connection *conn;
    users_import_stats stats = {0};
    config *cfg = NULL;
    store *st = NULL;
    json_t *records = NULL;
    int status = 2;

    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        return 2;
    }
    master = tg_master_key_read(opt.master_key_file);
    if (config_load(opt.tenant, master, &cfg, errbuf, sizeof(errbuf)) != TG_OK) {
        fprintf(stderr, "%s\n", errbuf);
        goto out;
    }
    if ((conn = users_connection_find(cfg, opt.connection)) == NULL) {
        fprintf(stderr, "%s: no database connection named %s\n", opt.tenant, opt.connection);
        goto out;
    }
    if (users_import_load(opt.file, &records, errbuf, sizeof(errbuf)) != TG_OK) {
        fprintf(stderr, "%s\n", errbuf);
        goto out;
    }
    if (store_open(opt.store_url, "users", &st) != TG_OK || users_store_ensure(st) != TG_OK) {
        fprintf(stderr, "cannot open the users store\n");
        goto out;
    }
    if (users_import_run(st, conn, records, opt.upsert, stderr, &stats) != TG_OK) {
        fprintf(stderr, "import stopped: out of memory\n");
        goto out;
    }
    if (opt.upsert)
        printf("imported %zu, updated %zu, skipped %zu\n", stats.imported, stats.updated,
               stats.skipped);
    else
        printf("imported %zu, skipped %zu\n", stats.imported, stats.skipped);
    status = stats.skipped == 0 ? 0 : 1;
out:
    json_decref(records);
    store_close(st);
    config_free(cfg);
    tg_free_secret_str(master);
    return status;
}
