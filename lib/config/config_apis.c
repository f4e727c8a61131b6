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
    char field[48];
    size_t i;
    tg_err err;

    if ((err = config_get_array(c, entry, "scopes", &scopes)) != TG_OK)
        return err;
    if (scopes == NULL || json_array_size(scopes) == 0)
        return TG_OK;
    if ((rs->scopes = calloc(json_array_size(scopes), sizeof(*rs->scopes))) == NULL)
        return config_fail(c, NULL, "out of memory");
    json_array_foreach(scopes, i, item) {
        config_scope *sc = &rs->scopes[i];

        snprintf(field, sizeof(field), "scopes[%zu]", i);
        if (!json_is_object(item))
            return config_fail(c, field, "must be an object");
        rs->n_scopes = i + 1;
        /* The Deploy CLI schema names it `name`, the API `value`; accept both. */
        if ((err = config_get_string(c, item, "value", &sc->value)) != TG_OK ||
            (sc->value == NULL && (err = config_get_string(c, item, "name", &sc->value)) != TG_OK))
            return config_fail(c, field, "value: must be a string");
        if (sc->value == NULL || sc->value[0] == '\0')
            return config_fail(c, field, "value: required");
        if (strpbrk(sc->value, " \t\r\n") != NULL)
            return config_fail(c, field, "value: must not contain whitespace");
        if ((err = config_get_string(c, item, "description", &sc->description)) != TG_OK)
            return config_fail(c, field, "description: must be a string");
        for (size_t j = 0; j < i; j++)
            if (strcmp(rs->scopes[j].value, sc->value) == 0)
                return config_fail(c, field, "value: duplicate of scopes[%zu]", j);
    }
    return TG_OK;
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
        return config_fail(c, "proof_of_possession", "required proof of possession is not "
                                                     "supported");
    if (config_value_is_set(json_object_get(entry, "enforce_policies")))
        config_warn(c, "enforce_policies", "RBAC is not supported yet; ignored");
    if (json_is_string(dialect) && strcmp(json_string_value(dialect), "access_token") != 0)
        config_warn(c, "token_dialect", "%s is not supported yet; access_token is used",
                    json_string_value(dialect));
    if (config_value_is_set(json_object_get(entry, "skip_consent_for_verifiable_first_party_clients")))
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
    size_t n;
    tg_err err;

    c->entry[0] = '\0';
    if (apis == NULL || json_is_null(apis))
        return TG_OK;
    if (!json_is_array(apis))
        return config_fail(c, "resourceServers", "must be a list");
    if ((n = json_array_size(apis)) == 0)
        return TG_OK;
    if ((cfg->resource_servers = calloc(n, sizeof(*cfg->resource_servers))) == NULL)
        return config_fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        config_resource_server *rs = &cfg->resource_servers[i];

        cfg->n_resource_servers = i + 1;
        if ((err = load_api(c, json_array_get(apis, i), i, rs)) != TG_OK)
            return err;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->resource_servers[j].name, rs->name) == 0)
                return config_fail(c, "name", "duplicate of resourceServers[%zu]", j);
            if (strcmp(cfg->resource_servers[j].identifier, rs->identifier) == 0)
                return config_fail(c, "identifier", "duplicate of resourceServers[%zu]", j);
        }
    }
    c->entry[0] = '\0';
    return TG_OK;
}

/* A grant's client_id names a client; when no client has that name it is a literal id
 * (tenant-format.md §2.1). *out heap. */
static tg_err
resolve_client(const config *cfg, const char *ref, char **out)
{
    for (size_t i = 0; i < cfg->n_clients; i++)
        if (strcmp(cfg->clients[i].name, ref) == 0) {
            *out = strdup(cfg->clients[i].client_id);
            return *out == NULL ? TG_ENOMEM : TG_OK;
        }
    *out = strdup(ref);
    return *out == NULL ? TG_ENOMEM : TG_OK;
}

/* Loads entry into g; *skip when the grant is valid but not one this server applies. */
static tg_err
load_grant(config_ctx *c, const json_t *entry, const config *cfg, config_client_grant *g,
           bool *skip)
{
    char *client_ref = NULL, *default_for = NULL, *subject_type = NULL;
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
        (err = config_get_bool(c, entry, "allow_all_scopes", false, &g->allow_all_scopes)) !=
            TG_OK)
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
    for (size_t i = 0; i < g->scope.n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->scope.v[i], g->scope.v[j]) == 0) {
                config_fail(c, "scope", "duplicate scope %s", g->scope.v[i]);
                goto out;
            }
    if (subject_type != NULL && strcmp(subject_type, "client") != 0 &&
        strcmp(subject_type, "user") != 0) {
        config_fail(c, "subject_type", "must be client or user");
        goto out;
    }
    err = TG_OK;
    if (default_for != NULL) {
        config_warn(c, "default_for", "grants for %s are not supported yet; ignored",
                    default_for);
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
    if (resolve_client(cfg, client_ref, &g->client_id) != TG_OK)
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
    size_t n;
    tg_err err;

    c->entry[0] = '\0';
    if (grants == NULL || json_is_null(grants))
        return TG_OK;
    if (!json_is_array(grants))
        return config_fail(c, "clientGrants", "must be a list");
    if ((n = json_array_size(grants)) == 0)
        return TG_OK;
    if ((cfg->client_grants = calloc(n, sizeof(*cfg->client_grants))) == NULL)
        return config_fail(c, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        config_client_grant *g = &cfg->client_grants[cfg->n_client_grants];
        bool skip = false;

        config_set_entry(c, "clientGrants", i, NULL);
        cfg->n_client_grants++;
        err = load_grant(c, json_array_get(grants, i), cfg, g, &skip);
        if (err != TG_OK)
            return err;
        if (skip) {
            config_grant_fini(g);
            cfg->n_client_grants--;
            continue;
        }
        for (size_t j = 0; j + 1 < cfg->n_client_grants; j++)
            if (strcmp(cfg->client_grants[j].client_id, g->client_id) == 0 &&
                strcmp(cfg->client_grants[j].audience, g->audience) == 0)
                return config_fail(c, NULL, "a grant for this client_id and audience already "
                                            "exists");
    }
    c->entry[0] = '\0';
    return TG_OK;
}
