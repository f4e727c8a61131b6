/*
 * Dynamic client registration end to end over the real bus, without HTTP: a client registered
 * at the real svc-authorize (authorize.Register) authenticates at the real svc-token, which
 * asks svc-authorize for it (authorize.GetClient through a real bus device), and exchanges a
 * code svc-authorize issued for it; svc-users is the real one behind its own device. Also:
 * registration off in the tenant (403), wrong secrets, unknown registered ids, and a svc-token
 * that keeps serving a registered client it has cached when svc-authorize is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three above, which it needs */

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ports.h"
#include "authorize.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"
#include "users.h"

#define ISSUER "https://issuer.test/"
#define CB "https://client.example.com/callback"
#define EMAIL "reg-user@example.com"
#define PASSWORD "Reg1stration-Passw0rd!"
/* RFC 7636 appendix B */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static const char tenant_yaml[] =
    "tenant:\n"
    "  friendly_name: Reg\n"
    "  flags: {enable_dynamic_client_registration: true}\n"
    "clients:\n"
    "  - {name: Web, client_id: web-id, client_secret: web-secret-value,\n"
    "     callbacks: ['https://web.example.com/cb']}\n"
    "databases:\n"
    "  - name: Username-Password-Authentication\n";

static struct {
    char gw_az[64], gw_tok[64], ufront[64], uback[64], afront[64], aback[64];
    char az_db[256], users_db[256], tok_db[256];
    config *cfg;
    users_app users;
    authorize_app az;
    token_app tok;
    bus_device *udev, *adev;
    bus_server *users_srv, *az_srv, *tok_srv;
    bus_client *gw_to_az, *gw_to_tok;
    char user_id[128];
} fx;

static void server(const char *url1, const char *url2, const bus_method *m, size_t n, void *app,
                   const char *id, bus_server **out);

/* ---- calls --------------------------------------------------------------------------------- */

static bus_result *
raw_call(bus_client *c, const char *method, const ProtobufCMessage *req)
{
    bus_call_opts o = {.method = method, .issuer = ISSUER, .deadline_ms = tg_now_ms() + 4000};
    bus_result *res = NULL;

    assert_int_equal(bus_call(c, &o, req, &res), TG_OK);
    return res;
}

/* authorize.Register; returns the 201's JSON body, or NULL with *error set (caller frees). */
static json_t *
do_register(const char *method, char **uris, size_t n, bus_result **error)
{
    Tollgate__Authorize__RegisterRequest req = TOLLGATE__AUTHORIZE__REGISTER_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    Tollgate__Authorize__PageReply *reply;
    bus_result *res;
    json_t *body;

    web.client_ip = "192.0.2.9";
    req.web = &web;
    req.client_name = "Registered App";
    req.redirect_uris = uris;
    req.n_redirect_uris = n;
    req.token_endpoint_auth_method = (char *)method;
    res = raw_call(fx.gw_to_az, "authorize.Register", &req.base);
    *error = NULL;
    if (res->error != NULL) {
        *error = res;
        return NULL;
    }
    reply = tollgate__authorize__page_reply__unpack(NULL, res->payload.len, res->payload.data);
    bus_result_free(res);
    assert_non_null(reply);
    assert_non_null(reply->http);
    assert_int_equal(reply->http->status, 201);
    assert_string_equal(reply->http->content_type, "application/json");
    body = json_loadb((const char *)reply->http->body.data, reply->http->body.len, 0, NULL);
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    assert_non_null(body);
    return body;
}

static char *
issue_code(const char *client_id, const char *challenge)
{
    authorize_grant g = {.client_id = client_id,
                         .redirect_uri = CB,
                         .user_id = fx.user_id,
                         .scope = "openid email",
                         .audience = "",
                         .nonce = "",
                         .auth_time = tg_now_s(),
                         .sid = "sid-reg",
                         .code_challenge = challenge,
                         .code_challenge_method = challenge[0] ? "S256" : ""};
    char *code = NULL;

    assert_int_equal(authorize_code_issue(&fx.az, &g, &code), TG_OK);
    return code;
}

/* token.Token authorization_code; the reply or NULL with *error (caller frees). */
static Tollgate__Token__TokenReply *
exchange(const char *client_id, const char *secret, bool basic, const char *code,
         const char *verifier, bus_result **error)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    Tollgate__Token__TokenReply *r;
    bus_result *res;

    web.client_ip = "192.0.2.9";
    req.web = &web;
    req.grant_type = "authorization_code";
    req.client_id = (char *)client_id;
    req.client_secret = (char *)(basic ? "" : secret);
    if (basic) {
        web.has_basic = true;
        web.basic_user = (char *)client_id;
        web.basic_password = (char *)secret;
    }
    req.code = (char *)code;
    req.code_verifier = (char *)verifier;
    req.redirect_uri = CB;
    req.refresh_token = "";
    res = raw_call(fx.gw_to_tok, "token.Token", &req.base);
    *error = NULL;
    if (res->error != NULL) {
        *error = res;
        return NULL;
    }
    r = tollgate__token__token_reply__unpack(NULL, res->payload.len, res->payload.data);
    bus_result_free(res);
    assert_non_null(r);
    return r;
}

static void
expect_error(bus_result *res, const char *error)
{
    assert_non_null(res);
    assert_non_null(res->error);
    if (strcmp(res->error->error, error) != 0)
        fail_msg("expected %s, got %s: %s", error, res->error->error,
                 res->error->error_description);
    bus_result_free(res);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* A confidential client: 201 with a secret, then its code becomes tokens with that secret
 * (post and basic, as Auth0 accepts either), and only with it. */
static void
test_confidential_client_exchanges_code(void **state)
{
    char *uris[] = {CB};
    bus_result *err = NULL;
    json_t *body = do_register("client_secret_post", uris, 1, &err);
    const char *id, *secret;
    Tollgate__Token__TokenReply *r;
    char *code;

    (void)state;
    assert_null(err);
    id = json_string_value(json_object_get(body, "client_id"));
    secret = json_string_value(json_object_get(body, "client_secret"));
    assert_non_null(id);
    assert_non_null(secret);
    assert_int_equal(strncmp(id, "tpc_", 4), 0);
    assert_true(json_is_integer(json_object_get(body, "client_secret_expires_at")));
    assert_int_equal(json_integer_value(json_object_get(body, "client_secret_expires_at")), 0);
    assert_string_equal(json_string_value(json_object_get(body, "token_endpoint_auth_method")),
                        "client_secret_post");
    /* the secret is stored only as its hash */
    {
        json_t *doc = NULL;
        char *dump;

        assert_int_equal(store_get(fx.az.st, AUTHORIZE_COLL_CLIENTS, id, &doc), TG_OK);
        dump = json_dumps(doc, 0);
        assert_null(strstr(dump, secret));
        free(dump);
        json_decref(doc);
    }

    code = issue_code(id, "");
    assert_null(exchange(id, "wrong-secret", false, code, "", &err));
    expect_error(err, "access_denied");
    r = exchange(id, secret, false, code, "", &err);
    if (r == NULL)
        fail_msg("refused: %s", err->error->error_description);
    assert_non_null(r->access_token);
    assert_true(strlen(r->id_token) > 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    tg_free_secret_str(code);

    code = issue_code(id, "");
    r = exchange(id, secret, true, code, "", &err);
    if (r == NULL)
        fail_msg("refused (basic): %s", err->error->error_description);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    tg_free_secret_str(code);
    json_decref(body);
}

/* A public client: no secret in the 201; with PKCE its code becomes tokens without a secret,
 * and a secret sent anyway is refused. */
static void
test_public_client_with_pkce(void **state)
{
    char *uris[] = {CB, "http://localhost:3000/cb"};
    bus_result *err = NULL;
    json_t *body = do_register("none", uris, 2, &err);
    const char *id;
    Tollgate__Token__TokenReply *r;
    char *code;

    (void)state;
    assert_null(err);
    id = json_string_value(json_object_get(body, "client_id"));
    assert_null(json_object_get(body, "client_secret"));
    code = issue_code(id, CHALLENGE);
    assert_null(exchange(id, "anything", false, code, VERIFIER, &err));
    expect_error(err, "access_denied");
    r = exchange(id, "", false, code, VERIFIER, &err);
    if (r == NULL)
        fail_msg("refused: %s", err->error->error_description);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    tg_free_secret_str(code);
    json_decref(body);
}

static void
test_refusals(void **state)
{
    char *good[] = {CB}, *bad[] = {"javascript:alert(1)"}, *http[] = {"http://evil.test/cb"};
    bus_result *err = NULL;

    (void)state;
    assert_null(do_register("none", bad, 1, &err));
    expect_error(err, "invalid_redirect_uri");
    assert_null(do_register("none", http, 1, &err));
    expect_error(err, "invalid_redirect_uri");
    assert_null(do_register("private_key_jwt", good, 1, &err));
    expect_error(err, "invalid_client_metadata");
    assert_null(do_register("none", NULL, 0, &err));
    expect_error(err, "invalid_redirect_uri");
    /* unknown registered-looking ids are unknown clients at svc-token */
    assert_null(exchange("tpc_nobody", "x", false, "code", "", &err));
    expect_error(err, "access_denied");
    /* registration off in the tenant: 403 */
    fx.cfg->tenant.dynamic_client_registration = false;
    assert_null(do_register("none", good, 1, &err));
    assert_int_equal(err->error->error_class, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN);
    expect_error(err, "access_denied");
    fx.cfg->tenant.dynamic_client_registration = true;
}

/* svc-token keeps a registered client it has seen; one it has not is a 503 while svc-authorize
 * does not answer, never "Unauthorized" (a silent neighbour is not a wrong secret). */
static void
test_cached_when_authorize_is_gone(void **state)
{
    char *uris[] = {CB};
    bus_result *err = NULL;
    json_t *seen = do_register("client_secret_basic", uris, 1, &err);
    json_t *unseen = do_register("client_secret_post", uris, 1, &err);
    const char *id = json_string_value(json_object_get(seen, "client_id"));
    const char *secret = json_string_value(json_object_get(seen, "client_secret"));

    (void)state;
    /* svc-token fetches "seen" once (the code is refused, the client authenticated) */
    assert_null(exchange(id, secret, true, "no-such-code", "", &err));
    expect_error(err, "invalid_grant");
    bus_server_close(fx.az_srv);
    fx.az_srv = NULL;
    /* authentication still works from the cache; the code check then needs svc-authorize */
    assert_null(exchange(id, "wrong", true, "no-such-code", "", &err));
    expect_error(err, "access_denied");
    assert_null(exchange(id, secret, true, "no-such-code", "", &err));
    expect_error(err, "temporarily_unavailable");
    assert_null(exchange(json_string_value(json_object_get(unseen, "client_id")),
                         json_string_value(json_object_get(unseen, "client_secret")), false,
                         "no-such-code", "", &err));
    expect_error(err, "temporarily_unavailable");
    /* back again: the device delivers what it holds (its answers find nobody waiting), and
     * the client it could not resolve is resolved now */
    server(fx.gw_az, fx.aback, authorize_methods, authorize_n_methods, &fx.az, "authorize-2",
           &fx.az_srv);
    assert_null(exchange(json_string_value(json_object_get(unseen, "client_id")),
                         json_string_value(json_object_get(unseen, "client_secret")), false,
                         "no-such-code", "", &err));
    expect_error(err, "invalid_grant");
    json_decref(seen);
    json_decref(unseen);
}

/* ---- fixture ------------------------------------------------------------------------------- */

static void
signup_user(void)
{
    Tollgate__Users__SignupRequest req = TOLLGATE__USERS__SIGNUP_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    Tollgate__Users__SignupReply *reply;
    bus_result *res;
    json_t *body;

    req.web = &web;
    req.client_id = "web-id";
    req.email = EMAIL;
    req.password = PASSWORD;
    req.connection = "Username-Password-Authentication";
    res = raw_call(fx.az.users, "users.Signup", &req.base);
    if (res->error != NULL)
        fail_msg("signup refused: %s", res->error->error_description);
    reply = tollgate__users__signup_reply__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(reply);
    body = json_loadb((const char *)reply->http->body.data, reply->http->body.len, 0, NULL);
    assert_non_null(body);
    snprintf(fx.user_id, sizeof(fx.user_id), "auth0|%s",
             json_string_value(json_object_get(body, "_id")));
    json_decref(body);
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    bus_result_free(res);
}

static void
server(const char *url1, const char *url2, const bus_method *m, size_t n, void *app,
       const char *id, bus_server **out)
{
    const char *dial[3] = {url1, url2, NULL};
    bus_server_opts o = {
        .dial_urls = dial, .methods = m, .n_methods = n, .workers = 4, .app = app, .replica_id = id};

    assert_int_equal(bus_server_open(&o, out), TG_OK);
}

static int
setup(void **state)
{
    char errbuf[256];
    const char *tmp = getenv("TG_TEST_TMPDIR");
    const char *ufront[2] = {fx.ufront, NULL}, *afront[2] = {fx.afront, NULL};
    int port = tg_test_port_block(6);
    users_hash_params p;
    (void)state;

    log_init("register_integration", TG_LOG_ERROR);
    snprintf(fx.gw_az, sizeof(fx.gw_az), "tcp://127.0.0.1:%d", port);
    snprintf(fx.gw_tok, sizeof(fx.gw_tok), "tcp://127.0.0.1:%d", port + 1);
    snprintf(fx.ufront, sizeof(fx.ufront), "tcp://127.0.0.1:%d", port + 2);
    snprintf(fx.uback, sizeof(fx.uback), "tcp://127.0.0.1:%d", port + 3);
    snprintf(fx.afront, sizeof(fx.afront), "tcp://127.0.0.1:%d", port + 4);
    snprintf(fx.aback, sizeof(fx.aback), "tcp://127.0.0.1:%d", port + 5);
    snprintf(fx.az_db, sizeof(fx.az_db), "sqlite:%s/register-az-%d.db", tmp ? tmp : "/tmp",
             getpid());
    snprintf(fx.users_db, sizeof(fx.users_db), "sqlite:%s/register-users-%d.db",
             tmp ? tmp : "/tmp", getpid());
    snprintf(fx.tok_db, sizeof(fx.tok_db), "sqlite:%s/register-tok-%d.db", tmp ? tmp : "/tmp",
             getpid());
    if (config_load_text("tenant.yaml", tenant_yaml, strlen(tenant_yaml),
                         "master-key-for-tests-0123456789", &fx.cfg, errbuf,
                         sizeof(errbuf)) != TG_OK)
        fail_msg("tenant: %s", errbuf);
    /* svc-users behind its bus device */
    users_hash_params_default(&p);
    p.argon2_memory_kib = 64;
    p.argon2_iterations = 1;
    assert_int_equal(users_hasher_new(&p, 4, &fx.users.hasher), TG_OK);
    assert_int_equal(store_open(fx.users_db, "users", &fx.users.st), TG_OK);
    assert_int_equal(users_store_ensure(fx.users.st), TG_OK);
    fx.users.cfg = fx.cfg;
    assert_int_equal(bus_device_open(fx.ufront, fx.uback, &fx.udev), TG_OK);
    server(fx.uback, NULL, users_methods, users_n_methods, &fx.users, "users-1", &fx.users_srv);
    /* svc-authorize: called by "the gateway" and, through its device, by svc-token */
    assert_int_equal(store_open(fx.az_db, "authorize", &fx.az.st), TG_OK);
    assert_int_equal(authorize_store_ensure(fx.az.st), TG_OK);
    fx.az.cfg = fx.cfg;
    fx.az.session_lifetime_s = AUTHORIZE_SESSION_LIFETIME_S;
    fx.az.session_idle_s = AUTHORIZE_SESSION_IDLE_S;
    assert_int_equal(bus_client_open_dial(ufront, &fx.az.users), TG_OK);
    assert_int_equal(bus_client_open(fx.gw_az, &fx.gw_to_az), TG_OK);
    assert_int_equal(bus_device_open(fx.afront, fx.aback, &fx.adev), TG_OK);
    server(fx.gw_az, fx.aback, authorize_methods, authorize_n_methods, &fx.az, "authorize-1",
           &fx.az_srv);
    /* svc-token */
    assert_int_equal(store_open(fx.tok_db, "token", &fx.tok.st), TG_OK);
    assert_int_equal(token_store_ensure(fx.tok.st), TG_OK);
    fx.tok.cfg = fx.cfg;
    assert_int_equal(token_keys_init(&fx.tok.keys, fx.tok.st, fx.cfg, "test"), TG_OK);
    assert_int_equal(bus_client_open_dial(ufront, &fx.tok.users), TG_OK);
    assert_int_equal(bus_client_open_dial(afront, &fx.tok.authorize), TG_OK);
    assert_int_equal(bus_client_open(fx.gw_tok, &fx.gw_to_tok), TG_OK);
    server(fx.gw_tok, NULL, token_methods, token_n_methods, &fx.tok, "token-1", &fx.tok_srv);
    signup_user();
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    bus_server_close(fx.tok_srv);
    bus_server_close(fx.az_srv);
    bus_server_close(fx.users_srv);
    bus_client_close(fx.gw_to_tok);
    bus_client_close(fx.gw_to_az);
    bus_client_close(fx.tok.users);
    bus_client_close(fx.tok.authorize);
    bus_client_close(fx.az.users);
    bus_device_close(fx.adev);
    bus_device_close(fx.udev);
    token_keys_fini(&fx.tok.keys);
    store_close(fx.tok.st);
    store_close(fx.az.st);
    store_close(fx.users.st);
    users_hasher_free(fx.users.hasher);
    config_free(fx.cfg);
    unlink(fx.az_db + strlen("sqlite:"));
    unlink(fx.users_db + strlen("sqlite:"));
    unlink(fx.tok_db + strlen("sqlite:"));
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confidential_client_exchanges_code),
        cmocka_unit_test(test_public_client_with_pkce),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cached_when_authorize_is_gone),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
