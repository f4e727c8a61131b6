/*
 * User claims by scope (contract.md §4.2, §9): the one place both the ID token and /userinfo
 * take them from, so the two never disagree. Only claims with a value are emitted; the
 * *_verified flags are JSON booleans; updated_at stays Auth0's ISO-8601 string.
 */
#include "token.h"

static int
set_str(json_t *obj, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return 0;
    return json_object_set_new(obj, name, json_string(value));
}

tg_err
token_claims_add_user(json_t *obj, const Tollgate__Users__User *u, const char *scope)
{
    int rc = 0;

    if (token_scope_has(scope, "profile")) {
        rc |= set_str(obj, "name", u->name);
        rc |= set_str(obj, "given_name", u->given_name);
        rc |= set_str(obj, "family_name", u->family_name);
        rc |= set_str(obj, "nickname", u->nickname);
        rc |= set_str(obj, "picture", u->picture);
        rc |= set_str(obj, "updated_at", u->updated_at);
    }
    if (token_scope_has(scope, "email") && u->email[0] != '\0') {
        rc |= set_str(obj, "email", u->email);
        rc |= json_object_set_new(obj, "email_verified", json_boolean(u->email_verified));
    }
    if (token_scope_has(scope, "phone") && u->phone_number[0] != '\0') {
        rc |= set_str(obj, "phone_number", u->phone_number);
        rc |= json_object_set_new(obj, "phone_number_verified", json_boolean(u->phone_verified));
    }
    return rc == 0 ? TG_OK : TG_ENOMEM;
}
