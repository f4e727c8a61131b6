/*
 * The system the svc-token integration tests run against: svc-token's handlers on a real bus
 * and a real SQLite store, a client in the gateway's place, and bus-level stand-ins for
 * svc-users and svc-authorize whose methods each test brings (they differ per test: locked,
 * deleted, blocked users, codes). Header-only (each test is its own program): include after
 * cmocka, and call token_system_start in setup and token_system_stop in teardown.
 */
#ifndef TG_TEST_TOKEN_SYSTEM_H
#define TG_TEST_TOKEN_SYSTEM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ports.h"
#include "token.h"

typedef struct token_system {
    char url[64], users_url[64], authorize_url[64], spare_url[64], db[256];
    config *cfg;
    token_app app;
    bus_server *srv, *users_srv, *authorize_srv;
    bus_client *client; /* the gateway's side of svc-token */
} token_system;

typedef struct token_system_opts {
    const char *tenant_yaml;
    const char *db_name;   /* the SQLite file's name stem, in TG_TEST_TMPDIR or /tmp */
    size_t workers;        /* svc-token's */
    const bus_method *users_methods; /* NULL: no svc-users stand-in started here */
    size_t n_users_methods, users_workers;
    const bus_method *authorize_methods; /* NULL: svc-token has no svc-authorize */
    size_t n_authorize_methods, authorize_workers;
} token_system_opts;

/* Starts (or restarts, after token_system_stop_users) the svc-users stand-in. */
static inline void
token_system_start_users(token_system *s, const token_system_opts *o)
{
    const char *dial[2] = {s->users_url, NULL};
    bus_server_opts u = {.dial_urls = dial,
                         .methods = o->users_methods,
                         .n_methods = o->n_users_methods,
                         .workers = o->users_workers,
                         .replica_id = "users-double"};

    assert_int_equal(bus_server_open(&u, &s->users_srv), TG_OK);
}

static inline void
token_system_start(token_system *s, const token_system_opts *o)
{
    char errbuf[256];
    const char *tmp = getenv("TG_TEST_TMPDIR");
    const char *dial[2] = {s->url, NULL};
    int port = tg_test_port_block(4);

    snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", port);
    snprintf(s->users_url, sizeof(s->users_url), "tcp://127.0.0.1:%d", port + 1);
    snprintf(s->authorize_url, sizeof(s->authorize_url), "tcp://127.0.0.1:%d", port + 2);
    snprintf(s->spare_url, sizeof(s->spare_url), "tcp://127.0.0.1:%d", port + 3);
    snprintf(s->db, sizeof(s->db), "sqlite:%s/%s-%d.db", tmp ? tmp : "/tmp", o->db_name,
             getpid());
    if (config_load_text("tenant.yaml", o->tenant_yaml, strlen(o->tenant_yaml),
                         "master-key-for-tests-0123456789", &s->cfg, errbuf,
                         sizeof(errbuf)) != TG_OK)
        fail_msg("tenant: %s", errbuf);
    assert_int_equal(bus_client_open(s->url, &s->client), TG_OK);
    assert_int_equal(store_open(s->db, "token", &s->app.st), TG_OK);
    assert_int_equal(token_store_ensure(s->app.st), TG_OK);
    s->app.cfg = s->cfg;
    assert_int_equal(token_keys_init(&s->app.keys, s->app.st, s->cfg, "test"), TG_OK);
    assert_int_equal(bus_client_open(s->users_url, &s->app.users), TG_OK);
    if (o->authorize_methods != NULL)
        assert_int_equal(bus_client_open(s->authorize_url, &s->app.authorize), TG_OK);
    bus_server_opts t = {.dial_urls = dial,
                         .methods = token_methods,
                         .n_methods = token_n_methods,
                         .workers = o->workers,
                         .app = &s->app,
                         .replica_id = "token"};
    assert_int_equal(bus_server_open(&t, &s->srv), TG_OK);
    if (o->users_methods != NULL)
        token_system_start_users(s, o);
    if (o->authorize_methods != NULL) {
        const char *adial[2] = {s->authorize_url, NULL};
        bus_server_opts a = {.dial_urls = adial,
                             .methods = o->authorize_methods,
                             .n_methods = o->n_authorize_methods,
                             .workers = o->authorize_workers,
                             .replica_id = "authorize-double"};
        assert_int_equal(bus_server_open(&a, &s->authorize_srv), TG_OK);
    }
}

static inline void
token_system_stop(token_system *s)
{
    bus_server_close(s->srv);
    bus_server_close(s->users_srv);
    bus_server_close(s->authorize_srv);
    bus_client_close(s->app.users);
    bus_client_close(s->app.authorize);
    token_keys_fini(&s->app.keys);
    store_close(s->app.st);
    bus_client_close(s->client);
    config_free(s->cfg);
    unlink(s->db + strlen("sqlite:"));
}

#endif
