/*
 * Request translation: form/query/JSON → protobuf by descriptor, hostile input included.
 * Every test allocates from a lib/core arena and releases it; LeakSanitizer checks the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.pb-c.h"
#include "core/arena.h"
#include "core/util.h"
#include "params.h"
#include "token.pb-c.h"
#include "users.pb-c.h"
#include "web.pb-c.h"

static arena a;

static int
setup(void **state)
{
    (void)state;
    arena_init(&a, 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    arena_fini(&a);
    return 0;
}

static void *
new_msg(const ProtobufCMessageDescriptor *d)
{
    void *m = gw_message_new(d, &a.pb);
    assert_non_null(m);
    return m;
}

static tg_err
form(void *msg, const char *text, gw_param_error *err)
{
    return gw_params_from_form(msg, text, strlen(text), &a.pb, err);
}

static tg_err
json(void *msg, const char *text, gw_param_error *err)
{
    return gw_params_from_json(msg, text, strlen(text), &a.pb, err);
}

/* ---- form ---------------------------------------------------------------------------------- */

static void
form_fills_strings_by_name(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(r,
                          "grant_type=client_credentials&client_id=abc&audience=https%3A%2F%2F"
                          "api.example%2F&scope=read+write",
                          &err),
                     TG_OK);
    assert_string_equal(r->grant_type, "client_credentials");
    assert_string_equal(r->client_id, "abc");
    assert_string_equal(r->audience, "https://api.example/");
    assert_string_equal(r->scope, "read write");
    assert_string_equal(r->password, "");
}

static void
form_ignores_unknown_empty_and_web(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(
        form(r, "my_param=1&realm=&web=x&web.client_ip=1.2.3.4&&=v&k&client_id=c", &err), TG_OK);
    assert_string_equal(r->realm, "");
    assert_null(r->web);
    assert_string_equal(r->client_id, "c");
}

static void
form_rejects_bad_escapes(void **state)
{
    static const char *const bad[] = {
        "client_id=%zz",    "client_id=%",   "client_id=%0", "client_id=a%0",
        "client_id=%g0",    "client_id=%00", "cli%00ent=x",  "x=%ff",
        "client_id=%c3%28", "%zz=1",         "unknown=%",
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
        assert_int_equal(form(r, bad[i], &err), TG_EINVAL);
        assert_true(strncmp(err.description, "Malformed", 9) == 0);
    }
}

static void
form_rejects_raw_nul(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    static const char body[] = "client_id=a\0b";
    gw_param_error err;

    (void)state;
    assert_int_equal(gw_params_from_form(&r->base, body, sizeof(body) - 1, &a.pb, &err), TG_EINVAL);
}

static void
form_error_names_field_not_input(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(r, "client_%69d=%3Cscript%3E%zz", &err), TG_EINVAL);
    assert_string_equal(err.description, "Malformed value for parameter: client_id");
}

static void
form_rejects_duplicate_parameter(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(r, "client_id=a&grant_type=x&client_id=b", &err), TG_EINVAL);
    assert_string_equal(err.description, "Duplicate parameter: client_id");
    /* duplicates of unknown parameters are ignored */
    r = new_msg(&tollgate__token__token_request__descriptor);
    assert_int_equal(form(r, "foo=1&foo=2", &err), TG_OK);
}

static void
form_repeated_keys_fill_repeated_field(void **state)
{
    Tollgate__Token__OpenIdConfiguration *c =
        new_msg(&tollgate__token__open_id_configuration__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(c,
                          "scopes_supported=openid&scopes_supported=profile&"
                          "scopes_supported=&scopes_supported=email",
                          &err),
                     TG_OK);
    assert_int_equal(c->n_scopes_supported, 3);
    assert_string_equal(c->scopes_supported[0], "openid");
    assert_string_equal(c->scopes_supported[1], "profile");
    assert_string_equal(c->scopes_supported[2], "email");
}

static void
form_converts_scalars(void **state)
{
    Tollgate__Web__Directive *d = new_msg(&tollgate__web__directive__descriptor);
    Tollgate__Web__Context *c = new_msg(&tollgate__web__context__descriptor);
    Tollgate__Bus__Error *e = new_msg(&tollgate__bus__error__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(d, "status=302&body=hi+there&headers=x", &err), TG_OK);
    assert_int_equal(d->status, 302);
    assert_int_equal(d->body.len, 8);
    assert_memory_equal(d->body.data, "hi there", 8);
    assert_int_equal(d->n_headers, 0);
    assert_int_equal(form(c, "has_basic=true", &err), TG_OK);
    assert_true(c->has_basic);
    assert_int_equal(form(e, "error_class=FORBIDDEN&shape=SHAPE_DBCONN", &err), TG_OK);
    assert_int_equal(e->error_class, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN);
    assert_int_equal(e->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN);
}

static void
form_rejects_bad_scalars(void **state)
{
    static const struct {
        const ProtobufCMessageDescriptor *d;
        const char *text;
    } bad[] = {
        {&tollgate__web__directive__descriptor, "status=abc"},
        {&tollgate__web__directive__descriptor, "status=1x"},
        {&tollgate__web__directive__descriptor, "status=+1"},
        {&tollgate__web__directive__descriptor, "status=+1"},
        {&tollgate__web__directive__descriptor, "status=%201"},
        {&tollgate__web__directive__descriptor, "status=2147483648"},
        {&tollgate__web__directive__descriptor, "status=-2147483649"},
        {&tollgate__bus__request__descriptor, "deadline_ms=9223372036854775808"},
        {&tollgate__bus__request__descriptor, "deadline_ms=99999999999999999999999"},
        {&tollgate__web__context__descriptor, "has_basic=yes"},
        {&tollgate__web__context__descriptor, "has_basic=TRUE"},
        {&tollgate__bus__error__descriptor, "error_class=NOPE"},
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        void *m = new_msg(bad[i].d);
        assert_int_equal(form(m, bad[i].text, &err), TG_EINVAL);
        assert_true(strncmp(err.description, "Invalid value for parameter: ", 29) == 0);
    }
}

static void
form_limits_value_length(void **state)
{
    size_t n = GW_MAX_PARAM_BYTES + 1;
    char *body = malloc(n + 11);
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    memcpy(body, "client_id=", 10);
    memset(body + 10, 'a', n);
    body[10 + n] = '\0';
    assert_int_equal(form(r, body, &err), TG_ETOOBIG);
    assert_string_equal(err.description, "Parameter too long: client_id");
    body[10 + n - 1] = '\0'; /* exactly at the limit */
    r = new_msg(&tollgate__token__token_request__descriptor);
    assert_int_equal(form(r, body, &err), TG_OK);
    assert_int_equal(strlen(r->client_id), GW_MAX_PARAM_BYTES);
    free(body);
}

static void
form_ignores_very_long_keys(void **state)
{
    size_t n = 20000;
    char *body = malloc(n + 3);
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    memset(body, 'k', n);
    memcpy(body + n, "=v", 3);
    assert_int_equal(form(r, body, &err), TG_OK);
    free(body);
}

static void
form_limits_parameter_count(void **state)
{
    size_t cap = 10000 * 4 + 1, off = 0;
    char *body = malloc(cap);
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    for (int i = 0; i < 10000; i++)
        off += (size_t)snprintf(body + off, cap - off, "a=&");
    assert_int_equal(form(r, body, &err), TG_ETOOBIG);
    assert_string_equal(err.description, "Too many parameters");
    /* at the limit: fine */
    body[(size_t)GW_MAX_PARAMS * 3] = 0;
    r = new_msg(&tollgate__token__token_request__descriptor);
    assert_int_equal(form(r, body, &err), TG_OK);
    free(body);
}

static void
form_decode_component(void **state)
{
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(gw_form_decode("a+b%20c%2B%3a%C3%A9", 19, &a.pb, &out, &len), TG_OK);
    assert_string_equal(out, "a b c+:\xc3\xa9");
    assert_int_equal(len, 9);
    assert_int_equal(gw_form_decode("", 0, &a.pb, &out, &len), TG_OK);
    assert_string_equal(out, "");
    assert_int_equal(gw_form_decode("%2", 2, &a.pb, &out, &len), TG_EINVAL);
    assert_null(out);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void
json_fills_and_treats_null_and_empty_as_absent(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(json(r,
                          "{\"grant_type\":\"password\",\"username\":\"u\\u00e9\",\"realm\":null,"
                          "\"scope\":\"\",\"audience\":null,\"extra\":{\"deep\":[1,2]},"
                          "\"web\":{\"client_ip\":\"6.6.6.6\"}}",
                          &err),
                     TG_OK);
    assert_string_equal(r->grant_type, "password");
    assert_string_equal(r->username, "u\xc3\xa9");
    assert_string_equal(r->realm, "");
    assert_string_equal(r->scope, "");
    assert_null(r->web);
}

static void
json_refuses_object_or_array_for_scalar(void **state)
{
    static const char *const bad[] = {
        "{\"username\":{\"$gt\":\"\"}}",
        "{\"username\":[\"a\"]}",
        "{\"username\":[]}",
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
        assert_int_equal(json(r, bad[i], &err), TG_EINVAL);
        assert_string_equal(err.description, "Invalid type for parameter: username");
    }
}

static void
json_numbers_and_bools_become_text_for_strings(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(json(r,
                          "{\"client_id\":12345,\"otp\":-7,\"code\":1.5,\"realm\":true,"
                          "\"scope\":1e3,\"audience\":false}",
                          &err),
                     TG_OK);
    assert_string_equal(r->client_id, "12345");
    assert_string_equal(r->otp, "-7");
    assert_string_equal(r->code, "1.5");
    assert_string_equal(r->realm, "true");
    assert_string_equal(r->scope, "1000");
    assert_string_equal(r->audience, "false");
}

static void
json_typed_fields(void **state)
{
    Tollgate__Web__Directive *d = new_msg(&tollgate__web__directive__descriptor);
    Tollgate__Web__Context *c = new_msg(&tollgate__web__context__descriptor);
    Tollgate__Bus__Request *q = new_msg(&tollgate__bus__request__descriptor);
    Tollgate__Bus__Error *e = new_msg(&tollgate__bus__error__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(json(d, "{\"status\":\"201\",\"headers\":[{\"name\":\"x\"}]}", &err), TG_OK);
    assert_int_equal(d->status, 201);
    assert_int_equal(d->n_headers, 0); /* message-typed: never from client input */
    assert_int_equal(json(c, "{\"has_basic\":\"true\"}", &err), TG_OK);
    assert_true(c->has_basic);
    assert_int_equal(json(q, "{\"deadline_ms\":9223372036854775807}", &err), TG_OK);
    assert_true(q->deadline_ms == INT64_MAX);
    q = new_msg(&tollgate__bus__request__descriptor);
    assert_int_equal(json(q, "{\"deadline_ms\":3600.0}", &err), TG_OK);
    assert_true(q->deadline_ms == 3600);
    assert_int_equal(json(e, "{\"error_class\":3,\"shape\":\"SHAPE_TEXT\"}", &err), TG_OK);
    assert_int_equal(e->error_class, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN);
    assert_int_equal(e->shape, TOLLGATE__BUS__ERROR_SHAPE__SHAPE_TEXT);
}

static void
json_rejects_bad_typed_values(void **state)
{
    static const struct {
        const ProtobufCMessageDescriptor *d;
        const char *text;
    } bad[] = {
        {&tollgate__web__directive__descriptor, "{\"status\":2147483648}"},
        {&tollgate__web__directive__descriptor, "{\"status\":1.5}"},
        {&tollgate__web__directive__descriptor, "{\"status\":true}"},
        {&tollgate__web__directive__descriptor, "{\"status\":1e300}"},
        {&tollgate__web__context__descriptor, "{\"has_basic\":1}"},
        {&tollgate__bus__error__descriptor, "{\"error_class\":99}"},
        {&tollgate__token__open_id_configuration__descriptor, "{\"scopes_supported\":[[\"a\"]]}"},
        {&tollgate__token__open_id_configuration__descriptor, "{\"scopes_supported\":[{}]}"},
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        void *m = new_msg(bad[i].d);
        assert_int_equal(json(m, bad[i].text, &err), TG_EINVAL);
        assert_true(strstr(err.description, "for parameter: ") != NULL);
    }
}

static void
json_arrays_fill_repeated(void **state)
{
    Tollgate__Token__OpenIdConfiguration *c =
        new_msg(&tollgate__token__open_id_configuration__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(json(c,
                          "{\"scopes_supported\":[\"openid\",null,7],"
                          "\"claims_supported\":\"sub\"}",
                          &err),
                     TG_OK);
    assert_int_equal(c->n_scopes_supported, 2);
    assert_string_equal(c->scopes_supported[0], "openid");
    assert_string_equal(c->scopes_supported[1], "7");
    assert_int_equal(c->n_claims_supported, 1);
    assert_string_equal(c->claims_supported[0], "sub");
}

static void
json_rejects_malformed_bodies(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "\"str\"",
        "42",
        "null",
        "{",
        "{\"a\":1}x",
        "{\"client_id\":\"a\",\"client_id\":\"b\"}",
        "{\"client_id\":\"\\u0000\"}",
        "{\"client_id\":\"\xc3\x28\"}",
        "{\"client_id\":\"\xed\xa0\x80\"}",
        "{\"a\":123456789012345678901234567890}",
        "{\"a\":1e999}",
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
        assert_int_equal(json(r, bad[i], &err), TG_EINVAL);
        assert_null(strstr(err.description, "\\u"));
    }
}

static void
json_rejects_deep_nesting(void **state)
{
    size_t depth = 20000, off = 0;
    char *body = malloc(depth * 2 + 16);
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    gw_param_error err;

    (void)state;
    off += (size_t)sprintf(body, "{\"a\":");
    memset(body + off, '[', depth);
    off += depth;
    memset(body + off, ']', depth);
    off += depth;
    memcpy(body + off, "}", 2);
    assert_int_equal(json(r, body, &err), TG_EINVAL);
    assert_string_equal(err.description, "Invalid JSON body");
    free(body);
}

static void
json_limits_parameter_count(void **state)
{
    size_t cap = 10000 * 12 + 16, off = 0;
    char *body = malloc(cap);
    Tollgate__Token__OpenIdConfiguration *c =
        new_msg(&tollgate__token__open_id_configuration__descriptor);
    gw_param_error err;

    (void)state;
    off += (size_t)snprintf(body, cap, "{\"scopes_supported\":[");
    for (int i = 0; i < 10000; i++)
        off += (size_t)snprintf(body + off, cap - off, "%s\"s\"", i ? "," : "");
    snprintf(body + off, cap - off, "]}");
    assert_int_equal(json(c, body, &err), TG_ETOOBIG);
    assert_string_equal(err.description, "Too many parameters");
    free(body);
}

/* ---- Basic, request ids, media types, UTF-8 ------------------------------------------------ */

static void
basic_decodes_and_form_decodes_halves(void **state)
{
    char *user, *pass;

    (void)state;
    /* base64("my%3Aclient:s%2Bcr%C3%A9t:x") — RFC 6749 §2.3.1 */
    assert_int_equal(
        gw_basic_decode("Basic bXklM0FjbGllbnQ6cyUyQmNyJUMzJUE5dDp4", 42, &a.pb, &user, &pass),
        TG_OK);
    assert_string_equal(user, "my:client");
    assert_string_equal(pass, "s+cr\xc3\xa9t:x");
    /* scheme is case-insensitive, surrounding blanks allowed, empty password allowed */
    assert_int_equal(gw_basic_decode("  bAsIc   dXNlcjo= ", 19, &a.pb, &user, &pass), TG_OK);
    assert_string_equal(user, "user");
    assert_string_equal(pass, "");
}

static void
basic_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "Basic ",          /* nothing */
        "Basic dXNlcg==",  /* "user": no colon */
        "Basic OnBhc3M=",  /* ":pass": empty user */
        "Basic !!!!",      /* not base64 */
        "Basic dXNl cjpw", /* space inside */
        "Basic JXp6OnA=",  /* "%zz:p" */
        "Basic dSUwMDpw",  /* "u%00:p" */
        "Basic dQA6cA==",  /* "u\0:p" raw NUL */
        "Basic /zpw",      /* "\xff:p" not UTF-8 */
    };
    char *user, *pass;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(gw_basic_decode(bad[i], strlen(bad[i]), &a.pb, &user, &pass), TG_EINVAL);
        assert_null(user);
        assert_null(pass);
    }
}

static void
basic_ignores_other_schemes(void **state)
{
    char *user, *pass;

    (void)state;
    assert_int_equal(gw_basic_decode("Bearer abc", 10, &a.pb, &user, &pass), TG_ENOTFOUND);
    assert_int_equal(gw_basic_decode("Basicx abc", 10, &a.pb, &user, &pass), TG_ENOTFOUND);
    assert_int_equal(gw_basic_decode("Basic", 5, &a.pb, &user, &pass), TG_ENOTFOUND);
    assert_null(user);
}

static void
request_id_validation(void **state)
{
    char id[33], long_id[66];

    (void)state;
    assert_true(gw_request_id_is_valid("abc-DEF_1.2", 11));
    assert_true(gw_request_id_is_valid("a", 1));
    assert_false(gw_request_id_is_valid("", 0));
    assert_false(gw_request_id_is_valid("a b", 3));
    assert_false(gw_request_id_is_valid("a\nb", 3));
    assert_false(gw_request_id_is_valid("a/b", 3));
    assert_false(gw_request_id_is_valid("\xc3\xa9", 2));
    memset(long_id, 'x', sizeof(long_id));
    assert_true(gw_request_id_is_valid(long_id, 64));
    assert_false(gw_request_id_is_valid(long_id, 65));
    assert_int_equal(gw_request_id_generate(id), TG_OK);
    assert_int_equal(strlen(id), 32);
    assert_true(gw_request_id_is_valid(id, 32));
}

static void
content_types(void **state)
{
    (void)state;
    assert_int_equal(gw_content_type_kind("application/json", 16), GW_BODY_JSON);
    assert_int_equal(gw_content_type_kind("Application/JSON; charset=utf-8", 31), GW_BODY_JSON);
    assert_int_equal(gw_content_type_kind(" application/json ;charset=UTF-8", 32), GW_BODY_JSON);
    assert_int_equal(gw_content_type_kind("application/x-www-form-urlencoded", 33), GW_BODY_FORM);
    assert_int_equal(gw_content_type_kind("application/x-www-form-urlencoded; charset=UTF-8", 48),
                     GW_BODY_FORM);
    assert_int_equal(gw_content_type_kind("application/jsonx", 17), GW_BODY_OTHER);
    assert_int_equal(gw_content_type_kind("text/plain", 10), GW_BODY_OTHER);
    assert_int_equal(gw_content_type_kind("multipart/form-data; boundary=x", 31), GW_BODY_OTHER);
    assert_int_equal(gw_content_type_kind("", 0), GW_BODY_OTHER);
}

static void
utf8_validation(void **state)
{
    (void)state;
    assert_true(tg_utf8_is_valid("plain", 5));
    assert_true(tg_utf8_is_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(tg_utf8_is_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(tg_utf8_is_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(tg_utf8_is_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(tg_utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(tg_utf8_is_valid("\xc3", 1));             /* truncated */
    assert_false(tg_utf8_is_valid("\x80", 1));
}

static void
web_is_set_only_on_a_web_field(void **state)
{
    Tollgate__Token__TokenRequest *r = new_msg(&tollgate__token__token_request__descriptor);
    Tollgate__Token__Jwks *j = new_msg(&tollgate__token__jwks__descriptor);
    Tollgate__Web__Context *w = new_msg(&tollgate__web__context__descriptor);

    (void)state;
    assert_true(gw_params_set_web(&r->base, &w->base));
    assert_ptr_equal(r->web, w);
    assert_false(gw_params_set_web(&j->base, &w->base));
}

/* ---- tollgate.web.Json fields (user_metadata) ---------------------------------------------- */

static void
json_object_field_is_reserialised_compactly(void **state)
{
    Tollgate__Users__SignupRequest *r = new_msg(&tollgate__users__signup_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(json(r,
                          "{\"email\": \"a@b.example\", \"user_metadata\" : { \"plan\" : "
                          "\"pro\", \"n\": [1, 2.5, true, null], \"x\": {\"y\": \"\\u00e9\"}}, "
                          "\"connection\": \"db\"}",
                          &err),
                     TG_OK);
    assert_string_equal(r->email, "a@b.example");
    assert_string_equal(r->connection, "db");
    assert_non_null(r->user_metadata);
    assert_ptr_equal(r->user_metadata->base.descriptor, &tollgate__web__json__descriptor);
    assert_string_equal(r->user_metadata->text,
                        "{\"plan\":\"pro\",\"n\":[1,2.5,true,null],\"x\":{\"y\":\"\xc3\xa9\"}}");

    /* An empty object is an object; null is absent. */
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r, "{\"user_metadata\": {}}", &err), TG_OK);
    assert_string_equal(r->user_metadata->text, "{}");
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r, "{\"user_metadata\": null, \"email\": \"e\"}", &err), TG_OK);
    assert_null(r->user_metadata);
    assert_string_equal(r->email, "e");

    /* The packed message carries it (what svc-users receives). */
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r, "{\"user_metadata\": {\"a\": 1}}", &err), TG_OK);
    {
        size_t n = protobuf_c_message_get_packed_size(&r->base);
        uint8_t *buf = malloc(n);
        Tollgate__Users__SignupRequest *back;

        protobuf_c_message_pack(&r->base, buf);
        back = tollgate__users__signup_request__unpack(NULL, n, buf);
        assert_non_null(back);
        assert_string_equal(back->user_metadata->text, "{\"a\":1}");
        tollgate__users__signup_request__free_unpacked(back, NULL);
        free(buf);
    }
}

static void
json_object_field_refuses_other_types(void **state)
{
    static const char *const bad[] = {
        "{\"user_metadata\": \"{\\\"a\\\":1}\"}", /* an object in a string */
        "{\"user_metadata\": []}",
        "{\"user_metadata\": [{\"a\": 1}]}",
        "{\"user_metadata\": 1}",
        "{\"user_metadata\": 1.5}",
        "{\"user_metadata\": true}",
        "{\"user_metadata\": \"\"}",
    };
    gw_param_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Tollgate__Users__SignupRequest *r = new_msg(&tollgate__users__signup_request__descriptor);

        if (json(r, bad[i], &err) != TG_EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(err.description, "Invalid type for parameter: user_metadata");
        assert_null(r->user_metadata);
    }
    /* `web` is a message too, but never from the client. */
    {
        Tollgate__Users__SignupRequest *r = new_msg(&tollgate__users__signup_request__descriptor);

        assert_int_equal(json(r, "{\"web\": {\"client_ip\": \"1.2.3.4\"}}", &err), TG_OK);
        assert_null(r->web);
    }
}

static void
json_object_field_limits(void **state)
{
    char deep[256], *big;
    size_t o = 0;
    gw_param_error err;
    Tollgate__Users__SignupRequest *r;

    (void)state;
    /* Depth 8 (the object itself counts as 1) passes; 9 does not; arrays count too. */
    o = (size_t)snprintf(deep, sizeof(deep), "{\"user_metadata\": ");
    for (int i = 0; i < 8; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{\"a\":");
    o += (size_t)snprintf(deep + o, sizeof(deep) - o, "1");
    for (int i = 0; i < 8; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "}");
    snprintf(deep + o, sizeof(deep) - o, "}");
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r, deep, &err), TG_OK);
    assert_non_null(r->user_metadata);
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r,
                          "{\"user_metadata\": {\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
                          "{\"a\":{}}}}}}}}}}",
                          &err),
                     TG_EINVAL);
    assert_string_equal(err.description, "Parameter nested too deeply: user_metadata");
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(json(r, "{\"user_metadata\": {\"a\":[[[[[[[[1]]]]]]]]}}", &err), TG_EINVAL);
    assert_string_equal(err.description, "Parameter nested too deeply: user_metadata");

    /* 16 KiB serialised passes; one byte more does not ({"k":"..."} is 8 bytes + value). */
    big = malloc(GW_MAX_PARAM_BYTES + 64);
    assert_non_null(big);
    for (size_t extra = 0; extra < 2; extra++) {
        size_t vlen = GW_MAX_PARAM_BYTES - 8 + extra;

        o = (size_t)snprintf(big, 64, "{\"user_metadata\":{\"k\":\"");
        memset(big + o, 'x', vlen);
        o += vlen;
        memcpy(big + o, "\"}}", 4);
        r = new_msg(&tollgate__users__signup_request__descriptor);
        if (extra == 0) {
            assert_int_equal(json(r, big, &err), TG_OK);
            assert_int_equal(strlen(r->user_metadata->text), GW_MAX_PARAM_BYTES);
        } else {
            assert_int_equal(json(r, big, &err), TG_ETOOBIG);
            assert_string_equal(err.description, "Parameter too long: user_metadata");
        }
    }
    free(big);
}

static void
form_refuses_object_field(void **state)
{
    Tollgate__Users__SignupRequest *r = new_msg(&tollgate__users__signup_request__descriptor);
    gw_param_error err;

    (void)state;
    assert_int_equal(form(r, "email=a%40b&user_metadata=%7B%22a%22%3A1%7D", &err), TG_EINVAL);
    assert_string_equal(err.description,
                        "Parameter must be a JSON object in a JSON body: user_metadata");
    assert_null(r->user_metadata);
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(form(r, "user_metadata[plan]=pro&email=e", &err), TG_OK); /* unknown key */
    assert_null(r->user_metadata);
    r = new_msg(&tollgate__users__signup_request__descriptor);
    assert_int_equal(form(r, "user_metadata=&email=e", &err), TG_OK); /* empty = absent */
    assert_null(r->user_metadata);
    assert_string_equal(r->email, "e");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(form_fills_strings_by_name),
        T(form_ignores_unknown_empty_and_web),
        T(form_rejects_bad_escapes),
        T(form_rejects_raw_nul),
        T(form_error_names_field_not_input),
        T(form_rejects_duplicate_parameter),
        T(form_repeated_keys_fill_repeated_field),
        T(form_converts_scalars),
        T(form_rejects_bad_scalars),
        T(form_limits_value_length),
        T(form_ignores_very_long_keys),
        T(form_limits_parameter_count),
        T(form_decode_component),
        T(json_fills_and_treats_null_and_empty_as_absent),
        T(json_refuses_object_or_array_for_scalar),
        T(json_numbers_and_bools_become_text_for_strings),
        T(json_typed_fields),
        T(json_rejects_bad_typed_values),
        T(json_arrays_fill_repeated),
        T(json_rejects_malformed_bodies),
        T(json_rejects_deep_nesting),
        T(json_limits_parameter_count),
        T(json_object_field_is_reserialised_compactly),
        T(json_object_field_refuses_other_types),
        T(json_object_field_limits),
        T(form_refuses_object_field),
        T(basic_decodes_and_form_decodes_halves),
        T(basic_rejects_malformed),
        T(basic_ignores_other_schemes),
        T(request_id_validation),
        T(content_types),
        T(utf8_validation),
        T(web_is_set_only_on_a_web_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
