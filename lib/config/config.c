/*
 * Loading the tenant file: read, replace placeholders, parse YAML, check the top-level keys
 * against the Deploy CLI schema, then hand each known section to its loader. Also the tenant
 * section, lookups and config_free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/util.h"

/* The Deploy CLI's top level (additionalProperties:false; tenant-format.md §1.2). `warn` marks
 * the ones §4 says must not be ignored silently: accepted, but loudly flagged as unsupported.
 * databases, connections and attackProtection are loaded, and their loaders flag the parts
 * that are not supported. */
static const struct {
    const char *key;
    bool warn;
} top_keys[] = {
    {"tenant", false},
    {"clients", false},
    {"clientGrants", false},
    {"resourceServers", false},
    {"databases", false},
    {"connections", false},
    {"roles", true},
    {"organizations", true},
    {"guardianFactors", true},
    {"guardianFactorProviders", true},
    {"guardianFactorTemplates", true},
    {"guardianPolicies", true},
    {"guardianPhoneFactorSelectedProvider", false},
    {"guardianPhoneFactorMessageTypes", false},
    {"attackProtection", false},
    {"riskAssessment", false},
    {"emailProvider", false}, /* smtp loaded; other providers warned in config_email.c */
    {"emailTemplates", true},
    {"pages", false},
    {"prompts", false},
    {"branding", false},
    {"themes", false},
    {"customDomains", false},
    {"phoneProviders", false},
    {"phoneTemplates", false},
    {"actions", true},
    {"actionModules", false},
    {"triggers", true},
    {"rules", true},
    {"rulesConfigs", false},
    {"hooks", true},
    {"logStreams", false},
    {"eventStreams", false},
    {"forms", false},
    {"flows", false},
    {"flowVaultConnections", false},
    {"selfServiceProfiles", false},
    {"networkACLs", true},
    {"userAttributeProfiles", false},
    {"connectionProfiles", false},
    {"tokenExchangeProfiles", false},
    {"supplementalSignals", false},
    {"rateLimitPolicies", false},
    {"clientAuthCredentials", false},
    {"clientAuthCredentialsPre", false},
    {"exclude", false},
    {"include", false},
};

/* Tenant settings that change behaviour (§4) but are not implemented yet. */
static const char *const tenant_unsupported[] = {
    "ephemeral_session_lifetime",
    "idle_ephemeral_session_lifetime",
    "default_redirection_uri",
    "enabled_locales",
    "device_flow",
    "oidc_logout",
    "sessions",
    "pushed_authorization_requests_supported",
    "resource_parameter_profile",
    "acr_values_supported",
    "mtls",
    NULL,
};
static const char *const tenant_flags_unsupported[] = {
    "enable_client_connections",
    "revoke_refresh_token_grant",
    "enforce_client_authentication_on_passwordless_start",
    "allow_legacy_tokeninfo_endpoint",
    "allow_legacy_delegation_grant_types",
    "allow_legacy_ro_grant_types",
    "enable_legacy_profile",
    "no_disclose_enterprise_connections",
    "disable_clickjack_protection_headers",
    "change_pwd_flow_v1",
    "require_pushed_authorization_requests",
    "mfa_show_factor_list_on_enrollment",
    "use_scope_descriptions_for_consent",
    NULL,
};

static tg_err
check_top_level(config_ctx *c, const json_t *root)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)root, key, v)
    {
        size_t i;

        for (i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
            if (strcmp(key, top_keys[i].key) == 0)
                break;
        if (i == sizeof(top_keys) / sizeof(top_keys[0]))
            return config_fail(c, NULL, "%s: unknown top-level key", key);
        if (top_keys[i].warn && config_value_is_set(v))
            config_warn(c, key, "not supported yet; ignored");
    }
    return TG_OK;
}

tg_err
config_tenant_load(config_ctx *c, const json_t *t, config *cfg)
{
    config_tenant *out = &cfg->tenant;
    const json_t *flags;
    tg_err err;

    snprintf(c->entry, sizeof(c->entry), "tenant");
    if (t != NULL && !json_is_null(t) && !json_is_object(t))
        return config_fail(c, NULL, "must be an object");
    if ((err = config_get_string(c, t, "friendly_name", &out->friendly_name)) != TG_OK ||
        (err = config_get_string(c, t, "default_audience", &out->default_audience)) != TG_OK ||
        (err = config_get_string(c, t, "default_directory", &out->default_directory)) != TG_OK ||
        (err = config_get_strv(c, t, "allowed_logout_urls", &out->allowed_logout_urls, NULL)) !=
            TG_OK)
        return err;
    if (out->friendly_name == NULL && (out->friendly_name = strdup("")) == NULL)
        return config_fail(c, NULL, "out of memory");
    /* The API's "" means "none". */
    if (out->default_audience != NULL && out->default_audience[0] == '\0') {
        free(out->default_audience);
        out->default_audience = NULL;
    }
    if (out->default_directory != NULL && out->default_directory[0] == '\0') {
        free(out->default_directory);
        out->default_directory = NULL;
    }
    /* The Deploy CLI rejects page settings inside tenant: they belong under pages:. */
    for (const char *const *k =
             (const char *const[]){"change_password", "guardian_mfa_page", "error_page", NULL};
         *k != NULL; k++)
        if (json_object_get(t, *k) != NULL)
            return config_fail(c, *k, "page settings belong under the top-level pages: key");
    if ((err = config_session_load(c, t, out)) != TG_OK)
        return err;
    for (const char *const *k = tenant_unsupported; *k != NULL; k++)
        if (config_value_is_set(json_object_get(t, *k)))
            config_warn(c, *k, "not supported yet; ignored");
    if ((err = config_get_object(c, t, "flags", &flags)) != TG_OK)
        return err;
    if (flags != NULL) {
        snprintf(c->entry, sizeof(c->entry), "tenant.flags");
        if ((err = config_get_bool(c, flags, "enable_public_signup_user_exists_error", false,
                                   &out->signup_user_exists_error)) != TG_OK ||
            (err = config_get_bool(c, flags, "enable_dynamic_client_registration", false,
                                   &out->dynamic_client_registration)) != TG_OK)
            return err;
        snprintf(c->entry, sizeof(c->entry), "tenant");
    }
    for (const char *const *k = tenant_flags_unsupported; flags != NULL && *k != NULL; k++)
        if (config_value_is_set(json_object_get(flags, *k)))
            config_warn(c, "flags", "%s: not supported yet; ignored", *k);
    return TG_OK;
}

tg_err
config_load_text(const char *name, const char *text, size_t len, const char *master_key,
                 config **out, char *errbuf, size_t errlen)
{
    config_ctx c = {
        .name = name != NULL ? name : "tenant.yaml", .errbuf = errbuf, .errlen = errlen};
    char *expanded = NULL;
    size_t xlen = 0;
    json_t *root = NULL;
    config *cfg = NULL;
    tg_err err;

    *out = NULL;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    c.master_key = master_key != NULL && master_key[0] != '\0' ? master_key : NULL;
    if (text == NULL)
        return config_fail(&c, NULL, "no text");
    if (len > CONFIG_MAX_TEXT) {
        config_fail(&c, NULL, "file is larger than 4 MiB");
        return TG_ETOOBIG;
    }
    if ((err = config_placeholders_expand(&c, text, len, &expanded, &xlen)) != TG_OK)
        return err;
    err = config_yaml_parse(&c, expanded, xlen, &root);
    tg_free_secret(expanded, xlen); /* placeholders may have carried secrets */
    if (err != TG_OK)
        return err;
    if (!json_is_object(root)) {
        err = config_fail(&c, NULL, "the top level must be a mapping of tenant.yaml keys");
        goto out;
    }
    if ((err = check_top_level(&c, root)) != TG_OK)
        goto out;
    if ((cfg = calloc(1, sizeof(*cfg))) == NULL || (cfg->path = strdup(c.name)) == NULL) {
        err = config_fail(&c, NULL, "out of memory");
        goto out;
    }
    cfg->has_organizations = config_value_is_set(json_object_get(root, "organizations"));
    /* Clients first: grants and connections refer to them by name. */
    if ((err = config_tenant_load(&c, json_object_get(root, "tenant"), cfg)) != TG_OK ||
        (err = config_branding_load(&c, json_object_get(root, "tenant"),
                                    json_object_get(root, "branding"), cfg)) != TG_OK ||
        (err = config_clients_load(&c, json_object_get(root, "clients"), cfg)) != TG_OK ||
        (err = config_apis_load(&c, json_object_get(root, "resourceServers"), cfg)) != TG_OK ||
        (err = config_grants_load(&c, json_object_get(root, "clientGrants"), cfg)) != TG_OK ||
        (err = config_connections_load(&c, json_object_get(root, "databases"),
                                       json_object_get(root, "connections"), cfg)) != TG_OK)
        goto out;
    if ((err = config_attack_protection_load(&c, json_object_get(root, "attackProtection"), cfg)) !=
            TG_OK ||
        (err = config_email_load(&c, json_object_get(root, "emailProvider"), cfg)) != TG_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    config_free(cfg);
    json_decref(root);
    return err;
}

tg_err
config_load(const char *path, const char *master_key, config **out, char *errbuf, size_t errlen)
{
    config_ctx c = {.name = path, .errbuf = errbuf, .errlen = errlen};
    char *text = NULL;
    size_t len = 0, cap = (size_t)64 * 1024;
    FILE *f;
    tg_err err;

    *out = NULL;
    if (path == NULL)
        return TG_EINVAL;
    if ((f = fopen(path, "rb")) == NULL)
        return config_fail(&c, NULL, "cannot open: %s", strerror(errno));
    for (;;) {
        size_t n;
        char *p;

        if (len == cap)
            cap *= 2;
        if ((p = realloc(text, cap + 1)) == NULL) {
            err = config_fail(&c, NULL, "out of memory");
            goto out;
        }
        text = p;
        n = fread(text + len, 1, cap - len, f);
        len += n;
        if (len > CONFIG_MAX_TEXT) {
            config_fail(&c, NULL, "file is larger than 4 MiB");
            err = TG_ETOOBIG;
            goto out;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        err = config_fail(&c, NULL, "read error");
        goto out;
    }
    err = config_load_text(path, text, len, master_key, out, errbuf, errlen);
out:
    fclose(f);
    tg_free_secret(text, len);
    return err;
}

void
config_free(config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->tenant.friendly_name);
    free(cfg->tenant.default_audience);
    free(cfg->tenant.default_directory);
    free(cfg->tenant.picture_url);
    free(cfg->tenant.logo_url);
    free(cfg->tenant.primary_color);
    config_strv_fini(&cfg->tenant.allowed_logout_urls);
    for (size_t i = 0; i < cfg->n_clients; i++)
        config_client_fini(&cfg->clients[i]);
    free(cfg->clients);
    for (size_t i = 0; i < cfg->n_resource_servers; i++)
        config_api_fini(&cfg->resource_servers[i]);
    free(cfg->resource_servers);
    for (size_t i = 0; i < cfg->n_client_grants; i++)
        config_grant_fini(&cfg->client_grants[i]);
    free(cfg->client_grants);
    for (size_t i = 0; i < cfg->n_connections; i++)
        config_connection_fini(&cfg->connections[i]);
    free(cfg->connections);
    config_email_fini(&cfg->email);
    free(cfg);
}

const config_client *
config_client_by_id(const config *cfg, const char *client_id)
{
    if (cfg == NULL || client_id == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_clients; i++)
        if (strcmp(cfg->clients[i].client_id, client_id) == 0)
            return &cfg->clients[i];
    return NULL;
}

const config_resource_server *
config_api_by_identifier(const config *cfg, const char *identifier)
{
    if (cfg == NULL || identifier == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_resource_servers; i++)
        if (strcmp(cfg->resource_servers[i].identifier, identifier) == 0)
            return &cfg->resource_servers[i];
    return NULL;
}

const config_client_grant *
config_grant_find(const config *cfg, const char *client_id, const char *audience)
{
    if (cfg == NULL || client_id == NULL || audience == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_client_grants; i++)
        if (strcmp(cfg->client_grants[i].client_id, client_id) == 0 &&
            strcmp(cfg->client_grants[i].audience, audience) == 0)
            return &cfg->client_grants[i];
    return NULL;
}

bool
config_strv_has(const config_strv *v, const char *s)
{
    if (v == NULL || s == NULL)
        return false;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}
