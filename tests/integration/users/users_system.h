/*
 * The system the svc-users integration tests run against: the tenant YAML loaded with the
 * test's own database connections set on the config (so a test does not depend on how far
 * lib/config's connection parsing is), a cheap argon2 hasher, the store (a temporary SQLite
 * file or the one at a given URL), optionally the mailer writing to an outbox folder, svc-users'
 * handlers behind a bus server and the client a test calls them with. With .token, app.token
 * listens on token_url for a svc-token stand-in the test runs itself. Header-only (each test is
 * its own program): include after cmocka.
 */
#ifndef TG_TEST_USERS_SYSTEM_H
#define TG_TEST_USERS_SYSTEM_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ports.h"
#include "core/util.h"
#include "users.h"

/* A tenant with one regular web application, "Web" (web-id); a test with more clients appends
 * their YAML to it. */
#define USERS_SYSTEM_TENANT_YAML                                                                   \
    "tenant:\n"                                                                                    \
    "  default_directory: Username-Password-Authentication\n"                                      \
    "clients:\n"                                                                                   \
    "  - name: Web\n"                                                                              \
    "    app_type: regular_web\n"                                                                  \
    "    client_id: web-id\n"                                                                      \
    "    client_secret: web-secret-value\n"

typedef struct users_system_opts {
    const char *tenant_yaml;
    config_connection *connections; /* replaces the loaded config's, restored at the stop */
    size_t n_connections;
    const char *name;      /* keeps the files apart: <tmp>/<name>-<pid>.db, <name>-outbox-<pid> */
    const char *store_url; /* NULL: a temporary SQLite file */
    const char *dbname;    /* the store's namespace; NULL: "users" */
    int hasher_threads;
    int workers; /* the bus server's */
    bool mailer; /* a mailer writing to the outbox folder */
    bool token;  /* app.token listening on token_url, for a svc-token stand-in */
} users_system_opts;

typedef struct users_system {
    users_system_opts o;
    char url[64], token_url[64];
    char db[300];
    char outbox[256];
    config *cfg;
    config_connection *saved;
    size_t n_saved;
    users_app app;
    bus_server *srv;
    bus_client *client;
} users_system;

/* Removes the outbox's files; with all, the mailer's half-written dot-files too (only once the
 * mailer is gone). */
static inline void
users_system_empty_outbox(users_system *s, bool all)
{
    DIR *d = opendir(s->outbox);
    struct dirent *e;
    char path[600];

    while (d != NULL && (e = readdir(d)) != NULL) {
        bool dots = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;

        if (all ? dots : e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", s->outbox, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
}

/* Removes the mails written so far. */
static inline void
users_system_clear_outbox(users_system *s)
{
    users_system_empty_outbox(s, false);
}

/* Opens the store (again, after a store_close) and ensures its collections. */
static inline void
users_system_open_store(users_system *s)
{
    const char *url = s->o.store_url != NULL ? s->o.store_url : s->db;

    assert_int_equal(store_open(url, s->o.dbname != NULL ? s->o.dbname : "users", &s->app.st),
                     TG_OK);
    assert_int_equal(users_store_ensure(s->app.st), TG_OK);
}

/* Opens the mailer (again, after a users_mailer_free) on the current store. */
static inline void
users_system_open_mailer(users_system *s)
{
    assert_int_equal(users_mailer_new(s->cfg, s->app.st, s->outbox, 60, &s->app.mailer), TG_OK);
}

/* Puts svc-users' handlers behind the bus (again, after a bus_server_close of s->srv). */
static inline void
users_system_serve(users_system *s)
{
    const char *dial[2] = {s->url, NULL};
    bus_server_opts o = {.dial_urls = dial,
                         .methods = users_methods,
                         .n_methods = users_n_methods,
                         .workers = s->o.workers,
                         .app = &s->app,
                         .replica_id = "users-1"};

    assert_int_equal(bus_server_open(&o, &s->srv), TG_OK);
}

static inline void
users_system_start(users_system *s, const users_system_opts *opts)
{
    char errbuf[256];
    const char *tmp = getenv("TG_TEST_TMPDIR");
    users_hash_params p;
    int port;

    memset(s, 0, sizeof(*s));
    s->o = *opts;
    tmp = tmp ? tmp : "/tmp";
    port = tg_test_port_block(s->o.token ? 2 : 1);
    snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", port);
    if (s->o.token)
        snprintf(s->token_url, sizeof(s->token_url), "tcp://127.0.0.1:%d", port + 1);
    snprintf(s->db, sizeof(s->db), "sqlite:%.200s/%.40s-%d.db", tmp, s->o.name, getpid());
    snprintf(s->outbox, sizeof(s->outbox), "%.180s/%.40s-outbox-%d", tmp, s->o.name, getpid());
    assert_int_equal(config_load_text("tenant.yaml", s->o.tenant_yaml, strlen(s->o.tenant_yaml),
                                      "master-key-for-tests-0123456789", &s->cfg, errbuf,
                                      sizeof(errbuf)),
                     TG_OK);
    s->saved = s->cfg->connections;
    s->n_saved = s->cfg->n_connections;
    s->cfg->connections = s->o.connections;
    s->cfg->n_connections = s->o.n_connections;
    users_hash_params_default(&p);
    p.argon2_memory_kib = 64;
    p.argon2_iterations = 1;
    assert_int_equal(users_hasher_new(&p, s->o.hasher_threads, &s->app.hasher), TG_OK);
    users_system_open_store(s);
    s->app.cfg = s->cfg;
    if (s->o.mailer)
        users_system_open_mailer(s);
    assert_int_equal(bus_client_open(s->url, &s->client), TG_OK);
    users_system_serve(s);
    if (s->o.token)
        assert_int_equal(bus_client_open(s->token_url, &s->app.token), TG_OK);
}

/* Undoes users_system_start: closes everything, removes the SQLite file and the outbox. */
static inline void
users_system_stop(users_system *s)
{
    char path[600];

    bus_server_close(s->srv);
    if (s->app.token != NULL)
        bus_client_close(s->app.token);
    bus_client_close(s->client);
    if (s->app.mailer != NULL)
        users_mailer_free(s->app.mailer);
    store_close(s->app.st);
    users_hasher_free(s->app.hasher);
    s->cfg->connections = s->saved;
    s->cfg->n_connections = s->n_saved;
    config_free(s->cfg);
    if (s->o.store_url == NULL) {
        unlink(s->db + strlen("sqlite:"));
        snprintf(path, sizeof(path), "%s-wal", s->db + strlen("sqlite:"));
        unlink(path);
        snprintf(path, sizeof(path), "%s-shm", s->db + strlen("sqlite:"));
        unlink(path);
    }
    if (s->o.mailer) {
        users_system_empty_outbox(s, true);
        rmdir(s->outbox);
    }
}

#endif
