/* web_message.c and its page (html.c): values round-trip exactly through the JSON block and
 * none can leave it; the one script is the one the CSP hash allows; only a listed web origin
 * is a target. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/origin.h"

#define BLOCK_OPEN "<script type=\"application/json\" id=\"response\">"
/* ends the block, opens a script, breaks out of a JS string, and line separators */
#define HOSTILE "</script><script>alert('x')</script>\"\\\n\t\x01&<!--\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9"

/* The JSON block of html, parsed; fails the test when it is missing or not JSON. */
static json_t *
block_of(const char *html, char **raw)
{
    const char *start = strstr(html, BLOCK_OPEN), *end;
    json_error_t e;
    json_t *doc;

    assert_non_null(start);
    start += strlen(BLOCK_OPEN);
    end = strstr(start, "</script>");
    assert_non_null(end);
    *raw = strndup(start, (size_t)(end - start));
    doc = json_loads(*raw, 0, &e);
    if (doc == NULL)
        fail_msg("not JSON (%s): %s", e.text, *raw);
    return doc;
}

static void
test_values_round_trip_and_stay_inert(void **state)
{
    const char *const kv[][2] = {
        {"code", "c0de"}, {"state", HOSTILE}, {"empty", ""}, {"none", NULL}, {"iss", "https://t/"}};
    char *html = authorize_web_message_html("https://app.example.com", kv, 5), *raw = NULL;
    json_t *doc, *resp;

    (void)state;
    assert_non_null(html);
    doc = block_of(html, &raw);
    /* nothing in the block that HTML or a JS parser could take for markup or a line end */
    assert_null(strpbrk(raw, "<>&'\n"));
    assert_null(strstr(raw, "\xe2\x80\xa8"));
    assert_null(strstr(raw, "\xe2\x80\xa9"));
    assert_string_equal(json_string_value(json_object_get(doc, "origin")),
                        "https://app.example.com");
    resp = json_object_get(doc, "response");
    assert_true(json_is_object(resp));
    assert_int_equal(json_object_size(resp), 3); /* empty and NULL values are left out */
    assert_string_equal(json_string_value(json_object_get(resp, "code")), "c0de");
    assert_string_equal(json_string_value(json_object_get(resp, "state")), HOSTILE);
    assert_string_equal(json_string_value(json_object_get(resp, "iss")), "https://t/");
    /* exactly two script elements: the data block and the constant script */
    assert_non_null(strstr(html, "<script>" AUTHORIZE_WEB_MESSAGE_SCRIPT "</script>"));
    {
        size_t n = 0;
        for (const char *p = html; (p = strstr(p, "<script")) != NULL; p++)
            n++;
        assert_int_equal(n, 2);
    }
    json_decref(doc);
    free(raw);
    free(html);
}

static void
test_error_response_shape(void **state)
{
    const char *const kv[][2] = {
        {"error", "login_required"}, {"error_description", "Login required"}, {"state", "s1"}};
    char *html = authorize_web_message_html("http://localhost:3000", kv, 3), *raw = NULL;
    json_t *doc;

    (void)state;
    assert_non_null(html);
    doc = block_of(html, &raw);
    assert_string_equal(raw, "{\"origin\":\"http://localhost:3000\",\"response\":{\"error\":"
                             "\"login_required\",\"error_description\":\"Login required\","
                             "\"state\":\"s1\"}}");
    json_decref(doc);
    free(raw);
    free(html);
}

static void
test_script_hash(void **state)
{
    unsigned char md[32];
    unsigned int len = 0;
    char b64[64], expect[80];

    (void)state;
    assert_int_equal(EVP_Digest(AUTHORIZE_WEB_MESSAGE_SCRIPT, strlen(AUTHORIZE_WEB_MESSAGE_SCRIPT),
                                md, &len, EVP_sha256(), NULL),
                     1);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)len);
    snprintf(expect, sizeof(expect), "'sha256-%s'", b64);
    assert_string_equal(AUTHORIZE_WEB_MESSAGE_SCRIPT_HASH, expect);
    /* the message auth0-spa-js's runIframe waits for */
    assert_non_null(strstr(AUTHORIZE_WEB_MESSAGE_SCRIPT, "type:\"authorization_response\""));
    assert_non_null(strstr(AUTHORIZE_WEB_MESSAGE_SCRIPT, "window.opener?window.opener:window.parent"));
}

static void
test_only_listed_web_origins(void **state)
{
    char *web_origins[] = {"https://app.example.com", "http://localhost:3000/"};
    config_client client;
    char origin[TG_ORIGIN_MAX + 1];

    (void)state;
    memset(&client, 0, sizeof(client));
    client.web_origins.v = web_origins;
    client.web_origins.n = 2;
    assert_true(authorize_web_message_origin(&client, "https://app.example.com/cb?x=1", origin,
                                             sizeof(origin)));
    assert_string_equal(origin, "https://app.example.com");
    assert_true(authorize_web_message_origin(&client, "http://localhost:3000", origin,
                                             sizeof(origin)));
    assert_string_equal(origin, "http://localhost:3000");
    assert_false(authorize_web_message_origin(&client, "https://other.example.com/cb", origin,
                                              sizeof(origin)));
    assert_false(authorize_web_message_origin(&client, "http://app.example.com/cb", origin,
                                              sizeof(origin)));
    assert_false(authorize_web_message_origin(&client, "https://app.example.com:8443/cb", origin,
                                              sizeof(origin)));
    assert_false(authorize_web_message_origin(&client, "https://evil.com@app.example.com/", origin,
                                              sizeof(origin)));
    assert_false(authorize_web_message_origin(&client, "com.example.app://callback", origin,
                                              sizeof(origin)));
    client.web_origins.n = 0; /* a callback alone does not make its origin a web origin */
    assert_false(authorize_web_message_origin(&client, "https://app.example.com/cb", origin,
                                              sizeof(origin)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_round_trip_and_stay_inert),
        cmocka_unit_test(test_error_response_shape),
        cmocka_unit_test(test_script_hash),
        cmocka_unit_test(test_only_listed_web_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
