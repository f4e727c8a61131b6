/* Access-log lines: fields, no query string, hostile bytes neutralised. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access_log.h"

static void
line_has_every_field_and_no_query(void **state)
{
    gw_access_entry e = {.ts_ms = 1700000000123,
                         .request_id = "rid",
                         .method = "POST",
                         .method_len = 4,
                         .path = "/oauth/token?client_secret=s3cr3t",
                         .path_len = 33,
                         .status = 200,
                         .duration_ms = 1.23456,
                         .bytes_in = 10,
                         .bytes_out = 20,
                         .proto = "HTTP/2",
                         .client_ip = "127.0.0.1",
                         .tls = true};
    char *line = gw_access_log_line(&e);

    (void)state;
    assert_non_null(line);
    assert_null(strstr(line, "s3cr3t"));
    assert_string_equal(line,
                        "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"type\":\"access\",\"request_id\":"
                        "\"rid\",\"method\":\"POST\",\"path\":\"/oauth/token\",\"status\":200,"
                        "\"duration_ms\":1.235,\"bytes_in\":10,\"bytes_out\":20,\"proto\":"
                        "\"HTTP/2\",\"client_ip\":\"127.0.0.1\",\"tls\":true}");
    free(line);
}

static void
hostile_path_is_encoded_and_cut(void **state)
{
    char path[2000];
    gw_access_entry e = {.method = "G\nET", .method_len = 4, .path = path, .status = 400};
    json_t *j;
    char *line;

    (void)state;
    memset(path, 'a', sizeof(path));
    memcpy(path, "/\xff\x00\"\n%", 6);
    e.path_len = sizeof(path);
    line = gw_access_log_line(&e);
    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    j = json_loads(line, 0, NULL);
    assert_non_null(j);
    assert_true(strncmp(json_string_value(json_object_get(j, "path")), "/%FF%00\"%0A%25aa", 16) ==
                0);
    assert_true(strlen(json_string_value(json_object_get(j, "path"))) <= (size_t)256 * 3);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "G%0AET");
    json_decref(j);
    free(line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_every_field_and_no_query),
        cmocka_unit_test(hostile_path_is_encoded_and_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
