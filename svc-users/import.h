/*
 * svc-users: Auth0 bulk user import (tenant-format.md §3). The record checker is a pure
 * function (fuzzed: tests/fuzz/fuzz_user_import.c); the runner writes one user at a time, each
 * a single store_insert or store_update, so a record is either fully written or not at all.
 *
 * Choices where Auth0 is silent or Tollgate differs (each refusal names the field):
 *   - user_id becomes our _id verbatim: 1..128 of [A-Za-z0-9._-]; "auth0|..." (an export's
 *     id) is refused with a hint to remove the prefix.
 *   - mfa_factors are refused (the record is skipped): silently dropping them would import an
 *     account with weaker protection than it had.
 *   - custom_password_hash: bcrypt, argon2 ($argon2id$, $argon2i$), pbkdf2 (PHC, sha1/224/256/
 *     384/512) and salted md5/sha1/sha256/sha512 (hex or base64, salt prefix or suffix). md4,
 *     hmac, ldap, scrypt and bcrypt with an extra salt are refused; password.encoding must be
 *     utf8. Salted digests are stored as "$tg-<alg>$prefix|suffix$<b64 salt>$<b64 digest>".
 *   - metadata objects: nested keys non-empty, not starting with '$', without '.'; at most
 *     USERS_IMPORT_MAX_META_DEPTH levels and USERS_IMPORT_MAX_META_BYTES of compact JSON each;
 *     app_metadata may not use Auth0's reserved keys.
 *   - username only on connections with requires_username, with validate.c's rules.
 *   - upsert (Auth0's semantics): a record matching an existing user of the connection by
 *     user_id (or by email when it has none) updates the upsertable fields — email_verified,
 *     the profile strings, both metadata objects (overwritten, not merged) and, while the user
 *     has never logged in, a custom_password_hash. Email and username are never changed.
 */
#ifndef TG_SVC_USERS_IMPORT_H
#define TG_SVC_USERS_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "users.h"

#define USERS_IMPORT_MAX_FILE ((size_t)64 << 20) /* Auth0 takes 500 KB; we take larger files */
#define USERS_IMPORT_MAX_USER_ID USERS_ID_MAX
#define USERS_IMPORT_MAX_META_BYTES 16384
#define USERS_IMPORT_MAX_META_DEPTH 10

/* ---- imported password hashes (hash.c) ------------------------------------------------- */

/* Decodes text in encoding "utf8" (verbatim), "hex" (either case) or "base64" (standard or
 * URL-safe, padded or not). *out is a heap buffer (NUL-terminated, free()), *out_len its
 * length. TG_EINVAL for bad text or an unknown encoding, TG_ETOOBIG over 1024 bytes. */
tg_err users_hash_decode(const char *encoding, const char *text, unsigned char **out,
                         size_t *out_len);
/* The stored form of a salted digest alg ("md5", "sha1", "sha256", "sha512") of
 * salt+password (prefix) or password+salt (suffix). TG_EINVAL for another alg or a digest of
 * the wrong length. *out heap, free(). */
tg_err users_hash_digest_encode(const char *alg, bool suffix, const unsigned char *salt,
                                size_t salt_len, const unsigned char *digest, size_t digest_len,
                                char **out);
/* Whether users_hash_verify understands hash and its parameters are within the ceilings
 * (bcrypt cost 4..31; argon2 m <= 256 MiB, t <= 16, p <= 16; pbkdf2 i <= 5,000,000). */
bool users_hash_is_supported(const char *hash);

/* ---- the import (import.c) ------------------------------------------------------------- */

typedef struct users_import_stats {
    size_t imported; /* inserted */
    size_t updated;  /* upserted over an existing user */
    size_t skipped;  /* refused, duplicate or failed */
} users_import_stats;

/* Checks one record (borrowed) for connection conn and builds the user document for it
 * (an _id is generated when the record has no user_id). TG_OK: *doc a new reference.
 * TG_EINVAL: *doc NULL and why holds "field: reason" (printable ASCII, never a secret).
 * TG_ENOMEM on allocation failure. */
tg_err users_import_check(const config_connection *conn, const json_t *rec, json_t **doc,
                          char *why, size_t whylen);
/* Reads a whole import file (a JSON array, at most USERS_IMPORT_MAX_FILE bytes). *out a new
 * reference; on failure why says what is wrong with the file. */
tg_err users_import_load(const char *path, json_t **out, char *why, size_t whylen);
/* Imports every element of records (borrowed) into st for conn. Each refused or conflicting
 * record is reported to report as "record <index>: <reason>" (index from 0, as in the array)
 * and skipped. Returns TG_OK when every record was dealt with (stats says how), else the
 * error that stopped it. */
tg_err users_import_run(store *st, const config_connection *conn, const json_t *records,
                        bool upsert, FILE *report, users_import_stats *stats);

#endif
