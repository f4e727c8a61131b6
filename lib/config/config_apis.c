/*
 * resourceServers (APIs) and clientGrants (which client may get tokens for which API).
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/util.h"

#define MAX_TOKEN_LIFETIME 2592000

void
config_api_fini(config_resource_server *rs)
{
    free(rs->name);
    free(rs->identifier);
    for (size_t i = 0; i < rs->n_scopes; i++) {
        free(rs->scopes[i].value);
        free(rs->scopes[i].description);
    }
    free(rs->scopes);
    free(rs->signing_alg);
    tg_free_secret_str(rs->signing_secret);
    memset(rs, 0, sizeof(*rs));
}

void
config_grant_fini(config_client_grant *g)
{
    free(g->client_id);
    free(g->audience);
    config_strv_fini(&g->scope);
    memset(g, 0, sizeof(*g));
}

static tg_err
load_scopes(config_ctx *c, const json_t *entry, config_resource_server *rs)
{
    const json_t *scopes, *item;
    json_t *seen = NULL;
    char field[48];
    size_t i;
    tg_err err;

    if ((err = config_get_array(c, entry, "scopes", &scopes)) != TG_OK)
        return err;
    if (scopes == NULL || json_array_size(scopes) == 0)
        return TG_OK;
    if ((rs->scopes = calloc(json_array_size(scopes), sizeof(*rs->scopes))) == NULL ||
        (seen = json_object()) == NULL)
        return config_fail(c, NULL, "out of memory");
    json_array_foreach(scopes, i, item)
    {
        config_scope *sc = &rs->scopes[i];
        long long dup = -1;

        snprintf(field, sizeof(field), "scopes[%zu]", i);
        err = TG_ECONFIG;
        if (!json_is_object(item)) {
            config_fail(c, field, "must be an object");
            break;
        }
        rs->n_scopes = i + 1;
        /* The Deploy CLI schema names it `name`, the API `value`; accept both. */
        if (config_get_string(c, item, "value", &sc->value) != TG_OK ||
            (sc->value == NULL && config_get_string(c, item, "name", &sc->value) != TG_OK)) {
            config_fail(c, field, "value: must be a string");
            break;
        }
        if (sc->value == NULL || sc->value[0] == '\0') {
            config_fail(c, field, "value: required");
            break;
        }
        if (strpbrk(sc->value, " \t\r\n") != NULL) {
            config_fail(c, field, "value: must not contain whitespace");
            break;
        }
        if (config_get_string(c, item, "description", &sc->description) != TG_OK) {
            config_fail(c, field, "description: must be a string");
            break;
        }
        if (config_seen(seen, sc->value, i, &dup) != TG_OK) {
            config_fail(c, NULL, "out of memory");
            break;
        }
        if (dup >= 0) {
            config_fail(c, field, "value: duplicate of scopes[%lld]", dup);
            break;
        }
        err = TG_OK;
    }
    json_decref(seen);
    return err;
}

static tg_err
load_signing(config_ctx *c, const json_t *entry, config_resource_server *rs)
{
    tg_err err;

    if ((err = config_get_string(c, entry, "signing_alg", &rs->signing_alg)) != TG_OK ||
        (err = config_get_string(c, entry, "signing_secret", &rs->signing_secret)) != TG_OK)
        return err;
    if (rs->signing_alg == NULL && (rs->signing_alg = strdup("RS256")) == NULL)
        return config_fail(c, NULL, "out of memory");
    if (strcmp(rs->signing_alg, "RS256") != 0 && strcmp(rs->signing_alg, "HS256") != 0 &&
        strcmp(rs->signing_alg, "ES256") != 0 && strcmp(rs->signing_alg, "PS256") != 0)
        return config_fail(c, "signing_alg",
                           "%s is not supported (use RS256, PS256, ES256 or HS256)",
                           rs->signing_alg);
    if (strcmp(rs->signing_alg, "HS256") != 0) {
        tg_free_secret_str(rs->signing_secret); /* only meaningful for HS256 */
        rs->signing_secret = NULL;
        return TG_OK;
    }
    if (rs->signing_secret != NULL) {
        if (strlen(rs->signing_secret) < 16)
            return config_fail(c, "signing_secret", "must be at least 16 characters");
        return TG_OK;
    }
    if (c->master_key == NULL)
        return config_fail(c, "signing_secret", "missing, and no master key to derive it");
    if ((err = config_derive(c->master_key, "signing_secret:", rs->identifier,
                             &rs->signing_secret)) != TG_OK)
        return config_fail(c, "signing_secret", "cannot derive: %s", tg_strerror(err));
    return TG_OK;
}

/* Settings that would make tokens weaker than configured if ignored are refused; the rest of
 * the behaviour-changing ones are flagged (tenant-format.md §4). */
static tg_err
check_unsupported(config_ctx *c, const json_t *entry)
{
    const json_t *pop = json_object_get(entry, "proof_of_possession");
    const json_t *dialect = json_object_get(entry, "token_dialect");

    if (config_value_is_set(json_object_get(entry, "token_encryption")))
        return config_fail(c, "token_encryption", "not supported");
    if (json_is_object(pop) && json_is_true(json_object_get(pop, "required")))
        return config_fail(c, "proof_of_possession",
                           "required proof of possession is not "
                           "supported");
    if (config_value_is_set(json_object_get(entry, "enforce_policies")))
        config_warn(c, "enforce_policies", "RBAC is not supported yet; ignored");
    if (json_is_string(dialect) && strcmp(json_string_value(dialect), "access_token") != 0)
        config_warn(c, "token_dialect", "%s is not supported yet; access_token is used",
                    json_string_value(dialect));
    if (config_value_is_set(
            json_object_get(entry, "skip_consent_for_verifiable_first_party_clients")))
        config_warn(c, "skip_consent_for_verifiable_first_party_clients",
                    "not supported yet; ignored");
    return TG_OK;
}

static tg_err
load_api(config_ctx *c, const json_t *entry, size_t idx, config_resource_server *rs)
{
    const json_t *name_v = json_object_get(entry, "name");
    tg_err err;

    config_set_entry(c, "resourceServers", idx,
                     json_is_string(name_v) ? json_string_value(name_v) : NULL);
    if (!json_is_object(entry))
        return config_fail(c, NULL, "must be an object");
    if ((err = config_get_string(c, entry, "name", &rs->name)) != TG_OK ||
        (err = config_get_string(c, entry, "identifier", &rs->identifier)) != TG_OK)
        return err;
    if (rs->name == NULL || rs->name[0] == '\0')
        return config_fail(c, "name", "required");
    if (strpbrk(rs->name, "<>") != NULL)
        return config_fail(c, "name", "must not contain < or >");
    if (strcmp(rs->name, "Auth0 Management API") == 0)
        return config_fail(c, "name", "the Auth0 Management API cannot be configured");
    if (rs->identifier == NULL || rs->identifier[0] == '\0')
        return config_fail(c, "identifier", "required");
    if ((err = load_scopes(c, entry, rs)) != TG_OK || (err = load_signing(c, entry, rs)) != TG_OK)
        return err;
    if ((err = config_get_int(c, entry, "token_lifetime", 86400, 0, MAX_TOKEN_LIFETIME,
                              &rs->token_lifetime)) != TG_OK ||
        (err = config_get_int(c, entry, "token_lifetime_for_web",
                              rs->token_lifetime < 7200 ? rs->token_lifetime : 7200, 0,
                              MAX_TOKEN_LIFETIME, &rs->token_lifetime_for_web)) != TG_OK ||
        (err = config_get_bool(c, entry, "allow_offline_access", false,
                               &rs->allow_offline_access)) != TG_OK)
        return err;
    if (rs->token_lifetime_for_web > rs->token_lifetime)
        return config_fail(c, "token_lifetime_for_web", "must not exceed token_lifetime (%lld)",
                           (long long)rs->token_lifetime);
    return check_unsupported(c, entry);
}

tg_err
config_apis_load(config_ctx *c, const json_t *apis, config *cfg)
{
    json_t *names = NULL, *ids = NULL;
    size_t n;
    tg_err err = TG_OK;

    c->entry[0] = '\0';
    if (apis == NULL || json_is_null(apis))
        return TG_OK;
    if (!json_is_array(apis))
        return config_fail(c, "resourceServers", "must be a list");
    if ((n = json_array_size(apis)) == 0)
        return TG_OK;
    names = json_object();
    ids = json_object();
    if ((cfg->resource_servers = calloc(n, sizeof(*cfg->resource_servers))) == NULL ||
        names == NULL || ids == NULL) {
        err = config_fail(c, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && err == TG_OK; i++) {
        config_resource_server *rs = &cfg->resource_servers[i];
        long long dup = -1;

        cfg->n_resource_servers = i + 1;
        if ((err = load_api(c, json_array_get(apis, i), i, rs)) != TG_OK)
            break;
        if (config_seen(names, rs->name, i, &dup) != TG_OK)
            err = config_fail(c, NULL, "out of memory");
        else if (dup >= 0)
            err = config_fail(c, "name", "duplicate of resourceServers[%lld]", dup);
        else if (config_seen(ids, rs->identifier, i, &dup) != TG_OK)
            err = config_fail(c, NULL, "out of memory");
        else if (dup >= 0)
            err = config_fail(c, "identifier", "duplicate of resourceServers[%lld]", dup);
    }
    if (err == TG_OK)
        c->entry[0] = '\0';
out:
    json_decref(names);
    json_decref(ids);
    return err;
}

/* A grant's client_id names a client; when no client has that name it is a literal id
 * (tenant-format.md §2.1). *out heap. */
static tg_err
resolve_client(const config *cfg, const json_t *by_name, const char *ref, char **out)
{
    const json_t *idx = json_object_get(by_name, ref);

    *out = strdup(idx != NULL ? cfg->clients[json_integer_value(idx)].client_id : ref);
    return *out == NULL ? TG_ENOMEM : TG_OK;
}

/* Duplicate scope strings in a grant; *dup is the first repeated one or NULL. */
static tg_err
first_duplicate(const config_strv *v, const char **dup)
{
    json_t *seen = json_object();
    tg_err err = TG_OK;

    *dup = NULL;
    if (seen == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < v->n && *dup == NULL && err == TG_OK; i++) {
        long long prev = -1;

        err = config_seen(seen, v->v[i], i, &prev);
        if (prev >= 0)
            *dup = v->v[i];
    }
    json_decref(seen);
    return err;
}

/* Loads entry into g; *skip when the grant is valid but not one this server applies. */
static tg_err
load_grant(config_ctx *c, const json_t *entry, const config *cfg, const json_t *by_name,
           config_client_grant *g, bool *skip)
{
    char *client_ref = NULL, *default_for = NULL, *subject_type = NULL;
    const char *dup = NULL;
    bool has_scope = false;
    tg_err err;

    *skip = false;
    if (!json_is_object(entry))
        return config_fail(c, NULL, "must be an object");
    if ((err = config_get_string(c, entry, "client_id", &client_ref)) != TG_OK ||
        (err = config_get_string(c, entry, "default_for", &default_for)) != TG_OK ||
        (err = config_get_string(c, entry, "subject_type", &subject_type)) != TG_OK ||
        (err = config_get_string(c, entry, "audience", &g->audience)) != TG_OK ||
        (err = config_get_strv(c, entry, "scope", &g->scope, &has_scope)) != TG_OK ||
        (err = config_get_bool(c, entry, "allow_all_scopes", false, &g->allow_all_scopes)) != TG_OK)
        goto out;
    err = TG_ECONFIG;
    if (g->audience == NULL || g->audience[0] == '\0') {
        config_fail(c, "audience", "required");
        goto out;
    }
    if ((client_ref == NULL) == (default_for == NULL)) {
        config_fail(c, "client_id", "exactly one of client_id and default_for is required");
        goto out;
    }
    if (g->allow_all_scopes && has_scope) {
        config_fail(c, "scope", "must not be given together with allow_all_scopes: true");
        goto out;
    }
    if (first_duplicate(&g->scope, &dup) != TG_OK) {
        config_fail(c, NULL, "out of memory");
        goto out;
    }
    if (dup != NULL) {
        config_fail(c, "scope", "duplicate scope %s", dup);
        goto out;
    }
    if (subject_type != NULL && strcmp(subject_type, "client") != 0 &&
        strcmp(subject_type, "user") != 0) {
        config_fail(c, "subject_type", "must be client or user");
        goto out;
    }
    err = TG_OK;
    if (default_for != NULL) {
        config_warn(c, "default_for", "grants for %s are not supported yet; ignored", default_for);
        *skip = true;
        goto out;
    }
    if (subject_type != NULL && strcmp(subject_type, "user") == 0) {
        config_warn(c, "subject_type", "user access grants are not supported yet; ignored");
        *skip = true;
        goto out;
    }
    if (config_value_is_set(json_object_get(entry, "organization_usage")) ||
        config_value_is_set(json_object_get(entry, "allow_any_organization")))
        config_warn(c, "organization_usage", "organizations are not supported yet; ignored");
    if (resolve_client(cfg, by_name, client_ref, &g->client_id) != TG_OK)
        err = config_fail(c, NULL, "out of memory");
out:
    free(client_ref);
    free(default_for);
    free(subject_type);
    return err;
}

tg_err
config_grants_load(config_ctx *c, const json_t *grants, config *cfg)
{
    json_t *by_name = NULL, *pairs = NULL;
    size_t n;
    tg_err err = TG_OK;

    c->entry[0] = '\0';
    if (grants == NULL || json_is_null(grants))
        return TG_OK;
    if (!json_is_array(grants))
        return config_fail(c, "clientGrants", "must be a list");
    if ((n = json_array_size(grants)) == 0)
        return TG_OK;
    by_name = json_object();
    pairs = json_object();
    if ((cfg->client_grants = calloc(n, sizeof(*cfg->client_grants))) == NULL || by_name == NULL ||
        pairs == NULL) {
        err = config_fail(c, NULL, "out of memory");
        goto out;
    }
    /* Names are unique (checked with the clients), so this maps each to its one client. */
    for (size_t i = 0; i < cfg->n_clients; i++) {
        if (json_object_set_new(by_name, cfg->clients[i].name, json_integer((json_int_t)i)) != 0) {
            err = config_fail(c, NULL, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n && err == TG_OK; i++) {
        config_client_grant *g = &cfg->client_grants[cfg->n_client_grants];
        json_t *audiences;
        long long dup = -1;
        bool skip = false;

        config_set_entry(c, "clientGrants", i, NULL);
        cfg->n_client_grants++;
        if ((err = load_grant(c, json_array_get(grants, i), cfg, by_name, g, &skip)) != TG_OK)
            break;
        if (skip) {
            config_grant_fini(g);
            cfg->n_client_grants--;
            continue;
        }
        /* One grant per (client, audience): pairs maps client_id to a set of audiences. */
        audiences = json_object_get(pairs, g->client_id);
        if (audiences == NULL && (json_object_set_new(pairs, g->client_id, json_object()) != 0 ||
                                  (audiences = json_object_get(pairs, g->client_id)) == NULL))
            err = config_fail(c, NULL, "out of memory");
        else if (config_seen(audiences, g->audience, i, &dup) != TG_OK)
            err = config_fail(c, NULL, "out of memory");
        else if (dup >= 0)
            err = config_fail(c, NULL,
                              "duplicate of clientGrants[%lld] (same client_id and audience)", dup);
    }
    if (err == TG_OK)
        c->entry[0] = '\0';
out:
    json_decref(by_name);
    json_decref(pairs);
    return err;
}
