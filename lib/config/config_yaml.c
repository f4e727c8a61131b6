/*
 * YAML -> jansson over libyaml's event parser, typed the way js-yaml 4 (the Deploy CLI's
 * parser, YAML 1.2 core schema) types plain scalars:
 *   null: "" ~ null Null NULL;  bool: true True TRUE false False FALSE;
 *   int: [-+]?[0-9]+, 0x[0-9a-fA-F]+, 0o[0-7]+;  float: [-+]?(digits[.digits]|.digits)[e[-+]d];
 *   anything else (and every quoted or block scalar) is a string.
 * Differences from js-yaml, all refusals of things an export never contains: anchors and
 * aliases (billion laughs), merge keys, multiple documents, tags other than the core ones,
 * NUL characters, nesting deeper than CONFIG_MAX_DEPTH; .inf/.nan stay strings (JSON has no
 * such numbers). An unquoted "##X##" is a comment, so the field is null, as in js-yaml.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_internal.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct yctx {
    config_ctx *c;
    yaml_parser_t parser;
} yctx;

static tg_err
fail_at(yctx *y, const yaml_mark_t *m, const char *msg)
{
    return config_fail(y->c, NULL, "line %zu, column %zu: %s", m->line + 1, m->column + 1, msg);
}

static tg_err
next_event(yctx *y, yaml_event_t *ev)
{
    const yaml_parser_t *p = &y->parser;

    if (yaml_parser_parse(&y->parser, ev))
        return TG_OK;
    if (p->error == YAML_MEMORY_ERROR)
        return config_fail(y->c, NULL, "out of memory parsing YAML");
    if (p->context != NULL)
        return config_fail(y->c, NULL, "line %zu, column %zu: %s (%s, line %zu)",
                           p->problem_mark.line + 1, p->problem_mark.column + 1,
                           p->problem != NULL ? p->problem : "invalid YAML", p->context,
                           p->context_mark.line + 1);
    return config_fail(y->c, NULL, "line %zu, column %zu: %s", p->problem_mark.line + 1,
                       p->problem_mark.column + 1,
                       p->problem != NULL ? p->problem : "invalid YAML");
}

static bool
all_in(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr(set, s[i]) == NULL || s[i] == '\0')
            return false;
    return true;
}

static bool
is_one_of(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static json_t *
integer_or_real(const char *s, int base)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, base);
    if (errno == ERANGE) {
        double d = strtod(s, NULL); /* js-yaml turns big integers into (lossy) numbers */
        return isfinite(d) ? json_real(d) : json_string(s);
    }
    return json_integer((json_int_t)v);
}

/* [-+]?( [0-9]+ ( . [0-9]* )? | . [0-9]+ ) ( [eE] [-+]? [0-9]+ )? and not a plain integer. */
static bool
is_float(const char *s)
{
    const char *p = s;
    size_t lead = 0, frac = 0;
    bool dot = false;

    if (*p == '+' || *p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++, lead++;
    if (*p == '.') {
        dot = true;
        p++;
        while (*p >= '0' && *p <= '9')
            p++, frac++;
    }
    if (lead == 0 && frac == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        size_t exp = 0;

        p++;
        if (*p == '+' || *p == '-')
            p++;
        while (*p >= '0' && *p <= '9')
            p++, exp++;
        if (exp == 0)
            return false;
        return *p == '\0';
    }
    return *p == '\0' && dot;
}

/* Implicit typing of a plain scalar (js-yaml default schema, see the file comment). */
static json_t *
plain_scalar(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    const char *digits = s + (s[0] == '-' || s[0] == '+');

    if (is_one_of(s, nulls))
        return json_null();
    if (is_one_of(s, trues))
        return json_true();
    if (is_one_of(s, falses))
        return json_false();
    if (all_in(digits, n - (size_t)(digits - s), "0123456789"))
        return integer_or_real(s, 10);
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
        return integer_or_real(s + 2, 16);
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567"))
        return integer_or_real(s + 2, 8);
    if (is_float(s)) {
        double d = strtod(s, NULL);
        if (isfinite(d))
            return json_real(d);
    }
    return json_stringn(s, n);
}

static tg_err
scalar(yctx *y, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;

    *out = NULL;
    if (memchr(s, '\0', n) != NULL)
        return fail_at(y, &ev->start_mark, "NUL characters are not allowed");
    if (tag == NULL || strcmp(tag, "!") == 0) {
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL;
        *out = plain ? plain_scalar(s, n) : json_stringn(s, n);
    } else if (strcmp(tag, TAG_PREFIX "str") == 0) {
        *out = json_stringn(s, n);
    } else if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
               is_one_of(tag + strlen(TAG_PREFIX),
                         (const char *const[]){"null", "bool", "int", "float", NULL})) {
        /* Explicit core tags must agree with what the text resolves to. */
        static const json_type want[] = {JSON_NULL, JSON_TRUE, JSON_INTEGER, JSON_REAL};
        const char *t = tag + strlen(TAG_PREFIX);
        int k = t[0] == 'n' ? 0 : t[0] == 'b' ? 1 : t[0] == 'i' ? 2 : 3;
        json_t *v = plain_scalar(s, n);
        bool ok = v != NULL && (json_typeof(v) == want[k] || (k == 1 && json_is_false(v)) ||
                                (k == 3 && json_is_integer(v)));

        if (!ok) {
            json_decref(v);
            return fail_at(y, &ev->start_mark, "scalar does not match its tag");
        }
        if (k == 3 && json_is_integer(v)) {
            json_t *r = json_real((double)json_integer_value(v));
            json_decref(v);
            v = r;
        }
        *out = v;
    } else {
        return fail_at(y, &ev->start_mark, "unsupported tag");
    }
    if (*out == NULL)
        return config_fail(y->c, NULL, "out of memory");
    return TG_OK;
}

static tg_err node(yctx *y, yaml_event_t *ev, int depth, json_t **out);

static tg_err
sequence(yctx *y, int depth, json_t **out)
{
    json_t *arr = json_array();
    yaml_event_t ev;
    tg_err err;

    *out = NULL;
    if (arr == NULL)
        return config_fail(y->c, NULL, "out of memory");
    for (;;) {
        json_t *item = NULL;

        if ((err = next_event(y, &ev)) != TG_OK)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        err = node(y, &ev, depth, &item);
        yaml_event_delete(&ev);
        if (err != TG_OK)
            goto fail;
        if (json_array_append_new(arr, item) != 0) {
            err = config_fail(y->c, NULL, "out of memory");
            goto fail;
        }
    }
    *out = arr;
    return TG_OK;
fail:
    json_decref(arr);
    return err;
}

static tg_err
mapping_key(yctx *y, const yaml_event_t *ev, const json_t *obj, char **key)
{
    const char *s;
    size_t n;

    *key = NULL;
    if (ev->type == YAML_ALIAS_EVENT)
        return fail_at(y, &ev->start_mark, "anchors and aliases are not supported");
    if (ev->type != YAML_SCALAR_EVENT)
        return fail_at(y, &ev->start_mark, "mapping keys must be scalars");
    if (ev->data.scalar.anchor != NULL)
        return fail_at(y, &ev->start_mark, "anchors and aliases are not supported");
    s = (const char *)ev->data.scalar.value;
    n = ev->data.scalar.length;
    if (memchr(s, '\0', n) != NULL)
        return fail_at(y, &ev->start_mark, "NUL characters are not allowed");
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(s, "<<") == 0)
        return fail_at(y, &ev->start_mark, "merge keys (<<) are not supported");
    if (json_object_get(obj, s) != NULL)
        return fail_at(y, &ev->start_mark, "duplicated mapping key");
    if ((*key = strndup(s, n)) == NULL)
        return config_fail(y->c, NULL, "out of memory");
    return TG_OK;
}

static tg_err
mapping(yctx *y, int depth, json_t **out)
{
    json_t *obj = json_object();
    yaml_event_t ev;
    tg_err err;

    *out = NULL;
    if (obj == NULL)
        return config_fail(y->c, NULL, "out of memory");
    for (;;) {
        json_t *value = NULL;
        char *key = NULL;

        if ((err = next_event(y, &ev)) != TG_OK)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        err = mapping_key(y, &ev, obj, &key);
        yaml_event_delete(&ev);
        if (err != TG_OK)
            goto fail;
        if ((err = next_event(y, &ev)) != TG_OK) {
            free(key);
            goto fail;
        }
        err = node(y, &ev, depth, &value);
        yaml_event_delete(&ev);
        if (err == TG_OK && json_object_set_new(obj, key, value) != 0)
            err = config_fail(y->c, NULL, "out of memory"); /* jansson checked the key's UTF-8 */
        free(key);
        if (err != TG_OK)
            goto fail;
    }
    *out = obj;
    return TG_OK;
fail:
    json_decref(obj);
    return err;
}

/* Converts the node that starts with ev (borrowed; the caller deletes it). */
static tg_err
node(yctx *y, yaml_event_t *ev, int depth, json_t **out)
{
    const yaml_char_t *anchor = NULL;

    *out = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: anchor = ev->data.scalar.anchor; break;
    case YAML_SEQUENCE_START_EVENT: anchor = ev->data.sequence_start.anchor; break;
    case YAML_MAPPING_START_EVENT: anchor = ev->data.mapping_start.anchor; break;
    case YAML_ALIAS_EVENT:
        return fail_at(y, &ev->start_mark, "anchors and aliases are not supported");
    default: return fail_at(y, &ev->start_mark, "unexpected YAML event");
    }
    if (anchor != NULL)
        return fail_at(y, &ev->start_mark, "anchors and aliases are not supported");
    if (ev->type == YAML_SCALAR_EVENT)
        return scalar(y, ev, out);
    if (depth + 1 > CONFIG_MAX_DEPTH)
        return fail_at(y, &ev->start_mark, "nesting is deeper than 64 levels");
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        const char *tag = (const char *)ev->data.sequence_start.tag;
        if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, TAG_PREFIX "seq") != 0)
            return fail_at(y, &ev->start_mark, "unsupported tag");
        return sequence(y, depth + 1, out);
    } else {
        const char *tag = (const char *)ev->data.mapping_start.tag;
        if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, TAG_PREFIX "map") != 0)
            return fail_at(y, &ev->start_mark, "unsupported tag");
        return mapping(y, depth + 1, out);
    }
}

/* Expects an event of type want (the document/stream framing); anything else is an error. */
static tg_err
expect(yctx *y, yaml_event_type_t want, const char *msg, bool *got_other)
{
    yaml_event_t ev;
    tg_err err;

    if ((err = next_event(y, &ev)) != TG_OK)
        return err;
    if (ev.type != want) {
        if (got_other != NULL) {
            *got_other = true;
            yaml_event_delete(&ev);
            return TG_OK;
        }
        err = fail_at(y, &ev.start_mark, msg);
    }
    yaml_event_delete(&ev);
    return err;
}

tg_err
config_yaml_parse(config_ctx *c, const char *text, size_t len, json_t **out)
{
    yctx y = {.c = c};
    yaml_event_t ev;
    json_t *root = NULL;
    bool empty = false, more = false;
    tg_err err;

    *out = NULL;
    if (!yaml_parser_initialize(&y.parser))
        return config_fail(c, NULL, "out of memory");
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
    if ((err = expect(&y, YAML_STREAM_START_EVENT, "expected a YAML stream", NULL)) != TG_OK)
        goto out;
    if ((err = expect(&y, YAML_DOCUMENT_START_EVENT, "", &empty)) != TG_OK)
        goto out;
    if (empty) {
        err = config_fail(c, NULL, "file is empty");
        goto out;
    }
    if ((err = next_event(&y, &ev)) != TG_OK)
        goto out;
    err = node(&y, &ev, 0, &root);
    yaml_event_delete(&ev);
    if (err != TG_OK)
        goto out;
    if ((err = expect(&y, YAML_DOCUMENT_END_EVENT, "expected the end of the document", NULL)) !=
        TG_OK)
        goto out;
    if ((err = expect(&y, YAML_STREAM_END_EVENT, "", &more)) != TG_OK)
        goto out;
    if (more) {
        err = config_fail(c, NULL, "multiple YAML documents are not supported");
        goto out;
    }
    *out = root;
    root = NULL;
out:
    json_decref(root);
    yaml_parser_delete(&y.parser);
    return err;
}
