/*
 * Validation of untrusted signup input: email, username, user_metadata. Pure functions; the
 * reasons they write are safe to show the client (they name a field and a limit, never echo
 * the value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"

#define USERNAME_DEFAULT_MIN 1
#define USERNAME_DEFAULT_MAX 15
/* Auth0 allows alphanumerics and _+-.!#$'^`~@ in usernames; '@' is left out here so an
 * identifier with an '@' is always an email (VerifyPassword's lookup stays unambiguous). */
#define USERNAME_EXTRA "_+-.!#$'^`~"

size_t
users_utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *
users_lower(const char *s)
{
    char *r = strdup(s);

    for (char *p = r; p != NULL && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

bool
users_email_is_valid(const char *email)
{
    const char *at = strchr(email, '@'), *dot;
    size_t len = strlen(email);

    if (len == 0 || len > USERS_MAX_EMAIL || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    for (const char *p = email; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("\"(),:;<>[\\]", *p) != NULL)
            return false;
    if (at == email || at - email > 64 || at[1] == '\0' || at[1] == '.')
        return false;
    dot = strrchr(at + 1, '.');
    if (dot == NULL || dot[1] == '\0' || strstr(at + 1, "..") != NULL || email[0] == '.' ||
        at[-1] == '.')
        return false;
    return true;
}

bool
users_username_is_valid(const config_connection *conn, const char *username, char *why,
                        size_t whylen)
{
    int64_t min = conn->username_min > 0 ? conn->username_min : USERNAME_DEFAULT_MIN;
    int64_t max = conn->username_max > 0 ? conn->username_max : USERNAME_DEFAULT_MAX;
    int64_t len = (int64_t)strlen(username);

    if (len < min || len > max) {
        snprintf(why, whylen, "username: must be between %lld and %lld characters long",
                 (long long)min, (long long)max);
        return false;
    }
    for (const char *p = username; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9');
        if (!alnum && strchr(USERNAME_EXTRA, *p) == NULL) {
            snprintf(why, whylen, "username: may contain only letters, digits and %s",
                     USERNAME_EXTRA);
            return false;
        }
    }
    return true;
}

tg_err
users_metadata_parse(const char *text, json_t **out, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *obj = NULL, *v;
    const char *k;
    tg_err err = TG_EINVAL;

    *out = NULL;
    obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        snprintf(why, whylen, "user_metadata: must be an object");
        goto out;
    }
    if (json_object_size(obj) > USERS_MAX_META_PROPS) {
        snprintf(why, whylen, "user_metadata: at most %d properties", USERS_MAX_META_PROPS);
        goto out;
    }
    json_object_foreach(obj, k, v) {
        if (k[0] == '\0' || users_utf8_length(k) > USERS_MAX_META_NAME) {
            snprintf(why, whylen, "user_metadata: property names must be 1 to %d characters",
                     USERS_MAX_META_NAME);
            goto out;
        }
        if (k[0] == '$' || strchr(k, '.') != NULL) {
            snprintf(why, whylen,
                     "user_metadata: property names may not start with '$' or contain '.'");
            goto out;
        }
        if (!json_is_string(v)) {
            snprintf(why, whylen, "user_metadata: property values must be strings");
            goto out;
        }
        if (users_utf8_length(json_string_value(v)) > USERS_MAX_META_VALUE) {
            snprintf(why, whylen, "user_metadata: property values must be at most %d characters",
                     USERS_MAX_META_VALUE);
            goto out;
        }
    }
    *out = obj;
    obj = NULL;
    err = TG_OK;
out:
    json_decref(obj);
    return err;
}
