/*
 * authorize_policy_text: a database connection's password rules in words, for the signup page
 * and its weak-password error. The rules are svc-users' (svc-users/policy.c,
 * users_policy_check), worded as password-sheriff's messages: Auth0's legacy levels
 * (passwordPolicy + min_length) and its flexible policy (`password_options`), whose dictionary
 * and profile-data parts add a sentence each.
 */
#include <stdarg.h>
#include <stdio.h>

#include "authorize.h"

/* svc-users' USERS_MAX_PASSWORD_POLICY_BYTES: the flexible policy's maxLength rule. */
#define MAX_POLICY_BYTES 72

/* The text written so far into a caller's buffer; a clause that does not fit is cut short
 * (snprintf's) and every later one dropped. */
typedef struct text {
    char *buf;
    size_t len, n;
    bool full;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->n, t->len - t->n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->len - t->n) {
        t->full = true;
        return;
    }
    t->n += (size_t)n;
}

/* sheriff's item messages, bit i is CONFIG_CHARS_* bit i (as svc-users' charsets). */
static const char *const char_types[] = {
    "lower case letters (a-z)",
    "upper case letters (A-Z)",
    "numbers (i.e. 0-9)",
    "special characters (e.g. !@#$%^&*)",
};

static size_t
types_in(unsigned mask)
{
    size_t n = 0;

    for (size_t i = 0; i < sizeof(char_types) / sizeof(char_types[0]); i++)
        n += (mask & (1u << i)) != 0;
    return n;
}

/* The character types of mask, separated by ", " and the last by last_sep. */
static void
put_types(text *t, unsigned mask, const char *last_sep)
{
    size_t total = types_in(mask), k = 0;

    for (size_t i = 0; i < sizeof(char_types) / sizeof(char_types[0]); i++) {
        if ((mask & (1u << i)) == 0)
            continue;
        put(t, "%s%s", k == 0 ? "" : k + 1 == total ? last_sep : ", ", char_types[i]);
        k++;
    }
}

/* "; " between clauses, "Your password must contain: " before the first. */
static void
clause(text *t, size_t *clauses)
{
    put(t, *clauses == 0 ? "Your password must contain: " : "; ");
    (*clauses)++;
}

/* A legacy level as the flexible rules it means (svc-users' users_policy_report): the same
 * words for the same rules. */
static config_password_options
legacy_rules(const config_connection *conn)
{
    static const int64_t level_min[] = {1, 6, 8, 8, 10};
    config_password_policy level = conn->password_policy;
    config_password_options o = {0};

    if ((unsigned)level > CONFIG_PW_EXCELLENT)
        level = CONFIG_PW_EXCELLENT;
    o.min_length = conn->min_length > 0 ? conn->min_length : level_min[level];
    if (level == CONFIG_PW_FAIR)
        o.character_types = CONFIG_CHARS_LOWER | CONFIG_CHARS_UPPER | CONFIG_CHARS_NUMBER;
    if (level >= CONFIG_PW_GOOD) {
        o.character_types = CONFIG_CHARS_ALL;
        o.three_of_four = true;
    }
    o.block_identical = level == CONFIG_PW_EXCELLENT;
    return o;
}

/* The rules of users_policy_report_flexible, in its order, then the dictionary and
 * profile-data checks (only the flexible policy's: the legacy text stays Auth0's). */
static void
rules_text(const config_password_options *o, text *t)
{
    unsigned types = o->character_types & CONFIG_CHARS_ALL;
    size_t clauses = 0;

    if (o->min_length > 1) {
        clause(t, &clauses);
        put(t, "at least %lld characters in length", (long long)o->min_length);
    }
    if (o->max_length_error) {
        clause(t, &clauses);
        put(t, "no more than %d bytes", MAX_POLICY_BYTES);
    }
    if (types != 0 && o->three_of_four) {
        clause(t, &clauses);
        put(t, "at least 3 of the following %zu types: ", types_in(types));
        put_types(t, types, ", ");
    } else if (types != 0) {
        clause(t, &clauses);
        put_types(t, types, " and ");
    }
    if (o->block_identical) {
        clause(t, &clauses);
        put(t, "no more than 2 identical characters in a row (e.g., \"aaa\" not allowed)");
    }
    if (o->block_sequential) {
        clause(t, &clauses);
        put(t, "no more than 2 sequential alphanumeric characters (e.g., \"abc\" not allowed)");
    }
    put(t, clauses == 0 ? "Your password must not be empty." : ".");
    if (o->dictionary && o->profile_data)
        put(t, " It must not be a common password or contain your personal information.");
    else if (o->dictionary)
        put(t, " It must not be a common password.");
    else if (o->profile_data)
        put(t, " It must not contain your personal information.");
}

void
authorize_policy_text(const config_connection *conn, char *buf, size_t len)
{
    text t = {.buf = buf, .len = len};

    if (len == 0)
        return;
    buf[0] = '\0';
    if (conn->password_options.active) {
        rules_text(&conn->password_options, &t);
    } else {
        config_password_options legacy = legacy_rules(conn);
        rules_text(&legacy, &t);
    }
}
