#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "web.pb-c.h"

/* The one table from error class to HTTP status (proto/bus.proto ErrorClass). */
static const struct {
    Tollgate__Bus__ErrorClass cls;
    int status;
    const char *dbconn_name; /* default "name" of the dbconnections error shape */
} class_table[] = {
    {TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, 400, "BadRequestError"},
    {TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, 401, "UnauthorizedError"},
    {TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, 403, "ForbiddenError"},
    {TOLLGATE__BUS__ERROR_CLASS__NOT_FOUND, 404, "NotFoundError"},
    {TOLLGATE__BUS__ERROR_CLASS__METHOD_NOT_ALLOWED, 405, "MethodNotAllowedError"},
    {TOLLGATE__BUS__ERROR_CLASS__CONFLICT, 409, "ConflictError"},
    {TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, 429, "TooManyRequestsError"},
    {TOLLGATE__BUS__ERROR_CLASS__INTERNAL, 500, "InternalServerError"},
    {TOLLGATE__BUS__ERROR_CLASS__NOT_IMPLEMENTED, 501, "NotImplementedError"},
    {TOLLGATE__BUS__ERROR_CLASS__UNAVAILABLE, 503, "ServiceUnavailableError"},
};

static const char body_500[] =
    "{\"error\":\"server_error\",\"error_description\":\"Internal Server Error\"}";
static const char body_503[] =
    "{\"error\":\"temporarily_unavailable\",\"error_description\":\"The service is temporarily "
    "unavailable. Please try again later.\"}";

int
gw_status_for_class(int error_class)
{
    for (size_t i = 0; i < sizeof(class_table) / sizeof(class_table[0]); i++)
        if ((int)class_table[i].cls == error_class)
            return class_table[i].status;
    return 500;
}

static const char *
dbconn_name_for_status(int status)
{
    for (size_t i = 0; i < sizeof(class_table) / sizeof(class_table[0]); i++)
        if (class_table[i].status == status)
            return class_table[i].dbconn_name;
    return "InternalServerError";
}

static void
response_reset(gw_response *out, int status)
{
    memset(out, 0, sizeof(*out));
    out->status = status;
}

static void
render_static_500(gw_response *out)
{
    response_reset(out, 500);
    out->content_type = GW_CONTENT_TYPE_JSON;
    out->body = body_500;
    out->body_len = sizeof(body_500) - 1;
}

/* Serialises obj (reference taken) into the response body. */
static bool
set_json_body(gw_response *out, json_t *obj, ProtobufCAllocator *arena)
{
    char *text;
    bool ok = false;

    if (obj == NULL)
        return false;
    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL)
        return false;
    out->body_len = strlen(text);
    if ((out->body = arena_pb_strndup(arena, text, out->body_len)) != NULL)
        ok = true;
    out->content_type = GW_CONTENT_TYPE_JSON;
    free(text);
    return ok;
}

/* ---- headers ------------------------------------------------------------------------------- */

static bool
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Framing is h2o's; content type, request id and the security headers are the gateway's. */
static const char *const reserved_headers[] = {
    "connection",
    "content-length",
    "content-type",
    "date",
    "host",
    "http2-settings",
    "keep-alive",
    "proxy-connection",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "x-request-id",
    "x-content-type-options",
};

bool
gw_response_add_header(gw_response *out, const char *name, const char *value,
                       ProtobufCAllocator *arena)
{
    size_t nlen = name ? strlen(name) : 0, vlen = value ? strlen(value) : 0;
    char *lname;

    if (out->n_headers >= GW_MAX_RESPONSE_HEADERS || nlen == 0 || nlen > 64 || vlen > 8192)
        return false;
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)name[i]))
            return false;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return false;
    /* copies: h2o keeps pointers to header strings until the headers are written, which for
     * HTTP/2 happens after the bus result they came from is freed */
    if ((lname = arena_pb_strndup(arena, name, nlen)) == NULL ||
        (value = arena_pb_strndup(arena, value ? value : "", vlen)) == NULL)
        return false;
    for (size_t i = 0; i < nlen; i++)
        if (lname[i] >= 'A' && lname[i] <= 'Z')
            lname[i] = (char)(lname[i] - 'A' + 'a');
    out->headers[out->n_headers].name = lname;
    out->headers[out->n_headers].value = value;
    out->n_headers++;
    return true;
}

static void
add_service_headers(gw_response *out, Tollgate__Bus__KeyValue **kv, size_t n,
                    ProtobufCAllocator *arena)
{
    for (size_t i = 0; i < n; i++)
        if (!gw_response_add_header(out, kv[i]->key, kv[i]->value, arena))
            LOG_WARN("gateway: dropped response header from service (index %zu)", i);
}

/* ---- errors -------------------------------------------------------------------------------- */

void
gw_render_oauth_error(gw_response *out, int status, const char *error, const char *description,
                      ProtobufCAllocator *arena)
{
    response_reset(out, status);
    if (!set_json_body(
            out, json_pack("{s:s, s:s}", "error", error, "error_description", description), arena))
        render_static_500(out);
}

void
gw_render_transport_failure(gw_response *out, tg_err status)
{
    if (status == TG_ETIMEDOUT || status == TG_EUNAVAILABLE || status == TG_ECLOSED) {
        response_reset(out, 503);
        out->content_type = GW_CONTENT_TYPE_JSON;
        out->body = body_503;
        out->body_len = sizeof(body_503) - 1;
        return;
    }
    render_static_500(out);
}

static const char *
or_default(const char *s, const char *dflt)
{
    return s != NULL && s[0] != '\0' ? s : dflt;
}

/* Extra string fields; never replaces a field the shape already has. */
static void
add_extras(json_t *obj, Tollgate__Bus__KeyValue **kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v;

        if (kv[i]->key == NULL || kv[i]->key[0] == '\0' || json_object_get(obj, kv[i]->key))
            continue;
        if ((v = json_string(kv[i]->value ? kv[i]->value : "")) != NULL)
            json_object_set_new(obj, kv[i]->key, v);
    }
}

void
gw_render_bus_error(gw_response *out, const Tollgate__Bus__Error *e, ProtobufCAllocator *arena)
{
    int status = gw_status_for_class(e->error_class);
    const char *desc = e->error_description ? e->error_description : "";
    json_t *obj;

    if (e->error_class == TOLLGATE__BUS__ERROR_CLASS__ERROR_NONE) {
        LOG_ERROR("gateway: service error without an error class (error=%s)",
                  e->error ? e->error : "");
        render_static_500(out);
        return;
    }
    response_reset(out, status);
    switch (e->shape) {
    case TOLLGATE__BUS__ERROR_SHAPE__SHAPE_TEXT:
        out->content_type = GW_CONTENT_TYPE_TEXT;
        out->body = desc;
        out->body_len = strlen(desc);
        break;
    case TOLLGATE__BUS__ERROR_SHAPE__SHAPE_DBCONN:
        obj = json_pack("{s:s, s:s, s:s, s:i}", "name",
                        or_default(e->name, dbconn_name_for_status(status)), "code",
                        or_default(e->error, "server_error"), "description", desc, "statusCode",
                        status);
        if (obj != NULL)
            add_extras(obj, e->extra, e->n_extra);
        if (!set_json_body(out, obj, arena)) {
            render_static_500(out);
            return;
        }
        break;
    default:
        obj = json_pack("{s:s, s:s}", "error", or_default(e->error, "server_error"),
                        "error_description", desc);
        if (obj != NULL)
            add_extras(obj, e->extra, e->n_extra);
        if (!set_json_body(out, obj, arena)) {
            render_static_500(out);
            return;
        }
        break;
    }
    add_service_headers(out, e->headers, e->n_headers, arena);
}

/* ---- replies ------------------------------------------------------------------------------- */

static json_t *
scalar_to_json(const ProtobufCFieldDescriptor *field, const void *p, bool omit_default)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int32_t v = *(const int32_t *)p;
        return omit_default && v == 0 ? NULL : json_integer(v);
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = *(const int64_t *)p;
        return omit_default && v == 0 ? NULL : json_integer(v);
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v = *(const uint32_t *)p;
        return omit_default && v == 0 ? NULL : json_integer(v);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)p;
        if (omit_default && v == 0)
            return NULL;
        return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = field->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;
        return (omit_default && v == 0) || !isfinite(v) ? NULL : json_real(v);
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean v = *(const protobuf_c_boolean *)p;
        return omit_default && !v ? NULL : json_boolean(v);
    }
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev;
        if (omit_default && v == 0)
            return NULL;
        ev = protobuf_c_enum_descriptor_get_value(field->descriptor, v);
        return ev != NULL ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *v = *(char *const *)p;
        if (v == NULL || (omit_default && v[0] == '\0'))
            return NULL;
        return json_string(v);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *v = p;
        char *b64;
        json_t *j;
        if (omit_default && v->len == 0)
            return NULL;
        if (tg_b64_encode(v->data, v->len, &b64) != TG_OK)
            return NULL;
        j = json_string(b64);
        free(b64);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *v = *(ProtobufCMessage *const *)p;
        return v == NULL ? NULL : gw_message_to_json(v);
    }
    }
    return NULL;
}

static size_t
elem_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
    }
}

static bool
is_directive_field(const ProtobufCFieldDescriptor *field)
{
    return field->type == PROTOBUF_C_TYPE_MESSAGE &&
           field->descriptor == &tollgate__web__directive__descriptor;
}

/* Proto2 optional scalars and oneof members carry explicit presence. */
static bool
field_is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    const char *base = (const char *)msg;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + field->quantifier_offset) == field->id;
    if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->type != PROTOBUF_C_TYPE_STRING &&
        field->type != PROTOBUF_C_TYPE_MESSAGE)
        return *(const protobuf_c_boolean *)(base + field->quantifier_offset);
    return true;
}

json_t *
gw_message_to_json(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    json_t *obj = json_object();

    if (obj == NULL)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &d->fields[i];
        json_t *j;

        if (is_directive_field(field))
            continue;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + field->quantifier_offset);
            const char *arr = *(char *const *)(base + field->offset);
            if (n == 0)
                continue;
            if ((j = json_array()) == NULL)
                goto fail;
            for (size_t k = 0; k < n; k++) {
                json_t *e = scalar_to_json(field, arr + k * elem_size(field->type), false);
                if (e == NULL || json_array_append_new(j, e) != 0) {
                    json_decref(j);
                    goto fail;
                }
            }
        } else {
            if (!field_is_present(msg, field))
                continue;
            j = scalar_to_json(field, base + field->offset,
                               field->label == PROTOBUF_C_LABEL_NONE ||
                                   field->type == PROTOBUF_C_TYPE_STRING);
            if (j == NULL) {
                /* NULL means omitted, except for a string that is not UTF-8 or a nested
                 * message that failed the same way */
                if (field->type == PROTOBUF_C_TYPE_STRING ||
                    field->type == PROTOBUF_C_TYPE_MESSAGE) {
                    const char *p = *(char *const *)(base + field->offset);
                    if (p != NULL && (field->type == PROTOBUF_C_TYPE_MESSAGE || p[0] != '\0'))
                        goto fail;
                }
                continue;
            }
        }
        if (json_object_set_new(obj, field->name, j) != 0)
            goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static ProtobufCMessage *
directive_of(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "http");

    if (field == NULL || !is_directive_field(field) || field->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(ProtobufCMessage **)((char *)msg + field->offset);
}

/* A directive with status 0 only adds headers to the JSON reply (e.g. CORS on a success): it
 * must not carry a body, content type or location, which would say the service meant more. */
static tg_err
add_directive_headers(gw_response *out, const Tollgate__Web__Directive *d,
                      ProtobufCAllocator *arena)
{
    if (d->body.len != 0 || (d->content_type != NULL && d->content_type[0] != '\0') ||
        (d->location != NULL && d->location[0] != '\0'))
        return TG_EINVAL;
    for (size_t i = 0; i < d->n_headers; i++)
        if (!gw_response_add_header(out, d->headers[i]->name, d->headers[i]->value, arena))
            LOG_WARN("gateway: dropped directive header (index %zu)", i);
    return TG_OK;
}

static tg_err
render_directive(gw_response *out, const Tollgate__Web__Directive *d, ProtobufCAllocator *arena)
{
    int status = d->status;

    if (status < 200 || status > 599)
        return TG_EINVAL;
    response_reset(out, status);
    if (d->content_type != NULL && d->content_type[0] != '\0') {
        for (const char *c = d->content_type; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return TG_EINVAL;
        out->content_type = d->content_type;
    }
    out->body = d->body.len ? (const char *)d->body.data : NULL;
    out->body_len = d->body.len;
    if (d->location != NULL && d->location[0] != '\0' &&
        !gw_response_add_header(out, "location", d->location, arena))
        return TG_EINVAL;
    for (size_t i = 0; i < d->n_headers; i++)
        if (!gw_response_add_header(out, d->headers[i]->name, d->headers[i]->value, arena))
            LOG_WARN("gateway: dropped directive header (index %zu)", i);
    return TG_OK;
}

tg_err
gw_render_reply(gw_response *out, const ProtobufCMessageDescriptor *desc,
                const ProtobufCBinaryData *payload, ProtobufCAllocator *arena)
{
    ProtobufCMessage *msg, *directive;

    response_reset(out, 200);
    msg = protobuf_c_message_unpack(desc, arena, payload->len, payload->data);
    if (msg == NULL)
        return TG_EPROTO;
    directive = directive_of(msg);
    if (directive != NULL && ((const Tollgate__Web__Directive *)directive)->status != 0)
        return render_directive(out, (const Tollgate__Web__Directive *)directive, arena);
    if (!set_json_body(out, gw_message_to_json(msg), arena))
        return TG_EINVAL;
    if (directive != NULL)
        return add_directive_headers(out, (const Tollgate__Web__Directive *)directive, arena);
    return TG_OK;
}
