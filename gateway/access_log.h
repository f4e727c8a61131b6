/*
 * One structured access-log line per request. Never holds a body, a query string (it may carry
 * secrets), an Authorization header or a cookie: the entry has no field for them.
 */
#ifndef TG_GATEWAY_ACCESS_LOG_H
#define TG_GATEWAY_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_access_entry {
    int64_t ts_ms;          /* epoch ms when the request began */
    const char *request_id; /* may be NULL */
    const char *method;
    size_t method_len;
    const char *path; /* raw request target; cut at '?' here */
    size_t path_len;
    int status;
    double duration_ms;
    size_t bytes_in;
    size_t bytes_out;
    const char *proto; /* "HTTP/1.1", "HTTP/2" */
    const char *client_ip;
    bool tls;
} gw_access_entry;

/* The JSON object line (no newline). Control and non-ASCII bytes of method and path are
 * percent-encoded, and both are truncated. Returns NULL on allocation failure; free() it. */
char *gw_access_log_line(const gw_access_entry *e);

#endif
