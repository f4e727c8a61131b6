/*
 * Password policy (contract.md §21.3): Auth0's five legacy levels with password-sheriff's exact
 * rule codes, messages and formats, the dictionary and the no-personal-info checks. Pure
 * functions: no store, no config lookups, no clock.
 */
#include <ctype.h>
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

/* n_sets of charsets; at_least 0 means "all of them" (sheriff's `contains`). */
static json_t *
rule_contains(size_t n_sets, size_t at_least, const char *pw)
{
    json_t *items = json_array(), *rule;
    size_t met = 0;

    for (size_t i = 0; i < n_sets; i++) {
        bool ok = charsets[i].has(pw);
        met += ok;
        json_array_append_new(items, json_pack("{s:s, s:s, s:b}", "code", charsets[i].code,
                                               "message", charsets[i].message, "verified", ok));
    }
    if (at_least == 0)
        rule = json_pack("{s:s, s:s, s:o, s:b}", "code", "shouldContain", "message",
                         "Should contain:", "items", items, "verified", met == n_sets);
    else
        rule = json_pack("{s:s, s:s, s:[I,I], s:o, s:b}", "code", "containsAtLeast", "message",
                         "Contain at least %d of the following %d types of characters:",
                         "format", (json_int_t)at_least, (json_int_t)n_sets, "items", items,
                         "verified", met >= at_least);
    return rule;
}

static json_t *
rule_identical(int max, const char *pw)
{
    char example[8] = {0};
    size_t run = 1, len = strlen(pw);
    bool ok = true;

    for (size_t i = 1; i < len && ok; i++) {
        run = pw[i] == pw[i - 1] ? run + 1 : 1;
        ok = run <= (size_t)max;
    }
    memset(example, 'a', (size_t)max + 1);
    return json_pack("{s:s, s:s, s:[i,s], s:b}", "code", "identicalChars", "message",
                     "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                     "format", max, example, "verified", ok);
}

json_t *
users_policy_report(config_password_policy level, int64_t min_length, const char *pw)
{
    static const int64_t level_min[] = {1, 6, 8, 8, 10};
    json_t *rules = json_array(), *report = NULL;
    bool ok = true;
    size_t i;

    if (rules == NULL)
        return NULL;
    if ((unsigned)level > CONFIG_PW_EXCELLENT)
        level = CONFIG_PW_EXCELLENT;
    json_array_append_new(rules, rule_length(min_length > 0 ? min_length : level_min[level], pw));
    if (level == CONFIG_PW_FAIR)
        json_array_append_new(rules, rule_contains(3, 0, pw));
    if (level >= CONFIG_PW_GOOD)
        json_array_append_new(rules, rule_contains(4, 3, pw));
    if (level == CONFIG_PW_EXCELLENT)
        json_array_append_new(rules, rule_identical(2, pw));
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

bool
users_policy_report_ok(const json_t *report)
{
    return report != NULL && json_is_true(json_object_get(report, "verified"));
}

static int
cmp_entry(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

bool
users_policy_in_dictionary(const config_strv *extra, const char *pw)
{
    char *low = users_lower(pw);
    bool found;

    if (low == NULL)
        return true; /* fail closed */
    found = bsearch(low, users_common_passwords, users_n_common_passwords,
                    sizeof(users_common_passwords[0]), cmp_entry) != NULL;
    for (size_t i = 0; !found && extra != NULL && i < extra->n; i++)
        found = strcasecmp(extra->v[i], pw) == 0;
    tg_free_secret_str(low);
    return found;
}

bool
users_policy_has_personal_info(const char *pw, const char *const *fields, size_t n)
{
    bool found = false;

    for (size_t i = 0; !found && fields != NULL && i < n; i++)
        found = fields[i] != NULL && fields[i][0] != '\0' && strcasestr(pw, fields[i]) != NULL;
    return found;
}
