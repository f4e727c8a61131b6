/*
 * The tenant file: Auth0's own tenant export (Deploy CLI tenant.yaml), loaded the way the
 * Deploy CLI loads it (../shared/tenant-format.md): text-level @@KEY@@ then ##KEY## replacement
 * from the environment, YAML parse, validation, clients referred to by name. The loaded config
 * is immutable and shared read-only by every thread.
 *
 * Client ids and secrets: an export carries neither. When the file gives `client_id` /
 * `client_secret` they are used as they are. Otherwise both are derived deterministically
 * from the tenant master key and the client name (HMAC-SHA256), so every service and replica
 * agrees without coordination and the values survive restarts:
 *   client_id     = first 32 chars of base64url(HMAC(master, "client_id:" + name))
 *   client_secret = base64url(HMAC(master, "client_secret:" + name))   (43 chars)
 * `tollgate-tenant credentials FILE` prints them. Rotating the master key rotates all derived
 * secrets.
 */
#ifndef TG_CONFIG_CONFIG_H
#define TG_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/web.h"

typedef struct config_strv {
    char **v;   /* n entries, each NUL-terminated */
    size_t n;
} config_strv;

typedef enum config_auth_method {
    CONFIG_AUTH_NONE = 0,
    CONFIG_AUTH_CLIENT_SECRET_POST,
    CONFIG_AUTH_CLIENT_SECRET_BASIC,
    CONFIG_AUTH_PRIVATE_KEY_JWT,
} config_auth_method;

typedef struct config_credential {
    char *name;
    char *pem;   /* PEM public key (SubjectPublicKeyInfo) */
    char *alg;   /* "RS256" (default), "RS384", "PS256" */
} config_credential;

/* A client's `refresh_token` settings (Auth0's names; contract.md §21.1). */
typedef struct config_refresh_token {
    bool rotating;                 /* rotation_type: rotating (default non-rotating) */
    bool expiring;                 /* expiration_type: expiring (default non-expiring) */
    int64_t leeway;                /* s, default 0 */
    int64_t token_lifetime;        /* absolute, s, default 2592000 */
    bool infinite_token_lifetime;  /* default: !expiring */
    int64_t idle_token_lifetime;   /* s, default 1296000 */
    bool infinite_idle_token_lifetime; /* default: !expiring */
} config_refresh_token;

typedef struct config_client {
    char *name;
    char *client_id;
    char *client_secret;          /* never NULL after load (given or derived) */
    char *app_type;               /* "non_interactive", "spa", "regular_web", "native", ... */
    bool is_first_party;          /* default true */
    config_auth_method auth_method;  /* private_key_jwt when credentials exist */
    config_strv grant_types;
    config_strv callbacks;
    config_strv allowed_logout_urls;
    config_strv allowed_origins;
    config_strv web_origins;
    char *jwt_alg;                /* jwt_configuration.alg, default "RS256" */
    int64_t jwt_lifetime_in_seconds; /* default 36000 */
    config_credential *credentials;  /* client_authentication_methods.private_key_jwt */
    size_t n_credentials;
    config_refresh_token refresh_token;
    /* oidc_logout.backchannel_logout_urls (or the older oidc_backchannel_logout's): where
     * svc-authorize POSTs logout tokens; https, or http to localhost / 127.0.0.1 / [::1] */
    config_strv backchannel_logout_urls;
} config_client;

typedef struct config_scope {
    char *value;
    char *description;
} config_scope;

typedef struct config_resource_server {
    char *name;
    char *identifier;
    config_scope *scopes;
    size_t n_scopes;
    char *signing_alg;            /* "RS256" (default), "HS256", "ES256" */
    char *signing_secret;         /* HS256 only; derived from the master key when absent */
    int64_t token_lifetime;       /* default 86400 */
    int64_t token_lifetime_for_web; /* default 7200 */
    bool allow_offline_access;
} config_resource_server;

typedef struct config_client_grant {
    char *client_id;              /* resolved: a client's id (name looked up), else literal */
    char *audience;
    config_strv scope;
    bool allow_all_scopes;
} config_client_grant;

typedef enum config_password_policy {
    CONFIG_PW_NONE = 0, /* non-empty */
    CONFIG_PW_LOW,      /* >= 6 */
    CONFIG_PW_FAIR,     /* >= 8, lower + upper + digit */
    CONFIG_PW_GOOD,     /* >= 8, 3 of 4 (lower, upper, digit, special) */
    CONFIG_PW_EXCELLENT, /* >= 10, 3 of 4, no more than 2 identical characters in a row */
} config_password_policy;

/* The built-in common-password list a dictionary check uses (svc-users/data/README.md). */
typedef enum config_dictionary {
    CONFIG_DICT_EN_10K = 0,
    CONFIG_DICT_EN_100K,
} config_dictionary;

/* Character types of the flexible policy's complexity.character_types (bits). */
#define CONFIG_CHARS_LOWER 0x1u
#define CONFIG_CHARS_UPPER 0x2u
#define CONFIG_CHARS_NUMBER 0x4u
#define CONFIG_CHARS_SPECIAL 0x8u
#define CONFIG_CHARS_ALL 0xfu

/* `options.password_options`, Auth0's flexible password policy (config_connections.c).
 * A part that is absent is off; the history part lives in the connection's password_history
 * and password_history_size (same meaning as the legacy object's). */
typedef struct config_password_options {
    bool active;                /* password_options given: it replaces the legacy policy */
    int64_t min_length;         /* complexity.min_length 1..72, default 1 */
    unsigned character_types;   /* complexity.character_types, CONFIG_CHARS_* bits */
    bool three_of_four;         /* character_type_rule three_of_four (all four types), else all */
    bool block_identical;       /* identical_characters: block (no more than 2 in a row) */
    bool block_sequential;      /* sequential_characters: block (no more than 2 in a row) */
    bool max_length_error;      /* max_length_exceeded: error (over 72 bytes refused) */
    bool dictionary;            /* dictionary.active */
    config_dictionary dictionary_list; /* dictionary.default, default en_10k */
    config_strv custom;         /* dictionary.custom (<= 200, each <= 50 characters) */
    bool profile_data;          /* profile_data.active */
    /* profile_data.blocked_fields (<= 12): name, nickname, username, email (its local part),
     * given_name, family_name, phone_number or user_metadata.<key>; none: Auth0's legacy set
     * (name, username, nickname, user_metadata.name/first/last, email). */
    config_strv blocked_fields;
} config_password_options;

/* A database connection (`databases:`, or `connections:` with strategy auth0; other strategies
 * are accepted and flagged as unsupported). Names are unique across both lists.
 * enabled_clients: absent means every client may use the connection (all_clients); an empty
 * list `[]` means no client may (all_clients false, no entries). Names are resolved to client
 * ids exactly as clientGrants resolve them; a name no client has is kept verbatim (a literal
 * id). `password_options` (Auth0's flexible policy) excludes the legacy password fields, as
 * the Deploy CLI refuses mixing them; when it is given, password_policy is none, min_length 0,
 * the legacy dictionary and personal-info switches off, and password_history(_size) carry its
 * history part. */
typedef struct config_connection {
    char *name;
    char *strategy;                 /* "auth0" */
    bool all_clients;               /* enabled_clients absent: every client may use it */
    bool is_domain_connection;      /* third-party (registered) clients may use it too */
    config_strv enabled_clients;    /* client ids (names resolved as for grants) */
    config_password_policy password_policy; /* passwordPolicy; absent or null: none */
    int64_t min_length;             /* password_complexity_options.min_length; 0 = the level's */
    /* password_history.enable and .size (0..24), or password_options.history.active and .size */
    bool password_history;
    int64_t password_history_size;
    bool password_dictionary;       /* password_dictionary.enable (built-in list + entries) */
    config_strv dictionary;         /* password_dictionary.dictionary */
    bool password_no_personal_info; /* password_no_personal_info.enable */
    bool brute_force_protection;    /* default true */
    bool requires_username;
    int64_t username_min;           /* validation.username.min, default 1 */
    int64_t username_max;           /* validation.username.max, default 15 */
    bool disable_signup;
    bool disable_self_service_change_password;
    config_password_options password_options; /* the flexible policy, when .active */
} config_connection;

/* `emailProvider` (smtp only) and the sender; no provider means mail goes to an outbox. */
typedef struct config_email {
    bool enabled;                  /* a usable smtp provider is configured */
    char *smtp_host;
    int64_t smtp_port;             /* default 587 */
    char *smtp_user;               /* may be NULL */
    char *smtp_pass;               /* may be NULL; wiped on free */
    char *default_from_address;
} config_email;

typedef struct config_tenant {
    char *friendly_name;
    char *default_audience;       /* may be NULL */
    char *default_directory;      /* may be NULL */
    config_strv allowed_logout_urls;
    bool signup_user_exists_error;  /* flags.enable_public_signup_user_exists_error */
    bool dynamic_client_registration; /* flags.enable_dynamic_client_registration (§18) */
    /* attackProtection.bruteForceProtection.enabled, default true; false as well when
     * `shields` is given without "block" (Auth0 then only notifies, nothing is locked). */
    bool brute_force_enabled;
    int64_t brute_force_max_attempts; /* ...max_attempts, default 10 */
    /* SSO sessions (config_session.c): session_lifetime and idle_session_lifetime (hours, or
     * *_in_minutes) in seconds, default 168 h and 72 h; session_cookie.mode: persistent
     * (default) or non-persistent (a browser-session cookie, no Max-Age). */
    int64_t session_lifetime_s;
    int64_t idle_session_lifetime_s;
    bool session_cookie_persistent;
    /* Branding (config_branding.c): picture_url, branding.logo_url, branding.colors.primary,
     * each validated (https URL; #rgb or #rrggbb) or NULL; `branding` points at friendly_name,
     * the logo (logo_url, else picture_url) and the colour, for tg_html_page_head_branded. */
    char *picture_url;
    char *logo_url;
    char *primary_color;
    tg_branding branding;
} config_tenant;

typedef struct config {
    char *path;                   /* file it was loaded from */
    config_tenant tenant;
    config_client *clients;
    size_t n_clients;
    config_resource_server *resource_servers;
    size_t n_resource_servers;
    config_client_grant *client_grants;
    size_t n_client_grants;
    config_connection *connections; /* database connections only, for now */
    size_t n_connections;
    config_email email;
    /* The file has a non-empty top-level `organizations` section. Organizations themselves are
     * not supported yet; without any, /authorize refuses `organization` and `invitation`. */
    bool has_organizations;
} config;

/* Loads and validates the tenant file at path. master_key (borrowed, may be NULL only when
 * every client carries its own id and secret) seeds derived ids/secrets. On failure *out is
 * NULL and errbuf holds a one-line message naming the file, the entry and the field, e.g.
 *   "tenant.yaml: clients[2] (\"Acme Worker\"): grant_types: must be a list of strings".
 * On success *out is freed with config_free(). */
tg_err config_load(const char *path, const char *master_key, config **out, char *errbuf,
                   size_t errlen);
/* Same, from text in memory; `name` is used in messages in place of the path. */
tg_err config_load_text(const char *name, const char *text, size_t len, const char *master_key,
                        config **out, char *errbuf, size_t errlen);
void config_free(config *cfg); /* NULL is fine */

/* Lookups; all return borrowed pointers into cfg, or NULL. */
const config_client *config_client_by_id(const config *cfg, const char *client_id);
const config_resource_server *config_api_by_identifier(const config *cfg, const char *identifier);
const config_client_grant *config_grant_find(const config *cfg, const char *client_id,
                                             const char *audience);
bool config_strv_has(const config_strv *v, const char *s);
/* The database connection named name (exact), or NULL. */
const config_connection *config_connection_by_name(const config *cfg, const char *name);
/* Whether client_id may use conn. */
bool config_connection_enabled_for(const config_connection *conn, const char *client_id);

#endif
