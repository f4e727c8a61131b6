/*
 * The system the svc-authorize integration tests run against: svc-users behind its bus device
 * (SQLite, cheap argon2), svc-authorize dialing a "gateway" client the test holds, one user
 * signed up. Plus the calls and page readers every such test uses. Header-only (each test is
 * its own program): include after cmocka, with ISSUER defined.
 */
#ifndef TG_TEST_AZ_SYSTEM_H
#define TG_TEST_AZ_SYSTEM_H

#include "../ports.h"
#include "authorize.h"
#include "core/util.h"
#include "users.h"

typedef struct fixture {
    char az_url[64], front[64], back[64];
    char az_db[256], users_db[256];
    config *cfg;
    users_app users;
    authorize_app az;
    bus_device *dev;
    bus_server *users_srv, *az_srv;
    bus_client *gw; /* the gateway's (and svc-token's) side of svc-authorize */
} fixture;

static fixture fx;

/* Calls an authorize method (request_id NULL: a fresh one); returns the unpacked reply (free
 * with protobuf_c_message_free_unpacked) or NULL with the bus error in *res (caller frees). */
static inline ProtobufCMessage *
call_id(const char *method, const char *request_id, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *desc, bus_result **res)
{
    bus_call_opts o = {.method = method,
                       .request_id = request_id,
                       .issuer = ISSUER,
                       .deadline_ms = tg_now_ms() + 10000};
    ProtobufCMessage *out = NULL;

    *res = NULL;
    assert_int_equal(bus_call(fx.gw, &o, req, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    out = protobuf_c_message_unpack(desc, NULL, (*res)->payload.len, (*res)->payload.data);
    assert_non_null(out);
    bus_result_free(*res);
    *res = NULL;
    return out;
}

static inline Tollgate__Authorize__PageReply *
page_call(const char *method, const ProtobufCMessage *req)
{
    bus_result *res = NULL;
    Tollgate__Authorize__PageReply *r =
        (void *)call_id(method, NULL, req, &tollgate__authorize__page_reply__descriptor, &res);

    if (res != NULL)
        fail_msg("%s refused: %s %s", method, res->error->error, res->error->error_description);
    assert_non_null(r->http);
    return r;
}

static inline void
page_free(Tollgate__Authorize__PageReply *r)
{
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* The page body as a string (bytes fields carry no NUL); valid until four more calls. */
static inline const char *
body(const Tollgate__Authorize__PageReply *r)
{
    static char ring[4][65536];
    static unsigned next;
    char *b = ring[next++ % 4];

    assert_true(r->http->body.len < sizeof(ring[0]));
    memcpy(b, r->http->body.data, r->http->body.len);
    b[r->http->body.len] = '\0';
    return b;
}

/* The idx-th value of header name, or NULL. */
static inline const char *
header(const Tollgate__Authorize__PageReply *r, const char *name, size_t idx)
{
    for (size_t i = 0; i < r->http->n_headers; i++)
        if (strcasecmp(r->http->headers[i]->name, name) == 0 && idx-- == 0)
            return r->http->headers[i]->value;
    return NULL;
}

/* The Set-Cookie value for cookie name ("name=value; attrs"), or NULL. */
static inline const char *
set_cookie(const Tollgate__Authorize__PageReply *r, const char *name)
{
    size_t n = strlen(name);
    const char *v;

    for (size_t i = 0; (v = header(r, "Set-Cookie", i)) != NULL; i++)
        if (strncmp(v, name, n) == 0 && v[n] == '=')
            return v;
    return NULL;
}

/* The value of cookie name as set by r, into out. */
static inline void
cookie_value(const Tollgate__Authorize__PageReply *r, const char *name, char *out, size_t len)
{
    const char *v = set_cookie(r, name);

    assert_non_null(v);
    v += strlen(name) + 1;
    snprintf(out, len, "%.*s", (int)strcspn(v, ";"), v);
}

/* The value of hidden input name in html into out. */
static inline void
hidden(const char *html, const char *name, char *out, size_t len)
{
    char key[80];
    const char *p;

    snprintf(key, sizeof(key), "name=\"%s\" value=\"", name);
    p = strstr(html, key);
    assert_non_null(p);
    p += strlen(key);
    snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
}

/* Signs EMAIL / PASSWORD up on the default database through client_id. */
static inline void
az_system_signup(const char *client_id)
{
    Tollgate__Users__SignupRequest req = TOLLGATE__USERS__SIGNUP_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "users.Signup", .deadline_ms = tg_now_ms() + 10000};
    bus_result *res = NULL;

    req.web = &web;
    req.client_id = (char *)client_id;
    req.email = EMAIL;
    req.password = PASSWORD;
    req.connection = "Username-Password-Authentication";
    assert_int_equal(bus_call(fx.az.users, &o, &req.base, &res), TG_OK);
    if (res->error != NULL)
        fail_msg("signup refused: %s", res->error->error_description);
    bus_result_free(res);
}

/* Starts the system for tenant_yaml; name keeps the SQLite files apart; signs the user up
 * through signup_client. */
static inline void
az_system_start(const char *tenant_yaml, const char *name, const char *signup_client)
{
    char errbuf[256];
    const char *tmp = getenv("TG_TEST_TMPDIR");
    const char *az_dial[2] = {fx.az_url, NULL}, *back[2] = {fx.back, NULL},
               *front[2] = {fx.front, NULL};
    int port = tg_test_port_block(3);
    users_hash_params p;

    snprintf(fx.az_url, sizeof(fx.az_url), "tcp://127.0.0.1:%d", port);
    snprintf(fx.front, sizeof(fx.front), "tcp://127.0.0.1:%d", port + 1);
    snprintf(fx.back, sizeof(fx.back), "tcp://127.0.0.1:%d", port + 2);
    snprintf(fx.az_db, sizeof(fx.az_db), "sqlite:%s/%s-int-%d.db", tmp ? tmp : "/tmp", name,
             getpid());
    snprintf(fx.users_db, sizeof(fx.users_db), "sqlite:%s/%s-users-%d.db", tmp ? tmp : "/tmp", name,
             getpid());
    assert_int_equal(config_load_text("tenant.yaml", tenant_yaml, strlen(tenant_yaml),
                                      "master-key-for-tests-0123456789", &fx.cfg, errbuf,
                                      sizeof(errbuf)),
                     TG_OK);
    /* svc-users behind its bus device */
    users_hash_params_default(&p);
    p.argon2_memory_kib = 64;
    p.argon2_iterations = 1;
    assert_int_equal(users_hasher_new(&p, 4, &fx.users.hasher), TG_OK);
    assert_int_equal(store_open(fx.users_db, "users", &fx.users.st), TG_OK);
    assert_int_equal(users_store_ensure(fx.users.st), TG_OK);
    fx.users.cfg = fx.cfg;
    assert_int_equal(bus_device_open(fx.front, fx.back, &fx.dev), TG_OK);
    bus_server_opts uo = {.dial_urls = back,
                          .methods = users_methods,
                          .n_methods = users_n_methods,
                          .workers = 4,
                          .app = &fx.users,
                          .replica_id = "users-1"};
    assert_int_equal(bus_server_open(&uo, &fx.users_srv), TG_OK);
    /* svc-authorize, called by "the gateway" directly */
    assert_int_equal(store_open(fx.az_db, "authorize", &fx.az.st), TG_OK);
    assert_int_equal(authorize_store_ensure(fx.az.st), TG_OK);
    fx.az.cfg = fx.cfg;
    fx.az.session_lifetime_s = AUTHORIZE_SESSION_LIFETIME_S;
    fx.az.session_idle_s = AUTHORIZE_SESSION_IDLE_S;
    assert_int_equal(bus_client_open_dial(front, &fx.az.users), TG_OK);
    assert_int_equal(bus_client_open(fx.az_url, &fx.gw), TG_OK);
    bus_server_opts ao = {.dial_urls = az_dial,
                          .methods = authorize_methods,
                          .n_methods = authorize_n_methods,
                          .workers = 8,
                          .app = &fx.az,
                          .replica_id = "authorize-1"};
    assert_int_equal(bus_server_open(&ao, &fx.az_srv), TG_OK);
    az_system_signup(signup_client);
}

static inline void
az_system_stop(void)
{
    bus_server_close(fx.az_srv);
    bus_client_close(fx.gw);
    bus_client_close(fx.az.users);
    bus_server_close(fx.users_srv);
    bus_device_close(fx.dev);
    store_close(fx.az.st);
    store_close(fx.users.st);
    users_hasher_free(fx.users.hasher);
    config_free(fx.cfg);
    unlink(fx.az_db + strlen("sqlite:"));
    unlink(fx.users_db + strlen("sqlite:"));
}

#endif
