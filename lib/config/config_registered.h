/*
 * Clients registered at POST /oidc/register (RFC 7591, contract.md §18), as every service sees
 * them. svc-authorize owns and stores them; svc-token asks svc-authorize for one
 * (authorize.GetClient). Both turn the stored document into a config_client here, so a
 * registered client means the same thing everywhere.
 *
 * The stored document (svc-authorize collection "registered_clients", _id = client_id):
 *   {"_id": "tpc_...", "client_name": "...", "redirect_uris": ["https://..."],
 *    "token_endpoint_auth_method": "none" | "client_secret_post" | "client_secret_basic",
 *    "grant_types": ["authorization_code", ...], "app_type": "spa" | "regular_web",
 *    "secret_hash": "<lower-case hex SHA-256 of the client secret>" (absent for "none"),
 *    "created_at": epoch seconds}
 * The secret itself is never stored: it is shown once, in the 201 of the registration.
 *
 * Registered clients are immutable, so a process keeps the ones it has seen in one bounded
 * cache (CONFIG_REGISTERED_CACHE_MAX entries). Cached entries are never freed while the process
 * runs, so a pointer handed to a request stays valid; past the bound, a client is built in
 * memory the caller provides (its request arena) and lives as long as that.
 */
#ifndef TG_CONFIG_REGISTERED_H
#define TG_CONFIG_REGISTERED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define CONFIG_REGISTERED_PREFIX "tpc_" /* Auth0's prefix for third-party (registered) clients */
#define CONFIG_REGISTERED_ID_MAX 64     /* longest client_id worth looking up */
#define CONFIG_REGISTERED_CACHE_MAX 4096

typedef struct config_registered {
    config_client client;    /* name, client_id, app_type, auth_method, grant_types, callbacks */
    const char *secret_hash; /* lower-case hex SHA-256 of the secret; NULL for a public client */
} config_registered;

/* Zeroed memory of size bytes that lives at least as long as the client built in it, or NULL. */
typedef void *(*config_alloc_fn)(void *ud, size_t size);

/* Whether client_id can name a registered client at all: the "tpc_" prefix, at most
 * CONFIG_REGISTERED_ID_MAX bytes of [A-Za-z0-9_-]. Lookups skip every other id. */
bool config_registered_id_is_plausible(const char *client_id);

/* Builds *out from a stored document (borrowed); every string comes from alloc(ud, ...).
 * TG_EINVAL when the document is not a registered client's, TG_ENOMEM. On failure *out is
 * zeroed (memory already taken from alloc stays with its owner). */
tg_err config_registered_from_json(const json_t *doc, config_alloc_fn alloc, void *ud,
                                   config_registered *out);

/* The cached client named client_id, or NULL. Thread-safe. */
const config_registered *config_registered_cache_get(const char *client_id);

/* The client of doc (borrowed): the cached entry when there is one, else a new cache entry,
 * else (cache full) one built with alloc(ud, ...). NULL when doc is not a registered client's
 * or on exhaustion. Thread-safe; the result is never freed by the cache. */
const config_registered *config_registered_adopt(const json_t *doc, config_alloc_fn alloc,
                                                 void *ud);

/* Whether secret is the registered client's: SHA-256 of secret compared in constant time with
 * the stored hash. false for a public client or an empty secret. */
bool config_registered_secret_matches(const config_registered *r, const char *secret);

/* Lower-case hex SHA-256 of s into out (65 bytes with NUL). */
void config_registered_hash_secret(const char *s, char out[65]);

#endif
