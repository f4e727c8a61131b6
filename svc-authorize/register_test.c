/* register.c: the checks of a dynamic registration request against hostile metadata, and
 * config_registered's reading of what register.c stores (the one place both services turn a
 * registration into a client). */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "config/config_registered.h"
#include "core/arena.h"

#define ONE_URI "https://client.example.com/callback"

static Tollgate__Authorize__RegisterRequest
request(char **uris, size_t n, const char *method)
{
    Tollgate__Authorize__RegisterRequest r = TOLLGATE__AUTHORIZE__REGISTER_REQUEST__INIT;

    r.redirect_uris = uris;
    r.n_redirect_uris = n;
    r.token_endpoint_auth_method = (char *)method;
    return r;
}

static void
test_defaults(void **state)
{
    static char *uris[] = {ONE_URI, "http://localhost:3000/cb", "http://127.0.0.1/cb"};
    Tollgate__Authorize__RegisterRequest r = request(uris, 3, "");
    authorize_registration reg;
    char desc[256];

    (void)state;
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    assert_string_equal(reg.client_name, "My App");
    assert_string_equal(reg.method, "client_secret_post");
    assert_int_equal(reg.n_redirect_uris, 3);
    assert_int_equal(reg.n_grant_types, 1);
    assert_string_equal(reg.grant_types[0], "authorization_code");
}

static void
test_methods_and_grants(void **state)
{
    static char *uris[] = {ONE_URI};
    static char *grants[] = {"client_credentials", "refresh_token",      "password",
                             "implicit",           "authorization_code", "refresh_token"};
    static char *code[] = {"code"}, *token[] = {"code", "token"};
    static const char *const ok[] = {"none", "client_secret_post", "client_secret_basic"};
    static const char *const bad[] = {"private_key_jwt", "client_secret_jwt", "tls_client_auth",
                                      "NONE", "none "};
    Tollgate__Authorize__RegisterRequest r;
    authorize_registration reg;
    char desc[256];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        r = request(uris, 1, ok[i]);
        assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
        assert_string_equal(reg.method, ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = request(uris, 1, bad[i]);
        assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                            "invalid_client_metadata");
    }
    r = request(uris, 1, "private_key_jwt");
    authorize_register_check(&r, &reg, desc, sizeof(desc));
    assert_non_null(strstr(desc, "private_key_jwt is not supported"));
    /* grant_types: only the code flow's survive, each once, in a fixed order */
    r = request(uris, 1, "none");
    r.grant_types = grants;
    r.n_grant_types = 6;
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    assert_int_equal(reg.n_grant_types, 2);
    assert_string_equal(reg.grant_types[0], "authorization_code");
    assert_string_equal(reg.grant_types[1], "refresh_token");
    r.grant_types = &grants[0];
    r.n_grant_types = 1;
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    assert_int_equal(reg.n_grant_types, 1);
    assert_string_equal(reg.grant_types[0], "authorization_code");
    r.response_types = code;
    r.n_response_types = 1;
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    r.response_types = token;
    r.n_response_types = 2;
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_client_metadata");
}

static void
test_hostile_redirect_uris(void **state)
{
    static const char *const hostile[] = {
        "javascript:alert(1)",
        "JavaScript://x.example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "file:///etc/passwd",
        "http://client.example.com/callback", /* http beyond localhost */
        "http://localhost.evil.com/cb",
        "http://127.0.0.1.evil.com/cb",
        "http://evil.com@localhost/cb",
        "https://evil.com@client.example.com/cb", /* userinfo */
        "https://*.example.com/cb",               /* no wildcards in registrations */
        "https://client.example.com/cb#frag",
        "https://client%2eexample.com/cb",
        "https://:443/cb",
        "https:///cb",
        "https://client.example.com:/cb",
        "https://client.example.com:44x/cb",
        "https://client.example.com/ cb",
        "https://client.example.com/\\cb",
        "//client.example.com/cb",
        "com.example.app://callback", /* native schemes are not registrable here */
        "",
    };
    Tollgate__Authorize__RegisterRequest r;
    authorize_registration reg;
    char desc[256], *one[1];

    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        one[0] = (char *)hostile[i];
        r = request(one, 1, "none");
        if (authorize_register_check(&r, &reg, desc, sizeof(desc)) == NULL)
            fail_msg("accepted redirect_uri %s", hostile[i]);
        assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                            "invalid_redirect_uri");
    }
    r = request(NULL, 0, "none");
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_redirect_uri");
    assert_true(authorize_redirect_uri_is_registrable("https://client.example.com:8443/cb?x=1"));
    assert_true(authorize_redirect_uri_is_registrable("https://client.example.com"));
}

static void
test_too_many_and_too_long(void **state)
{
    char **uris = calloc(1000, sizeof(char *)), name[AUTHORIZE_REGISTER_NAME_MAX + 2];
    Tollgate__Authorize__RegisterRequest r;
    authorize_registration reg;
    char desc[256];

    (void)state;
    assert_non_null(uris);
    for (size_t i = 0; i < 1000; i++)
        uris[i] = ONE_URI;
    r = request(uris, 1000, "none");
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_redirect_uri");
    r.n_redirect_uris = AUTHORIZE_REGISTER_MAX_URIS;
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    free(uris);

    r = request((char *[]){ONE_URI}, 1, "none");
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    r.client_name = name;
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_client_metadata");
    name[AUTHORIZE_REGISTER_NAME_MAX] = '\0';
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
    r.client_name = "<script>alert(1)</script>";
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_client_metadata");
    r.client_name = "tab\there";
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_client_metadata");
    r.client_name = "\xff\xfe not utf-8";
    assert_string_equal(authorize_register_check(&r, &reg, desc, sizeof(desc)),
                        "invalid_client_metadata");
    r.client_name = "Caf\xc3\xa9 App";
    assert_null(authorize_register_check(&r, &reg, desc, sizeof(desc)));
}

static void *
arena_fn(void *ud, size_t size)
{
    return arena_alloc(ud, size);
}

/* What register.c stores becomes a third-party client; anything else is refused. */
static void
test_stored_document(void **state)
{
    arena a;
    config_registered r;
    char hash[65];
    json_t *doc;

    (void)state;
    arena_init(&a, 0);
    config_registered_hash_secret("s3cret", hash);
    doc = json_pack("{s:s, s:s, s:[s], s:s, s:[s,s], s:s, s:s}", "_id", "tpc_AbC-123_x",
                    "client_name", "App", "redirect_uris", ONE_URI, "token_endpoint_auth_method",
                    "client_secret_basic", "grant_types", "authorization_code", "refresh_token",
                    "app_type", "regular_web", "secret_hash", hash);
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_OK);
    assert_string_equal(r.client.client_id, "tpc_AbC-123_x");
    assert_int_equal(r.client.auth_method, CONFIG_AUTH_CLIENT_SECRET_BASIC);
    assert_false(r.client.is_first_party);
    assert_string_equal(r.client.client_secret, "");
    assert_int_equal(r.client.callbacks.n, 1);
    assert_int_equal(r.client.grant_types.n, 2);
    assert_true(config_registered_secret_matches(&r, "s3cret"));
    assert_false(config_registered_secret_matches(&r, "s3cre"));
    assert_false(config_registered_secret_matches(&r, ""));
    assert_false(config_registered_secret_matches(&r, hash)); /* the hash is not the secret */

    /* a confidential client without a well-formed hash, an unknown method, a foreign id,
     * non-string URIs: all refused */
    json_object_set_new(doc, "secret_hash", json_string("abc"));
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_EINVAL);
    json_object_set_new(doc, "secret_hash", json_string(hash));
    json_object_set_new(doc, "token_endpoint_auth_method", json_string("private_key_jwt"));
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_EINVAL);
    json_object_set_new(doc, "token_endpoint_auth_method", json_string("none"));
    json_object_set_new(doc, "_id", json_string("not-registered"));
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_EINVAL);
    json_object_set_new(doc, "_id", json_string("tpc_ok"));
    json_object_set_new(doc, "redirect_uris", json_pack("[i]", 1));
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_EINVAL);
    json_object_set_new(doc, "redirect_uris", json_pack("[s]", ONE_URI));
    assert_int_equal(config_registered_from_json(doc, arena_fn, &a, &r), TG_OK);
    assert_int_equal(r.client.auth_method, CONFIG_AUTH_NONE);
    assert_null(r.secret_hash);
    assert_false(config_registered_secret_matches(&r, "anything"));
    json_decref(doc);
    arena_fini(&a);

    assert_false(config_registered_id_is_plausible("tpc_"));
    assert_false(config_registered_id_is_plausible("tpc_a/b"));
    assert_false(config_registered_id_is_plausible("TPC_abc"));
    assert_false(config_registered_id_is_plausible(NULL));
    assert_true(config_registered_id_is_plausible("tpc_abc"));
}

/* The cache hands out one entry per id, and stable pointers. */
static void
test_cache(void **state)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:[s], s:s, s:[s], s:s}", "_id", "tpc_cache_test", "client_name", "C",
                  "redirect_uris", ONE_URI, "token_endpoint_auth_method", "none", "grant_types",
                  "authorization_code", "app_type", "spa");
    const config_registered *a, *b;

    (void)state;
    assert_null(config_registered_cache_get("tpc_cache_test"));
    a = config_registered_adopt(doc, arena_fn, NULL);
    assert_non_null(a);
    b = config_registered_adopt(doc, arena_fn, NULL);
    assert_ptr_equal(a, b);
    assert_ptr_equal(config_registered_cache_get("tpc_cache_test"), a);
    json_object_set_new(doc, "_id", json_string("tpc_broken"));
    json_object_set_new(doc, "token_endpoint_auth_method", json_string("client_secret_post"));
    assert_null(config_registered_adopt(doc, arena_fn, NULL)); /* no hash: not cached */
    assert_null(config_registered_cache_get("tpc_broken"));
    json_decref(doc);
}

/* Past CONFIG_REGISTERED_CACHE_MAX entries, clients are built in the caller's memory and the
 * cache does not grow; cached entries stay where they were. Runs last: it fills the cache. */
static void
test_cache_bound(void **state)
{
    json_t *doc = json_pack("{s:s, s:s, s:[s], s:s, s:[s], s:s}", "_id", "tpc_x", "client_name",
                            "C", "redirect_uris", ONE_URI, "token_endpoint_auth_method", "none",
                            "grant_types", "authorization_code", "app_type", "spa");
    const config_registered *first = NULL, *r;
    char id[32];
    size_t used;
    arena a;

    (void)state;
    arena_init(&a, 0);
    for (size_t i = 0; i < CONFIG_REGISTERED_CACHE_MAX; i++) {
        snprintf(id, sizeof(id), "tpc_bound_%zu", i);
        json_object_set_new(doc, "_id", json_string(id));
        r = config_registered_adopt(doc, arena_fn, &a);
        assert_non_null(r);
        if (i == 0)
            first = r;
    }
    /* test_cache left one entry, so the last of these no longer fitted */
    snprintf(id, sizeof(id), "tpc_bound_%d", CONFIG_REGISTERED_CACHE_MAX - 2);
    assert_non_null(config_registered_cache_get(id));
    snprintf(id, sizeof(id), "tpc_bound_%d", CONFIG_REGISTERED_CACHE_MAX - 1);
    assert_null(config_registered_cache_get(id));
    json_object_set_new(doc, "_id", json_string("tpc_past_the_bound"));
    used = a.used;
    r = config_registered_adopt(doc, arena_fn, &a);
    assert_non_null(r);
    assert_string_equal(r->client.client_id, "tpc_past_the_bound");
    assert_true(a.used > used); /* built in the caller's memory */
    assert_null(config_registered_cache_get("tpc_past_the_bound"));
    assert_ptr_equal(config_registered_cache_get("tpc_bound_0"), first);
    json_decref(doc);
    arena_fini(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_methods_and_grants),
        cmocka_unit_test(test_hostile_redirect_uris),
        cmocka_unit_test(test_too_many_and_too_long),
        cmocka_unit_test(test_stored_document),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
