/*
 * tollgate-gateway: the HTTP front. Wiring only; see gateway.h for the pieces.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "gateway.h"

static const char *
env(const char *name)
{
    return getenv(name);
}

int
main(int argc, char **argv)
{
    char errbuf[256];
    gw_config cfg;
    gw_server *srv = NULL;
    SSL_CTX *ssl = NULL;
    int rc = 1;

    switch (gw_options_parse(argc, argv, env, &cfg, errbuf, sizeof(errbuf))) {
    case GW_OPTIONS_HELP: gw_options_print_usage(stdout); return 0;
    case GW_OPTIONS_USAGE:
        fprintf(stderr, "tollgate-gateway: %s\n", errbuf);
        gw_options_print_usage(stderr);
        return 2;
    case GW_OPTIONS_OK: break;
    }
    log_init("gateway", TG_LOG_INFO);
    gw_signals_init(); /* before any thread starts */
    if (gw_server_new(&cfg, &srv) != TG_OK)
        goto out;
    if (cfg.tls_listen[0] != '\0') {
        if (gw_tls_new(cfg.cert, cfg.key, &ssl) != TG_OK)
            goto out;
        gw_server_set_tls(srv, ssl);
    }
    if (gw_server_listen(srv) != TG_OK)
        goto out;
    /* Every configured service, whether or not a route uses it yet: replicas may dial in. */
    for (size_t i = 0; i < cfg.n_bus; i++)
        if (gw_server_add_service(srv, cfg.bus[i].name, cfg.bus[i].url) != TG_OK)
            goto out;
    if (gw_server_check_routes(srv) != TG_OK)
        goto out;
    if (gw_server_run(srv) == TG_OK)
        rc = 0;
out:
    gw_server_free(srv);
    LOG_INFO("gateway: exit %d", rc);
    return rc;
}
