/*
 * Request translation: query strings, application/x-www-form-urlencoded and application/json
 * bodies → the route's protobuf request message, filled by field name through protobuf-c
 * descriptors (no per-endpoint parsing). Also the small pure helpers of request intake: HTTP
 * Basic credentials, request ids, media types, UTF-8.
 *
 * Rules (contract.md §1.2): JSON null and empty strings are absent; unknown parameters are
 * ignored; message-typed fields are never filled from client input (the gateway fills `web`),
 * except singular fields of type tollgate.web.Json (recognised by descriptor, not by name):
 * those take a JSON object from a JSON body, re-serialised compactly into `text` (at most
 * GW_MAX_PARAM_BYTES, nesting at most GW_MAX_JSON_DEPTH); any other JSON type, or a non-empty
 * value in a query string or form body, is refused naming the parameter;
 * a JSON object or array where a scalar is expected, a malformed escape, a NUL byte, invalid
 * UTF-8, a duplicated non-repeated form parameter, more than GW_MAX_PARAMS values or a value
 * above GW_MAX_PARAM_BYTES are refused. Error texts name a parameter only by its field name
 * from the descriptor, never by echoing client bytes.
 *
 * Memory: every string and array put into a message comes from `arena` (a ProtobufCAllocator
 * whose free may be a no-op: req->pool in the server, lib/core arena in tests). Nothing here
 * frees; the arena's owner releases everything at once. No function keeps a pointer to its
 * input text.
 */
#ifndef TG_GATEWAY_PARAMS_H
#define TG_GATEWAY_PARAMS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define GW_MAX_PARAMS 256                      /* values per request, counting array elements */
#define GW_MAX_PARAM_BYTES ((size_t)16 * 1024) /* one decoded value */
#define GW_MAX_JSON_DEPTH 8                    /* tollgate.web.Json: object nesting */
#define GW_MAX_KEY_BYTES 128                   /* longer keys cannot name a field: ignored */
#define GW_REQUEST_ID_MAX 64

/* Why a request was refused; description is the error_description of a 400 invalid_request. */
typedef struct gw_param_error {
    char description[160];
} gw_param_error;

/* A zero-initialised message of type desc from arena, or NULL when the arena is exhausted. */
ProtobufCMessage *gw_message_new(const ProtobufCMessageDescriptor *desc, ProtobufCAllocator *arena);

/* Fills msg from a query string or form body (without the leading '?'). Returns TG_OK, or
 * TG_EINVAL / TG_ETOOBIG / TG_ENOMEM with err->description set. */
tg_err gw_params_from_form(ProtobufCMessage *msg, const char *text, size_t len,
                           ProtobufCAllocator *arena, gw_param_error *err);
/* Fills msg from a JSON body that must be one object. Same returns as gw_params_from_form. */
tg_err gw_params_from_json(ProtobufCMessage *msg, const char *text, size_t len,
                           ProtobufCAllocator *arena, gw_param_error *err);

/* Sets the message-typed field named "web" to web (borrowed; must live as long as msg) when msg
 * has such a field of web's type. Returns false when it has none. */
bool gw_params_set_web(ProtobufCMessage *msg, ProtobufCMessage *web);

/* application/x-www-form-urlencoded decoding of one component: '+' is a space, %XX must be two
 * hex digits, %00 and raw NUL are refused, the result must be UTF-8. *out is NUL-terminated and
 * from arena. TG_EINVAL when malformed, TG_ENOMEM when the arena is exhausted. */
tg_err gw_form_decode(const char *s, size_t len, ProtobufCAllocator *arena, char **out,
                      size_t *out_len);

/* HTTP Basic credentials from an Authorization header value: "Basic <base64(user:password)>",
 * split at the first ':', each half form-url-decoded (RFC 6749 §2.3.1). Returns TG_ENOTFOUND
 * when the scheme is not Basic (*user and *password stay NULL), TG_EINVAL when malformed
 * (bad base64, no ':', empty user, bad escape, NUL, invalid UTF-8), TG_ENOMEM. The strings are
 * from arena. */
tg_err gw_basic_decode(const char *value, size_t len, ProtobufCAllocator *arena, char **user,
                       char **password);

/* An incoming X-Request-Id is kept when it is 1..64 characters of [A-Za-z0-9._-]. */
bool gw_request_id_is_valid(const char *s, size_t len);
/* 16 random bytes as 32 lower-case hex characters plus NUL. */
tg_err gw_request_id_generate(char out[33]);

typedef enum gw_body_kind {
    GW_BODY_OTHER = 0,
    GW_BODY_FORM, /* application/x-www-form-urlencoded[; params] */
    GW_BODY_JSON, /* application/json[; charset=...] */
} gw_body_kind;

/* Classifies a Content-Type value (case-insensitive, parameters ignored). */
gw_body_kind gw_content_type_kind(const char *value, size_t len);


#endif
