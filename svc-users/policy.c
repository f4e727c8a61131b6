/*
 * Password policy (contract.md §21.3): Auth0's five legacy levels and its flexible policy
 * (`password_options`) with password-sheriff's exact rule codes, messages and formats
 * (lengthAtLeast, shouldContain, containsAtLeast, identicalChars, sequentialChars, maxLength),
 * the dictionaries (data/README.md) and the no-personal-info checks; users_policy_check runs
 * them all in Auth0's order for signup and reset. Pure functions: no store, no clock.
 *
 * Passwords are never truncated: max_length_exceeded `truncate` accepts a long password in full
 * (argon2id hashes up to 1024 bytes), `error` refuses more than 72 bytes with the maxLength
 * rule, and either way a password longer than the hash takes (72 bytes for bcrypt) is refused.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "users.h"

#define SPECIALS " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

typedef struct charset {
    const char *code;
    const char *message;
    bool (*has)(const char *pw);
} charset;

static bool
has_lower(const char *pw)
{
    for (; *pw; pw++)
        if (*pw >= 'a' && *pw <= 'z')
            return true;
    return false;
}

static bool
has_upper(const char *pw)
{
    for (; *pw; pw++)
        if (*pw >= 'A' && *pw <= 'Z')
            return true;
    return false;
}

static bool
has_digit(const char *pw)
{
    for (; *pw; pw++)
        if (*pw >= '0' && *pw <= '9')
            return true;
    return false;
}

static bool
has_special(const char *pw)
{
    for (; *pw; pw++)
        if (strchr(SPECIALS, *pw) != NULL)
            return true;
    return false;
}

static const charset charsets[] = {
    {"lowerCase", "lower case letters (a-z)", has_lower},
    {"upperCase", "upper case letters (A-Z)", has_upper},
    {"numbers", "numbers (i.e. 0-9)", has_digit},
    {"specialCharacters", "special characters (e.g. !@#$%^&*)", has_special},
};

static json_t *
rule_length(int64_t min, const char *pw)
{
    bool ok = (int64_t)users_utf8_length(pw) >= min;

    if (min <= 1)
        return json_pack("{s:s, s:s, s:b}", "code", "nonEmpty", "message",
                         "Non-empty password required", "verified", ok);
    return json_pack("{s:s, s:s, s:[I], s:b}", "code", "lengthAtLeast", "message",
                     "At least %d characters in length", "format", (json_int_t)min, "verified",
                     ok);
}

/* The charsets whose CONFIG_CHARS_* bit is in mask (bit i is charsets[i]); at_least 0 means
 * "all of them" (sheriff's `contains`). */
static json_t *
rule_contains(unsigned mask, size_t at_least, const char *pw)
{
    json_t *items = json_array(), *rule;
    size_t met = 0, n = 0;

    for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++) {
        bool ok;

        if ((mask & (1u << i)) == 0)
            continue;
        ok = charsets[i].has(pw);
        met += ok;
        n++;
        json_array_append_new(items, json_pack("{s:s, s:s, s:b}", "code", charsets[i].code,
                                               "message", charsets[i].message, "verified", ok));
    }
    if (at_least == 0)
        rule = json_pack("{s:s, s:s, s:o, s:b}", "code", "shouldContain", "message",
                         "Should contain:", "items", items, "verified", met == n);
    else
        rule = json_pack("{s:s, s:s, s:[I,I], s:o, s:b}", "code", "containsAtLeast", "message",
                         "Contain at least %d of the following %d types of characters:",
                         "format", (json_int_t)at_least, (json_int_t)n, "items", items,
                         "verified", met >= at_least);
    return rule;
}

/* Bytes of the UTF-8 character at p (1 for ASCII and for a byte that starts none). */
static size_t
char_len(const unsigned char *p)
{
    size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;

    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 1;
    return n;
}

/* Identical characters, not bytes: "\u20ac\u20ac\u20ac" is a run of three, and the repeated
 * continuation bytes inside one character are none. */
static json_t *
rule_identical(int max, const char *pw)
{
    const unsigned char *p = (const unsigned char *)pw, *prev = NULL;
    char example[8] = {0};
    size_t run = 0, prev_len = 0;
    bool ok = true;

    while (*p != '\0' && ok) {
        size_t n = char_len(p);

        run = prev != NULL && n == prev_len && memcmp(p, prev, n) == 0 ? run + 1 : 1;
        ok = run <= (size_t)max;
        prev = p;
        prev_len = n;
        p += n;
    }
    memset(example, 'a', (size_t)max + 1);
    return json_pack("{s:s, s:s, s:[i,s], s:b}", "code", "identicalChars", "message",
                     "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                     "format", max, example, "verified", ok);
}

static bool
is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* sheriff's sequentialChars: no run of more than max alphanumerics whose codes step by +1 or
 * by -1 ("abc", "321"). As sheriff does, a run starts at the character before the first
 * alphanumeric of a step, so "/01" counts three. */
static json_t *
rule_sequential(int max, const char *pw)
{
    const unsigned char *p = (const unsigned char *)pw;
    size_t len = strlen(pw), run = len > 0 && is_alnum(p[0]) ? 1 : 0;
    char example[8] = {0};
    bool ok = len > 0;
    int dir = 0;

    for (size_t i = 1; i < len && ok; i++) {
        int diff = (int)p[i] - (int)p[i - 1];

        if (!is_alnum(p[i])) {
            dir = 0;
            run = 0;
            continue;
        }
        if (diff == 1 || diff == -1) {
            run = diff == dir ? run + 1 : 2;
            dir = diff;
        } else {
            dir = 0;
            run = 1;
        }
        ok = run <= (size_t)max;
    }
    for (int i = 0; i <= max; i++)
        example[i] = (char)('a' + i);
    return json_pack("{s:s, s:s, s:[i,s], s:b}", "code", "sequentialChars", "message",
                     "No more than %d sequential alphanumeric characters (e.g., \"%s\" not "
                     "allowed)",
                     "format", max, example, "verified", ok);
}

/* sheriff's maxLength: at most max bytes (UTF-8). */
static json_t *
rule_max_length(size_t max, const char *pw)
{
    return json_pack("{s:s, s:s, s:[I], s:b}", "code", "maxLength", "message",
                     "Maximum password length exceeded", "format", (json_int_t)max, "verified",
                     pw[0] != '\0' && strlen(pw) <= max);
}

/* {"rules": rules, "verified": every rule's}; takes rules. NULL when a rule failed to allocate
 * (then rules is freed). */
static json_t *
report_of(json_t *rules)
{
    json_t *report = NULL;
    bool ok = true;
    size_t i;

    for (i = 0; i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        if (r == NULL) /* an allocation failed inside json_pack */
            break;
        ok = ok && json_is_true(json_object_get(r, "verified"));
    }
    if (i == json_array_size(rules) && i > 0)
        report = json_pack("{s:o, s:b}", "rules", rules, "verified", ok);
    else
        json_decref(rules);
    return report;
}

json_t *
users_policy_report(config_password_policy level, int64_t min_length, const char *pw)
{
    static const int64_t level_min[] = {1, 6, 8, 8, 10};
    json_t *rules = json_array();

    if (rules == NULL)
        return NULL;
    if ((unsigned)level > CONFIG_PW_EXCELLENT)
        level = CONFIG_PW_EXCELLENT;
    json_array_append_new(rules, rule_length(min_length > 0 ? min_length : level_min[level], pw));
    if (level == CONFIG_PW_FAIR)
        json_array_append_new(rules, rule_contains(CONFIG_CHARS_LOWER | CONFIG_CHARS_UPPER |
                                                       CONFIG_CHARS_NUMBER,
                                                   0, pw));
    if (level >= CONFIG_PW_GOOD)
        json_array_append_new(rules, rule_contains(CONFIG_CHARS_ALL, 3, pw));
    if (level == CONFIG_PW_EXCELLENT)
        json_array_append_new(rules, rule_identical(2, pw));
    return report_of(rules);
}

json_t *
users_policy_report_flexible(const config_password_options *o, const char *pw)
{
    json_t *rules = json_array();

    if (rules == NULL)
        return NULL;
    json_array_append_new(rules, rule_length(o->min_length, pw));
    if (o->max_length_error)
        json_array_append_new(rules, rule_max_length(USERS_MAX_PASSWORD_POLICY_BYTES, pw));
    if (o->character_types != 0)
        json_array_append_new(rules, rule_contains(o->character_types & CONFIG_CHARS_ALL,
                                                   o->three_of_four ? 3 : 0, pw));
    if (o->block_identical)
        json_array_append_new(rules, rule_identical(2, pw));
    if (o->block_sequential)
        json_array_append_new(rules, rule_sequential(2, pw));
    return report_of(rules);
}

bool
users_policy_report_ok(const json_t *report)
{
    return report != NULL && json_is_true(json_object_get(report, "verified"));
}

static int
cmp_word(const void *key, const void *elem)
{
    return strcmp(key, elem);
}

bool
users_policy_in_wordlist(const users_wordlist *list, const config_strv *extra, const char *pw)
{
    char *low = users_lower(pw);
    bool found = false;

    if (low == NULL)
        return true; /* fail closed */
    if (list != NULL && strlen(low) < list->width)
        found = bsearch(low, list->words, list->n, list->width, cmp_word) != NULL;
    for (size_t i = 0; !found && extra != NULL && i < extra->n; i++)
        found = strcasecmp(extra->v[i], pw) == 0;
    tg_free_secret_str(low);
    return found;
}

bool
users_policy_in_dictionary(const config_strv *extra, const char *pw)
{
    return users_policy_in_wordlist(&users_wordlist_en_10k, extra, pw);
}

bool
users_policy_has_personal_info(const char *pw, const char *const *fields, size_t n)
{
    bool found = false;

    for (size_t i = 0; !found && fields != NULL && i < n; i++)
        found = fields[i] != NULL && fields[i][0] != '\0' && strcasestr(pw, fields[i]) != NULL;
    return found;
}

/* The value of one profile field (config_password_options.blocked_fields names them): email is
 * its local part (written to local), user_metadata.<key> a string property; NULL when absent
 * or not a string. */
static const char *
profile_value(const json_t *profile, const char *field, char *local, size_t len)
{
    if (strcmp(field, "email") == 0) {
        const char *email = json_string_value(json_object_get(profile, "email"));
        const char *at = email != NULL ? strchr(email, '@') : NULL;

        if (email == NULL)
            return NULL;
        snprintf(local, len, "%.*s", at != NULL ? (int)(at - email) : (int)strlen(email), email);
        return local;
    }
    if (strncmp(field, "user_metadata.", 14) == 0)
        return json_string_value(
            json_object_get(json_object_get(profile, "user_metadata"), field + 14));
    return json_string_value(json_object_get(profile, field));
}

/* Whether pw contains one of the named profile fields' values. */
static bool
has_profile_data(const char *pw, const json_t *profile, const char *const *names, size_t n)
{
    const char *values[USERS_MAX_BLOCKED_FIELDS];
    char local[USERS_MAX_EMAIL + 1];

    if (n > USERS_MAX_BLOCKED_FIELDS)
        n = USERS_MAX_BLOCKED_FIELDS; /* the config loader allows no more */
    for (size_t i = 0; i < n; i++)
        values[i] = profile_value(profile, names[i], local, sizeof(local));
    /* Only "email" writes local: at most one blocked field names it usefully. */
    return users_policy_has_personal_info(pw, values, n);
}

tg_err
users_policy_check(const config_connection *conn, const json_t *profile, const char *pw,
                   size_t max_bytes, users_policy_verdict *verdict, json_t **report)
{
    /* Auth0's legacy set (password_no_personal_info), also the flexible default. */
    static const char *const legacy_fields[] = {
        "name", "username", "nickname", "email", "user_metadata.name", "user_metadata.first",
        "user_metadata.last"};
    const config_password_options *o = &conn->password_options;
    const users_wordlist *list = &users_wordlist_en_10k;
    const config_strv *extra = &conn->dictionary;
    bool dictionary = conn->password_dictionary, personal = conn->password_no_personal_info;
    json_t *r;

    *verdict = USERS_POLICY_OK;
    *report = NULL;
    /* Never truncated; with max_length_exceeded error the maxLength rule says it instead. */
    if (strlen(pw) > max_bytes && !(o->active && o->max_length_error)) {
        *verdict = USERS_POLICY_TOO_LONG;
        return TG_OK;
    }
    r = o->active ? users_policy_report_flexible(o, pw)
                  : users_policy_report(conn->password_policy, conn->min_length, pw);
    if (r == NULL)
        return TG_ENOMEM;
    if (!users_policy_report_ok(r)) {
        *verdict = USERS_POLICY_WEAK;
        *report = r;
        return TG_OK;
    }
    json_decref(r);
    if (o->active) {
        dictionary = o->dictionary;
        extra = &o->custom;
        list = o->dictionary_list == CONFIG_DICT_EN_100K ? &users_wordlist_en_100k
                                                         : &users_wordlist_en_10k;
        personal = o->profile_data;
    }
    if (dictionary && users_policy_in_wordlist(list, extra, pw)) {
        *verdict = USERS_POLICY_DICTIONARY;
        return TG_OK;
    }
    if (personal) {
        bool custom = o->active && o->blocked_fields.n > 0;
        const char *const *names = custom ? (const char *const *)o->blocked_fields.v
                                          : legacy_fields;
        size_t n = custom ? o->blocked_fields.n
                          : sizeof(legacy_fields) / sizeof(legacy_fields[0]);

        if (has_profile_data(pw, profile, names, n))
            *verdict = USERS_POLICY_PERSONAL_INFO;
    }
    return TG_OK;
}
