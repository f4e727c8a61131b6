/*
 * Database connections: `databases:` and the `connections:` entries whose strategy is auth0
 * (tenant-format.md §1.4 "databases vs connections"), with Auth0's legacy password policy,
 * username and brute-force settings, or its flexible policy (`password_options`, checked field
 * by field against one table: unknown fields, wrong types and out-of-range values stop the
 * load). Other strategies are accepted and flagged as unsupported. Also
 * attackProtection.bruteForceProtection, which the tenant section carries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/util.h"

#define MAX_CONNECTION_NAME 128
#define MAX_DICTIONARY 200     /* password_dictionary.dictionary entries */
#define MAX_DICTIONARY_WORD 50 /* characters per entry */
#define MAX_BLOCKED_FIELDS 12  /* password_options.profile_data.blocked_fields */
#define MAX_BLOCKED_FIELD 100  /* characters per entry */
#define MAX_PASSWORD_BYTES 72  /* password_options.complexity.min_length ceiling */

/* The legacy password fields; `password_options` (the flexible policy) excludes them all, as
 * the Deploy CLI enforces (databases.ts:258-301). */
static const char *const legacy_password_fields[] = {
    "passwordPolicy",      "password_complexity_options", "password_history",
    "password_dictionary", "password_no_personal_info",   NULL,
};

/* Options that change behaviour (§4) but are not implemented: loudly flagged when set. */
static const char *const options_unsupported[] = {
    "attributes",           "authentication_methods",
    "import_mode",          "enabledDatabaseCustomization",
    "customScripts",        "mfa",
    "precedence",           "non_persistent_attrs",
    "custom_password_hash", "passkey_options",
    "realm_fallback",       NULL,
};

static const struct {
    const char *name;
    config_password_policy policy;
} password_policies[] = {
    {"none", CONFIG_PW_NONE},           {"low", CONFIG_PW_LOW},
    {"fair", CONFIG_PW_FAIR},           {"good", CONFIG_PW_GOOD},
    {"excellent", CONFIG_PW_EXCELLENT},
};

void
config_connection_fini(config_connection *conn)
{
    free(conn->name);
    free(conn->strategy);
    config_strv_fini(&conn->enabled_clients);
    config_strv_fini(&conn->dictionary);
    config_strv_fini(&conn->password_options.custom);
    config_strv_fini(&conn->password_options.blocked_fields);
    memset(conn, 0, sizeof(*conn));
}

/* Auth0's rule: alphanumeric and '-', starting and ending alphanumeric, at most 128. */
static bool
name_is_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MAX_CONNECTION_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');

        if (!alnum && (ch != '-' || i == 0 || i == n - 1))
            return false;
    }
    return true;
}

static bool
is_given(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return v != NULL && !json_is_null(v);
}

static tg_err
load_password_policy(config_ctx *c, const json_t *opts, config_connection *conn)
{
    const json_t *v = json_object_get(opts, "passwordPolicy");
    const char *s;

    conn->password_policy = CONFIG_PW_NONE;
    if (v == NULL || json_is_null(v))
        return TG_OK;
    if (!json_is_string(v))
        return config_fail(c, "options.passwordPolicy",
                           "must be none, low, fair, good, excellent or null");
    s = json_string_value(v);
    for (size_t i = 0; i < sizeof(password_policies) / sizeof(password_policies[0]); i++) {
        if (strcmp(s, password_policies[i].name) == 0) {
            conn->password_policy = password_policies[i].policy;
            return TG_OK;
        }
    }
    return config_fail(c, "options.passwordPolicy",
                       "must be none, low, fair, good, excellent or null");
}

/* A legacy `{enable: bool, ...}` object: *obj_out borrowed (NULL when absent), *enable. */
static tg_err
load_enable_object(config_ctx *c, const json_t *opts, const char *key, const json_t **obj_out,
                   bool *enable)
{
    char field[96];
    const json_t *obj, *en;
    tg_err err;

    *enable = false;
    snprintf(field, sizeof(field), "options.%s", key);
    if ((err = config_get_object(c, opts, key, &obj)) != TG_OK)
        return config_fail(c, field, "must be an object");
    *obj_out = obj;
    if (obj == NULL)
        return TG_OK;
    en = json_object_get(obj, "enable");
    snprintf(field, sizeof(field), "options.%s.enable", key);
    if (en == NULL || json_is_null(en))
        return config_fail(c, field, "required");
    if (!json_is_boolean(en))
        return config_fail(c, field, "must be true or false");
    *enable = json_is_true(en);
    return TG_OK;
}

/* Characters, not bytes: UTF-8 lead bytes (the loader has checked the encoding). */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* A list of at most max_n strings of at most max_chars characters at obj.key into *out; field names
 * it in messages. Absent or null: *out stays empty. */
static tg_err
load_word_list(config_ctx *c, const json_t *obj, const char *key, const char *field, size_t max_n,
               size_t max_chars, config_strv *out)
{
    const json_t *list = json_object_get(obj, key), *item;
    size_t i;

    if (list == NULL || json_is_null(list))
        return TG_OK;
    if (!json_is_array(list))
        return config_fail(c, field, "must be a list of strings");
    if (json_array_size(list) > max_n)
        return config_fail(c, field, "at most %zu entries", max_n);
    json_array_foreach(list, i, item)
    {
        if (!json_is_string(item))
            return config_fail(c, field, "must be a list of strings");
        if (utf8_chars(json_string_value(item)) > max_chars)
            return config_fail(c, field, "entry %zu is longer than %zu characters", i, max_chars);
    }
    if (config_get_strv(c, obj, key, out, NULL) != TG_OK)
        return config_fail(c, field, "out of memory");
    return TG_OK;
}

static tg_err
load_legacy_password(config_ctx *c, const json_t *opts, config_connection *conn)
{
    const json_t *obj;
    tg_err err;

    if ((err = load_password_policy(c, opts, conn)) != TG_OK)
        return err;
    if ((err = config_get_object(c, opts, "password_complexity_options", &obj)) != TG_OK)
        return config_fail(c, "options.password_complexity_options", "must be an object");
    if (obj != NULL && config_get_int(c, obj, "min_length", 0, 1, 128, &conn->min_length) != TG_OK)
        return config_fail(c, "options.password_complexity_options.min_length",
                           "must be an integer between 1 and 128");
    if ((err = load_enable_object(c, opts, "password_history", &obj, &conn->password_history)) !=
        TG_OK)
        return err;
    if (obj != NULL &&
        config_get_int(c, obj, "size", 0, 0, 24, &conn->password_history_size) != TG_OK)
        return config_fail(c, "options.password_history.size",
                           "must be an integer between 0 and 24");
    if ((err = load_enable_object(c, opts, "password_dictionary", &obj,
                                  &conn->password_dictionary)) != TG_OK)
        return err;
    if (obj != NULL &&
        (err = load_word_list(c, obj, "dictionary", "options.password_dictionary.dictionary",
                              MAX_DICTIONARY, MAX_DICTIONARY_WORD, &conn->dictionary)) != TG_OK)
        return err;
    return load_enable_object(c, opts, "password_no_personal_info", &obj,
                              &conn->password_no_personal_info);
}

/* ---- password_options: Auth0's flexible policy ------------------------------------------- */

typedef enum po_kind {
    PO_BOOL,   /* bool */
    PO_INT,    /* int64_t in [min, max], default dflt */
    PO_CHOICE, /* bool: false for choices[0], true for choices[1] */
    PO_LIST,   /* config_dictionary: the index in choices */
    PO_TYPES,  /* unsigned CONFIG_CHARS_* bits from a list of type names */
    PO_WORDS,  /* config_strv: at most min entries of at most max characters */
    PO_FIELDS, /* PO_WORDS, each a profile field name (blocked_field_is_known) */
} po_kind;

typedef struct po_field {
    const char *part; /* complexity, history, dictionary, profile_data */
    const char *key;
    po_kind kind;
    int64_t min, max, dflt;
    const char *const *choices; /* NULL-terminated */
    size_t offset;              /* into config_connection */
} po_field;

static const char *const rule_choices[] = {"all", "three_of_four", NULL};
static const char *const block_choices[] = {"allow", "block", NULL};
static const char *const exceeded_choices[] = {"truncate", "error", NULL};
static const char *const list_choices[] = {"en_10k", "en_100k", NULL}; /* config_dictionary */
/* Auth0's names, in the bit order of CONFIG_CHARS_*. */
static const char *const type_choices[] = {"lowercase", "uppercase", "number", "special", NULL};
static const char *const po_parts[] = {"complexity", "history", "dictionary", "profile_data",
                                       NULL};

#define PO_AT(f) offsetof(config_connection, f)
/* Every field Auth0's schema has (ConnectionPasswordOptions*, additionalProperties false). The
 * history part fills the fields the legacy password_history fills: the same behaviour. */
static const po_field po_fields[] = {
    {"complexity", "min_length", PO_INT, 1, MAX_PASSWORD_BYTES, 1, NULL,
     PO_AT(password_options.min_length)},
    {"complexity", "character_types", PO_TYPES, 0, 0, 0, type_choices,
     PO_AT(password_options.character_types)},
    {"complexity", "character_type_rule", PO_CHOICE, 0, 0, 0, rule_choices,
     PO_AT(password_options.three_of_four)},
    {"complexity", "identical_characters", PO_CHOICE, 0, 0, 0, block_choices,
     PO_AT(password_options.block_identical)},
    {"complexity", "sequential_characters", PO_CHOICE, 0, 0, 0, block_choices,
     PO_AT(password_options.block_sequential)},
    {"complexity", "max_length_exceeded", PO_CHOICE, 0, 0, 0, exceeded_choices,
     PO_AT(password_options.max_length_error)},
    {"history", "active", PO_BOOL, 0, 0, 0, NULL, PO_AT(password_history)},
    {"history", "size", PO_INT, 1, 24, 5, NULL, PO_AT(password_history_size)},
    {"dictionary", "active", PO_BOOL, 0, 0, 0, NULL, PO_AT(password_options.dictionary)},
    {"dictionary", "default", PO_LIST, 0, 0, 0, list_choices,
     PO_AT(password_options.dictionary_list)},
    {"dictionary", "custom", PO_WORDS, MAX_DICTIONARY, MAX_DICTIONARY_WORD, 0, NULL,
     PO_AT(password_options.custom)},
    {"profile_data", "active", PO_BOOL, 0, 0, 0, NULL, PO_AT(password_options.profile_data)},
    {"profile_data", "blocked_fields", PO_FIELDS, MAX_BLOCKED_FIELDS, MAX_BLOCKED_FIELD, 0, NULL,
     PO_AT(password_options.blocked_fields)},
};

/* The profile fields a password may be checked against (svc-users/policy.c reads the same). */
static bool
blocked_field_is_known(const char *f)
{
    static const char *const known[] = {"name",       "nickname",    "username",
                                        "email",      "given_name",  "family_name",
                                        "phone_number", NULL};

    if (strncmp(f, "user_metadata.", 14) == 0)
        return f[14] != '\0' && strchr(f + 14, '.') == NULL;
    for (const char *const *k = known; *k != NULL; k++)
        if (strcmp(f, *k) == 0)
            return true;
    return false;
}

static size_t
choice_index(const char *const *choices, const char *s)
{
    size_t i = 0;

    for (; choices[i] != NULL; i++)
        if (strcmp(choices[i], s) == 0)
            break;
    return i;
}

/* "a, b or c" into buf. */
static const char *
choice_text(const char *const *choices, char *buf, size_t len)
{
    size_t n = 0, used = 0;

    while (choices[n] != NULL)
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", choices[i],
                         i + 2 < n ? ", " : i + 2 == n ? " or " : "");
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* The value of key, or NULL when absent, null or a whole-value placeholder string (as the
 * other fields of the tenant file). */
static const json_t *
po_value(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v) ||
        (json_is_string(v) && config_is_placeholder(json_string_value(v))))
        return NULL;
    return v;
}

static tg_err
load_po_types(config_ctx *c, const json_t *v, const char *field, unsigned *out)
{
    const json_t *item;
    char text[96];
    size_t i;

    if (!json_is_array(v))
        return config_fail(c, field, "must be a list of %s",
                           choice_text(type_choices, text, sizeof(text)));
    json_array_foreach(v, i, item)
    {
        size_t bit = json_is_string(item) ? choice_index(type_choices, json_string_value(item))
                                          : 4;
        if (bit >= 4)
            return config_fail(c, field, "entry %zu must be %s", i,
                               choice_text(type_choices, text, sizeof(text)));
        *out |= 1u << bit;
    }
    return TG_OK;
}

static tg_err
load_po_field(config_ctx *c, const json_t *part, const po_field *f, config_connection *conn)
{
    void *at = (char *)conn + f->offset;
    const json_t *v = po_value(part, f->key);
    char field[112], text[96];
    size_t idx;

    snprintf(field, sizeof(field), "options.password_options.%s.%s", f->part, f->key);
    if (f->kind == PO_INT)
        *(int64_t *)at = f->dflt;
    if (v == NULL)
        return TG_OK;
    switch (f->kind) {
    case PO_BOOL:
        if (!json_is_boolean(v))
            return config_fail(c, field, "must be true or false");
        *(bool *)at = json_is_true(v);
        return TG_OK;
    case PO_INT:
        if (!json_is_integer(v) || json_integer_value(v) < f->min ||
            json_integer_value(v) > f->max)
            return config_fail(c, field, "must be an integer between %lld and %lld",
                               (long long)f->min, (long long)f->max);
        *(int64_t *)at = (int64_t)json_integer_value(v);
        return TG_OK;
    case PO_CHOICE:
    case PO_LIST:
        idx = json_is_string(v) ? choice_index(f->choices, json_string_value(v)) : SIZE_MAX;
        if (idx == SIZE_MAX || f->choices[idx] == NULL)
            return config_fail(c, field, "must be %s",
                               choice_text(f->choices, text, sizeof(text)));
        if (f->kind == PO_CHOICE)
            *(bool *)at = idx == 1;
        else
            *(config_dictionary *)at = (config_dictionary)idx;
        return TG_OK;
    case PO_TYPES:
        return load_po_types(c, v, field, (unsigned *)at);
    case PO_WORDS:
    case PO_FIELDS:
        if (load_word_list(c, part, f->key, field, (size_t)f->min, (size_t)f->max,
                           (config_strv *)at) != TG_OK)
            return TG_ECONFIG;
        for (size_t i = 0; f->kind == PO_FIELDS && i < ((config_strv *)at)->n; i++)
            if (!blocked_field_is_known(((config_strv *)at)->v[i]))
                return config_fail(c, field,
                                   "entry %zu must be name, nickname, username, email, "
                                   "given_name, family_name, phone_number or "
                                   "user_metadata.<property>",
                                   i);
        return TG_OK;
    }
    return TG_OK;
}

/* Refuses a key of obj that is not in known (NULL-terminated) or, for a part, not in the
 * table; the key is named when it is printable. */
static tg_err
check_po_keys(config_ctx *c, const json_t *obj, const char *field, const char *part,
              const char *const *known)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false, printable = strlen(key) <= 40;

        for (size_t i = 0; known != NULL && known[i] != NULL && !ok; i++)
            ok = strcmp(known[i], key) == 0;
        for (size_t i = 0; part != NULL && i < sizeof(po_fields) / sizeof(po_fields[0]); i++)
            ok = ok || (strcmp(po_fields[i].part, part) == 0 && strcmp(po_fields[i].key, key) == 0);
        if (ok)
            continue;
        for (const char *p = key; printable && *p != '\0'; p++)
            printable = *p > ' ' && *p < 0x7f;
        return config_fail(c, field, "unknown field %s%s%s", printable ? "\"" : "",
                           printable ? key : "(unprintable)", printable ? "\"" : "");
    }
    return TG_OK;
}

static tg_err
load_password_options(config_ctx *c, const json_t *po, config_connection *conn)
{
    config_password_options *o = &conn->password_options;
    tg_err err;

    if (!json_is_object(po))
        return config_fail(c, "options.password_options", "must be an object");
    if ((err = check_po_keys(c, po, "options.password_options", NULL, po_parts)) != TG_OK)
        return err;
    o->active = true;
    for (const char *const *part = po_parts; *part != NULL; part++) {
        const json_t *obj = po_value(po, *part);
        char field[64];

        snprintf(field, sizeof(field), "options.password_options.%s", *part);
        if (obj != NULL && !json_is_object(obj))
            return config_fail(c, field, "must be an object");
        if (obj != NULL && (err = check_po_keys(c, obj, field, *part, NULL)) != TG_OK)
            return err;
        for (size_t i = 0; i < sizeof(po_fields) / sizeof(po_fields[0]); i++)
            if (strcmp(po_fields[i].part, *part) == 0 &&
                (err = load_po_field(c, obj, &po_fields[i], conn)) != TG_OK)
                return err;
    }
    /* Auth0: "can only be enabled when all 4 character types are specified". */
    if (o->three_of_four && o->character_types != CONFIG_CHARS_ALL)
        return config_fail(c, "options.password_options.complexity.character_type_rule",
                           "three_of_four needs all four character_types (lowercase, "
                           "uppercase, number, special)");
    return TG_OK;
}

static tg_err
load_username_validation(config_ctx *c, const json_t *opts, config_connection *conn)
{
    const json_t *validation = NULL, *username = NULL;

    conn->username_min = 1;
    conn->username_max = 15;
    if (config_get_object(c, opts, "validation", &validation) != TG_OK)
        return config_fail(c, "options.validation", "must be an object");
    if (validation == NULL)
        return TG_OK;
    if (config_get_object(c, validation, "username", &username) != TG_OK)
        return config_fail(c, "options.validation.username", "must be an object");
    if (username == NULL)
        return TG_OK;
    if (config_get_int(c, username, "min", 1, 1, 128, &conn->username_min) != TG_OK)
        return config_fail(c, "options.validation.username.min",
                           "must be an integer between 1 and 128");
    if (config_get_int(c, username, "max", 15, 1, 128, &conn->username_max) != TG_OK)
        return config_fail(c, "options.validation.username.max",
                           "must be an integer between 1 and 128");
    if (conn->username_min > conn->username_max)
        return config_fail(c, "options.validation.username", "min must not exceed max");
    return TG_OK;
}

static tg_err
load_bool_option(config_ctx *c, const json_t *opts, const char *key, bool dflt, bool *out)
{
    char field[96];

    if (config_get_bool(c, opts, key, dflt, out) == TG_OK)
        return TG_OK;
    snprintf(field, sizeof(field), "options.%s", key);
    return config_fail(c, field, "must be true or false");
}

static tg_err
load_options(config_ctx *c, const json_t *entry, config_connection *conn)
{
    const json_t *opts = NULL;
    tg_err err;

    conn->brute_force_protection = true;
    conn->username_min = 1;
    conn->username_max = 15;
    if (config_get_object(c, entry, "options", &opts) != TG_OK)
        return TG_ECONFIG;
    if (opts == NULL)
        return TG_OK;
    if (is_given(opts, "password_options")) {
        for (const char *const *k = legacy_password_fields; *k != NULL; k++)
            if (is_given(opts, *k))
                return config_fail(c, "options.password_options",
                                   "cannot be combined with the legacy password settings "
                                   "(options.%s)",
                                   *k);
        err = load_password_options(c, json_object_get(opts, "password_options"), conn);
    } else {
        err = load_legacy_password(c, opts, conn);
    }
    if (err != TG_OK ||
        (err = load_bool_option(c, opts, "brute_force_protection", true,
                                &conn->brute_force_protection)) != TG_OK ||
        (err = load_bool_option(c, opts, "requires_username", false, &conn->requires_username)) !=
            TG_OK ||
        (err = load_username_validation(c, opts, conn)) != TG_OK ||
        (err = load_bool_option(c, opts, "disable_signup", false, &conn->disable_signup)) !=
            TG_OK ||
        (err = load_bool_option(c, opts, "disable_self_service_change_password", false,
                                &conn->disable_self_service_change_password)) != TG_OK)
        return err;
    for (const char *const *k = options_unsupported; *k != NULL; k++) {
        char field[96];

        snprintf(field, sizeof(field), "options.%s", *k);
        if (config_value_is_set(json_object_get(opts, *k)))
            config_warn(c, field, "not supported yet; ignored");
    }
    return TG_OK;
}

/* enabled_clients: names resolved to ids as clientGrants resolve them (a name no client has
 * is kept as a literal id). Absent: every client; [] : none. */
static tg_err
load_enabled_clients(config_ctx *c, const json_t *entry, const config *cfg, const json_t *by_name,
                     config_connection *conn)
{
    bool present = false;
    tg_err err;

    if ((err = config_get_strv(c, entry, "enabled_clients", &conn->enabled_clients, &present)) !=
        TG_OK)
        return err;
    conn->all_clients = !present;
    for (size_t i = 0; i < conn->enabled_clients.n; i++) {
        const json_t *idx = json_object_get(by_name, conn->enabled_clients.v[i]);
        char *id;

        if (idx == NULL)
            continue;
        if ((id = strdup(cfg->clients[json_integer_value(idx)].client_id)) == NULL)
            return config_fail(c, "enabled_clients", "out of memory");
        free(conn->enabled_clients.v[i]);
        conn->enabled_clients.v[i] = id;
    }
    return TG_OK;
}

/* One database connection; the entry is already known to be an object with a valid name. */
static tg_err
load_database(config_ctx *c, const json_t *entry, const config *cfg, const json_t *by_name,
              config_connection *conn)
{
    tg_err err;

    if ((conn->name = strdup(json_string_value(json_object_get(entry, "name")))) == NULL ||
        (conn->strategy = strdup("auth0")) == NULL)
        return config_fail(c, NULL, "out of memory");
    if ((err = load_enabled_clients(c, entry, cfg, by_name, conn)) != TG_OK ||
        (err = config_get_bool(c, entry, "is_domain_connection", false,
                               &conn->is_domain_connection)) != TG_OK)
        return err;
    return load_options(c, entry, conn);
}

/* Checks the common fields of any entry of either list. *strategy is borrowed; NULL for a
 * databases entry without one (auth0). */
static tg_err
check_entry(config_ctx *c, const char *list, size_t i, const json_t *entry, json_t *names,
            size_t global_idx, json_t *where, const char **strategy)
{
    const json_t *name_v = json_object_get(entry, "name"), *strat;
    const char *name;
    long long dup = -1;

    *strategy = NULL;
    config_set_entry(c, list, i, json_is_string(name_v) ? json_string_value(name_v) : NULL);
    if (!json_is_object(entry))
        return config_fail(c, NULL, "must be an object");
    if (name_v == NULL || json_is_null(name_v))
        return config_fail(c, "name", "required");
    if (!json_is_string(name_v))
        return config_fail(c, "name", "must be a string");
    name = json_string_value(name_v);
    if (!name_is_valid(name))
        return config_fail(c, "name",
                           "must be letters, digits and '-', start and end with a letter or "
                           "digit, at most %d characters",
                           MAX_CONNECTION_NAME);
    strat = json_object_get(entry, "strategy");
    if (strat != NULL && !json_is_null(strat) && !json_is_string(strat))
        return config_fail(c, "strategy", "must be a string");
    *strategy = json_is_string(strat) ? json_string_value(strat) : NULL;
    /* Connection names are unique across the tenant, whichever list holds them. */
    if (config_seen(names, name, global_idx, &dup) != TG_OK)
        return config_fail(c, NULL, "out of memory");
    if (dup >= 0)
        return config_fail(c, "name", "duplicate of %s",
                           json_string_value(json_array_get(where, (size_t)dup)));
    {
        char here[64];

        snprintf(here, sizeof(here), "%s[%zu]", list, i);
        if (json_array_append_new(where, json_string(here)) != 0)
            return config_fail(c, NULL, "out of memory");
    }
    return TG_OK;
}

static tg_err
check_list(config_ctx *c, const char *key, const json_t *list)
{
    if (list == NULL || json_is_null(list) || json_is_array(list))
        return TG_OK;
    c->entry[0] = '\0';
    return config_fail(c, key, "must be a list");
}

tg_err
config_connections_load(config_ctx *c, const json_t *databases, const json_t *connections,
                        config *cfg)
{
    json_t *by_name = json_object(), *names = json_object(), *where = json_array();
    size_t n_db, n_conn, global = 0;
    tg_err err = TG_OK;

    c->entry[0] = '\0';
    if (by_name == NULL || names == NULL || where == NULL) {
        err = config_fail(c, NULL, "out of memory");
        goto out;
    }
    if ((err = check_list(c, "databases", databases)) != TG_OK ||
        (err = check_list(c, "connections", connections)) != TG_OK)
        goto out;
    n_db = json_is_array(databases) ? json_array_size(databases) : 0;
    n_conn = json_is_array(connections) ? json_array_size(connections) : 0;
    if (n_db + n_conn == 0)
        goto out;
    if ((cfg->connections = calloc(n_db + n_conn, sizeof(*cfg->connections))) == NULL) {
        err = config_fail(c, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cfg->n_clients; i++) {
        if (json_object_set_new(by_name, cfg->clients[i].name, json_integer((json_int_t)i)) != 0) {
            err = config_fail(c, NULL, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n_db + n_conn && err == TG_OK; i++, global++) {
        bool is_db = i < n_db;
        const char *list = is_db ? "databases" : "connections";
        size_t li = is_db ? i : i - n_db;
        const json_t *entry = json_array_get(is_db ? databases : connections, li);
        const char *strategy;

        if ((err = check_entry(c, list, li, entry, names, global, where, &strategy)) != TG_OK)
            break;
        if (is_db && strategy != NULL && strcmp(strategy, "auth0") != 0) {
            err = config_fail(c, "strategy",
                              "must be auth0 (other strategies belong under "
                              "connections:)");
            break;
        }
        if (!is_db && strategy == NULL) {
            err = config_fail(c, "strategy", "required");
            break;
        }
        if (!is_db && strcmp(strategy, "auth0") != 0) {
            config_warn(c, "strategy", "%s connections are not supported yet; ignored", strategy);
            continue;
        }
        cfg->n_connections++;
        err = load_database(c, entry, cfg, by_name, &cfg->connections[cfg->n_connections - 1]);
    }
    if (err == TG_OK)
        c->entry[0] = '\0';
out:
    json_decref(by_name);
    json_decref(names);
    json_decref(where);
    return err;
}

/* attackProtection.bruteForceProtection only; the other protections are flagged. */
tg_err
config_attack_protection_load(config_ctx *c, const json_t *ap, config *cfg)
{
    config_tenant *t = &cfg->tenant;
    const json_t *bfp = NULL, *shields;
    tg_err err;

    t->brute_force_enabled = true;
    t->brute_force_max_attempts = 10;
    snprintf(c->entry, sizeof(c->entry), "attackProtection");
    if (ap == NULL || json_is_null(ap))
        goto done;
    if (!json_is_object(ap))
        return config_fail(c, NULL, "must be an object");
    for (const char *const *k =
             (const char *const[]){"suspiciousIpThrottling", "breachedPasswordDetection", NULL};
         *k != NULL; k++) {
        const json_t *v = json_object_get(ap, *k);

        if (config_value_is_set(v) && !json_is_false(json_object_get(v, "enabled")))
            config_warn(c, *k, "not supported yet; ignored");
    }
    for (const char *const *k = (const char *const[]){"botDetection", "captcha", NULL}; *k != NULL;
         k++)
        if (config_value_is_set(json_object_get(ap, *k)))
            config_warn(c, *k, "not supported yet; ignored");
    if ((err = config_get_object(c, ap, "bruteForceProtection", &bfp)) != TG_OK)
        return err;
    if (bfp == NULL)
        goto done;
    snprintf(c->entry, sizeof(c->entry), "attackProtection.bruteForceProtection");
    if ((err = config_get_bool(c, bfp, "enabled", true, &t->brute_force_enabled)) != TG_OK ||
        (err = config_get_int(c, bfp, "max_attempts", 10, 1, 100, &t->brute_force_max_attempts)) !=
            TG_OK)
        return err;
    shields = json_object_get(bfp, "shields");
    if (shields != NULL && !json_is_null(shields)) {
        bool block = false;
        const json_t *s;
        size_t i;

        if (!json_is_array(shields))
            return config_fail(c, "shields", "must be a list of strings");
        json_array_foreach(shields, i, s)
        {
            if (!json_is_string(s))
                return config_fail(c, "shields", "must be a list of strings");
            block = block || strcmp(json_string_value(s), "block") == 0;
        }
        /* Without the block shield Auth0 only notifies: nothing is locked. */
        if (!block)
            t->brute_force_enabled = false;
    }
    if (config_value_is_set(json_object_get(bfp, "allowlist")))
        config_warn(c, "allowlist", "not supported yet; ignored");
    {
        const json_t *mode = json_object_get(bfp, "mode");

        if (config_value_is_set(mode) &&
            !(json_is_string(mode) &&
              strcmp(json_string_value(mode), "count_per_identifier_and_ip") == 0))
            config_warn(c, "mode", "only count_per_identifier_and_ip is supported; ignored");
    }
done:
    c->entry[0] = '\0';
    return TG_OK;
}

const config_connection *
config_connection_by_name(const config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_connections; i++)
        if (strcmp(cfg->connections[i].name, name) == 0)
            return &cfg->connections[i];
    return NULL;
}

bool
config_connection_enabled_for(const config_connection *conn, const char *client_id)
{
    if (conn == NULL || client_id == NULL)
        return false;
    return conn->all_clients || config_strv_has(&conn->enabled_clients, client_id);
}
