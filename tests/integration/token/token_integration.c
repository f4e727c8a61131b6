/*
 * svc-token's handlers over the real bus and a real SQLite store, without HTTP: the
 * client_credentials grant's decisions, and two replicas sharing one signing key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ports.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"

static const char tenant_yaml[] =
    "tenant:\n"
    "  default_audience: https://api.test/\n"
    "clients:\n"
    "  - name: M2M\n"
    "    app_type: non_interactive\n"
    "    client_id: m2m-id\n"
    "    client_secret: m2m-secret-value\n"
    "    token_endpoint_auth_method: client_secret_post\n"
    "    grant_types: [client_credentials]\n"
    "  - name: Derived\n"
    "    app_type: non_interactive\n"
    "    grant_types: [client_credentials]\n"
    "  - name: Web\n"
    "    app_type: regular_web\n"
    "    client_id: web-id\n"
    "    client_secret: web-secret-value\n"
    "    grant_types: [authorization_code]\n"
    "resourceServers:\n"
    "  - name: API\n"
    "    identifier: https://api.test/\n"
    "    token_lifetime: 600\n"
    "    scopes: [{value: 'read:a'}, {value: 'write:a'}, {value: 'admin'}]\n"
    "  - name: All\n"
    "    identifier: https://all.test/\n"
    "    signing_alg: HS256\n"
    "    signing_secret: hs-secret-for-tests-0123456789\n"
    "    scopes: [{value: 'x'}, {value: 'y'}]\n"
    "clientGrants:\n"
    "  - client_id: M2M\n"
    "    audience: https://api.test/\n"
    "    scope: ['read:a', 'write:a']\n"
    "  - client_id: M2M\n"
    "    audience: https://all.test/\n"
    "    allow_all_scopes: true\n";

typedef struct fixture {
    char url[64];
    char db[256];
    config *cfg;
    token_app app[2];
    bus_server *srv[2];
    bus_client *client;
} fixture;

static fixture fx;

static void
start_replica(int i)
{
    const char *dial[] = {fx.url, NULL};
    char id[16];

    snprintf(id, sizeof(id), "replica-%d", i);
    assert_int_equal(store_open(fx.db, "token", &fx.app[i].st), TG_OK);
    assert_int_equal(token_store_ensure(fx.app[i].st), TG_OK);
    fx.app[i].cfg = fx.cfg;
    assert_int_equal(token_keys_init_sealed(&fx.app[i].keys, fx.app[i].st, fx.cfg, "test",
                                            "master-key-for-tests-0123456789"),
                     TG_OK);
    bus_server_opts o = {.dial_urls = dial, .methods = token_methods,
                         .n_methods = token_n_methods, .workers = 2, .app = &fx.app[i],
                         .replica_id = id};
    assert_int_equal(bus_server_open(&o, &fx.srv[i]), TG_OK);
}

static int
setup(void **state)
{
    char errbuf[256];
    const char *tmp = getenv("TG_TEST_TMPDIR");
    (void)state;

    snprintf(fx.url, sizeof(fx.url), "tcp://127.0.0.1:%d", tg_test_port_block(1));
    snprintf(fx.db, sizeof(fx.db), "sqlite:%s/token-int-%d.db", tmp ? tmp : "/tmp", getpid());
    assert_int_equal(config_load_text("tenant.yaml", tenant_yaml, strlen(tenant_yaml),
                                      "master-key-for-tests-0123456789", &fx.cfg, errbuf,
                                      sizeof(errbuf)),
                     TG_OK);
    assert_int_equal(bus_client_open(fx.url, &fx.client), TG_OK);
    start_replica(0);
    start_replica(1); /* races replica 0 for the signing key: both must end up with one key */
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        bus_server_close(fx.srv[i]);
        token_keys_fini(&fx.app[i].keys);
        store_close(fx.app[i].st);
    }
    bus_client_close(fx.client);
    config_free(fx.cfg);
    unlink(fx.db + strlen("sqlite:"));
    return 0;
}

/* Calls token.Token; returns the reply (caller frees) or NULL with *res holding the error. */
static Tollgate__Token__TokenReply *
token(const char *client_id, const char *secret, const char *audience, const char *scope,
      bus_result **res)
{
    Tollgate__Token__TokenRequest req = TOLLGATE__TOKEN__TOKEN_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "token.Token", .issuer = "https://issuer.test/",
                       .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Token__TokenReply *reply = NULL;

    req.web = &web;
    req.grant_type = "client_credentials";
    req.client_id = (char *)client_id;
    req.client_secret = (char *)secret;
    req.audience = (char *)audience;
    req.scope = (char *)scope;
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error == NULL)
        reply = tollgate__token__token_reply__unpack(NULL, (*res)->payload.len,
                                                     (*res)->payload.data);
    return reply;
}

static void
expect_error(const char *client_id, const char *secret, const char *audience, const char *scope,
             Tollgate__Bus__ErrorClass cls, const char *error, const char *description)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r = token(client_id, secret, audience, scope, &res);

    assert_null(r);
    assert_non_null(res->error);
    assert_int_equal(res->error->error_class, cls);
    assert_string_equal(res->error->error, error);
    if (description != NULL)
        assert_string_equal(res->error->error_description, description);
    bus_result_free(res);
}

static json_t *
verified_claims(const char *jwt, const token_app *app)
{
    jose_jws *jws = NULL;
    json_t *claims;

    assert_int_equal(jose_jws_parse(jwt, &jws), TG_OK);
    assert_int_equal(jose_jws_verify(jws, token_keys_get(&app->keys, JOSE_ALG_RS256), NULL, 0),
                     TG_OK);
    claims = json_incref(jws->payload);
    jose_jws_free(jws);
    return claims;
}

static void
test_issues_token_with_auth0_claims(void **state)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r;
    json_t *c;
    (void)state;

    r = token("m2m-id", "m2m-secret-value", "https://api.test/", "", &res);
    assert_non_null(r);
    assert_string_equal(r->token_type, "Bearer");
    assert_int_equal(r->expires_in, 600);
    assert_string_equal(r->scope, "read:a write:a");
    c = verified_claims(r->access_token, &fx.app[0]);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), "https://issuer.test/");
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "m2m-id@clients");
    assert_string_equal(json_string_value(json_object_get(c, "aud")), "https://api.test/");
    assert_string_equal(json_string_value(json_object_get(c, "azp")), "m2m-id");
    assert_string_equal(json_string_value(json_object_get(c, "gty")), "client-credentials");
    assert_int_equal(json_integer_value(json_object_get(c, "exp")) -
                         json_integer_value(json_object_get(c, "iat")),
                     600);
    json_decref(c);
    tollgate__token__token_reply__free_unpacked(r, NULL);
    bus_result_free(res);
}

static void
test_private_key_is_stored_sealed(void **state)
{
    json_t *doc = NULL;
    char *text;
    (void)state;

    assert_int_equal(store_get(fx.app[0].st, TOKEN_COLL_KEYS, "active:RS256", &doc), TG_OK);
    assert_null(json_object_get(doc, "private_pem"));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "private_sealed")), "v1."));
    text = json_dumps(doc, 0);
    assert_null(strstr(text, "PRIVATE KEY")); /* nothing readable in the store */
    free(text);
    json_decref(doc);
}

static void
test_replicas_share_one_key(void **state)
{
    (void)state;
    assert_string_equal(jose_key_kid(token_keys_get(&fx.app[0].keys, JOSE_ALG_RS256)),
                        jose_key_kid(token_keys_get(&fx.app[1].keys, JOSE_ALG_RS256)));
}

static void
test_scopes(void **state)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r;
    (void)state;

    r = token("m2m-id", "m2m-secret-value", "https://api.test/", "write:a  write:a", &res);
    assert_non_null(r);
    assert_string_equal(r->scope, "write:a");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    bus_result_free(res);
    expect_error("m2m-id", "m2m-secret-value", "https://api.test/", "read:a admin",
                 TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                 "Client has not been granted scopes: admin");
    /* allow_all_scopes grants every scope of the API; HS256 signs with the API secret */
    r = token("m2m-id", "m2m-secret-value", "https://all.test/", "", &res);
    assert_non_null(r);
    assert_string_equal(r->scope, "x y");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    bus_result_free(res);
}

static void
test_default_audience(void **state)
{
    bus_result *res = NULL;
    Tollgate__Token__TokenReply *r;
    (void)state;

    r = token("m2m-id", "m2m-secret-value", "", "read:a", &res);
    assert_non_null(r);
    assert_string_equal(r->scope, "read:a");
    tollgate__token__token_reply__free_unpacked(r, NULL);
    bus_result_free(res);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_error("m2m-id", "wrong", "https://api.test/", "", TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED,
                 "access_denied", "Unauthorized");
    expect_error("m2m-id", "", "https://api.test/", "", TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED,
                 "access_denied", "Unauthorized");
    expect_error("nobody", "x", "https://api.test/", "", TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED,
                 "access_denied", "Unauthorized");
    expect_error("", "x", "https://api.test/", "", TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST,
                 "invalid_request", "Missing required parameter: client_id");
    expect_error("m2m-id", "m2m-secret-value", "https://nope.test/", "",
                 TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                 "Service not enabled within domain: https://nope.test/");
    expect_error("web-id", "web-secret-value", "https://api.test/", "",
                 TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "unauthorized_client",
                 "Grant type 'client_credentials' not allowed for the client.");
}

static void
test_no_client_grant(void **state)
{
    const config_client *derived = NULL;
    (void)state;

    for (size_t i = 0; i < fx.cfg->n_clients; i++)
        if (strcmp(fx.cfg->clients[i].name, "Derived") == 0)
            derived = &fx.cfg->clients[i];
    assert_non_null(derived);
    expect_error(derived->client_id, derived->client_secret, "https://api.test/", "",
                 TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied",
                 "Client is not authorized to access \"https://api.test/\". You need to create a "
                 "\"client-grant\" associated to this API. See: "
                 "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issues_token_with_auth0_claims),
        cmocka_unit_test(test_replicas_share_one_key),
        cmocka_unit_test(test_private_key_is_stored_sealed),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_default_audience),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_no_client_grant),
    };
    log_init("token-test", TG_LOG_WARN);
    return cmocka_run_group_tests_name("svc-token", tests, setup, teardown);
}
