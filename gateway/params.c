#include "params.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/util.h"
#include "web.pb-c.h"

/* One translation in progress: the message, its arena and the per-request counters. */
typedef struct filler {
    ProtobufCMessage *msg;
    ProtobufCAllocator *arena;
    gw_param_error *err;
    size_t values;       /* values seen so far, against GW_MAX_PARAMS */
    unsigned char *seen; /* per field index: already set (form duplicates) */
} filler;

static tg_err
fail(gw_param_error *err, tg_err code, const char *fmt, const char *name)
{
    snprintf(err->description, sizeof(err->description), fmt, name ? name : "");
    return code;
}

static void *
arena_get(ProtobufCAllocator *arena, size_t size)
{
    void *p = arena->alloc(arena->allocator_data, size ? size : 1);

    if (p != NULL)
        memset(p, 0, size ? size : 1);
    return p;
}

ProtobufCMessage *
gw_message_new(const ProtobufCMessageDescriptor *desc, ProtobufCAllocator *arena)
{
    ProtobufCMessage *msg = arena_get(arena, desc->sizeof_message);

    if (msg != NULL)
        protobuf_c_message_init(desc, msg);
    return msg;
}

/* ---- UTF-8, media types, request ids ----------------------------------------------------- */

gw_body_kind
gw_content_type_kind(const char *value, size_t len)
{
    static const char form[] = "application/x-www-form-urlencoded";
    static const char json[] = "application/json";
    size_t end = 0;

    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (end < len && value[end] != ';')
        end++;
    while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\t'))
        end--;
    if (end == sizeof(form) - 1 && strncasecmp(value, form, end) == 0)
        return GW_BODY_FORM;
    if (end == sizeof(json) - 1 && strncasecmp(value, json, end) == 0)
        return GW_BODY_JSON;
    return GW_BODY_OTHER;
}

bool
gw_request_id_is_valid(const char *s, size_t len)
{
    if (len == 0 || len > GW_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

tg_err
gw_request_id_generate(char out[33])
{
    unsigned char raw[16];
    tg_err err;

    out[0] = '\0';
    if ((err = tg_random_bytes(raw, sizeof(raw))) != TG_OK)
        return err;
    tg_hex_encode(raw, sizeof(raw), out);
    return TG_OK;
}

/* ---- form decoding ------------------------------------------------------------------------- */

tg_err
gw_form_decode(const char *s, size_t len, ProtobufCAllocator *arena, char **out, size_t *out_len)
{
    char *buf;
    size_t o = 0;

    *out = NULL;
    *out_len = 0;
    if ((buf = arena->alloc(arena->allocator_data, len + 1)) == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = tg_hex_value(s[i + 1])) < 0 || (lo = tg_hex_value(s[i + 2])) < 0)
                return TG_EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return TG_EINVAL;
        buf[o++] = c;
    }
    buf[o] = '\0';
    if (!tg_utf8_is_valid(buf, o))
        return TG_EINVAL;
    *out = buf;
    *out_len = o;
    return TG_OK;
}

/* ---- setting fields by descriptor ---------------------------------------------------------- */

static size_t
element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* A typed value ready to store; `bytes` holds strings and bytes (NUL-terminated, arena). */
typedef struct value {
    union {
        int32_t i32;
        int64_t i64;
        uint32_t u32;
        uint64_t u64;
        float f;
        double d;
        protobuf_c_boolean b;
        char *s;
        ProtobufCBinaryData bytes;
        ProtobufCMessage *m;
    } u;
} value;

/* Where the value for field goes: the singular slot, or a new element at the end of the
 * repeated array. Marks presence for proto2 optional scalars and oneof members. */
static void *
field_slot(filler *f, const ProtobufCFieldDescriptor *field)
{
    char *base = (char *)f->msg;
    size_t esize = element_size(field->type);

    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = (size_t *)(base + field->quantifier_offset);
        void **arr = (void **)(base + field->offset);
        char *grown = f->arena->alloc(f->arena->allocator_data, (*n + 1) * esize);

        if (grown == NULL)
            return NULL;
        if (*n > 0)
            memcpy(grown, *arr, *n * esize);
        *arr = grown;
        return grown + (*n)++ * esize;
    }
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + field->quantifier_offset) = field->id;
    else if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->type != PROTOBUF_C_TYPE_STRING &&
             field->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)(base + field->quantifier_offset) = 1;
    return base + field->offset;
}

static tg_err
store(filler *f, const ProtobufCFieldDescriptor *field, const value *v)
{
    void *slot = field_slot(f, field);

    if (slot == NULL)
        return fail(f->err, TG_ENOMEM, "Out of memory%s", NULL);
    memcpy(slot, &v->u, element_size(field->type));
    return TG_OK;
}

/* Parses a whole decimal integer; no sign for unsigned, no spaces, no '+'. */
static bool
parse_int(const char *s, bool is_signed, int64_t *si, uint64_t *ui)
{
    const char *digits = is_signed && *s == '-' ? s + 1 : s;
    char *end;

    if (*digits < '0' || *digits > '9')
        return false;
    errno = 0;
    if (is_signed)
        *si = strtoll(s, &end, 10);
    else
        *ui = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Converts integer text to the field's integer type, with range checks. */
static bool
int_value(const ProtobufCFieldDescriptor *field, bool neg, int64_t si, uint64_t ui, value *v)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (neg ? si < INT32_MIN : ui > INT32_MAX)
            return false;
        v->u.i32 = neg ? (int32_t)si : (int32_t)ui;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!neg && ui > INT64_MAX)
            return false;
        v->u.i64 = neg ? si : (int64_t)ui;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (neg || ui > UINT32_MAX)
            return false;
        v->u.u32 = (uint32_t)ui;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (neg)
            return false;
        v->u.u64 = ui;
        return true;
    case PROTOBUF_C_TYPE_FLOAT: v->u.f = neg ? (float)si : (float)ui; return true;
    case PROTOBUF_C_TYPE_DOUBLE: v->u.d = neg ? (double)si : (double)ui; return true;
    default: return false;
    }
}

static bool
is_integer_type(ProtobufCType t)
{
    return t != PROTOBUF_C_TYPE_BOOL && t != PROTOBUF_C_TYPE_ENUM && t != PROTOBUF_C_TYPE_STRING &&
           t != PROTOBUF_C_TYPE_BYTES && t != PROTOBUF_C_TYPE_MESSAGE;
}

/* Stores text (already decoded, NUL-terminated, len bytes, from the arena) into field. */
static tg_err
set_text(filler *f, const ProtobufCFieldDescriptor *field, char *text, size_t len)
{
    value v;

    memset(&v, 0, sizeof(v));
    if (len > GW_MAX_PARAM_BYTES)
        return fail(f->err, TG_ETOOBIG, "Parameter too long: %s", field->name);
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING: v.u.s = text; break;
    case PROTOBUF_C_TYPE_BYTES:
        v.u.bytes.data = (uint8_t *)text;
        v.u.bytes.len = len;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(text, "true") == 0)
            v.u.b = 1;
        else if (strcmp(text, "false") != 0)
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(field->descriptor, text);
        if (ev == NULL)
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        v.u.i32 = ev->value;
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        char *end;
        double d;
        errno = 0;
        d = strtod(text, &end);
        if (errno != 0 || *end != '\0' || end == text || !isfinite(d) || text[0] == ' ')
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        if (field->type == PROTOBUF_C_TYPE_FLOAT)
            v.u.f = (float)d;
        else
            v.u.d = d;
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: return TG_OK; /* never from client input */
    default: {
        bool is_signed =
            field->type == PROTOBUF_C_TYPE_INT32 || field->type == PROTOBUF_C_TYPE_SINT32 ||
            field->type == PROTOBUF_C_TYPE_SFIXED32 || field->type == PROTOBUF_C_TYPE_INT64 ||
            field->type == PROTOBUF_C_TYPE_SINT64 || field->type == PROTOBUF_C_TYPE_SFIXED64;
        int64_t si = 0;
        uint64_t ui = 0;
        bool neg;

        if (!parse_int(text, is_signed, &si, &ui))
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        neg = is_signed && si < 0;
        if (is_signed && !neg)
            ui = (uint64_t)si;
        if (!int_value(field, neg, si, ui, &v))
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        break;
    }
    }
    return store(f, field, &v);
}

static tg_err
count_value(filler *f)
{
    if (++f->values > GW_MAX_PARAMS)
        return fail(f->err, TG_ETOOBIG, "Too many parameters%s", NULL);
    return TG_OK;
}

/* A singular tollgate.web.Json field: filled from a JSON object (recognised by its type, not
 * its name). */
static bool
is_json_field(const ProtobufCFieldDescriptor *field)
{
    return field->type == PROTOBUF_C_TYPE_MESSAGE &&
           field->descriptor == &tollgate__web__json__descriptor &&
           field->label != PROTOBUF_C_LABEL_REPEATED;
}

/* The field a client may fill under this name, or NULL (unknown, or message-typed other than
 * a singular tollgate.web.Json). */
static const ProtobufCFieldDescriptor *
client_field(const filler *f, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(f->msg->descriptor, name);

    if (field == NULL || (field->type == PROTOBUF_C_TYPE_MESSAGE && !is_json_field(field)))
        return NULL;
    return field;
}

static bool
filler_init(filler *f, ProtobufCMessage *msg, ProtobufCAllocator *arena, gw_param_error *err)
{
    f->msg = msg;
    f->arena = arena;
    f->err = err;
    f->values = 0;
    f->seen = arena_get(arena, msg->descriptor->n_fields);
    err->description[0] = '\0';
    return f->seen != NULL;
}

/* ---- form ---------------------------------------------------------------------------------- */

static tg_err
form_pair(filler *f, const char *pair, size_t len)
{
    const char *eq = memchr(pair, '=', len);
    size_t klen = eq ? (size_t)(eq - pair) : len;
    const ProtobufCFieldDescriptor *field;
    char *key, *val;
    size_t keylen, vallen;
    tg_err err;

    if ((err = count_value(f)) != TG_OK)
        return err;
    if ((err = gw_form_decode(pair, klen, f->arena, &key, &keylen)) != TG_OK)
        return fail(f->err, err, "Malformed form parameter%s", NULL);
    err = gw_form_decode(eq ? eq + 1 : "", eq ? len - klen - 1 : 0, f->arena, &val, &vallen);
    if (keylen > GW_MAX_KEY_BYTES || (field = client_field(f, key)) == NULL) {
        if (err != TG_OK) /* unknown parameters are ignored, but their encoding must be sound */
            return fail(f->err, err, "Malformed form parameter%s", NULL);
        return TG_OK;
    }
    if (err != TG_OK)
        return fail(f->err, err, "Malformed value for parameter: %s", field->name);
    /* Auth0 takes object parameters (user_metadata) only in a JSON body; refusing beats
     * dropping them silently. Empty is absent, as everywhere. */
    if (is_json_field(field) && vallen > 0)
        return fail(f->err, TG_EINVAL, "Parameter must be a JSON object in a JSON body: %s",
                    field->name);
    if (field->label != PROTOBUF_C_LABEL_REPEATED) {
        size_t idx = (size_t)(field - f->msg->descriptor->fields);
        if (f->seen[idx])
            return fail(f->err, TG_EINVAL, "Duplicate parameter: %s", field->name);
        f->seen[idx] = 1;
    }
    if (vallen == 0)
        return TG_OK; /* empty = absent */
    return set_text(f, field, val, vallen);
}

tg_err
gw_params_from_form(ProtobufCMessage *msg, const char *text, size_t len, ProtobufCAllocator *arena,
                    gw_param_error *err)
{
    filler f;
    size_t start = 0;

    if (!filler_init(&f, msg, arena, err))
        return fail(err, TG_ENOMEM, "Out of memory%s", NULL);
    while (start < len) {
        const char *amp = memchr(text + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - text) : len;
        tg_err e;

        if (end > start && (e = form_pair(&f, text + start, end - start)) != TG_OK)
            return e;
        start = end + 1;
    }
    return TG_OK;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* Shortest text that reads back as the same double ("1.5", not "1.5000000000000000"). */
static void
format_real(double d, char *buf, size_t len)
{
    if (d == floor(d) && fabs(d) < 1e15) { /* 1e3 → "1000", not "1e+03" */
        snprintf(buf, len, "%.0f", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static tg_err
set_json_scalar(filler *f, const ProtobufCFieldDescriptor *field, json_t *j)
{
    char num[40];
    value v;

    memset(&v, 0, sizeof(v));
    switch (json_typeof(j)) {
    case JSON_NULL: return TG_OK;
    case JSON_STRING: {
        size_t len = json_string_length(j);
        char *copy;
        if (len == 0)
            return TG_OK;
        if (len > GW_MAX_PARAM_BYTES)
            return fail(f->err, TG_ETOOBIG, "Parameter too long: %s", field->name);
        if ((copy = arena_pb_strndup(f->arena, json_string_value(j), len)) == NULL)
            return fail(f->err, TG_ENOMEM, "Out of memory%s", NULL);
        return set_text(f, field, copy, len);
    }
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(j);
        if (field->type == PROTOBUF_C_TYPE_STRING) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, n);
            break;
        }
        if (!is_integer_type(field->type) && field->type != PROTOBUF_C_TYPE_ENUM)
            return fail(f->err, TG_EINVAL, "Invalid type for parameter: %s", field->name);
        if (field->type == PROTOBUF_C_TYPE_ENUM) {
            if (n < INT32_MIN || n > INT32_MAX ||
                protobuf_c_enum_descriptor_get_value(field->descriptor, (int)n) == NULL)
                return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
            v.u.i32 = (int32_t)n;
            return store(f, field, &v);
        }
        if (!int_value(field, n < 0, n, n < 0 ? 0 : (uint64_t)n, &v))
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        return store(f, field, &v);
    }
    case JSON_REAL: {
        double d = json_real_value(j);
        if (field->type == PROTOBUF_C_TYPE_STRING) {
            format_real(d, num, sizeof(num));
            break;
        }
        if (field->type == PROTOBUF_C_TYPE_DOUBLE || field->type == PROTOBUF_C_TYPE_FLOAT) {
            if (field->type == PROTOBUF_C_TYPE_DOUBLE)
                v.u.d = d;
            else
                v.u.f = (float)d;
            return store(f, field, &v);
        }
        /* an integral real (3600.0) fits an integer field; 1.5 or 1e300 does not */
        if (!is_integer_type(field->type) || d != floor(d) || d < -9.2e18 || d > 9.2e18 ||
            !int_value(field, d < 0, (int64_t)d, d < 0 ? 0 : (uint64_t)d, &v))
            return fail(f->err, TG_EINVAL, "Invalid value for parameter: %s", field->name);
        return store(f, field, &v);
    }
    case JSON_TRUE:
    case JSON_FALSE:
        if (field->type == PROTOBUF_C_TYPE_BOOL) {
            v.u.b = json_is_true(j);
            return store(f, field, &v);
        }
        if (field->type == PROTOBUF_C_TYPE_STRING) {
            snprintf(num, sizeof(num), "%s", json_is_true(j) ? "true" : "false");
            break;
        }
        return fail(f->err, TG_EINVAL, "Invalid type for parameter: %s", field->name);
    default: /* object or array where a scalar is expected ({"$gt": ""} and friends) */
        return fail(f->err, TG_EINVAL, "Invalid type for parameter: %s", field->name);
    }
    /* a number or boolean for a string field: its text */
    {
        size_t len = strlen(num);
        char *copy = arena_pb_strndup(f->arena, num, len);
        if (copy == NULL)
            return fail(f->err, TG_ENOMEM, "Out of memory%s", NULL);
        return set_text(f, field, copy, len);
    }
}

/* Nesting of v counting objects and arrays (v itself is 1), stopping past limit. */
static int
json_depth(const json_t *v, int limit)
{
    const char *key;
    const json_t *child;
    size_t i;
    int deepest = 0;

    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (limit == 0)
        return 1; /* already too deep: the caller only needs "more than its limit" */
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child)
        {
            int d = json_depth(child, limit - 1);
            if (d > deepest)
                deepest = d;
        }
    } else {
        json_array_foreach(v, i, child)
        {
            int d = json_depth(child, limit - 1);
            if (d > deepest)
                deepest = d;
        }
    }
    return 1 + deepest;
}

/* A tollgate.web.Json field: an object, re-serialised compactly into `text`; null is absent;
 * anything else, deeper than GW_MAX_JSON_DEPTH or longer than GW_MAX_PARAM_BYTES is refused. */
static tg_err
set_json_object(filler *f, const ProtobufCFieldDescriptor *field, json_t *j)
{
    Tollgate__Web__Json *msg;
    char *text;
    size_t len;
    value v;

    if (json_is_null(j))
        return TG_OK;
    if (!json_is_object(j))
        return fail(f->err, TG_EINVAL, "Invalid type for parameter: %s", field->name);
    if (json_depth(j, GW_MAX_JSON_DEPTH) > GW_MAX_JSON_DEPTH)
        return fail(f->err, TG_EINVAL, "Parameter nested too deeply: %s", field->name);
    /* jansson keeps insertion order, so the client's key order survives. */
    if ((text = json_dumps(j, JSON_COMPACT)) == NULL)
        return fail(f->err, TG_ENOMEM, "Out of memory%s", NULL);
    len = strlen(text);
    if (len > GW_MAX_PARAM_BYTES) {
        free(text);
        return fail(f->err, TG_ETOOBIG, "Parameter too long: %s", field->name);
    }
    msg = (Tollgate__Web__Json *)gw_message_new(&tollgate__web__json__descriptor, f->arena);
    if (msg == NULL || (msg->text = arena_pb_strndup(f->arena, text, len)) == NULL) {
        free(text);
        return fail(f->err, TG_ENOMEM, "Out of memory%s", NULL);
    }
    free(text);
    memset(&v, 0, sizeof(v));
    v.u.m = &msg->base;
    return store(f, field, &v);
}

static tg_err
set_json(filler *f, const ProtobufCFieldDescriptor *field, json_t *j)
{
    size_t i;
    json_t *elem;
    tg_err err;

    if (is_json_field(field))
        return set_json_object(f, field, j);

    if (!json_is_array(j) || field->label != PROTOBUF_C_LABEL_REPEATED)
        return set_json_scalar(f, field, j);
    json_array_foreach(j, i, elem)
    {
        if (json_is_array(elem) || json_is_object(elem))
            return fail(f->err, TG_EINVAL, "Invalid type for parameter: %s", field->name);
        if ((err = count_value(f)) != TG_OK || (err = set_json_scalar(f, field, elem)) != TG_OK)
            return err;
    }
    return TG_OK;
}

tg_err
gw_params_from_json(ProtobufCMessage *msg, const char *text, size_t len, ProtobufCAllocator *arena,
                    gw_param_error *err)
{
    json_error_t jerr;
    json_t *root, *val;
    const char *key;
    filler f;
    tg_err e = TG_OK;

    if (!filler_init(&f, msg, arena, err))
        return fail(err, TG_ENOMEM, "Out of memory%s", NULL);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_duplicate_key)
            return fail(err, TG_EINVAL, "Duplicate parameter in JSON body%s", NULL);
        return fail(err, TG_EINVAL, "Invalid JSON body%s", NULL);
    }
    if (!json_is_object(root)) {
        e = fail(err, TG_EINVAL, "Request body must be a JSON object%s", NULL);
        goto out;
    }
    json_object_foreach(root, key, val)
    {
        const ProtobufCFieldDescriptor *field;

        if ((e = count_value(&f)) != TG_OK)
            goto out;
        if (strlen(key) > GW_MAX_KEY_BYTES || (field = client_field(&f, key)) == NULL)
            continue;
        if ((e = set_json(&f, field, val)) != TG_OK)
            goto out;
    }
out:
    json_decref(root);
    return e;
}

/* ---- web context and Basic credentials ----------------------------------------------------- */

bool
gw_params_set_web(ProtobufCMessage *msg, ProtobufCMessage *web)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "web");

    if (field == NULL || field->type != PROTOBUF_C_TYPE_MESSAGE ||
        field->label == PROTOBUF_C_LABEL_REPEATED || field->descriptor != web->descriptor)
        return false;
    *(ProtobufCMessage **)((char *)msg + field->offset) = web;
    return true;
}

tg_err
gw_basic_decode(const char *value, size_t len, ProtobufCAllocator *arena, char **user,
                char **password)
{
    unsigned char *raw = NULL;
    size_t rawlen = 0, ulen, plen;
    const char *colon;
    tg_err err;

    *user = NULL;
    *password = NULL;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    if (len < 6 || strncasecmp(value, "basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
        return TG_ENOTFOUND;
    value += 6;
    len -= 6;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0 || tg_b64_decode(value, len, &raw, &rawlen) != TG_OK)
        return TG_EINVAL;
    err = TG_EINVAL;
    if ((colon = memchr(raw, ':', rawlen)) == NULL || colon == (const char *)raw)
        goto out;
    ulen = (size_t)(colon - (const char *)raw);
    plen = rawlen - ulen - 1;
    if ((err = gw_form_decode((const char *)raw, ulen, arena, user, &ulen)) != TG_OK ||
        (err = gw_form_decode(colon + 1, plen, arena, password, &plen)) != TG_OK) {
        *user = NULL;
        *password = NULL;
    }
out:
    tg_free_secret(raw, rawlen);
    return err;
}
