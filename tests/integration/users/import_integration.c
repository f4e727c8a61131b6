/*
 * The Auth0 bulk import end to end inside one process: a generated import file goes into a
 * real SQLite store with users_import_run (what tollgate-users-import does), then
 * users.VerifyPassword over the real bus with svc-users' handlers accepts every imported user's
 * old password, refuses a wrong one, and upgrades the stored hash to the configured argon2id.
 * Hash vectors as in svc-users/hash_test.c (password "correct horse"; bcrypt: Auth0's "hello").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "users_system.h"

static config_connection connections[] = {
    {.name = "Username-Password-Authentication", .strategy = "auth0", .all_clients = true,
     .brute_force_protection = true},
};

static const char import_file[] =
    "[{\"email\":\"bcrypt@example.com\",\"user_id\":\"imp-bcrypt\",\"password_hash\":"
    "\"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K\"},"
    " {\"email\":\"md5@example.com\",\"custom_password_hash\":{\"algorithm\":\"md5\",\"hash\":"
    "{\"value\":\"d897cc54e94fe33e4da398599cbdfbec\",\"encoding\":\"hex\"},\"salt\":{\"value\":"
    "\"NaCl\"}}},"
    " {\"email\":\"sha1@example.com\",\"custom_password_hash\":{\"algorithm\":\"sha1\",\"hash\":"
    "{\"value\":\"Ki+Q9Ri8Nn2QN1jUbcaqfsgK/pI=\",\"encoding\":\"base64\"},\"salt\":{\"value\":"
    "\"TmFDbA==\",\"encoding\":\"base64\",\"position\":\"suffix\"}}},"
    " {\"email\":\"sha256@example.com\",\"custom_password_hash\":{\"algorithm\":\"sha256\","
    "\"hash\":{\"value\":\"CC0C19E7E854DAD3A1AC59D270A830024C7D2EFA248EA80D0A27223F30BBF504\","
    "\"encoding\":\"hex\"},\"salt\":{\"value\":\"4e61436c\",\"encoding\":\"hex\"}}},"
    " {\"email\":\"pbkdf2@example.com\",\"custom_password_hash\":{\"algorithm\":\"pbkdf2\","
    "\"hash\":{\"value\":\"$pbkdf2-sha512$i=1000,l=64$MDEyMzQ1Njc4OWFiY2RlZg$OM0FAoIqCVK1sWtxDi"
    "ffVlBejtLa+ks4TP71JiecwuSZCG8iLbnlIEPOMoVX+i2B2wkSxjQ8CRGR9OkNGuIPMQ\"}}},"
    " {\"email\":\"argon2@example.com\",\"custom_password_hash\":{\"algorithm\":\"argon2\","
    "\"hash\":{\"value\":\"$argon2i$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Z/f5HXchJUreVezozH"
    "fqmhnWE1tO5F47olNKb8N1VHE\"}}},"
    " {\"email\":\"scrypt@example.com\",\"custom_password_hash\":{\"algorithm\":\"scrypt\"}},"
    " {\"email\":\"nohash@example.com\"}]";

static const struct {
    const char *email, *password;
} users[] = {
    {"bcrypt@example.com", "hello"},          {"md5@example.com", "correct horse"},
    {"sha1@example.com", "correct horse"},    {"sha256@example.com", "correct horse"},
    {"pbkdf2@example.com", "correct horse"},  {"argon2@example.com", "correct horse"},
};

static users_system fx;
static char import_path[256];

static int
setup(void **state)
{
    const char *tmp = getenv("TG_TEST_TMPDIR");
    (void)state;

    snprintf(import_path, sizeof(import_path), "%s/import-int-%d.json", tmp ? tmp : "/tmp",
             getpid());
    users_system_start(&fx, &(users_system_opts){.tenant_yaml = USERS_SYSTEM_TENANT_YAML,
                                                 .connections = connections,
                                                 .n_connections = 1,
                                                 .name = "import-int",
                                                 .hasher_threads = 2,
                                                 .workers = 2});
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    users_system_stop(&fx);
    unlink(import_path);
    return 0;
}

/* users.VerifyPassword: TG_OK and the user's id, or the bus error code. */
static const char *
verify(const char *email, const char *password)
{
    Tollgate__Users__VerifyPasswordRequest req = TOLLGATE__USERS__VERIFY_PASSWORD_REQUEST__INIT;
    bus_call_opts o = {.method = "users.VerifyPassword", .deadline_ms = tg_now_ms() + 10000};
    Tollgate__Users__VerifyPasswordReply *reply;
    bus_result *res = NULL;
    static char out[128];

    req.connection = "Username-Password-Authentication";
    req.username = (char *)email;
    req.password = (char *)password;
    req.client_id = "web-id";
    req.client_ip = "192.0.2.1";
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    if (res->error != NULL) {
        snprintf(out, sizeof(out), "%s", res->error->error);
    } else {
        reply = tollgate__users__verify_password_reply__unpack(NULL, res->payload.len,
                                                               res->payload.data);
        assert_non_null(reply);
        snprintf(out, sizeof(out), "ok");
        tollgate__users__verify_password_reply__free_unpacked(reply, NULL);
    }
    bus_result_free(res);
    return out;
}

static void
test_import_then_login(void **state)
{
    char why[512], *report_text = NULL;
    size_t report_len = 0;
    users_import_stats stats;
    json_t *records = NULL, *doc = NULL;
    FILE *f = fopen(import_path, "w"), *report;
    (void)state;

    assert_non_null(f);
    fputs(import_file, f);
    fclose(f);
    assert_int_equal(users_import_load(import_path, &records, why, sizeof(why)), TG_OK);
    report = open_memstream(&report_text, &report_len);
    assert_int_equal(users_import_run(fx.app.st, &connections[0], records, false, report, &stats),
                     TG_OK);
    fclose(report);
    assert_int_equal(stats.imported, 7);
    assert_int_equal(stats.skipped, 1);
    assert_string_equal(report_text,
                        "record 6: custom_password_hash.algorithm: scrypt is not supported\n");
    free(report_text);
    json_decref(records);

    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        const char *hash;
        assert_string_equal(verify(users[i].email, "not the password"), "invalid_grant");
        if (strcmp(verify(users[i].email, users[i].password), "ok") != 0)
            fail_msg("%s: old password refused", users[i].email);
        /* upgraded to the configured hash, and the new hash still takes the password */
        assert_int_equal(users_store_find_by_email(fx.app.st, connections[0].name,
                                                   users[i].email, &doc),
                         TG_OK);
        hash = json_string_value(json_object_get(doc, "password_hash"));
        assert_false(users_hash_needs_rehash(fx.app.hasher, hash));
        json_decref(doc);
        assert_string_equal(verify(users[i].email, users[i].password), "ok");
    }
    /* imported without a hash: no password works until a reset */
    assert_string_equal(verify("nohash@example.com", ""), "invalid_grant");
    assert_string_equal(verify("nohash@example.com", "correct horse"), "invalid_grant");
    /* the imported user_id is the _id */
    assert_int_equal(users_store_get(fx.app.st, "imp-bcrypt", &doc), TG_OK);
    json_decref(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_then_login),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
