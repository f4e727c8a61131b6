/*
 * Registered clients as config_clients (config_registered.h): the one place a stored
 * registration becomes a client, and the process's bounded cache of them.
 */
#include "config/config_registered.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/digest.h"
#include "core/util.h"

/* The cache: entries are appended and never removed or freed while the process runs, so the
 * pointers handed out stay valid (registered clients are immutable). The only process-wide
 * mutable state of the module; a service has no other way to share one between handlers. */
static struct {
    pthread_mutex_t lock;
    config_registered *entries[CONFIG_REGISTERED_CACHE_MAX];
    size_t n;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool
config_registered_id_is_plausible(const char *client_id)
{
    size_t len;

    if (client_id == NULL ||
        strncmp(client_id, CONFIG_REGISTERED_PREFIX, strlen(CONFIG_REGISTERED_PREFIX)) != 0)
        return false;
    len = strlen(client_id);
    if (len <= strlen(CONFIG_REGISTERED_PREFIX) || len > CONFIG_REGISTERED_ID_MAX)
        return false;
    for (const char *c = client_id; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return false;
    return true;
}

static char *
dup_with(config_alloc_fn alloc, void *ud, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = alloc(ud, n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* A JSON array of strings into v (at most 1024 entries, as registration allows far fewer). */
static tg_err
strv_with(config_alloc_fn alloc, void *ud, const json_t *arr, config_strv *v)
{
    size_t i;
    const json_t *s;

    memset(v, 0, sizeof(*v));
    if (arr == NULL)
        return TG_OK;
    if (!json_is_array(arr) || json_array_size(arr) > 1024)
        return TG_EINVAL;
    if (json_array_size(arr) == 0)
        return TG_OK;
    if ((v->v = alloc(ud, json_array_size(arr) * sizeof(char *))) == NULL)
        return TG_ENOMEM;
    json_array_foreach(arr, i, s)
    {
        if (!json_is_string(s))
            return TG_EINVAL;
        if ((v->v[i] = dup_with(alloc, ud, json_string_value(s))) == NULL)
            return TG_ENOMEM;
        v->n = i + 1;
    }
    return TG_OK;
}

static const char *
jstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static bool
hash_is_well_formed(const char *h)
{
    if (h == NULL || strlen(h) != 64)
        return false;
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return false;
    return true;
}

static tg_err
build(const json_t *doc, config_alloc_fn alloc, void *ud, config_registered *out)
{
    config_client *cl = &out->client;
    const char *id = jstr(doc, "_id"), *name = jstr(doc, "client_name");
    const char *method = jstr(doc, "token_endpoint_auth_method"), *app_type = jstr(doc, "app_type");
    const char *hash = jstr(doc, "secret_hash");
    tg_err err;

    if (!json_is_object(doc) || !config_registered_id_is_plausible(id) || name == NULL ||
        method == NULL || app_type == NULL)
        return TG_EINVAL;
    if (strcmp(method, "none") == 0)
        cl->auth_method = CONFIG_AUTH_NONE;
    else if (strcmp(method, "client_secret_post") == 0)
        cl->auth_method = CONFIG_AUTH_CLIENT_SECRET_POST;
    else if (strcmp(method, "client_secret_basic") == 0)
        cl->auth_method = CONFIG_AUTH_CLIENT_SECRET_BASIC;
    else
        return TG_EINVAL;
    /* a confidential client without a well-formed hash would have no usable secret */
    if (cl->auth_method != CONFIG_AUTH_NONE && !hash_is_well_formed(hash))
        return TG_EINVAL;
    if ((cl->client_id = dup_with(alloc, ud, id)) == NULL ||
        (cl->name = dup_with(alloc, ud, name)) == NULL ||
        (cl->app_type = dup_with(alloc, ud, app_type)) == NULL ||
        /* never NULL (config.h); empty, so nothing can match it as a plain secret */
        (cl->client_secret = dup_with(alloc, ud, "")) == NULL ||
        (cl->jwt_alg = dup_with(alloc, ud, "RS256")) == NULL)
        return TG_ENOMEM;
    if (cl->auth_method != CONFIG_AUTH_NONE &&
        (out->secret_hash = dup_with(alloc, ud, hash)) == NULL)
        return TG_ENOMEM;
    if ((err = strv_with(alloc, ud, json_object_get(doc, "redirect_uris"), &cl->callbacks)) !=
            TG_OK ||
        (err = strv_with(alloc, ud, json_object_get(doc, "grant_types"), &cl->grant_types)) !=
            TG_OK)
        return err;
    if (cl->callbacks.n == 0 || cl->grant_types.n == 0)
        return TG_EINVAL;
    /* Third-party (Auth0: "tpc_" clients are third-party, PKCE required) and Auth0's defaults
     * for everything registration cannot set. */
    cl->is_first_party = false;
    cl->jwt_lifetime_in_seconds = 36000;
    cl->refresh_token.token_lifetime = 2592000;
    cl->refresh_token.infinite_token_lifetime = true;
    cl->refresh_token.idle_token_lifetime = 1296000;
    cl->refresh_token.infinite_idle_token_lifetime = true;
    return TG_OK;
}

tg_err
config_registered_from_json(const json_t *doc, config_alloc_fn alloc, void *ud,
                            config_registered *out)
{
    tg_err err;

    memset(out, 0, sizeof(*out));
    if ((err = build(doc, alloc, ud, out)) != TG_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

/* Cache entries: calloc'ed, kept for the life of the process (see `cache`). */
static void *
entry_alloc(void *ud, size_t size)
{
    (void)ud;
    return calloc(1, size);
}

static const config_registered *
cache_find_locked(const char *client_id)
{
    for (size_t i = 0; i < cache.n; i++)
        if (strcmp(cache.entries[i]->client.client_id, client_id) == 0)
            return cache.entries[i];
    return NULL;
}

const config_registered *
config_registered_cache_get(const char *client_id)
{
    const config_registered *r;

    if (!config_registered_id_is_plausible(client_id))
        return NULL;
    pthread_mutex_lock(&cache.lock);
    r = cache_find_locked(client_id);
    pthread_mutex_unlock(&cache.lock);
    return r;
}

const config_registered *
config_registered_adopt(const json_t *doc, config_alloc_fn alloc, void *ud)
{
    const config_registered *found;
    config_registered *r;
    const char *id = jstr(doc, "_id");

    if (!config_registered_id_is_plausible(id))
        return NULL;
    pthread_mutex_lock(&cache.lock);
    if ((found = cache_find_locked(id)) != NULL || cache.n == CONFIG_REGISTERED_CACHE_MAX) {
        pthread_mutex_unlock(&cache.lock);
        if (found != NULL)
            return found;
        /* cache full: a copy that lives with the caller's memory */
        if ((r = alloc(ud, sizeof(*r))) == NULL ||
            config_registered_from_json(doc, alloc, ud, r) != TG_OK)
            return NULL;
        return r;
    }
    /* Built under the lock so two threads never add the same id. */
    r = calloc(1, sizeof(*r));
    if (r == NULL || build(doc, entry_alloc, NULL, r) != TG_OK) {
        pthread_mutex_unlock(&cache.lock);
        if (r != NULL) {
            free((char *)r->secret_hash);
            config_client_fini(&r->client);
            free(r);
        }
        return NULL;
    }
    cache.entries[cache.n++] = r;
    pthread_mutex_unlock(&cache.lock);
    return r;
}

void
config_registered_hash_secret(const char *s, char out[65])
{
    (void)tg_sha256_hex(s, strlen(s), out); /* "" on failure: matches no stored hash */
}

bool
config_registered_secret_matches(const config_registered *r, const char *secret)
{
    char hash[65];

    if (r == NULL || r->secret_hash == NULL || secret == NULL || secret[0] == '\0')
        return false;
    config_registered_hash_secret(secret, hash);
    return tg_ct_streq(hash, r->secret_hash);
}
