/*
 * Auth0 bulk user import (import.h): the record checker and the runner.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "import.h"

typedef enum kind { K_STRING, K_BOOL, K_OBJECT, K_ANY } kind;

typedef struct field {
    const char *name;
    kind kind;
    size_t max;       /* characters, strings only */
    bool profile;     /* copied into the document as is */
} field;

/* Every property the schema knows (additionalProperties: false). */
static const field fields[] = {
    {"email", K_STRING, USERS_MAX_EMAIL, false},
    {"email_verified", K_BOOL, 0, false},
    {"phone_number", K_STRING, 16, true},
    {"phone_verified", K_BOOL, 0, true},
    {"user_id", K_STRING, USERS_IMPORT_MAX_USER_ID, false},
    {"username", K_STRING, 128, false},
    {"given_name", K_STRING, 150, true},
    {"family_name", K_STRING, 150, true},
    {"name", K_STRING, 150, true},
    {"nickname", K_STRING, 350, true},
    {"picture", K_STRING, USERS_MAX_PICTURE, true},
    {"blocked", K_BOOL, 0, false},
    {"app_metadata", K_OBJECT, 0, false},
    {"user_metadata", K_OBJECT, 0, false},
    {"password_hash", K_STRING, 2048, false},
    {"custom_password_hash", K_OBJECT, 0, false},
    {"mfa_factors", K_ANY, 0, false},
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* Auth0 refuses these keys in app_metadata. */
static const char *const app_reserved[] = {
    "__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email",
    "globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount",
    "metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id",
};

static tg_err
refuse(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static tg_err
refuse(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return TG_EINVAL;
}

/* Appends a printable-ASCII rendering of untrusted s (at most 40 characters) to buf. */
static void
append_safe(char *buf, size_t buflen, const char *s)
{
    size_t n = strlen(buf);

    for (size_t i = 0; s[i] != '\0' && i < 40 && n + 1 < buflen; i++)
        buf[n++] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[n < buflen ? n : buflen - 1] = '\0';
}

/* "prefix: unknown properties: a, b" when obj has keys outside allowed (NULL-terminated). */
static bool
has_unknown(const json_t *obj, const char *const *allowed, const char *prefix, char *why,
            size_t whylen)
{
    const char *k;
    json_t *v;
    int n = 0;

    json_object_foreach((json_t *)obj, k, v) {
        bool known = false;
        for (const char *const *a = allowed; *a != NULL && !known; a++)
            known = strcmp(*a, k) == 0;
        if (known)
            continue;
        if (n++ == 0)
            snprintf(why, whylen, "%sunknown properties: ", prefix);
        else
            append_safe(why, whylen, ",");
        append_safe(why, whylen, k);
    }
    return n > 0;
}

/* A JSON string that is valid UTF-8 without NUL (jansson can hold either). */
static bool
clean_string(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    return s != NULL && strlen(s) == n && tg_utf8_is_valid(s, n);
}

static tg_err
check_types(const json_t *rec, char *why, size_t whylen)
{
    const char *names[N_FIELDS + 1];

    for (size_t i = 0; i < N_FIELDS; i++)
        names[i] = fields[i].name;
    names[N_FIELDS] = NULL;
    if (has_unknown(rec, names, "", why, whylen))
        return TG_EINVAL;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &fields[i];
        const json_t *v = json_object_get(rec, f->name);
        if (v == NULL)
            continue;
        if (f->kind == K_BOOL && !json_is_boolean(v))
            return refuse(why, whylen, "%s: must be a boolean", f->name);
        if (f->kind == K_OBJECT && !json_is_object(v))
            return refuse(why, whylen, "%s: must be an object", f->name);
        if (f->kind != K_STRING)
            continue;
        if (!json_is_string(v))
            return refuse(why, whylen, "%s: must be a string", f->name);
        if (!clean_string(v))
            return refuse(why, whylen, "%s: must be valid UTF-8 without NUL", f->name);
        if (json_string_length(v) == 0 || users_utf8_length(json_string_value(v)) > f->max)
            return refuse(why, whylen, "%s: must be 1 to %zu characters", f->name, f->max);
    }
    return TG_OK;
}

static bool
phone_is_valid(const char *s)
{
    size_t n = strlen(s);

    return n >= 2 && n <= 16 && s[0] == '+' && strspn(s + 1, "0123456789") == n - 1;
}

static tg_err
check_strings(const config_connection *conn, const json_t *rec, char *why, size_t whylen)
{
    const char *email = json_string_value(json_object_get(rec, "email"));
    const char *id = json_string_value(json_object_get(rec, "user_id"));
    const char *username = json_string_value(json_object_get(rec, "username"));
    const char *picture = json_string_value(json_object_get(rec, "picture"));
    const char *phone = json_string_value(json_object_get(rec, "phone_number"));
    char reason[160];

    if (email == NULL)
        return refuse(why, whylen, "email: required");
    if (!users_email_is_valid(email))
        return refuse(why, whylen, "email: invalid");
    if (id != NULL && strncmp(id, "auth0|", 6) == 0)
        return refuse(why, whylen, "user_id: remove the \"auth0|\" prefix of exported ids");
    if (id != NULL && !users_id_is_valid(id))
        return refuse(why, whylen, "user_id: may contain only letters, digits and . _ -");
    if (username != NULL && !conn->requires_username)
        return refuse(why, whylen, "username: the connection does not use usernames");
    if (username != NULL && !users_username_is_valid(conn, username, reason, sizeof(reason)))
        return refuse(why, whylen, "%s", reason);
    if (picture != NULL && strncmp(picture, "https://", 8) != 0 &&
        strncmp(picture, "http://", 7) != 0)
        return refuse(why, whylen, "picture: must be an http(s) URL");
    if (phone != NULL && !phone_is_valid(phone))
        return refuse(why, whylen, "phone_number: must be E.164 (+ and up to 15 digits)");
    if (json_object_get(rec, "mfa_factors") != NULL)
        return refuse(why, whylen, "mfa_factors: not supported; users enroll again after import");
    return TG_OK;
}

/* The store's rules for nested documents plus ours: see import.h. */
static tg_err
check_meta_value(const char *name, const json_t *v, int depth, char *why, size_t whylen)
{
    const char *k;
    json_t *e;
    size_t i;

    if (depth > USERS_IMPORT_MAX_META_DEPTH)
        return refuse(why, whylen, "%s: nested deeper than %d levels", name,
                      USERS_IMPORT_MAX_META_DEPTH);
    if (json_is_string(v) && !clean_string(v))
        return refuse(why, whylen, "%s: strings must be valid UTF-8 without NUL", name);
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_array(e))
                return refuse(why, whylen, "%s: arrays may not directly hold arrays", name);
            if (check_meta_value(name, e, depth + 1, why, whylen) != TG_OK)
                return TG_EINVAL;
        }
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, e) {
            if (k[0] == '\0' || k[0] == '$' || strchr(k, '.') != NULL ||
                !tg_utf8_is_valid(k, strlen(k)))
                return refuse(why, whylen,
                              "%s: keys must be non-empty UTF-8, not start with '$', hold no '.'",
                              name);
            if (check_meta_value(name, e, depth + 1, why, whylen) != TG_OK)
                return TG_EINVAL;
        }
    }
    return TG_OK;
}

static tg_err
check_metadata(const json_t *rec, char *why, size_t whylen)
{
    static const char *const names[] = {"user_metadata", "app_metadata"};

    for (size_t i = 0; i < 2; i++) {
        const json_t *m = json_object_get(rec, names[i]);
        size_t size;
        if (m == NULL)
            continue;
        if (check_meta_value(names[i], m, 1, why, whylen) != TG_OK)
            return TG_EINVAL;
        size = json_dumpb(m, NULL, 0, JSON_COMPACT);
        if (size == 0 || size > USERS_IMPORT_MAX_META_BYTES)
            return refuse(why, whylen, "%s: at most %d bytes of JSON", names[i],
                          USERS_IMPORT_MAX_META_BYTES);
    }
    for (size_t i = 0; i < sizeof(app_reserved) / sizeof(app_reserved[0]); i++)
        if (json_object_get(json_object_get(rec, "app_metadata"), app_reserved[i]) != NULL)
            return refuse(why, whylen, "app_metadata: %s is reserved", app_reserved[i]);
    return TG_OK;
}

/* ---- password hashes -------------------------------------------------------------------- */

static const char *const digest_algs[] = {"md5", "sha1", "sha256", "sha512", NULL};

static bool
in_list(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* The optional string member `key` of obj, one of allowed (NULL-terminated), else def. NULL
 * when present but not a string or not allowed. */
static const char *
enum_member(const json_t *obj, const char *key, const char *const *allowed, const char *def)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return def;
    if (!json_is_string(v) || !in_list(allowed, json_string_value(v)))
        return NULL;
    return json_string_value(v);
}

static const char *const encodings[] = {"base64", "hex", "utf8", NULL};
static const char *const positions[] = {"prefix", "suffix", NULL};

/* A salted digest: value and salt decoded and put in our stored form. */
static tg_err
digest_hash(const char *alg, const char *enc, const char *value, const json_t *salt,
            char **out, char *why, size_t whylen)
{
    const char *senc = "utf8", *pos = "prefix", *svalue = "";
    unsigned char *digest = NULL, *sbytes = NULL;
    size_t dlen = 0, slen = 0;
    tg_err err;

    if (strcmp(enc, "utf8") == 0)
        return refuse(why, whylen, "custom_password_hash.hash.encoding: must be hex or base64");
    if (salt != NULL) {
        static const char *const salt_keys[] = {"value", "encoding", "position", NULL};
        if (has_unknown(salt, salt_keys, "custom_password_hash.salt: ", why, whylen))
            return TG_EINVAL;
        if (!json_is_string(json_object_get(salt, "value")) ||
            !clean_string(json_object_get(salt, "value")))
            return refuse(why, whylen, "custom_password_hash.salt.value: must be a string");
        svalue = json_string_value(json_object_get(salt, "value"));
        if ((senc = enum_member(salt, "encoding", encodings, "utf8")) == NULL)
            return refuse(why, whylen,
                          "custom_password_hash.salt.encoding: must be base64, hex or utf8");
        if ((pos = enum_member(salt, "position", positions, "prefix")) == NULL)
            return refuse(why, whylen,
                          "custom_password_hash.salt.position: must be prefix or suffix");
    }
    if ((err = users_hash_decode(enc, value, &digest, &dlen)) != TG_OK) {
        err = err == TG_ENOMEM ? err
                               : refuse(why, whylen, "custom_password_hash.hash.value: not %s",
                                        enc);
        goto out;
    }
    if ((err = users_hash_decode(senc, svalue, &sbytes, &slen)) != TG_OK) {
        err = err == TG_ENOMEM ? err
                               : refuse(why, whylen, "custom_password_hash.salt.value: not %s",
                                        senc);
        goto out;
    }
    err = users_hash_digest_encode(alg, pos[0] == 's', sbytes, slen, digest, dlen, out);
    if (err == TG_EINVAL)
        refuse(why, whylen, "custom_password_hash.hash.value: not a %s digest", alg);
out:
    free(digest);
    free(sbytes);
    return err;
}

/* custom_password_hash -> *out, our stored hash (heap). */
static tg_err
custom_hash(const json_t *c, char **out, char *why, size_t whylen)
{
    static const char *const keys[] = {"algorithm", "hash", "salt", "password", "keylen",
                                       "cost", "blockSize", "parallelization", NULL};
    static const char *const hash_keys[] = {"value", "encoding", NULL};
    static const char *const pw_keys[] = {"encoding", NULL};
    const json_t *alg_v = json_object_get(c, "algorithm"), *h = json_object_get(c, "hash");
    const json_t *salt = json_object_get(c, "salt"), *pw = json_object_get(c, "password");
    const char *alg, *enc, *value;
    char shown[48] = "";

    if (has_unknown(c, keys, "custom_password_hash: ", why, whylen))
        return TG_EINVAL;
    if (!json_is_string(alg_v))
        return refuse(why, whylen, "custom_password_hash.algorithm: required string");
    alg = json_string_value(alg_v);
    if (!in_list(digest_algs, alg) && strcmp(alg, "bcrypt") != 0 && strcmp(alg, "argon2") != 0 &&
        strcmp(alg, "pbkdf2") != 0) {
        append_safe(shown, sizeof(shown), alg);
        return refuse(why, whylen, "custom_password_hash.algorithm: %s is not supported", shown);
    }
    for (size_t i = 4; keys[i] != NULL; i++)
        if (json_object_get(c, keys[i]) != NULL)
            return refuse(why, whylen, "custom_password_hash.%s: only for scrypt", keys[i]);
    if (pw != NULL) {
        if (!json_is_object(pw) ||
            has_unknown(pw, pw_keys, "custom_password_hash.password: ", why, whylen))
            return json_is_object(pw) ? TG_EINVAL
                                      : refuse(why, whylen,
                                               "custom_password_hash.password: must be an object");
        if (!json_is_string(json_object_get(pw, "encoding")) ||
            strcmp(json_string_value(json_object_get(pw, "encoding")), "utf8") != 0)
            return refuse(why, whylen,
                          "custom_password_hash.password.encoding: only utf8 is supported");
    }
    if (!json_is_object(h))
        return refuse(why, whylen, "custom_password_hash.hash: required object");
    if (has_unknown(h, hash_keys, "custom_password_hash.hash: ", why, whylen))
        return TG_EINVAL;
    if (!json_is_string(json_object_get(h, "value")) ||
        !clean_string(json_object_get(h, "value")) ||
        json_string_length(json_object_get(h, "value")) > 2048)
        return refuse(why, whylen, "custom_password_hash.hash.value: required string");
    value = json_string_value(json_object_get(h, "value"));
    if ((enc = enum_member(h, "encoding", encodings, "utf8")) == NULL)
        return refuse(why, whylen,
                      "custom_password_hash.hash.encoding: must be base64, hex or utf8");
    if (salt != NULL && !json_is_object(salt))
        return refuse(why, whylen, "custom_password_hash.salt: must be an object");
    if (in_list(digest_algs, alg))
        return digest_hash(alg, enc, value, salt, out, why, whylen);
    if (salt != NULL)
        return refuse(why, whylen, "custom_password_hash.salt: not supported with %s", alg);
    if (strcmp(enc, "utf8") != 0)
        return refuse(why, whylen, "custom_password_hash.hash.encoding: must be utf8 for %s",
                      alg);
    if (!users_hash_is_supported(value) ||
        (alg[0] == 'b' && value[1] != '2') || (alg[0] == 'a' && value[1] != 'a') ||
        (alg[0] == 'p' && value[1] != 'p'))
        return refuse(why, whylen, "custom_password_hash.hash.value: not a valid %s hash", alg);
    return (*out = strdup(value)) != NULL ? TG_OK : TG_ENOMEM;
}

static tg_err
check_hash(const json_t *rec, char **out, char *why, size_t whylen)
{
    const json_t *plain = json_object_get(rec, "password_hash");
    const json_t *custom = json_object_get(rec, "custom_password_hash");
    const char *v = json_string_value(plain);

    *out = NULL;
    if (plain != NULL && custom != NULL)
        return refuse(why, whylen, "password_hash: not together with custom_password_hash");
    if (custom != NULL)
        return custom_hash(custom, out, why, whylen);
    if (plain == NULL)
        return TG_OK;
    if (v[1] != '2' || !users_hash_is_supported(v))
        return refuse(why, whylen, "password_hash: must be a bcrypt hash ($2a$, $2b$, $2y$)");
    return (*out = strdup(v)) != NULL ? TG_OK : TG_ENOMEM;
}

/* ---- the document ----------------------------------------------------------------------- */

tg_err
users_import_check(const config_connection *conn, const json_t *rec, json_t **doc, char *why,
                   size_t whylen)
{
    const char *user_id = json_string_value(json_object_get(rec, "user_id"));
    char fresh[USERS_ID_HEX + 1], *hash = NULL;
    json_t *d = NULL;
    tg_err err;
    int rc = 0;

    *doc = NULL;
    if (whylen > 0)
        why[0] = '\0';
    if (!json_is_object(rec))
        return refuse(why, whylen, "record: must be an object");
    if ((err = check_types(rec, why, whylen)) != TG_OK ||
        (err = check_strings(conn, rec, why, whylen)) != TG_OK ||
        (err = check_metadata(rec, why, whylen)) != TG_OK ||
        (err = check_hash(rec, &hash, why, whylen)) != TG_OK)
        goto out;
    if (user_id == NULL && (err = users_store_new_id(fresh)) != TG_OK)
        goto out;
    {
        const users_new_user u = {
            .id = user_id != NULL ? user_id : fresh,
            .email = json_string_value(json_object_get(rec, "email")),
            .username = json_string_value(json_object_get(rec, "username")),
            .password_hash = hash,
            .user_metadata = json_object_get(rec, "user_metadata"),
            .app_metadata = json_object_get(rec, "app_metadata"),
            .email_verified = json_is_true(json_object_get(rec, "email_verified")),
            .blocked = json_is_true(json_object_get(rec, "blocked")),
        };
        if ((err = users_doc_new(conn, &u, &d)) != TG_OK)
            goto out;
    }
    for (size_t i = 0; i < N_FIELDS; i++)
        if (fields[i].profile && json_object_get(rec, fields[i].name) != NULL)
            rc |= json_object_set(d, fields[i].name, json_object_get(rec, fields[i].name));
    if (rc != 0) {
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = users_profile_defaults(d)) != TG_OK)
        goto out;
    *doc = d;
    d = NULL;
out:
    json_decref(d);
    tg_free_secret_str(hash);
    return err;
}

tg_err
users_import_load(const char *path, json_t **out, char *why, size_t whylen)
{
    FILE *f = NULL;
    struct stat sb;
    char *buf = NULL;
    json_error_t jerr;
    json_t *arr = NULL;
    tg_err err = TG_EINVAL;

    *out = NULL;
    if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) != 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        err = TG_EIO;
        goto out;
    }
    if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > USERS_IMPORT_MAX_FILE) {
        snprintf(why, whylen, "%s: not a regular file of at most %zu bytes", path,
                 USERS_IMPORT_MAX_FILE);
        err = TG_ETOOBIG;
        goto out;
    }
    if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    if (fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        snprintf(why, whylen, "%s: short read", path);
        err = TG_EIO;
        goto out;
    }
    arr = json_loadb(buf, (size_t)sb.st_size, JSON_REJECT_DUPLICATES, &jerr);
    if (arr == NULL) {
        snprintf(why, whylen, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
                 jerr.text);
        goto out;
    }
    if (!json_is_array(arr)) {
        snprintf(why, whylen, "%s: must hold a JSON array of users", path);
        goto out;
    }
    *out = arr;
    arr = NULL;
    err = TG_OK;
out:
    json_decref(arr);
    free(buf);
    if (f != NULL)
        fclose(f);
    return err;
}

/* ---- the runner ------------------------------------------------------------------------- */

/* Remembers email, username and _id of record i in seen; false (and why) when an earlier
 * record of the file has one of them. */
static bool
first_in_file(json_t *seen, const json_t *doc, size_t i, char *why, size_t whylen)
{
    static const struct {
        const char *field, *tag;
    } keys[] = {{"email_key", "email"}, {"username_key", "username"}, {"_id", "user_id"}};
    char k[1200];

    for (size_t j = 0; j < 3; j++) {
        const char *v = json_string_value(json_object_get(doc, keys[j].field));
        const json_t *prev;
        if (v == NULL)
            continue;
        snprintf(k, sizeof(k), "%s:%s", keys[j].tag, v);
        if ((prev = json_object_get(seen, k)) != NULL) {
            snprintf(why, whylen, "%s: duplicate of record %lld", keys[j].tag,
                     (long long)json_integer_value(prev));
            return false;
        }
    }
    for (size_t j = 0; j < 3; j++) {
        const char *v = json_string_value(json_object_get(doc, keys[j].field));
        if (v == NULL)
            continue;
        snprintf(k, sizeof(k), "%s:%s", keys[j].tag, v);
        json_object_set_new(seen, k, json_integer((json_int_t)i));
    }
    return true;
}

/* Which unique key of doc an existing user of the store holds. */
static const char *
conflict_of(store *st, const config_connection *conn, const json_t *doc)
{
    const char *username = json_string_value(json_object_get(doc, "username"));
    json_t *found = NULL;
    const char *what = "user";

    if (users_store_get(st, json_string_value(json_object_get(doc, "_id")), &found) == TG_OK)
        what = "user_id";
    else if (users_store_find_by_email(st, conn->name,
                                       json_string_value(json_object_get(doc, "email")),
                                       &found) == TG_OK)
        what = "email";
    else if (username != NULL &&
             users_store_find_by_username(st, conn->name, username, &found) == TG_OK)
        what = "username";
    json_decref(found);
    return what;
}

/* Upsert: updates the upsertable fields of the existing user `old` from rec/doc. */
static tg_err
upsert_one(store *st, const json_t *rec, const json_t *doc, const json_t *old, char *why,
           size_t whylen)
{
    static const char *const upsertable[] = {"email_verified", "given_name",    "family_name",
                                             "name",           "nickname",      "picture",
                                             "user_metadata",  "app_metadata",  NULL};
    const char *hash = json_string_value(json_object_get(doc, "password_hash"));
    json_t *set = json_object();
    char now[32];
    tg_err err;
    int rc = 0;

    if (set == NULL)
        return TG_ENOMEM;
    if (strcmp(json_string_value(json_object_get(old, "email_key")),
               json_string_value(json_object_get(doc, "email_key"))) != 0) {
        json_decref(set);
        return refuse(why, whylen, "user_id: exists with another email (email is not upsertable)");
    }
    for (const char *const *f = upsertable; *f != NULL; f++)
        if (json_object_get(rec, *f) != NULL)
            rc |= json_object_set(set, *f, json_object_get(doc, *f));
    if (hash != NULL && json_integer_value(json_object_get(old, "logins_count")) == 0 &&
        (json_object_get(rec, "custom_password_hash") != NULL ||
         json_object_get(old, "password_hash") == NULL))
        rc |= json_object_set_new(set, "password_hash", json_string(hash));
    users_store_now_iso(now);
    rc |= json_object_set_new(set, "updated_at", json_string(now));
    err = rc != 0 ? TG_ENOMEM
                  : store_update(st, USERS_COLL_USERS,
                                 json_string_value(json_object_get(old, "_id")), set);
    json_decref(set);
    if (err == TG_EEXIST || err == TG_ENOTFOUND)
        return refuse(why, whylen, "user changed during the import: %s", tg_strerror(err));
    return err;
}

/* The existing user an upsert of doc should update, or NULL. */
static json_t *
upsert_target(store *st, const config_connection *conn, const json_t *rec, const json_t *doc)
{
    json_t *old = NULL;

    if (json_object_get(rec, "user_id") != NULL)
        (void)users_store_get(st, json_string_value(json_object_get(doc, "_id")), &old);
    else
        (void)users_store_find_by_email(st, conn->name,
                                        json_string_value(json_object_get(doc, "email")), &old);
    if (old != NULL && !json_is_string(json_object_get(old, "email_key"))) {
        json_decref(old);
        old = NULL;
    }
    if (old != NULL &&
        strcmp(json_string_value(json_object_get(old, "connection")), conn->name) != 0) {
        json_decref(old);
        old = NULL; /* another connection's user: the insert reports the conflict */
    }
    return old;
}

/* One record: TG_OK imported/updated (*updated says which), TG_EINVAL refused (why). */
static tg_err
import_one(store *st, const config_connection *conn, const json_t *rec, const json_t *doc,
           bool upsert, bool *updated, char *why, size_t whylen)
{
    json_t *old = upsert ? upsert_target(st, conn, rec, doc) : NULL;
    tg_err err;

    *updated = false;
    if (old != NULL) {
        err = upsert_one(st, rec, doc, old, why, whylen);
        *updated = err == TG_OK;
        json_decref(old);
        if (err != TG_OK && err != TG_EINVAL && err != TG_ENOMEM)
            err = refuse(why, whylen, "store: %s", tg_strerror(err));
        return err;
    }
    err = users_store_insert(st, doc);
    if (err == TG_EEXIST)
        return refuse(why, whylen, "%s: already exists", conflict_of(st, conn, doc));
    if (err != TG_OK)
        return refuse(why, whylen, "store: %s", tg_strerror(err));
    return TG_OK;
}

tg_err
users_import_run(store *st, const config_connection *conn, const json_t *records, bool upsert,
                 FILE *report, users_import_stats *stats)
{
    json_t *seen = json_object(), *rec, *doc = NULL;
    char why[512];
    size_t i;
    tg_err err = TG_OK;

    memset(stats, 0, sizeof(*stats));
    if (seen == NULL)
        return TG_ENOMEM;
    json_array_foreach(records, i, rec) {
        bool updated = false;
        err = users_import_check(conn, rec, &doc, why, sizeof(why));
        if (err == TG_OK && !first_in_file(seen, doc, i, why, sizeof(why)))
            err = TG_EINVAL;
        if (err == TG_OK)
            err = import_one(st, conn, rec, doc, upsert, &updated, why, sizeof(why));
        json_decref(doc);
        doc = NULL;
        if (err == TG_ENOMEM)
            break;
        if (err != TG_OK) {
            fprintf(report, "record %zu: %s\n", i, why);
            stats->skipped++;
            err = TG_OK;
        } else if (updated) {
            stats->updated++;
        } else {
            stats->imported++;
        }
    }
    json_decref(seen);
    return err;
}
