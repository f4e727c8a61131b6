/*
 * svc-users' handlers over the real bus and a real SQLite store, without HTTP: signup and each
 * of its refusals, duplicates, VerifyPassword (right, wrong, unknown user, blocked, brute
 * force) and GetUser; the password-reset journey: ChangePassword's identical answers, the
 * mail in the outbox, the page, CSRF, the policy and history refusals, success, single use,
 * the lifted brute-force block and tokens_valid_after, which svc-token hears of first (a
 * stand-in svc-token here takes token.UserState or refuses it).
 *
 * The database connections are set on the loaded config here rather than written in the
 * tenant YAML, so the test does not depend on how far lib/config's connection parsing is.
 */
#include <argon2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token.pb-c.h"
#include "users_system.h"

static const char tenant_yaml[] = USERS_SYSTEM_TENANT_YAML
    "  - name: Other\n"
    "    app_type: regular_web\n"
    "    client_id: other-id\n"
    "    client_secret: other-secret-value\n";

static char *web_only[] = {"web-id"};
static char *dict_words[] = {"Tollgate-Secret-1"};

static config_connection connections[] = {
    {.name = "Username-Password-Authentication", .strategy = "auth0",
     .enabled_clients = {web_only, 1}, .password_policy = CONFIG_PW_GOOD,
     .password_dictionary = true, .dictionary = {dict_words, 1},
     .password_no_personal_info = true, .brute_force_protection = true,
     .password_history = true, .password_history_size = 3},
    {.name = "With-Usernames", .strategy = "auth0", .all_clients = true,
     .password_policy = CONFIG_PW_LOW, .requires_username = true, .username_min = 3,
     .username_max = 12, .brute_force_protection = false},
    {.name = "Closed", .strategy = "auth0", .all_clients = true, .disable_signup = true},
};

static users_system fx;
static bus_server *token_srv; /* the svc-token stand-in below, on fx.token_url */

/* ---- the svc-token stand-in: what token.UserState last took, or a refusal ----------------- */

static struct {
    pthread_mutex_t mu;
    bool refuse;
    int calls;
    char user_id[128];
    int64_t tokens_valid_after;
} told = {.mu = PTHREAD_MUTEX_INITIALIZER};

static tg_err
on_user_state(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Token__UserStateRequest *r = (const void *)reqm;
    bool refuse;
    (void)replym;

    pthread_mutex_lock(&told.mu);
    told.calls++;
    if (!(refuse = told.refuse)) {
        snprintf(told.user_id, sizeof(told.user_id), "%s", r->user_id);
        told.tokens_valid_after = r->tokens_valid_after;
    }
    pthread_mutex_unlock(&told.mu);
    if (refuse)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, "temporarily_unavailable",
                            "stand-in told to refuse");
    return TG_OK;
}

static const bus_method token_methods[] = {
    {"token.UserState", &tollgate__token__user_state_request__descriptor,
     &tollgate__token__user_state_reply__descriptor, on_user_state},
};

static int
setup(void **state)
{
    const users_system_opts o = {.tenant_yaml = tenant_yaml,
                                 .connections = connections,
                                 .n_connections = sizeof(connections) / sizeof(connections[0]),
                                 .name = "users-int",
                                 .hasher_threads = 2,
                                 .workers = 4,
                                 .mailer = true,
                                 .token = true};
    (void)state;

    users_system_start(&fx, &o);
    fx.cfg->tenant.brute_force_enabled = true;
    fx.cfg->tenant.brute_force_max_attempts = 10;
    /* the svc-token stand-in, on the port users_system_start set aside for it */
    const char *tdial[2] = {fx.token_url, NULL};
    bus_server_opts t = {.dial_urls = tdial, .methods = token_methods, .n_methods = 1,
                         .workers = 2, .replica_id = "token-stand-in"};
    assert_int_equal(bus_server_open(&t, &token_srv), TG_OK);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    bus_server_close(token_srv);
    users_system_stop(&fx);
    return 0;
}

typedef struct signup_args {
    const char *client_id, *email, *password, *connection, *username, *given_name, *name,
        *nickname, *picture, *metadata;
} signup_args;

/* Calls users.Signup. Returns the directive's JSON body (caller decrefs) and its status, or
 * NULL with the bus error kept in *res (caller frees). */
static json_t *
signup(const signup_args *a, int *status, bus_result **res)
{
    Tollgate__Users__SignupRequest req = TOLLGATE__USERS__SIGNUP_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    Tollgate__Web__Json meta = TOLLGATE__WEB__JSON__INIT;
    bus_call_opts o = {.method = "users.Signup", .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Users__SignupReply *reply;
    json_t *body = NULL;

    req.web = &web;
#define SET(f, v) req.f = (char *)((v) != NULL ? (v) : "")
    SET(client_id, a->client_id != NULL ? a->client_id : "web-id");
    SET(email, a->email);
    SET(password, a->password);
    SET(connection, a->connection != NULL ? a->connection : "Username-Password-Authentication");
    SET(username, a->username);
    SET(given_name, a->given_name);
    SET(name, a->name);
    SET(nickname, a->nickname);
    SET(picture, a->picture);
#undef SET
    if (a->metadata != NULL) {
        meta.text = (char *)a->metadata;
        req.user_metadata = &meta;
    }
    *status = 0;
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    reply = tollgate__users__signup_reply__unpack(NULL, (*res)->payload.len, (*res)->payload.data);
    assert_non_null(reply);
    assert_non_null(reply->http);
    assert_string_equal(reply->http->content_type, "application/json");
    *status = reply->http->status;
    body = json_loadb((const char *)reply->http->body.data, reply->http->body.len, 0, NULL);
    assert_non_null(body);
    tollgate__users__signup_reply__free_unpacked(reply, NULL);
    bus_result_free(*res);
    *res = NULL;
    return body;
}

/* Signup must succeed; returns the 200 body. */
static json_t *
signup_ok(const signup_args *a)
{
    bus_result *res = NULL;
    int status;
    json_t *body = signup(a, &status, &res);

    if (res != NULL)
        fail_msg("signup refused: %s %s", res->error->error, res->error->error_description);
    assert_int_equal(status, 200);
    return body;
}

/* Signup must be refused in the dbconnections shape with this code (and text when given). */
static void
signup_refused(const signup_args *a, const char *name, const char *code, const char *text)
{
    bus_result *res = NULL;
    int status;
    json_t *body = signup(a, &status, &res);

    if (body != NULL)
        fail_msg("signup not refused: status %d", status);
    assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST);
    assert_int_equal(res->error->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN);
    assert_string_equal(res->error->name, name);
    assert_string_equal(res->error->error, code);
    if (text != NULL)
        assert_string_equal(res->error->error_description, text);
    bus_result_free(res);
}

static void
test_signup_happy(void **state)
{
    signup_args a = {.email = "Alice@Example.COM", .password = "Str0ng-enough",
                     .given_name = "Alice", .name = "Alice Liddell", .nickname = "al",
                     .picture = "https://example.org/a.png",
                     .metadata = "{\"color\":\"blue\"}"};
    json_t *body = signup_ok(&a);
    const char *id = json_string_value(json_object_get(body, "_id"));
    (void)state;

    assert_non_null(id);
    assert_int_equal(strlen(id), 24);
    assert_true(json_is_false(json_object_get(body, "email_verified")));
    assert_string_equal(json_string_value(json_object_get(body, "email")), "alice@example.com");
    assert_string_equal(json_string_value(json_object_get(body, "given_name")), "Alice");
    assert_string_equal(json_string_value(json_object_get(body, "nickname")), "al");
    assert_null(json_object_get(body, "family_name"));
    assert_null(json_object_get(body, "username"));
    assert_null(json_object_get(body, "password"));
    assert_null(json_object_get(body, "password_hash"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(body, "user_metadata"), "color")),
        "blue");
    json_decref(body);
}

static void
test_signup_refusals(void **state)
{
    char long_name[310], picture[2100];
    (void)state;

    signup_refused(&(signup_args){.email = "", .password = "Str0ng-enough"}, "BadRequestError",
                   "invalid_signup", "Missing required parameter: email");
    signup_refused(&(signup_args){.email = "b@example.com", .password = ""}, "BadRequestError",
                   "invalid_signup", "Missing required parameter: password");
    signup_refused(&(signup_args){.client_id = "", .email = "b@example.com",
                                  .password = "Str0ng-enough"},
                   "BadRequestError", "invalid_signup", "Missing required parameter: client_id");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .connection = "Nope"},
                   "BadRequestError", "invalid_signup", "the connection was not found");
    signup_refused(&(signup_args){.client_id = "other-id", .email = "b@example.com",
                                  .password = "Str0ng-enough"},
                   "BadRequestError", "invalid_signup", "the connection was disabled");
    signup_refused(&(signup_args){.client_id = "ghost", .email = "b@example.com",
                                  .password = "Str0ng-enough", .connection = "With-Usernames",
                                  .username = "bob"},
                   "BadRequestError", "invalid_signup", "the connection was disabled");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .connection = "Closed"},
                   "BadRequestError", "operation_not_allowed", "public signup is disabled");
    signup_refused(&(signup_args){.email = "{\"$gt\": \"\"}", .password = "Str0ng-enough"},
                   "BadRequestError", "invalid_signup", "email: invalid email address");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .given_name = "bad\xff"},
                   "BadRequestError", "invalid_signup", "given_name: must be valid UTF-8");
    memset(long_name, 'n', 301);
    long_name[301] = '\0';
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .name = long_name},
                   "BadRequestError", "invalid_signup", "name: at most 300 characters");
    memset(picture, 'p', 2049);
    picture[2049] = '\0';
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .picture = picture},
                   "BadRequestError", "invalid_signup", "picture: at most 2048 characters");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Str0ng-enough",
                                  .metadata = "{\"n\":1}"},
                   "BadRequestError", "invalid_signup",
                   "user_metadata: property values must be strings");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "tollgate-secret-1"},
                   "PasswordDictionaryError", "password_dictionary_error",
                   "The chosen password is too common.");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "P@ssw0rd"},
                   "PasswordDictionaryError", "password_dictionary_error", NULL);
    signup_refused(&(signup_args){.email = "bobby@example.com", .password = "Bobby-2024!"},
                   "PasswordNoUserInfoError", "password_no_user_info_error",
                   "The chosen password is based on user information.");
    signup_refused(&(signup_args){.email = "b@example.com", .password = "Xy-2024!",
                                  .metadata = "{\"first\":\"Xy-2\"}"},
                   "PasswordNoUserInfoError", "password_no_user_info_error", NULL);
}

static void
test_signup_weak_password(void **state)
{
    bus_result *res = NULL;
    int status;
    json_t *body = signup(&(signup_args){.email = "weak@example.com", .password = "abcdefgh"},
                          &status, &res);
    json_t *desc;
    (void)state;

    assert_non_null(body);
    assert_int_equal(status, 400);
    assert_string_equal(json_string_value(json_object_get(body, "name")),
                        "PasswordStrengthError");
    assert_string_equal(json_string_value(json_object_get(body, "code")), "invalid_password");
    assert_int_equal(json_integer_value(json_object_get(body, "statusCode")), 400);
    desc = json_object_get(body, "description");
    assert_true(json_is_object(desc));
    assert_true(json_is_false(json_object_get(desc, "verified")));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(desc, "rules"), 1), "code")),
                        "containsAtLeast");
    json_decref(body);
}

static void
test_signup_usernames(void **state)
{
    bus_result *res = NULL;
    int status;
    json_t *body;
    (void)state;

    body = signup(&(signup_args){.email = "u1@example.com", .password = "secret",
                                 .connection = "With-Usernames"},
                  &status, &res);
    assert_non_null(body);
    assert_int_equal(status, 400);
    assert_string_equal(json_string_value(json_object_get(body, "error")),
                        "missing username for With-Usernames connection with requires_username "
                        "enabled");
    assert_int_equal(json_object_size(body), 1);
    json_decref(body);
    signup_refused(&(signup_args){.email = "u1@example.com", .password = "secret",
                                  .connection = "With-Usernames", .username = "ab"},
                   "BadRequestError", "invalid_signup",
                   "username: must be between 3 and 12 characters long");
    signup_refused(&(signup_args){.email = "u1@example.com", .password = "secret",
                                  .connection = "With-Usernames", .username = "a@b.co"},
                   "BadRequestError", "invalid_signup", NULL);
    body = signup_ok(&(signup_args){.email = "u1@example.com", .password = "secret",
                                    .connection = "With-Usernames", .username = "Carol_1"});
    assert_string_equal(json_string_value(json_object_get(body, "username")), "Carol_1");
    json_decref(body);
    /* same username, other case: duplicate (hidden as invalid_signup by default) */
    signup_refused(&(signup_args){.email = "u2@example.com", .password = "secret",
                                  .connection = "With-Usernames", .username = "carol_1"},
                   "BadRequestError", "invalid_signup", "Invalid sign up");
    fx.cfg->tenant.signup_user_exists_error = true;
    signup_refused(&(signup_args){.email = "u2@example.com", .password = "secret",
                                  .connection = "With-Usernames", .username = "carol_1"},
                   "BadRequestError", "username_exists", "The username already exists.");
    signup_refused(&(signup_args){.email = "U1@example.com", .password = "secret",
                                  .connection = "With-Usernames", .username = "dave"},
                   "BadRequestError", "user_exists", "The user already exists.");
    fx.cfg->tenant.signup_user_exists_error = false;
}

static void
test_signup_duplicate(void **state)
{
    signup_args a = {.email = "dup@example.com", .password = "Str0ng-enough"};
    json_t *body = signup_ok(&a);
    (void)state;
    json_decref(body);
    a.email = "DUP@example.com";
    signup_refused(&a, "BadRequestError", "invalid_signup", "Invalid sign up");
    fx.cfg->tenant.signup_user_exists_error = true;
    signup_refused(&a, "BadRequestError", "user_exists", "The user already exists.");
    fx.cfg->tenant.signup_user_exists_error = false;
    /* the same email on another connection is another user */
    body = signup_ok(&(signup_args){.email = "dup@example.com", .password = "secret",
                                    .connection = "With-Usernames", .username = "dupper"});
    json_decref(body);
}

/* Calls users.VerifyPassword; returns the reply (caller frees) or NULL with *res kept. */
static Tollgate__Users__VerifyPasswordReply *
verify(const char *connection, const char *username, const char *password, const char *ip,
       bus_result **res)
{
    Tollgate__Users__VerifyPasswordRequest req = TOLLGATE__USERS__VERIFY_PASSWORD_REQUEST__INIT;
    bus_call_opts o = {.method = "users.VerifyPassword", .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Users__VerifyPasswordReply *reply = NULL;

    req.connection = (char *)connection;
    req.username = (char *)username;
    req.password = (char *)password;
    req.client_id = "web-id";
    req.client_ip = (char *)ip;
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error == NULL) {
        reply = tollgate__users__verify_password_reply__unpack(NULL, (*res)->payload.len,
                                                               (*res)->payload.data);
        assert_non_null(reply);
        bus_result_free(*res);
        *res = NULL;
    }
    return reply;
}

static void
verify_refused(const char *connection, const char *username, const char *password,
               const char *ip, Tollgate__Bus__ErrorClass cls, const char *code, const char *text)
{
    bus_result *res = NULL;
    Tollgate__Users__VerifyPasswordReply *r = verify(connection, username, password, ip, &res);

    if (r != NULL)
        fail_msg("verify not refused");
    assert_int_equal(res->error->error_class, cls);
    assert_string_equal(res->error->error, code);
    assert_string_equal(res->error->error_description, text);
    bus_result_free(res);
}

static void
test_verify(void **state)
{
    bus_result *res = NULL;
    Tollgate__Users__VerifyPasswordReply *r;
    json_t *body = signup_ok(&(signup_args){.email = "vera@example.com",
                                            .password = "Sesame-Open-1"});
    char id[40];
    (void)state;

    snprintf(id, sizeof(id), "auth0|%s", json_string_value(json_object_get(body, "_id")));
    json_decref(body);
    r = verify("Username-Password-Authentication", "VERA@example.com", "Sesame-Open-1", "1.2.3.4",
               &res);
    assert_non_null(r);
    assert_string_equal(r->user->user_id, id);
    assert_string_equal(r->user->email, "vera@example.com");
    assert_string_equal(r->user->connection, "Username-Password-Authentication");
    assert_int_equal(r->user->logins_count, 1);
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
    /* realm "" is the tenant's default directory */
    r = verify("", "vera@example.com", "Sesame-Open-1", "1.2.3.4", &res);
    assert_non_null(r);
    assert_int_equal(r->user->logins_count, 2);
    assert_string_not_equal(r->user->last_login, "");
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);

    verify_refused("", "vera@example.com", "wrong", "1.2.3.4",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    verify_refused("", "nobody@example.com", "Sesame-Open-1", "1.2.3.4",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    verify_refused("Nope", "vera@example.com", "Sesame-Open-1", "1.2.3.4",
                   TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                   "the connection was not found");
    /* usernames log in on connections that have them */
    r = verify("With-Usernames", "CAROL_1", "secret", "1.2.3.4", &res);
    assert_non_null(r);
    assert_string_equal(r->user->username, "Carol_1");
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
}

static void
test_verify_blocked(void **state)
{
    json_t *body = signup_ok(&(signup_args){.email = "blocked@example.com",
                                            .password = "Sesame-Open-2"});
    json_t *set = json_pack("{s:b}", "blocked", 1);
    (void)state;

    assert_int_equal(store_update(fx.app.st, USERS_COLL_USERS,
                                  json_string_value(json_object_get(body, "_id")), set),
                     TG_OK);
    verify_refused("", "blocked@example.com", "Sesame-Open-2", "1.2.3.4",
                   TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "unauthorized", "user is blocked");
    /* the wrong password still says only that */
    verify_refused("", "blocked@example.com", "nope", "1.2.3.4",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    json_decref(set);
    json_decref(body);
}

#define TOO_MANY                                                                               \
    "Your account has been blocked after multiple consecutive login attempts. We've sent you " \
    "an email with instructions on how to unblock it."

static void
test_brute_force(void **state)
{
    bus_result *res = NULL;
    Tollgate__Users__VerifyPasswordReply *r;
    json_t *body = signup_ok(&(signup_args){.email = "brute@example.com",
                                            .password = "Sesame-Open-3"});
    (void)state;
    json_decref(body);

    /* 9 failures, then success resets the counter */
    for (int i = 0; i < 9; i++)
        verify_refused("", "brute@example.com", "wrong", "5.5.5.5",
                       TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                       "Wrong email or password.");
    r = verify("", "brute@example.com", "Sesame-Open-3", "5.5.5.5", &res);
    assert_non_null(r);
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
    /* 10 failures: the 11th attempt is blocked even with the right password */
    for (int i = 0; i < 10; i++)
        verify_refused("", "Brute@example.com", "wrong", "5.5.5.5",
                       TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                       "Wrong email or password.");
    verify_refused("", "brute@example.com", "Sesame-Open-3", "5.5.5.5",
                   TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, "too_many_attempts", TOO_MANY);
    /* per IP: another address is not blocked */
    r = verify("", "brute@example.com", "Sesame-Open-3", "6.6.6.6", &res);
    assert_non_null(r);
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
    /* unknown users are counted too */
    for (int i = 0; i < 10; i++)
        verify_refused("", "ghost@example.com", "x", "5.5.5.5",
                       TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                       "Wrong email or password.");
    verify_refused("", "ghost@example.com", "x", "5.5.5.5",
                   TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, "too_many_attempts", TOO_MANY);
}

static void
test_get_user(void **state)
{
    Tollgate__Users__GetUserRequest req = TOLLGATE__USERS__GET_USER_REQUEST__INIT;
    bus_call_opts o = {.method = "users.GetUser", .deadline_ms = tg_now_ms() + 5000};
    json_t *body = signup_ok(&(signup_args){.email = "gina@example.com",
                                            .password = "Sesame-Open-4", .given_name = "Gina",
                                            .metadata = "{\"k\":\"v\"}"});
    const char *hex = json_string_value(json_object_get(body, "_id"));
    char id[40];
    bus_result *res = NULL;
    Tollgate__Users__GetUserReply *r;
    (void)state;

    snprintf(id, sizeof(id), "auth0|%s", hex);
    for (int bare = 0; bare < 2; bare++) {
        req.user_id = bare ? (char *)hex : id;
        assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
        assert_null(res->error);
        r = tollgate__users__get_user_reply__unpack(NULL, res->payload.len, res->payload.data);
        assert_non_null(r);
        assert_string_equal(r->user->user_id, id);
        assert_string_equal(r->user->given_name, "Gina");
        assert_string_equal(r->user->user_metadata_json, "{\"k\":\"v\"}");
        assert_string_equal(r->user->app_metadata_json, "");
        assert_false(r->user->email_verified);
        assert_string_not_equal(r->user->created_at, "");
        tollgate__users__get_user_reply__free_unpacked(r, NULL);
        bus_result_free(res);
    }
    const char *missing[] = {"auth0|000000000000000000000000", "auth0|nothex", "", "../x"};
    for (size_t i = 0; i < 4; i++) {
        req.user_id = (char *)missing[i];
        assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
        assert_non_null(res->error);
        assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND);
        assert_string_equal(res->error->error, "not_found");
        bus_result_free(res);
    }
    json_decref(body);
}


/* ---- a login flood --------------------------------------------------------------------- */

typedef struct flood {
    pthread_mutex_t mu;
    int ok, busy, other, done;
} flood;

static bool
has_header(const Tollgate__Bus__Error *e, const char *name, const char *value)
{
    for (size_t i = 0; i < e->n_headers; i++)
        if (strcmp(e->headers[i]->key, name) == 0 && strcmp(e->headers[i]->value, value) == 0)
            return true;
    return false;
}

static void
on_flood_reply(void *arg, bus_result *res)
{
    flood *f = arg;

    pthread_mutex_lock(&f->mu);
    if (res->status == TG_OK && res->error == NULL)
        f->ok++;
    else if (res->status == TG_OK &&
             res->error->error_class == TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS &&
             strcmp(res->error->error, "too_many_requests") == 0 &&
             has_header(res->error, "Retry-After", "1"))
        f->busy++;
    else
        f->other++;
    f->done++;
    pthread_mutex_unlock(&f->mu);
    bus_result_free(res);
}

/* A login flood holds no more than the hashing threads' bound: the logins beyond it are
 * turned away at once (429 too_many_requests, Retry-After) and the bus workers stay free, so
 * a GetUser is answered while the admitted logins still hash (and a signup, which needs a
 * hash, is refused the same way). Without the bound all four
 * workers wait for hashing and the GetUser queues behind the flood. */
static void
test_login_flood_leaves_workers_free(void **state)
{
    enum { LOGINS = 12 };
    static const uint8_t salt[16] = "flood-salt-16byt";
    const char *pw = "Sesame-Open-9";
    json_t *body = signup_ok(&(signup_args){.email = "flood@example.com", .password = pw});
    const char *hex = json_string_value(json_object_get(body, "_id"));
    Tollgate__Users__VerifyPasswordRequest req[LOGINS];
    Tollgate__Users__GetUserRequest get = TOLLGATE__USERS__GET_USER_REQUEST__INIT;
    bus_call_opts o = {.method = "users.VerifyPassword", .deadline_ms = tg_now_ms() + 20000};
    bus_call_opts go = {.method = "users.GetUser", .deadline_ms = tg_now_ms() + 20000};
    flood f = {.mu = PTHREAD_MUTEX_INITIALIZER};
    char slow[256], ip[LOGINS][16];
    bus_result *res = NULL;
    json_t *set;
    int ok_then;
    (void)state;

    /* a hash that takes a good fraction of a second, so the admitted logins stay busy */
    assert_int_equal(argon2id_hash_encoded(16, 32768, 1, pw, strlen(pw), salt, sizeof(salt), 32,
                                           slow, sizeof(slow)),
                     ARGON2_OK);
    set = json_pack("{s:s}", "password_hash", slow);
    assert_int_equal(store_update(fx.app.st, USERS_COLL_USERS, hex, set), TG_OK);
    json_decref(set);
    users_hasher_limit(fx.app.hasher, 2);
    for (int i = 0; i < LOGINS; i++) {
        tollgate__users__verify_password_request__init(&req[i]);
        snprintf(ip[i], sizeof(ip[i]), "9.9.9.%d", i);
        req[i].username = "flood@example.com";
        req[i].password = (char *)pw;
        req[i].client_id = "web-id";
        req[i].client_ip = ip[i];
        assert_int_equal(bus_call_async(fx.client, &o, &req[i].base, on_flood_reply, &f), TG_OK);
    }
    get.user_id = (char *)hex;
    assert_int_equal(bus_call(fx.client, &go, &get.base, &res), TG_OK);
    pthread_mutex_lock(&f.mu);
    ok_then = f.ok;
    pthread_mutex_unlock(&f.mu);
    assert_null(res->error);
    bus_result_free(res);
    assert_int_equal(ok_then, 0); /* answered while the admitted logins hash */
    /* a signup needs a hash too: refused the same way while the bound is reached */
    {
        int status = 0;
        json_t *made = signup(&(signup_args){.email = "flood-2@example.com", .password = pw},
                              &status, &res);

        assert_null(made);
        assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS);
        assert_string_equal(res->error->error, "too_many_requests");
        assert_true(has_header(res->error, "Retry-After", "1"));
        bus_result_free(res);
        res = NULL;
    }
    for (int waited = 0; waited < 2000; waited++) {
        pthread_mutex_lock(&f.mu);
        bool all = f.done == LOGINS;
        pthread_mutex_unlock(&f.mu);
        if (all)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(f.done, LOGINS);
    assert_int_equal(f.other, 0);
    assert_true(f.ok >= 1 && f.busy >= 1);
    assert_int_equal(f.ok + f.busy, LOGINS);
    users_hasher_limit(fx.app.hasher, 0);
    json_decref(body);
}

/* ---- password reset -------------------------------------------------------------------- */

typedef struct page {
    int status;
    char *body;
    char *csp, *xfo, *cookie;
} page;

static void
page_fini(page *p)
{
    free(p->body);
    free(p->csp);
    free(p->xfo);
    free(p->cookie);
    memset(p, 0, sizeof(*p));
}

static void
page_from(const Tollgate__Web__Directive *d, page *p)
{
    memset(p, 0, sizeof(*p));
    assert_non_null(d);
    assert_string_equal(d->content_type, "text/html; charset=utf-8");
    p->status = d->status;
    p->body = strndup((const char *)d->body.data, d->body.len);
    for (size_t i = 0; i < d->n_headers; i++) {
        if (strcmp(d->headers[i]->name, "Content-Security-Policy") == 0)
            p->csp = strdup(d->headers[i]->value);
        else if (strcmp(d->headers[i]->name, "X-Frame-Options") == 0)
            p->xfo = strdup(d->headers[i]->value);
        else if (strcmp(d->headers[i]->name, "Set-Cookie") == 0)
            p->cookie = strdup(d->headers[i]->value);
    }
}

/* users.ChangePassword; returns the directive's body (caller frees) or NULL with *res set. */
static char *
change_password(const char *email, const char *connection, int *status, bus_result **res)
{
    Tollgate__Users__ChangePasswordRequest req = TOLLGATE__USERS__CHANGE_PASSWORD_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "users.ChangePassword", .issuer = "https://id.example.test/",
                       .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Users__ChangePasswordReply *reply;
    char *body;

    req.web = &web;
    req.client_id = "web-id";
    req.email = (char *)email;
    req.connection = (char *)connection;
    assert_int_equal(bus_call(fx.client, &o, &req.base, res), TG_OK);
    if ((*res)->error != NULL)
        return NULL;
    reply = tollgate__users__change_password_reply__unpack(NULL, (*res)->payload.len,
                                                           (*res)->payload.data);
    assert_non_null(reply);
    assert_non_null(reply->http);
    assert_string_equal(reply->http->content_type, "text/html; charset=utf-8");
    assert_int_equal(reply->http->n_headers, 0);
    *status = reply->http->status;
    body = strndup((const char *)reply->http->body.data, reply->http->body.len);
    tollgate__users__change_password_reply__free_unpacked(reply, NULL);
    bus_result_free(*res);
    *res = NULL;
    return body;
}

#define SENT "We've just sent you an email to reset your password."

/* Waits for the one mail in the outbox and returns its text (caller frees), then empties it. */
static char *
wait_for_mail(void)
{
    for (int i = 0; i < 200; i++) {
        DIR *d = opendir(fx.outbox);
        struct dirent *e;
        char path[600], *text = NULL;

        while (d != NULL && text == NULL && (e = readdir(d)) != NULL) {
            FILE *f;
            long n;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", fx.outbox, e->d_name);
            assert_non_null(f = fopen(path, "rb"));
            fseek(f, 0, SEEK_END);
            n = ftell(f);
            rewind(f);
            text = calloc(1, (size_t)n + 1);
            assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
            fclose(f);
        }
        if (d != NULL)
            closedir(d);
        if (text != NULL) {
            users_system_clear_outbox(&fx);
            return text;
        }
        usleep(25 * 1000);
    }
    fail_msg("no mail in %s", fx.outbox);
    return NULL;
}

static int
outbox_count(void)
{
    DIR *d = opendir(fx.outbox);
    struct dirent *e;
    int n = 0;

    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

static void
test_change_password_same_answer(void **state)
{
    bus_result *res = NULL;
    int s1 = 0, s2 = 0;
    json_t *body = signup_ok(&(signup_args){.email = "known@example.com",
                                            .password = "Sesame-Open-7"});
    char *known, *unknown;
    (void)state;

    json_decref(body);
    users_system_clear_outbox(&fx);
    known = change_password("Known@Example.com", "Username-Password-Authentication", &s1, &res);
    unknown = change_password("nobody-here@example.com", "Username-Password-Authentication", &s2,
                              &res);
    assert_int_equal(s1, 200);
    assert_int_equal(s2, 200);
    assert_string_equal(known, SENT);
    assert_string_equal(unknown, SENT);
    free(known);
    free(unknown);
    free(wait_for_mail()); /* the known user's */
    usleep(200 * 1000);
    assert_int_equal(outbox_count(), 0); /* nothing for the unknown one */

    /* refusals: dbconnections shape, 400 */
    static const struct {
        const char *email, *connection, *text;
    } bad[] = {
        {"", "Username-Password-Authentication", "Missing required parameter: email"},
        {"a@example.com", "", "Missing required parameter: connection"},
        {"a@example.com", "Nope", "the connection was not found"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(change_password(bad[i].email, bad[i].connection, &s1, &res));
        assert_int_equal(res->error->error_class, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST);
        assert_int_equal(res->error->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN);
        assert_string_equal(res->error->name, "BadRequestError");
        assert_string_equal(res->error->error_description, bad[i].text);
        bus_result_free(res);
    }
}

static void
reset_page(const char *ticket, page *p)
{
    Tollgate__Users__ResetPageRequest req = TOLLGATE__USERS__RESET_PAGE_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "users.ResetPage", .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Users__ResetPageReply *reply;
    bus_result *res = NULL;

    req.web = &web;
    req.ticket = (char *)ticket;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    assert_null(res->error);
    reply = tollgate__users__reset_page_reply__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(reply);
    page_from(reply->http, p);
    tollgate__users__reset_page_reply__free_unpacked(reply, NULL);
    bus_result_free(res);
}

static void
reset_submit(const char *ticket, const char *cookie, const char *csrf, const char *pw,
             const char *confirm, page *p)
{
    Tollgate__Users__ResetSubmitRequest req = TOLLGATE__USERS__RESET_SUBMIT_REQUEST__INIT;
    Tollgate__Web__Context web = TOLLGATE__WEB__CONTEXT__INIT;
    bus_call_opts o = {.method = "users.ResetSubmit", .deadline_ms = tg_now_ms() + 5000};
    Tollgate__Users__ResetPageReply *reply;
    bus_result *res = NULL;

    web.cookie = (char *)cookie;
    req.web = &web;
    req.ticket = (char *)ticket;
    req.csrf_token = (char *)csrf;
    req.new_password = (char *)pw;
    req.confirm_new_password = (char *)confirm;
    assert_int_equal(bus_call(fx.client, &o, &req.base, &res), TG_OK);
    if (res->error != NULL)
        fail_msg("ResetSubmit failed: %s %s", res->error->error, res->error->error_description);
    reply = tollgate__users__reset_page_reply__unpack(NULL, res->payload.len, res->payload.data);
    assert_non_null(reply);
    page_from(reply->http, p);
    tollgate__users__reset_page_reply__free_unpacked(reply, NULL);
    bus_result_free(res);
}

static void
test_reset_journey(void **state)
{
    bus_result *res = NULL;
    Tollgate__Users__VerifyPasswordReply *r;
    json_t *body = signup_ok(&(signup_args){.email = "reset@example.com",
                                            .password = "Sesame-Open-5", .name = "Rosalind"});
    char *mail, *sent, ticket[160] = "", csrf[100] = "", cookie[160], *p, *q;
    int64_t told_valid_after;
    int status = 0;
    page pg;
    (void)state;
    json_decref(body);

    /* blocked from one address by failed logins */
    for (int i = 0; i < 10; i++)
        verify_refused("", "reset@example.com", "wrong", "7.7.7.7",
                       TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                       "Wrong email or password.");
    verify_refused("", "reset@example.com", "Sesame-Open-5", "7.7.7.7",
                   TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, "too_many_attempts", TOO_MANY);

    users_system_clear_outbox(&fx);
    sent = change_password("reset@example.com", "Username-Password-Authentication", &status,
                           &res);
    assert_string_equal(sent, SENT);
    free(sent);
    mail = wait_for_mail();
    assert_non_null(strstr(mail, "To: reset@example.com\r\n"));
    assert_non_null(strstr(mail, "Subject: Reset your password\r\n"));
    assert_non_null(p = strstr(mail, "https://id.example.test/u/reset-password?ticket="));
    p = strchr(p, '=') + 1;
    q = strstr(p, "\r\n");
    snprintf(ticket, sizeof(ticket), "%.*s", (int)(q - p), p);
    free(mail);
    assert_int_equal(strlen(ticket), 43);

    /* the page: headers, cookie and hidden field carry the same token */
    reset_page(ticket, &pg);
    assert_int_equal(pg.status, 200);
    assert_non_null(strstr(pg.csp, "frame-ancestors 'none'"));
    assert_string_equal(pg.xfo, "DENY");
    assert_non_null(pg.cookie);
    assert_non_null(strstr(pg.cookie, "; Path=/u/reset-password; Secure; HttpOnly; "
                                      "SameSite=Strict"));
    assert_int_equal(sscanf(pg.cookie, "tg_csrf=%99[^;]", csrf), 1);
    snprintf(cookie, sizeof(cookie), "other=1; tg_csrf=%s", csrf);
    assert_non_null(strstr(pg.body, csrf));
    assert_non_null(strstr(pg.body, "reset@example.com"));
    page_fini(&pg);

    reset_page("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &pg);
    assert_int_equal(pg.status, 400);
    assert_non_null(strstr(pg.body, "invalid or has expired"));
    page_fini(&pg);

    /* CSRF: the form token alone, the cookie alone, or a wrong one → 403 */
    reset_submit(ticket, "", csrf, "Brand-New-Pass-6", "Brand-New-Pass-6", &pg);
    assert_int_equal(pg.status, 403);
    page_fini(&pg);
    reset_submit(ticket, cookie, "forged", "Brand-New-Pass-6", "Brand-New-Pass-6", &pg);
    assert_int_equal(pg.status, 403);
    page_fini(&pg);

    reset_submit(ticket, cookie, csrf, "Brand-New-Pass-6", "Brand-New-Pass-7", &pg);
    assert_int_equal(pg.status, 400);
    assert_non_null(strstr(pg.body, "The passwords do not match."));
    page_fini(&pg);
    reset_submit(ticket, cookie, csrf, "abc", "abc", &pg);
    assert_int_equal(pg.status, 400);
    assert_non_null(strstr(pg.body, "Password is too weak"));
    assert_non_null(strstr(pg.body, "At least 8 characters in length"));
    page_fini(&pg);
    reset_submit(ticket, cookie, csrf, "Rosalind-99", "Rosalind-99", &pg);
    assert_int_equal(pg.status, 400);
    assert_non_null(strstr(pg.body, "based on user information"));
    page_fini(&pg);
    reset_submit(ticket, cookie, csrf, "Sesame-Open-5", "Sesame-Open-5", &pg);
    assert_int_equal(pg.status, 400);
    assert_non_null(strstr(pg.body, "Password has previously been used"));
    page_fini(&pg);

    /* svc-token does not take the news: nothing changes, the link still works */
    pthread_mutex_lock(&told.mu);
    told.refuse = true;
    pthread_mutex_unlock(&told.mu);
    reset_submit(ticket, cookie, csrf, "Brand-New-Pass-6", "Brand-New-Pass-6", &pg);
    assert_int_equal(pg.status, 503);
    assert_non_null(strstr(pg.body, "Your link still works"));
    page_fini(&pg);
    verify_refused("", "reset@example.com", "Brand-New-Pass-6", "8.8.8.8",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    pthread_mutex_lock(&told.mu);
    told.refuse = false;
    told.calls = 0;
    pthread_mutex_unlock(&told.mu);

    reset_submit(ticket, cookie, csrf, "Brand-New-Pass-6", "Brand-New-Pass-6", &pg);
    assert_int_equal(pg.status, 200);
    assert_non_null(strstr(pg.body, "Your password has been changed."));
    page_fini(&pg);
    pthread_mutex_lock(&told.mu);
    assert_int_equal(told.calls, 1);
    assert_true(strncmp(told.user_id, "auth0|", 6) == 0);
    told_valid_after = told.tokens_valid_after;
    pthread_mutex_unlock(&told.mu);

    /* single use */
    reset_submit(ticket, cookie, csrf, "Another-Pass-8", "Another-Pass-8", &pg);
    assert_int_equal(pg.status, 400);
    page_fini(&pg);
    reset_page(ticket, &pg);
    assert_int_equal(pg.status, 400);
    page_fini(&pg);

    /* the old password fails, the new one works, from the address that was blocked */
    verify_refused("", "reset@example.com", "Sesame-Open-5", "8.8.8.8",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    r = verify("", "reset@example.com", "Brand-New-Pass-6", "7.7.7.7", &res);
    assert_non_null(r);
    assert_true(r->user->tokens_valid_after >= tg_now_s() - 60);
    assert_true(r->user->tokens_valid_after <= tg_now_s());
    /* svc-token was told the very mark svc-users keeps, for this user */
    assert_int_equal(r->user->tokens_valid_after, told_valid_after);
    assert_string_equal(r->user->user_id, told.user_id);
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
    /* and the next failures count from zero again */
    verify_refused("", "reset@example.com", "wrong", "7.7.7.7",
                   TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                   "Wrong email or password.");
    r = verify("", "reset@example.com", "Brand-New-Pass-6", "7.7.7.7", &res);
    assert_non_null(r);
    tollgate__users__verify_password_reply__free_unpacked(r, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signup_happy),     cmocka_unit_test(test_signup_refusals),
        cmocka_unit_test(test_signup_weak_password), cmocka_unit_test(test_signup_usernames),
        cmocka_unit_test(test_signup_duplicate), cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_blocked),   cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_get_user),
        cmocka_unit_test(test_login_flood_leaves_workers_free),
        cmocka_unit_test(test_change_password_same_answer),
        cmocka_unit_test(test_reset_journey),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
