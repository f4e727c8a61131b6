/*
 * svc-users: database connections (users, passwords, profiles). This header is the service's
 * internal contract between its files; nothing outside svc-users includes it.
 */
#ifndef TG_SVC_USERS_H
#define TG_SVC_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bus/bus.h"
#include "config/config.h"
#include "store/store.h"
#include "users.pb-c.h"

/* ---- argon2 into reusable memory (hash_argon2.c) ------------------------------------------ */

/* One hashing thread's argon2 memory: a mapping reused by every computation the thread runs,
 * grown up to keep bytes; a larger request gets a one-off mapping. Zero-initialise. */
typedef struct users_argon2_mem {
    uint8_t *base;
    size_t size;
    size_t keep;
} users_argon2_mem;
void users_argon2_mem_fini(users_argon2_mem *m);
/* "$argon2id$v=19$m=..,t=..,p=..$salt$hash" (32-byte hash) of pw; *out freed with free(). */
tg_err users_argon2id_hash(uint32_t m_kib, uint32_t t, uint32_t p, const uint8_t *salt,
                           size_t salt_len, const char *pw, size_t len, users_argon2_mem *mem,
                           char **out);
/* Checks pw against an encoded "$argon2id$" or "$argon2i$" hash whose m, t, p are within the
 * maxima: TG_OK on a match (constant-time compare), TG_EDENIED on a mismatch, TG_EINVAL for a
 * malformed hash, TG_ENOMEM when memory could not be mapped. */
tg_err users_argon2_verify(const char *hash, unsigned long max_m_kib, unsigned long max_t,
                           unsigned long max_p, const char *pw, size_t len,
                           users_argon2_mem *mem);

/* ---- the hashing threads (hash_pool.c) ---------------------------------------------------- */

typedef struct users_hash_pool users_hash_pool;
/* One computation, run on a pool thread with that thread's argon2 memory. */
typedef tg_err (*users_hash_job_fn)(users_argon2_mem *mem, void *arg);
/* Starts `threads` threads, each with an argon2 memory that keeps up to mem_keep bytes mapped.
 * *out freed with users_hash_pool_free(). */
tg_err users_hash_pool_new(unsigned threads, size_t mem_keep, users_hash_pool **out);
/* Queues fn(mem, arg) behind the computations already queued, waits for it and returns its
 * result; TG_EUNAVAILABLE at once, without running fn, when the pending bound is reached.
 * arg is borrowed until then. */
tg_err users_hash_pool_run(users_hash_pool *p, users_hash_job_fn fn, void *arg);
/* At most max_pending computations queued or running (0, the default: no bound). */
void users_hash_pool_limit(users_hash_pool *p, unsigned max_pending);
/* Computations queued or running now. */
unsigned users_hash_pool_pending(users_hash_pool *p);
/* Joins the threads (no caller may still be in users_hash_pool_run) and unmaps their memory.
 * NULL is fine. */
void users_hash_pool_free(users_hash_pool *p);

/* ---- password hashing (hash.c) -------------------------------------------------------- */

typedef enum users_hash_alg {
    USERS_HASH_ARGON2ID = 0,
    USERS_HASH_BCRYPT,
} users_hash_alg;

typedef struct users_hash_params {
    users_hash_alg alg;
    uint32_t argon2_memory_kib;   /* default 19456 */
    uint32_t argon2_iterations;   /* default 2 */
    uint32_t argon2_parallelism;  /* default 1 */
    int bcrypt_cost;              /* default 10 (4..31) */
} users_hash_params;

/* bcrypt reads at most 72 bytes; longer passwords are refused, never truncated. */
#define USERS_BCRYPT_MAX_BYTES 72
#define USERS_ARGON2_MAX_BYTES 1024

typedef struct users_hasher users_hasher;

/* Fills p with the defaults above (argon2id). */
void users_hash_params_default(users_hash_params *p);
/* Makes a hasher that runs at most `threads` hash computations at once (others wait) and a
 * dummy hash with p's parameters, verified for unknown users so they cost what a wrong
 * password costs. p is copied. *out freed with users_hasher_free(). */
tg_err users_hasher_new(const users_hash_params *p, unsigned threads, users_hasher **out);
/* Refuses computations (TG_EUNAVAILABLE) while max_pending are queued or running, so callers
 * that wait for them cannot all be held by a flood; 0: no bound (users_hash_pool_limit). */
void users_hasher_limit(users_hasher *h, unsigned max_pending);
void users_hasher_free(users_hasher *h); /* NULL is fine */
/* The longest password (bytes) the configured algorithm hashes. */
size_t users_hash_max_bytes(const users_hasher *h);
/* Hashes pw[0..len) with the configured algorithm. TG_ETOOBIG when len exceeds
 * users_hash_max_bytes(), TG_EUNAVAILABLE when the hasher refused it (users_hasher_limit).
 * *out is a heap string the caller frees with free(). */
tg_err users_hash_password(users_hasher *h, const char *pw, size_t len, char **out);
/* Checks pw against a stored hash ($argon2id$, $2a$, $2b$, $2y$). TG_OK on a match, TG_EDENIED
 * on a mismatch (also for a bcrypt hash and a password over 72 bytes), TG_EINVAL for a hash
 * in no supported format, TG_EUNAVAILABLE when the hasher refused the computation
 * (users_hasher_limit). pw and hash are borrowed. */
tg_err users_hash_verify(users_hasher *h, const char *hash, const char *pw, size_t len);
/* Burns the time of one verify against the dummy hash: TG_EDENIED, or TG_EUNAVAILABLE when the
 * hasher refused the computation (users_hasher_limit). */
tg_err users_hash_verify_dummy(users_hasher *h, const char *pw, size_t len);
/* Whether hash was made with another algorithm or other parameters than the configured ones
 * (then a successful login rehashes it). */
bool users_hash_needs_rehash(const users_hasher *h, const char *hash);

/* ---- password policy (policy.c: pure functions) ---------------------------------------- */

/* password-sheriff's missing() for the level: {"rules":[{code,message,format?,items?,
 * verified}...],"verified":bool}. min_length > 0 overrides the level's length. New reference
 * (json_decref), NULL only on allocation failure. */
json_t *users_policy_report(config_password_policy level, int64_t min_length, const char *pw);
/* Whether report says every rule is met. */
bool users_policy_report_ok(const json_t *report);
/* The same report for the flexible policy's complexity part (password_options.complexity):
 * lengthAtLeast, maxLength (72 bytes, max_length_exceeded error), shouldContain (rule all) or
 * containsAtLeast 3 of 4, identicalChars and sequentialChars (at most 2 in a row). */
json_t *users_policy_report_flexible(const config_password_options *o, const char *pw);
/* A built-in common-password list, generated at build time from data/ (data/README.md):
 * n entries of width bytes each, NUL-padded, lower case (ASCII), distinct, sorted by strcmp. */
typedef struct users_wordlist {
    const char *words;
    size_t width;
    size_t n;
} users_wordlist;
extern const users_wordlist users_wordlist_en_10k;  /* en_10k and the legacy dictionary */
extern const users_wordlist users_wordlist_en_100k; /* en_100k */
/* Whether pw is, case-insensitively, in list (NULL: none) or one of extra (NULL ok). */
bool users_policy_in_wordlist(const users_wordlist *list, const config_strv *extra,
                              const char *pw);
/* Same with the 10,000-entry list: the legacy password_dictionary. */
bool users_policy_in_dictionary(const config_strv *extra, const char *pw);
/* Whether pw contains, case-insensitively, any non-empty fields[i] (n entries, NULL ok). */
bool users_policy_has_personal_info(const char *pw, const char *const *fields, size_t n);

#define USERS_MAX_PASSWORD_POLICY_BYTES 72 /* the flexible policy's maxLength */
#define USERS_MAX_BLOCKED_FIELDS 12        /* password_options.profile_data.blocked_fields */

typedef enum users_policy_verdict {
    USERS_POLICY_OK = 0,
    USERS_POLICY_TOO_LONG,      /* more bytes than the hash takes: "Password is too long" */
    USERS_POLICY_WEAK,          /* PasswordStrengthError: the report says which rules failed */
    USERS_POLICY_DICTIONARY,    /* password_dictionary_error */
    USERS_POLICY_PERSONAL_INFO, /* password_no_user_info_error */
} users_policy_verdict;

/* The connection's whole policy, legacy or flexible, for a new password pw, in Auth0's order:
 * the length the hash takes (max_bytes, users_hash_max_bytes()), strength, dictionary, personal
 * info. profile (borrowed) holds the user's fields: name, username, nickname, email,
 * given_name, family_name, phone_number (strings) and user_metadata (an object) — a stored user
 * document or signup's fields. *report is the strength report (a new reference) on
 * USERS_POLICY_WEAK, else NULL. TG_ENOMEM on allocation failure. The history check is the
 * caller's (it needs the hasher). */
tg_err users_policy_check(const config_connection *conn, const json_t *profile, const char *pw,
                          size_t max_bytes, users_policy_verdict *verdict, json_t **report);

/* ---- input validation (validate.c: pure functions) -------------------------------------- */

#define USERS_MAX_EMAIL 254
#define USERS_MAX_FIELD 300     /* characters, every profile string */
#define USERS_MAX_PICTURE 2048
#define USERS_MAX_META_PROPS 10
#define USERS_MAX_META_NAME 100
#define USERS_MAX_META_VALUE 500

/* Number of code points in valid UTF-8 s. */
size_t users_utf8_length(const char *s);
bool users_email_is_valid(const char *email);
/* Checks a username against the connection's length limits (defaults 1..15) and the allowed
 * characters. On refusal writes a client-safe reason into why. */
bool users_username_is_valid(const config_connection *conn, const char *username, char *why,
                             size_t whylen);
/* Parses user_metadata text: an object of at most 10 string properties. On success *out is a
 * new reference; on refusal *out is NULL and why holds the reason. */
tg_err users_metadata_parse(const char *text, json_t **out, char *why, size_t whylen);
/* ASCII lower-casing into a heap copy the caller frees (NULL on allocation failure). */
char *users_lower(const char *s);

/* ---- the user document (signup.c; shared with import.c) -------------------------------- */

/* The core of a new user document. Strings and objects are borrowed. */
typedef struct users_new_user {
    const char *id;              /* _id: 24 hex from users_store_new_id, or an imported id */
    const char *email;           /* stored lower-cased; email_key is connection|email */
    const char *username;        /* NULL or "": none; else username_key is set too */
    const char *password_hash;   /* NULL: none stored (the user must reset the password) */
    const json_t *user_metadata; /* NULL: {} ; copied */
    const json_t *app_metadata;  /* NULL: {} ; copied */
    bool email_verified;
    bool blocked;
} users_new_user;

/* Builds the document every user has: _id, connection, email, the unique keys, metadata,
 * password_hash and the connection's password_history, blocked, logins_count 0, created_at
 * and updated_at now. The caller adds profile fields. *out a new reference (json_decref). */
tg_err users_doc_new(const config_connection *conn, const users_new_user *u, json_t **out);
/* Fills the profile fields a user without them gets from Auth0 (profile_defaults.c): name,
 * nickname and picture from the email; fields already in doc are kept. */
tg_err users_profile_defaults(json_t *doc);

/* ---- the store (store_users.c) ---------------------------------------------------------- */

#define USERS_COLL_USERS "users"
#define USERS_COLL_ATTEMPTS "login_attempts"
#define USERS_COLL_TICKETS "tickets"
#define USERS_ID_HEX 24
/* Longest user id: ours are 24 hex digits, imported ones keep Auth0's user_id. */
#define USERS_ID_MAX 128
#define USERS_BLOCK_SECONDS (30 * 24 * 3600)

tg_err users_store_ensure(store *st);
/* Whether id (without "auth0|") is a user id: 1..USERS_ID_MAX of [A-Za-z0-9._-], the rule
 * for generated and imported ids alike. */
bool users_id_is_valid(const char *id);
/* A fresh random 24-hex id into out (25 bytes). */
tg_err users_store_new_id(char out[USERS_ID_HEX + 1]);
/* "2024-05-01T12:00:00.000Z" (UTC, milliseconds) for now into out (32 bytes). */
void users_store_now_iso(char out[32]);
/* Inserts a new user document (borrowed). TG_EEXIST when its email_key or username_key is
 * taken. */
tg_err users_store_insert(store *st, const json_t *doc);
/* Finds a user; *out a new reference. TG_ENOTFOUND when none. All strings borrowed. */
tg_err users_store_find_by_email(store *st, const char *connection, const char *email,
                                 json_t **out);
tg_err users_store_find_by_username(store *st, const char *connection, const char *username,
                                    json_t **out);
tg_err users_store_get(store *st, const char *id, json_t **out);
/* Records a successful login: logins_count + 1, last_login, and new_hash when not NULL. */
tg_err users_store_record_login(store *st, const json_t *user, const char *new_hash);
/* Brute-force counters keyed by (connection, lower(identifier), ip). *last_ms gets the time
 * (epoch ms) of the counter's latest failure, 0 when there is no counter. */
tg_err users_store_attempts_get(store *st, const char *connection, const char *identifier,
                                const char *ip, int64_t *count, int64_t *last_ms);
tg_err users_store_attempts_fail(store *st, const char *connection, const char *identifier,
                                 const char *ip);
tg_err users_store_attempts_clear(store *st, const char *connection, const char *identifier,
                                  const char *ip);

/* Sets a new password after a reset: password_hash = new_hash, new_hash appended to
 * password_history (kept to the last history_size, or emptied when 0), tokens_valid_after
 * (s; the value told to svc-token first, users_token_tell_state), and attempts_reset_at = now
 * (ms), which lifts every brute-force block of the user (verify.c ignores counters whose
 * latest failure is not later). user is borrowed. */
tg_err users_store_set_password(store *st, const json_t *user, const char *new_hash,
                                int64_t history_size, int64_t tokens_valid_after);

/* ---- password-reset tickets (ticket.c) ---------------------------------------------------- */

/* Lifetime of a reset link. security.md #124 requires at most 30 minutes (Auth0's default
 * would be 5 days). */
#define USERS_TICKET_SECONDS 1800
#define USERS_TICKET_BYTES 32 /* random bytes behind a ticket and a CSRF token */
#define USERS_TICKET_MAX 128  /* longest ticket text accepted from a client */

/* Makes a ticket for the user (24-hex id) on connection and stores only its SHA-256 hex as
 * _id in `tickets` {user_id, connection, purpose "reset", csrf, expires_at}. *ticket_out is
 * the base64url ticket for the link, freed with tg_free_secret_str(). */
tg_err users_ticket_issue(store *st, const char *user_id, const char *connection,
                          int64_t lifetime_s, char **ticket_out);
/* The live, unused reset ticket document for ticket text (borrowed). TG_ENOTFOUND for
 * anything else (malformed, unknown, expired, used). *out a new reference. */
tg_err users_ticket_find(store *st, const char *ticket, json_t **out);
/* Takes the ticket exactly once (store_consume with consumer, the bus request id).
 * TG_ECONSUMED when another request took it, TG_ENOTFOUND as for users_ticket_find. */
tg_err users_ticket_consume(store *st, const char *ticket, const char *consumer);

/* ---- the per-address limit on reset emails (reset_limit.c) -------------------------------- */

/* Auth0's documented limit on /dbconnections/change_password: a burst of 10, then one a minute
 * (Auth0 counts per IP and address; here per address, from any IP). */
#define USERS_RESET_BURST 10
#define USERS_RESET_PERIOD_S 60
#define USERS_RESET_BURST_MAX 100
#define USERS_RESET_PERIOD_MAX_S (7 * 24 * 3600)
#define USERS_RESET_TAG_HEX 8 /* hex digits of the address's hash that logs show */

/* A token bucket per recipient address: `burst` emails at once, then one every period_s
 * seconds. A zero field means the default above. */
typedef struct users_reset_limit {
    int64_t burst;    /* 1..USERS_RESET_BURST_MAX */
    int64_t period_s; /* 1..USERS_RESET_PERIOD_MAX_S */
} users_reset_limit;

/* Takes one reset email for address (borrowed; ASCII case-insensitive, any bytes) at now_s from
 * its bucket in the store: *allowed says whether one was left. Every call counts, whoever the
 * address belongs to, and costs the store the same (burst reads, one insert). tag gets the
 * first USERS_RESET_TAG_HEX hex digits of SHA-256(lower(address)), for logs that must not show
 * the address. lim NULL: the defaults. TG_EINVAL for limits out of range; store errors as
 * they come (then *allowed is false). */
tg_err users_reset_limit_take(store *st, const users_reset_limit *lim, const char *address,
                              int64_t now_s, bool *allowed, char tag[USERS_RESET_TAG_HEX + 1]);

/* ---- mail (mail.c) ------------------------------------------------------------------------ */

typedef struct users_mailer users_mailer;

/* Starts the background sender. Mail goes by SMTP when cfg->email.enabled, else as .eml files
 * into outbox_dir (created when missing). cfg, st and outbox_dir are borrowed and must outlive
 * the mailer. *out freed with users_mailer_free(), which sends what is queued, then stops. */
tg_err users_mailer_new(const config *cfg, store *st, const char *outbox_dir, int64_t ticket_s,
                        users_mailer **out);
void users_mailer_free(users_mailer *m); /* NULL is fine */
/* Queues a reset email: the sender thread issues the ticket and sends the link
 * issuer + "u/reset-password?ticket=...". user_id NULL (unknown user) queues a job that does
 * nothing, so both cases cost the request the same. Strings are copied. TG_ETOOBIG when the
 * queue is full, TG_ECLOSED while stopping or when m is NULL. */
tg_err users_mailer_enqueue_reset(users_mailer *m, const char *user_id, const char *email,
                                  const char *connection, const char *issuer);
/* The RFC 5322 text of a reset email (CRLF line ends). Strings borrowed; TG_EINVAL when an
 * address holds a control character. *out freed with tg_free_secret_str(). */
tg_err users_mail_compose_reset(const char *from, const char *to, const char *friendly_name,
                                const char *link, char **out);

/* ---- the reset page (reset_page.c) -------------------------------------------------------- */

/* The double-submit check: the tg_csrf cookie and the form token both equal expected
 * (constant time). */
bool users_csrf_ok(const char *cookie_header, const char *form_token, const char *expected);
/* The reset form page. error (may be NULL) is shown above the form. All text is escaped.
 * Heap string, free(); NULL on allocation failure. */
char *users_reset_form_html(const tg_branding *brand, const char *email, const char *ticket,
                            const char *csrf, const char *error, const char *const *details,
                            size_t n_details);

/* ---- the runtime ------------------------------------------------------------------------ */

/* The one runtime object, made in main and passed to handlers as the bus app pointer.
 * Immutable after start (the hasher and the mailer are internally synchronised). */
typedef struct users_app {
    const config *cfg;
    store *st;
    users_hasher *hasher;
    users_mailer *mailer;
    bus_client *token; /* svc-token's bus device (token_notify.c); NULL: no svc-token */
    users_reset_limit reset_limit; /* emails per address; zero: Auth0's (reset_limit.c) */
} users_app;

/* Tells svc-token, before the change is written, that user's (borrowed) tokens issued before
 * tokens_valid_after are void (token_notify.c). TG_OK when svc-token took it or there is no
 * svc-token; otherwise the caller must give the change up. */
tg_err users_token_tell_state(bus_ctx *ctx, const users_app *app, const json_t *user,
                              int64_t tokens_valid_after);

/* Connection lookups (connection.c). Borrowed pointers into cfg, or NULL / false. */
const config_connection *users_connection_find(const config *cfg, const char *name);
bool users_connection_enabled_for(const config *cfg, const config_connection *conn,
                                  const char *client_id);
/* The same for a client a neighbour service has already authenticated: a client the tenant
 * file does not list (registered at /oidc/register) may use the domain connections. */
bool users_connection_enabled_for_verified(const config *cfg, const config_connection *conn,
                                           const char *client_id);

/* The id other services know a stored user by, "auth0|<_id>" (ctx's arena); NULL when the
 * document has no _id or memory ran out. */
char *users_public_id(bus_ctx *ctx, const json_t *doc);
/* Fills a User (strings from ctx's arena) from a stored user document. */
tg_err users_user_from_doc(bus_ctx *ctx, const json_t *doc, Tollgate__Users__User *out);

/* Bus handlers (methods table in methods.c). */
tg_err users_on_signup(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err users_on_verify_password(bus_ctx *ctx, const ProtobufCMessage *req,
                                ProtobufCMessage *reply);
tg_err users_on_get_user(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err users_on_change_password(bus_ctx *ctx, const ProtobufCMessage *req,
                                ProtobufCMessage *reply);
tg_err users_on_reset_page(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err users_on_reset_submit(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

extern const bus_method users_methods[];
extern const size_t users_n_methods;

#endif
