/*
 * Reply and error rendering: JSON by descriptor, directives, the three Auth0 error shapes, the
 * class → status table and transport failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.pb-c.h"
#include "core/arena.h"
#include "render.h"
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

static ProtobufCBinaryData
pack(const ProtobufCMessage *m)
{
    ProtobufCBinaryData b;

    b.len = protobuf_c_message_get_packed_size(m);
    b.data = arena_alloc(&a, b.len + 1);
    protobuf_c_message_pack(m, b.data);
    return b;
}

static void
assert_body(const gw_response *r, const char *expected)
{
    assert_int_equal(r->body_len, strlen(expected));
    assert_memory_equal(r->body, expected, r->body_len);
}

static const char *
header(const gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- success replies ----------------------------------------------------------------------- */

static void
reply_omits_empty_strings_and_zeroes(void **state)
{
    Tollgate__Token__TokenReply t = TOLLGATE__TOKEN__TOKEN_REPLY__INIT;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    t.access_token = "at";
    t.token_type = "Bearer";
    t.expires_in = 86400;
    t.id_token = "";
    b = pack(&t.base);
    assert_int_equal(gw_render_reply(&r, &tollgate__token__token_reply__descriptor, &b, &a.pb),
                     TG_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_body(&r, "{\"access_token\":\"at\",\"expires_in\":86400,\"token_type\":\"Bearer\"}");
}

static void
reply_renders_repeated_and_nested(void **state)
{
    Tollgate__Token__Jwks jwks = TOLLGATE__TOKEN__JWKS__INIT;
    Tollgate__Token__Jwk k1 = TOLLGATE__TOKEN__JWK__INIT, k2 = TOLLGATE__TOKEN__JWK__INIT;
    Tollgate__Token__Jwk *keys[] = {&k1, &k2};
    char *x5c[] = {"MIIC", "MIID"};
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    k1.kid = "k1";
    k1.kty = "RSA";
    k1.n_x5c = 2;
    k1.x5c = x5c;
    k2.kid = "k2";
    jwks.n_keys = 2;
    jwks.keys = keys;
    b = pack(&jwks.base);
    assert_int_equal(gw_render_reply(&r, &tollgate__token__jwks__descriptor, &b, &a.pb), TG_OK);
    assert_body(&r, "{\"keys\":[{\"kid\":\"k1\",\"kty\":\"RSA\",\"x5c\":[\"MIIC\",\"MIID\"]},"
                    "{\"kid\":\"k2\"}]}");
}

static void
reply_empty_message_is_empty_object(void **state)
{
    Tollgate__Token__OpenIdConfiguration c = TOLLGATE__TOKEN__OPEN_ID_CONFIGURATION__INIT;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    b = pack(&c.base);
    assert_int_equal(
        gw_render_reply(&r, &tollgate__token__open_id_configuration__descriptor, &b, &a.pb), TG_OK);
    assert_body(&r, "{}");
}

static void
reply_json_types(void **state)
{
    Tollgate__Web__Context c = TOLLGATE__WEB__CONTEXT__INIT;
    Tollgate__Bus__Error e = TOLLGATE__BUS__ERROR__INIT;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    json_t *j;
    char *s;

    (void)state;
    c.host = "h";
    c.has_basic = 1;
    j = gw_message_to_json(&c.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"host\":\"h\",\"has_basic\":true}");
    free(s);
    json_decref(j);
    c.has_basic = 0; /* false booleans are omitted */
    j = gw_message_to_json(&c.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"host\":\"h\"}");
    free(s);
    json_decref(j);
    e.error_class = TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN; /* enums by name */
    j = gw_message_to_json(&e.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"error_class\":\"FORBIDDEN\"}");
    free(s);
    json_decref(j);
    d.body.data = (uint8_t *)"\x00\xff"; /* bytes as standard base64 */
    d.body.len = 2;
    d.status = -1;
    j = gw_message_to_json(&d.base);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"status\":-1,\"body\":\"AP8=\"}");
    free(s);
    json_decref(j);
}

static void
reply_refuses_invalid_utf8_and_garbage(void **state)
{
    Tollgate__Token__TokenReply t = TOLLGATE__TOKEN__TOKEN_REPLY__INIT;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    t.access_token = "\xc3\x28";
    b = pack(&t.base);
    assert_int_equal(gw_render_reply(&r, &tollgate__token__token_reply__descriptor, &b, &a.pb),
                     TG_EINVAL);
    b.data = (uint8_t *)"\xff\xff\xff";
    b.len = 3;
    assert_int_equal(gw_render_reply(&r, &tollgate__token__token_reply__descriptor, &b, &a.pb),
                     TG_EPROTO);
}

/* No reply in proto/ carries a directive yet, so the test builds a descriptor by hand for
 * message PageReply { string title = 1; tollgate.web.Directive http = 2; }. */
typedef struct PageReply {
    ProtobufCMessage base;
    char *title;
    Tollgate__Web__Directive *http;
} PageReply;

static const ProtobufCMessageDescriptor page_reply_descriptor;

static void
page_reply_init(ProtobufCMessage *m)
{
    PageReply *p = (PageReply *)m;

    memset(p, 0, sizeof(*p));
    p->base.descriptor = &page_reply_descriptor;
    p->title = (char *)protobuf_c_empty_string;
}

static const ProtobufCFieldDescriptor page_reply_fields[] = {
    {"title", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(PageReply, title), NULL,
     &protobuf_c_empty_string, 0, 0, NULL, NULL},
    {"http", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(PageReply, http),
     &tollgate__web__directive__descriptor, NULL, 0, 0, NULL, NULL},
};
static const unsigned page_reply_by_name[] = {1, 0};
static const ProtobufCIntRange page_reply_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor page_reply_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.PageReply",
    "PageReply",
    "PageReply",
    "test",
    sizeof(PageReply),
    2,
    page_reply_fields,
    page_reply_by_name,
    1,
    page_reply_ranges,
    page_reply_init,
    NULL,
    NULL,
    NULL,
};

static void
directive_replaces_json(void **state)
{
    PageReply p;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    Tollgate__Web__Header h = TOLLGATE__WEB__HEADER__INIT, bad = TOLLGATE__WEB__HEADER__INIT;
    Tollgate__Web__Header *hs[] = {&h, &bad};
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    page_reply_init(&p.base);
    p.title = "ignored";
    d.status = 302;
    d.location = "https://app.example/cb?code=abc";
    d.content_type = "text/html; charset=utf-8";
    d.body.data = (uint8_t *)"<p>moved</p>";
    d.body.len = 12;
    h.name = "Set-Cookie";
    h.value = "sid=1; HttpOnly";
    bad.name = "Content-Length";
    bad.value = "0";
    d.n_headers = 2;
    d.headers = hs;
    p.http = &d;
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_OK);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_body(&r, "<p>moved</p>");
    assert_string_equal(header(&r, "location"), "https://app.example/cb?code=abc");
    assert_string_equal(header(&r, "set-cookie"), "sid=1; HttpOnly");
    assert_null(header(&r, "content-length"));
}

static void
directive_absent_renders_json_without_http(void **state)
{
    PageReply p;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    page_reply_init(&p.base);
    p.title = "t";
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_OK);
    assert_int_equal(r.status, 200);
    assert_body(&r, "{\"title\":\"t\"}");
}

static void
directive_refuses_unsafe_values(void **state)
{
    PageReply p;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    page_reply_init(&p.base);
    p.http = &d;
    d.status = 99;
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_EINVAL);
    d.status = 302;
    d.location = "https://x/\r\nSet-Cookie: a=b";
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_EINVAL);
    d.location = "";
    d.content_type = "text/html\r\nX: y";
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_EINVAL);
    d.content_type = "";
    d.status = 0; /* headers only: a body would be ignored, so it is refused */
    d.body.data = (uint8_t *)"x";
    d.body.len = 1;
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_EINVAL);
    d.body.len = 0;
    d.location = "https://x/";
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_EINVAL);
}

/* Status 0: the JSON reply as usual plus the directive's headers (CORS on a success). */
static void
directive_status_0_adds_headers_to_json(void **state)
{
    PageReply p;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    Tollgate__Web__Header h = TOLLGATE__WEB__HEADER__INIT, bad = TOLLGATE__WEB__HEADER__INIT;
    Tollgate__Web__Header *hs[] = {&h, &bad};
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    page_reply_init(&p.base);
    p.title = "t";
    h.name = "Access-Control-Allow-Origin";
    h.value = "https://app.example";
    bad.name = "Content-Type";
    bad.value = "text/html";
    d.n_headers = 2;
    d.headers = hs;
    p.http = &d;
    b = pack(&p.base);
    assert_int_equal(gw_render_reply(&r, &page_reply_descriptor, &b, &a.pb), TG_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, GW_CONTENT_TYPE_JSON);
    assert_body(&r, "{\"title\":\"t\"}");
    assert_string_equal(header(&r, "access-control-allow-origin"), "https://app.example");
    assert_int_equal(r.n_headers, 1);
}

static void
directive_headers_are_checked(void **state)
{
    gw_response r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_true(gw_response_add_header(&r, "Set-Cookie", "a=b; Secure", &a.pb));
    assert_string_equal(r.headers[0].name, "set-cookie");
    assert_true(gw_response_add_header(&r, "WWW-Authenticate", "Bearer realm=\"Users\"", &a.pb));
    assert_false(gw_response_add_header(&r, "x-evil", "a\r\nb: c", &a.pb));
    assert_false(gw_response_add_header(&r, "x-evil", "a\nb", &a.pb));
    assert_false(gw_response_add_header(&r, "bad name", "v", &a.pb));
    assert_false(gw_response_add_header(&r, "", "v", &a.pb));
    assert_false(gw_response_add_header(&r, "Content-Length", "1", &a.pb));
    assert_false(gw_response_add_header(&r, "transfer-encoding", "chunked", &a.pb));
    assert_false(gw_response_add_header(&r, "X-Request-Id", "spoof", &a.pb));
    assert_false(gw_response_add_header(&r, "content-type", "text/html", &a.pb));
    assert_int_equal(r.n_headers, 2);
    for (int i = 0; i < GW_MAX_RESPONSE_HEADERS; i++)
        gw_response_add_header(&r, "x-n", "v", &a.pb);
    assert_int_equal(r.n_headers, GW_MAX_RESPONSE_HEADERS);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void
class_status_table(void **state)
{
    static const struct {
        int cls, status;
    } t[] = {
        {TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, 400},
        {TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, 401},
        {TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, 403},
        {TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND, 404},
        {TOLLGATE__BUS__ERROR_CLASS__METHOD_NOT_ALLOWED, 405},
        {TOLLGATE__BUS__ERROR_CLASS__CONFLICT, 409},
        {TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, 429},
        {TOLLGATE__BUS__ERROR_CLASS__INTERNAL, 500},
        {TOLLGATE__BUS__ERROR_CLASS__NOT_IMPLEMENTED, 501},
        {TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, 503},
        {TOLLGATE__BUS__ERROR_CLASS__ERROR_NONE, 500},
        {1234, 500},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(gw_status_for_class(t[i].cls), t[i].status);
}

static void
error_oauth_shape_with_extras_and_headers(void **state)
{
    Tollgate__Bus__Error e = TOLLGATE__BUS__ERROR__INIT;
    Tollgate__Bus__KeyValue x1 = TOLLGATE__BUS__KEY_VALUE__INIT, x2 = x1, x3 = x1, h1 = x1;
    Tollgate__Bus__KeyValue *extra[] = {&x1, &x2, &x3}, *headers[] = {&h1};
    gw_response r;

    (void)state;
    e.error_class = TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN;
    e.error = "unauthorized_client";
    e.error_description = "Grant type 'password' not allowed for the client.";
    x1.key = "error_uri";
    x1.value = "https://auth0.com/docs/clients/client-grant-types";
    x2.key = "error"; /* may not replace the code */
    x2.value = "spoof";
    x3.key = "mfa_token";
    x3.value = "m";
    e.n_extra = 3;
    e.extra = extra;
    h1.key = "X-RateLimit-Limit";
    h1.value = "10";
    e.n_headers = 1;
    e.headers = headers;
    gw_render_bus_error(&r, &e, &a.pb);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_body(&r, "{\"error\":\"unauthorized_client\",\"error_description\":\"Grant type "
                    "'password' not allowed for the client.\",\"error_uri\":\"https://auth0.com/"
                    "docs/clients/client-grant-types\",\"mfa_token\":\"m\"}");
    assert_string_equal(header(&r, "x-ratelimit-limit"), "10");
}

static void
error_dbconn_shape(void **state)
{
    Tollgate__Bus__Error e = TOLLGATE__BUS__ERROR__INIT;
    gw_response r;

    (void)state;
    e.error_class = TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST;
    e.shape = TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN;
    e.error = "user_exists";
    e.error_description = "The user already exists.";
    gw_render_bus_error(&r, &e, &a.pb);
    assert_int_equal(r.status, 400);
    assert_body(&r, "{\"name\":\"BadRequestError\",\"code\":\"user_exists\",\"description\":\"The "
                    "user already exists.\",\"statusCode\":400}");
    e.name = "PasswordStrengthError";
    e.error_class = TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS;
    gw_render_bus_error(&r, &e, &a.pb);
    assert_int_equal(r.status, 429);
    assert_body(&r, "{\"name\":\"PasswordStrengthError\",\"code\":\"user_exists\",\"description\":"
                    "\"The user already exists.\",\"statusCode\":429}");
}

static void
error_text_shape(void **state)
{
    Tollgate__Bus__Error e = TOLLGATE__BUS__ERROR__INIT;
    Tollgate__Bus__KeyValue h1 = TOLLGATE__BUS__KEY_VALUE__INIT;
    Tollgate__Bus__KeyValue *headers[] = {&h1};
    gw_response r;

    (void)state;
    e.error_class = TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED;
    e.shape = TOLLGATE__BUS__ERROR_SHAPE__SHAPE_TEXT;
    e.error = "invalid_token";
    e.error_description = "Unauthorized";
    h1.key = "WWW-Authenticate";
    h1.value = "Bearer realm=\"Users\", error=\"invalid_token\"";
    e.n_headers = 1;
    e.headers = headers;
    gw_render_bus_error(&r, &e, &a.pb);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_body(&r, "Unauthorized");
    assert_string_equal(header(&r, "www-authenticate"),
                        "Bearer realm=\"Users\", error=\"invalid_token\"");
}

static void
error_without_class_is_500(void **state)
{
    Tollgate__Bus__Error e = TOLLGATE__BUS__ERROR__INIT;
    gw_response r;

    (void)state;
    e.error = "secret detail";
    e.error_description = "stack trace";
    gw_render_bus_error(&r, &e, &a.pb);
    assert_int_equal(r.status, 500);
    assert_body(&r, "{\"error\":\"server_error\",\"error_description\":\"Internal Server Error\"}");
}

static void
transport_failures(void **state)
{
    static const char body_503[] =
        "{\"error\":\"temporarily_unavailable\",\"error_description\":\"The service is "
        "temporarily unavailable. Please try again later.\"}";
    gw_response r;

    (void)state;
    gw_render_transport_failure(&r, TG_ETIMEDOUT);
    assert_int_equal(r.status, 503);
    assert_body(&r, body_503);
    gw_render_transport_failure(&r, TG_EUNAVAILABLE);
    assert_int_equal(r.status, 503);
    gw_render_transport_failure(&r, TG_ECLOSED);
    assert_int_equal(r.status, 503);
    gw_render_transport_failure(&r, TG_EPROTO);
    assert_int_equal(r.status, 500);
    assert_body(&r, "{\"error\":\"server_error\",\"error_description\":\"Internal Server Error\"}");
    gw_render_transport_failure(&r, TG_EINTERNAL);
    assert_int_equal(r.status, 500);
}

static void
oauth_error_escapes(void **state)
{
    gw_response r;

    (void)state;
    gw_render_oauth_error(&r, 400, "invalid_request", "Duplicate parameter: \"x\"\n", &a.pb);
    assert_int_equal(r.status, 400);
    assert_body(&r, "{\"error\":\"invalid_request\",\"error_description\":\"Duplicate parameter: "
                    "\\\"x\\\"\\n\"}");
}

/* /userinfo answers a bad token with a directive: 401, text/plain, WWW-Authenticate. */
static void
directive_userinfo_401_text(void **state)
{
    Tollgate__Token__UserinfoReply u = TOLLGATE__TOKEN__USERINFO_REPLY__INIT;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    Tollgate__Web__Header h = TOLLGATE__WEB__HEADER__INIT;
    Tollgate__Web__Header *hs[] = {&h};
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    d.status = 401;
    d.content_type = "text/plain; charset=utf-8";
    d.body.data = (uint8_t *)"Unauthorized";
    d.body.len = 12;
    h.name = "WWW-Authenticate";
    h.value = "Bearer error=\"invalid_token\", error_description=\"Invalid token\"";
    d.n_headers = 1;
    d.headers = hs;
    u.http = &d;
    b = pack(&u.base);
    assert_int_equal(gw_render_reply(&r, &tollgate__token__userinfo_reply__descriptor, &b, &a.pb),
                     TG_OK);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_body(&r, "Unauthorized");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(header(&r, "www-authenticate"),
                        "Bearer error=\"invalid_token\", error_description=\"Invalid token\"");
}

/* Signup answers in the dbconnections shape through a directive; the body goes out verbatim. */
static void
directive_signup_400_json(void **state)
{
    static const char body[] = "{\"name\":\"BadRequestError\",\"code\":\"invalid_signup\","
                               "\"description\":\"Invalid sign up\",\"statusCode\":400}";
    Tollgate__Users__SignupReply s = TOLLGATE__USERS__SIGNUP_REPLY__INIT;
    Tollgate__Web__Directive d = TOLLGATE__WEB__DIRECTIVE__INIT;
    ProtobufCBinaryData b;
    gw_response r;

    (void)state;
    d.status = 400;
    d.content_type = "application/json; charset=utf-8";
    d.body.data = (uint8_t *)body;
    d.body.len = sizeof(body) - 1;
    s.http = &d;
    b = pack(&s.base);
    assert_int_equal(gw_render_reply(&r, &tollgate__users__signup_reply__descriptor, &b, &a.pb),
                     TG_OK);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_body(&r, body);
    assert_int_equal(r.n_headers, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(reply_omits_empty_strings_and_zeroes),
        T(reply_renders_repeated_and_nested),
        T(reply_empty_message_is_empty_object),
        T(reply_json_types),
        T(reply_refuses_invalid_utf8_and_garbage),
        T(directive_replaces_json),
        T(directive_absent_renders_json_without_http),
        T(directive_refuses_unsafe_values),
        T(directive_status_0_adds_headers_to_json),
        T(directive_headers_are_checked),
        T(directive_userinfo_401_text),
        T(directive_signup_400_json),
        T(class_status_table),
        T(error_oauth_shape_with_extras_and_headers),
        T(error_dbconn_shape),
        T(error_text_shape),
        T(error_without_class_is_500),
        T(transport_failures),
        T(oauth_error_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
