#include "access_log.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_LOGGED_PATH 256
#define MAX_LOGGED_METHOD 16

/* Printable ASCII is kept, everything else %XX, so the line is always valid UTF-8 JSON. */
static json_t *
safe_string(const char *s, size_t len, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[MAX_LOGGED_PATH * 3 + 1];
    size_t o = 0;

    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x20 && c < 0x7f && c != '%') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    return json_stringn(buf, o);
}

char *
gw_access_log_line(const gw_access_entry *e)
{
    char ts[32];
    time_t secs = (time_t)(e->ts_ms / 1000);
    struct tm tm;
    size_t path_len = e->path ? e->path_len : 0;
    const char *q = e->path ? memchr(e->path, '?', path_len) : NULL;
    json_t *obj;
    char *line;
    size_t n;

    if (q != NULL)
        path_len = (size_t)(q - e->path);
    gmtime_r(&secs, &tm);
    n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(e->ts_ms % 1000));
    obj = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:i, s:f, s:I, s:I, s:s, s:s, s:b}", "ts", ts, "type", "access",
        "request_id", e->request_id ? e->request_id : "", "method",
        safe_string(e->method ? e->method : "", e->method ? e->method_len : 0, MAX_LOGGED_METHOD),
        "path", safe_string(e->path ? e->path : "", path_len, MAX_LOGGED_PATH), "status", e->status,
        "duration_ms", floor(e->duration_ms * 1000 + 0.5) / 1000, "bytes_in",
        (json_int_t)e->bytes_in, "bytes_out", (json_int_t)e->bytes_out, "proto",
        e->proto ? e->proto : "", "client_ip", e->client_ip ? e->client_ip : "", "tls", e->tls);
    if (obj == NULL)
        return NULL;
    line = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(obj);
    return line;
}
