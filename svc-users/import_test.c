/* Auth0 bulk import: every record rule of tenant-format.md §3.2 as a table of hostile and valid
 * records, the documents they build, the imported hash forms, and the runner's reports
 * (duplicates inside the file, conflicts with the store, upsert) on a scratch SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

static config_connection plain = {.name = "Username-Password-Authentication",
                                  .strategy = "auth0", .all_clients = true};
static config_connection named = {.name = "With-Usernames", .strategy = "auth0",
                                  .all_clients = true, .requires_username = true,
                                  .username_max = 20, .password_history = true,
                                  .password_history_size = 2};

typedef struct refused_case {
    const char *name;
    const char *json;
    const char *why; /* prefix of the reason */
} refused_case;

static const refused_case refused[] = {
    {"not an object", "[1]", "record: must be an object"},
    {"no email", "{}", "email: required"},
    {"email wrong type", "{\"email\":5}", "email: must be a string"},
    {"email nosql", "{\"email\":{\"$gt\":\"\"}}", "email: must be a string"},
    {"email invalid", "{\"email\":\"not-an-email\"}", "email: invalid"},
    {"email empty", "{\"email\":\"\"}", "email: must be 1 to 254"},
    {"email NUL", "{\"email\":\"a\\u0000@b.co\"}", "email: must be valid UTF-8"},
    {"unknown fields", "{\"email\":\"a@b.co\",\"created_at\":\"x\",\"identities\":[]}",
     "unknown properties: created_at,identities"},
    {"email_verified string", "{\"email\":\"a@b.co\",\"email_verified\":\"true\"}",
     "email_verified: must be a boolean"},
    {"blocked number", "{\"email\":\"a@b.co\",\"blocked\":0}", "blocked: must be a boolean"},
    {"user_id auth0 prefix", "{\"email\":\"a@b.co\",\"user_id\":\"auth0|abc\"}",
     "user_id: remove the"},
    {"user_id alphabet", "{\"email\":\"a@b.co\",\"user_id\":\"a/../b\"}", "user_id: may contain"},
    {"user_id nosql", "{\"email\":\"a@b.co\",\"user_id\":{\"$ne\":null}}",
     "user_id: must be a string"},
    {"username on plain", "{\"email\":\"a@b.co\",\"username\":\"jane\"}",
     "username: the connection does not use"},
    {"given_name long", NULL, "given_name: must be 1 to 150"},
    {"nickname empty", "{\"email\":\"a@b.co\",\"nickname\":\"\"}", "nickname: must be 1 to 350"},
    {"picture scheme", "{\"email\":\"a@b.co\",\"picture\":\"javascript:alert(1)\"}",
     "picture: must be an http(s) URL"},
    {"phone", "{\"email\":\"a@b.co\",\"phone_number\":\"555-1234\"}", "phone_number: must be"},
    {"mfa", "{\"email\":\"a@b.co\",\"mfa_factors\":[{\"totp\":{\"secret\":\"JBTW\"}}]}",
     "mfa_factors: not supported"},
    {"user_metadata array", "{\"email\":\"a@b.co\",\"user_metadata\":[1]}",
     "user_metadata: must be an object"},
    {"metadata dollar key", "{\"email\":\"a@b.co\",\"user_metadata\":{\"a\":{\"$gt\":\"\"}}}",
     "user_metadata: keys must be"},
    {"metadata dot key", "{\"email\":\"a@b.co\",\"app_metadata\":{\"a.b\":1}}",
     "app_metadata: keys must be"},
    {"metadata array in array", "{\"email\":\"a@b.co\",\"app_metadata\":{\"a\":[[1]]}}",
     "app_metadata: arrays may not"},
    {"metadata deep", NULL, "user_metadata: nested deeper"},
    {"metadata big", NULL, "user_metadata: at most 16384 bytes"},
    {"app_metadata reserved", "{\"email\":\"a@b.co\",\"app_metadata\":{\"email_verified\":true}}",
     "app_metadata: email_verified is reserved"},
    {"both hashes",
     "{\"email\":\"a@b.co\",\"password_hash\":\"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSF"
     "I/Wl1Rz1Ypo1K\",\"custom_password_hash\":{\"algorithm\":\"bcrypt\",\"hash\":{\"value\":"
     "\"x\"}}}",
     "password_hash: not together"},
    {"password_hash not bcrypt", "{\"email\":\"a@b.co\",\"password_hash\":\"$argon2id$v=19$x\"}",
     "password_hash: must be a bcrypt hash"},
    {"password_hash $2x$",
     "{\"email\":\"a@b.co\",\"password_hash\":\"$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSF"
     "I/Wl1Rz1Ypo1K\"}",
     "password_hash: must be a bcrypt hash"},
    {"custom md4",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md4\",\"hash\":{\"value\":"
     "\"00\",\"encoding\":\"hex\"}}}",
     "custom_password_hash.algorithm: md4 is not supported"},
    {"custom scrypt",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"scrypt\",\"keylen\":64,"
     "\"hash\":{\"value\":\"00\",\"encoding\":\"hex\"}}}",
     "custom_password_hash.algorithm: scrypt is not supported"},
    {"custom hmac", "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"hmac\"}}",
     "custom_password_hash.algorithm: hmac is not supported"},
    {"custom algorithm hostile",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"x\\n\\u001b[31m\"}}",
     "custom_password_hash.algorithm: x??[31m is not supported"},
    {"custom unknown", "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md5\","
     "\"hash\":{\"value\":\"00\"},\"pepper\":1}}",
     "custom_password_hash: unknown properties: pepper"},
    {"custom password latin1",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md5\",\"password\":{"
     "\"encoding\":\"latin1\"},\"hash\":{\"value\":\"00\",\"encoding\":\"hex\"}}}",
     "custom_password_hash.password.encoding: only utf8"},
    {"custom md5 utf8",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md5\",\"hash\":{\"value\":"
     "\"abc\"}}}",
     "custom_password_hash.hash.encoding: must be hex or base64"},
    {"custom md5 short",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md5\",\"hash\":{\"value\":"
     "\"00ff\",\"encoding\":\"hex\"}}}",
     "custom_password_hash.hash.value: not a md5 digest"},
    {"custom bad hex",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"sha1\",\"hash\":{\"value\":"
     "\"zz\",\"encoding\":\"hex\"}}}",
     "custom_password_hash.hash.value: not hex"},
    {"custom salt position",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"sha1\",\"hash\":{\"value\":"
     "\"00\",\"encoding\":\"hex\"},\"salt\":{\"value\":\"s\",\"position\":\"middle\"}}}",
     "custom_password_hash.salt.position"},
    {"custom argon2 salt",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"argon2\",\"hash\":{\"value\":"
     "\"x\"},\"salt\":{\"value\":\"s\"}}}",
     "custom_password_hash.salt: not supported with argon2"},
    {"custom argon2 bad",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"argon2\",\"hash\":{\"value\":"
     "\"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K\"}}}",
     "custom_password_hash.hash.value: not a valid argon2 hash"},
    {"custom pbkdf2 huge iterations",
     "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"pbkdf2\",\"hash\":{\"value\":"
     "\"$pbkdf2-sha256$i=999999999,l=32$MDEy$cBg8\"}}}",
     "custom_password_hash.hash.value: not a valid pbkdf2 hash"},
    {"custom hash missing", "{\"email\":\"a@b.co\",\"custom_password_hash\":{\"algorithm\":\"md5\"}}",
     "custom_password_hash.hash: required object"},
};

static json_t *
make_case(const refused_case *c)
{
    json_t *rec, *m, *inner;
    char *big;

    if (c->json != NULL)
        return json_loads(c->json, JSON_ALLOW_NUL, NULL);
    rec = json_pack("{s:s}", "email", "a@b.co");
    if (strncmp(c->name, "given_name", 10) == 0) {
        big = calloc(1, 152);
        memset(big, 'x', 151);
        json_object_set_new(rec, "given_name", json_string(big));
        free(big);
    } else if (strcmp(c->name, "metadata deep") == 0) {
        m = json_object();
        for (int i = 0; i < 20; i++) {
            inner = json_object();
            json_object_set_new(inner, "k", m);
            m = inner;
        }
        json_object_set_new(rec, "user_metadata", m);
    } else {
        big = calloc(1, 20001);
        memset(big, 'x', 20000);
        json_object_set_new(rec, "user_metadata", json_pack("{s:s}", "k", big));
        free(big);
    }
    return rec;
}

static void
test_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        json_t *rec = make_case(&refused[i]), *doc = NULL;
        char why[256];
        assert_non_null(rec);
        if (users_import_check(&plain, rec, &doc, why, sizeof(why)) != TG_EINVAL ||
            strncmp(why, refused[i].why, strlen(refused[i].why)) != 0)
            fail_msg("%s: got \"%s\"", refused[i].name, why);
        assert_null(doc);
        json_decref(rec);
    }
}

static void
test_invalid_utf8(void **state)
{
    json_t *rec = json_pack("{s:s}", "email", "a@b.co"), *doc = NULL;
    char why[256];
    (void)state;
    /* jansson refuses invalid UTF-8 when parsing; a json_t built otherwise is still checked */
    json_object_set_new_nocheck(rec, "name", json_stringn_nocheck("\xff\xfe", 2));
    assert_int_equal(users_import_check(&plain, rec, &doc, why, sizeof(why)), TG_EINVAL);
    assert_string_equal(why, "name: must be valid UTF-8 without NUL");
    json_object_del(rec, "name");
    json_object_set_new(rec, "user_metadata", json_object());
    json_object_set_new_nocheck(json_object_get(rec, "user_metadata"), "k",
                                json_stringn_nocheck("a\0b", 3));
    assert_int_equal(users_import_check(&plain, rec, &doc, why, sizeof(why)), TG_EINVAL);
    assert_string_equal(why, "user_metadata: strings must be valid UTF-8 without NUL");
    json_decref(rec);
}

/* The docs' example (§3.3) without mfa_factors, on a connection with usernames. */
static void
test_full_record(void **state)
{
    static const char text[] =
        "{\"user_id\":\"5f8e3c2a9b1d4e0012345678\",\"email\":\"Jane.Doe@Example.com\","
        "\"email_verified\":true,\"username\":\"JaneDoe\",\"given_name\":\"Jane\","
        "\"family_name\":\"Doe\",\"name\":\"Jane Doe\",\"nickname\":\"jane\","
        "\"picture\":\"https://example.com/avatars/jane.png\",\"blocked\":false,"
        "\"app_metadata\":{\"roles\":[\"admin\"],\"plan\":\"premium\"},"
        "\"user_metadata\":{\"theme\":\"light\"},\"phone_number\":\"+12125550001\","
        "\"custom_password_hash\":{\"algorithm\":\"bcrypt\",\"hash\":{\"value\":"
        "\"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K\"}}}";
    json_t *rec = json_loads(text, 0, NULL), *doc = NULL;
    char why[256] = "";
    (void)state;
    assert_int_equal(users_import_check(&named, rec, &doc, why, sizeof(why)), TG_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "_id")),
                        "5f8e3c2a9b1d4e0012345678");
    assert_string_equal(json_string_value(json_object_get(doc, "email")), "jane.doe@example.com");
    assert_string_equal(json_string_value(json_object_get(doc, "email_key")),
                        "With-Usernames|jane.doe@example.com");
    assert_string_equal(json_string_value(json_object_get(doc, "username_key")),
                        "With-Usernames|janedoe");
    assert_true(json_is_true(json_object_get(doc, "email_verified")));
    assert_string_equal(json_string_value(json_object_get(doc, "password_hash")),
                        "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K");
    assert_int_equal(json_array_size(json_object_get(doc, "password_history")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "nickname")), "jane");
    assert_string_equal(json_string_value(json_object_get(doc, "phone_number")), "+12125550001");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "app_metadata"),
                                                          "plan")),
                        "premium");
    assert_int_equal(json_integer_value(json_object_get(doc, "logins_count")), 0);
    json_decref(doc);
    json_decref(rec);
}

/* The minimal record: generated id, no hash (the user must reset the password). */
static void
test_minimal_record(void **state)
{
    json_t *rec = json_pack("{s:s}", "email", "min@example.com"), *doc = NULL;
    char why[256];
    (void)state;
    assert_int_equal(users_import_check(&plain, rec, &doc, why, sizeof(why)), TG_OK);
    assert_int_equal(strlen(json_string_value(json_object_get(doc, "_id"))), USERS_ID_HEX);
    assert_null(json_object_get(doc, "password_hash"));
    assert_false(json_is_true(json_object_get(doc, "email_verified")));
    json_decref(doc);
    json_decref(rec);
}

/* Each custom algorithm lands in the stored form users_hash_verify checks. */
static void
test_custom_hashes(void **state)
{
    static const struct {
        const char *hash_json, *prefix;
    } ok[] = {
        {"{\"algorithm\":\"md5\",\"hash\":{\"value\":\"d897cc54e94fe33e4da398599cbdfbec\","
         "\"encoding\":\"hex\"},\"salt\":{\"value\":\"NaCl\"}}",
         "$tg-md5$prefix$TmFDbA==$"},
        {"{\"algorithm\":\"sha1\",\"hash\":{\"value\":\"Ki+Q9Ri8Nn2QN1jUbcaqfsgK/pI=\","
         "\"encoding\":\"base64\"},\"salt\":{\"value\":\"4e61436c\",\"encoding\":\"hex\","
         "\"position\":\"suffix\"}},\"password\":{\"encoding\":\"utf8\"}",
         "$tg-sha1$suffix$TmFDbA==$"},
        {"{\"algorithm\":\"pbkdf2\",\"hash\":{\"value\":\"$pbkdf2-sha256$i=1000,l=32$"
         "MDEyMzQ1Njc4OWFiY2RlZg$cBg8D2DungRB9k76szThf5ehfyBz991ay6PT8Srwk4M\"}}",
         "$pbkdf2-sha256$"},
        {"{\"algorithm\":\"argon2\",\"hash\":{\"value\":\"$argon2i$v=19$m=64,t=2,p=1$"
         "c2FsdHNhbHRzYWx0c2FsdA$Z/f5HXchJUreVezozHfqmhnWE1tO5F47olNKb8N1VHE\"}}",
         "$argon2i$"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char text[1024], why[256] = "";
        json_t *rec, *doc = NULL;
        const char *hash;
        snprintf(text, sizeof(text), "{\"email\":\"h@example.com\",\"custom_password_hash\":%s}",
                 ok[i].hash_json);
        /* the second case closes custom_password_hash early: fix the brace order */
        if (i == 1)
            snprintf(text, sizeof(text),
                     "{\"email\":\"h@example.com\",\"custom_password_hash\":{\"algorithm\":"
                     "\"sha1\",\"hash\":{\"value\":\"Ki+Q9Ri8Nn2QN1jUbcaqfsgK/pI=\",\"encoding\":"
                     "\"base64\"},\"salt\":{\"value\":\"4e61436c\",\"encoding\":\"hex\","
                     "\"position\":\"suffix\"},\"password\":{\"encoding\":\"utf8\"}}}");
        assert_non_null(rec = json_loads(text, 0, NULL));
        if (users_import_check(&plain, rec, &doc, why, sizeof(why)) != TG_OK)
            fail_msg("case %zu: %s", i, why);
        hash = json_string_value(json_object_get(doc, "password_hash"));
        assert_memory_equal(hash, ok[i].prefix, strlen(ok[i].prefix));
        assert_true(users_hash_is_supported(hash));
        json_decref(doc);
        json_decref(rec);
    }
}

/* The runner on a scratch store: duplicates inside the file, conflicts, upsert. */
static void
test_run(void **state)
{
    static const char file[] =
        "[{\"email\":\"one@example.com\",\"user_id\":\"u1\"},"
        " {\"email\":\"ONE@example.com\",\"user_id\":\"u2\"},"  /* 1: same email as 0 */
        " {\"email\":\"two@example.com\",\"user_id\":\"u1\"},"  /* 2: same user_id as 0 */
        " {\"email\":\"bad\"},"                                 /* 3: invalid */
        " {\"email\":\"three@example.com\",\"nickname\":\"t\"}]";
    char db[256], url[300], *out = NULL;
    size_t outlen = 0;
    const char *tmp = getenv("TG_TEST_TMPDIR");
    json_t *records = json_loads(file, 0, NULL), *again, *doc = NULL;
    users_import_stats stats;
    store *st = NULL;
    FILE *report;
    (void)state;

    snprintf(db, sizeof(db), "%s/import-unit-%d.db", tmp ? tmp : "/tmp", getpid());
    snprintf(url, sizeof(url), "sqlite:%s", db);
    assert_int_equal(store_open(url, "users", &st), TG_OK);
    assert_int_equal(users_store_ensure(st), TG_OK);
    report = open_memstream(&out, &outlen);
    assert_int_equal(users_import_run(st, &plain, records, false, report, &stats), TG_OK);
    fclose(report);
    assert_int_equal(stats.imported, 2);
    assert_int_equal(stats.skipped, 3);
    assert_string_equal(out, "record 1: email: duplicate of record 0\n"
                             "record 2: user_id: duplicate of record 0\n"
                             "record 3: email: invalid\n");
    free(out);

    /* the same file again: every good record now conflicts with the store */
    report = open_memstream(&out, &outlen);
    again = json_loads("[{\"email\":\"x@example.com\",\"user_id\":\"u1\"},"
                       " {\"email\":\"one@example.com\"}]",
                       0, NULL);
    assert_int_equal(users_import_run(st, &plain, again, false, report, &stats), TG_OK);
    fclose(report);
    assert_int_equal(stats.skipped, 2);
    assert_string_equal(out, "record 0: user_id: already exists\n"
                             "record 1: email: already exists\n");
    free(out);
    json_decref(again);

    /* upsert by user_id: upsertable fields change, email is kept */
    report = open_memstream(&out, &outlen);
    again = json_loads("[{\"email\":\"one@example.com\",\"user_id\":\"u1\",\"nickname\":\"n\","
                       "\"user_metadata\":{\"a\":\"b\"},\"email_verified\":true},"
                       " {\"email\":\"other@example.com\",\"user_id\":\"u1x\"}]",
                       0, NULL);
    assert_int_equal(users_import_run(st, &plain, again, true, report, &stats), TG_OK);
    fclose(report);
    assert_int_equal(stats.updated, 1);
    assert_int_equal(stats.imported, 1);
    assert_int_equal(stats.skipped, 0);
    free(out);
    json_decref(again);
    assert_int_equal(users_store_get(st, "u1", &doc), TG_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "nickname")), "n");
    assert_true(json_is_true(json_object_get(doc, "email_verified")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "user_metadata"),
                                                          "a")),
                        "b");
    json_decref(doc);

    json_decref(records);
    store_close(st);
    unlink(db);
}

static void
test_load(void **state)
{
    const char *tmp = getenv("TG_TEST_TMPDIR");
    char path[256], why[512];
    json_t *out = NULL;
    FILE *f;
    (void)state;
    snprintf(path, sizeof(path), "%s/import-load-%d.json", tmp ? tmp : "/tmp", getpid());
    assert_int_equal(users_import_load("/nonexistent/x.json", &out, why, sizeof(why)), TG_EIO);
    f = fopen(path, "w");
    fputs("{\"email\":\"a@b.co\"}", f);
    fclose(f);
    assert_int_equal(users_import_load(path, &out, why, sizeof(why)), TG_EINVAL);
    assert_non_null(strstr(why, "must hold a JSON array"));
    f = fopen(path, "w");
    fputs("[{\"email\":\"a@b.co\",\"email\":\"c@d.co\"}]", f);
    fclose(f);
    assert_int_equal(users_import_load(path, &out, why, sizeof(why)), TG_EINVAL);
    f = fopen(path, "w");
    fputs("[{\"email\":\"a@b.co\"}]", f);
    fclose(f);
    assert_int_equal(users_import_load(path, &out, why, sizeof(why)), TG_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_full_record),    cmocka_unit_test(test_minimal_record),
        cmocka_unit_test(test_custom_hashes),  cmocka_unit_test(test_run),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
