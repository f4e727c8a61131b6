/*
 * Reply rendering: bus replies and errors → an HTTP response description (status, content type,
 * body, headers) that http.c hands to h2o. Pure functions; no h2o here.
 *
 * Success replies are unpacked with the route's reply descriptor and rendered as JSON by field
 * name: empty strings, zero numbers and false booleans are omitted, repeated fields become
 * arrays, nested messages objects, enums their value names, bytes standard base64. A reply
 * with a set field `http` of type tollgate.web.Directive whose status is not 0 is rendered from
 * the directive instead (redirects, HTML, plain text). A directive with status 0 means "render
 * the JSON reply as usual and add the directive's headers" (how a success reply carries, say,
 * Access-Control-Allow-Origin); it must then have no body, content type or location.
 *
 * Errors: Error.error_class → HTTP status in one table (gw_status_for_class); the body takes the
 * error's shape (contract.md §1.4). Transport failures (deadline, no replica, closing) are 503
 * temporarily_unavailable; anything else the client sees as a bare 500 server_error, with the
 * detail only in the log.
 *
 * Memory: bodies and header strings come from `arena` (or static storage); the response
 * borrows the unpacked reply, so the arena must outlive the response.
 */
#ifndef TG_GATEWAY_RENDER_H
#define TG_GATEWAY_RENDER_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "bus.pb-c.h"
#include "core/err.h"

#define GW_MAX_RESPONSE_HEADERS 16
#define GW_CONTENT_TYPE_JSON "application/json; charset=utf-8"
#define GW_CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

typedef struct gw_header {
    const char *name; /* lower case (HTTP/2 needs it) */
    const char *value;
} gw_header;

typedef struct gw_response {
    int status;
    const char *content_type; /* NULL: none */
    const char *body;         /* body_len bytes; NULL when empty */
    size_t body_len;
    gw_header headers[GW_MAX_RESPONSE_HEADERS]; /* from the service: checked and lower-cased */
    size_t n_headers;
} gw_response;

/* The HTTP status for an error class; 500 for ERROR_NONE or an unknown class. */
int gw_status_for_class(int error_class);

/* {"error": error, "error_description": description} with status. Strings are copied. */
void gw_render_oauth_error(gw_response *out, int status, const char *error, const char *description,
                           ProtobufCAllocator *arena);
/* An error reply from a service, in its shape, with its headers. */
void gw_render_bus_error(gw_response *out, const Tollgate__Bus__Error *e,
                         ProtobufCAllocator *arena);
/* A failed call: TG_ETIMEDOUT, TG_EUNAVAILABLE, TG_ECLOSED → 503; anything else → 500. */
void gw_render_transport_failure(gw_response *out, tg_err status);
/* A successful reply. Returns TG_EPROTO when the payload does not unpack as desc, TG_EINVAL
 * when it cannot be rendered (the caller then answers 500 and logs). */
tg_err gw_render_reply(gw_response *out, const ProtobufCMessageDescriptor *desc,
                       const ProtobufCBinaryData *payload, ProtobufCAllocator *arena);

/* The JSON object for msg by the rules above (the `http` directive field is skipped). Returns a
 * new reference, or NULL when a string is not valid UTF-8 or memory ran out. */
json_t *gw_message_to_json(const ProtobufCMessage *msg);

/* Adds a header when name and value are safe to send: a token name not reserved by the gateway
 * or by HTTP framing, a value without CR, LF or other control characters. Returns false when it
 * was dropped. */
bool gw_response_add_header(gw_response *out, const char *name, const char *value,
                            ProtobufCAllocator *arena);

#endif
