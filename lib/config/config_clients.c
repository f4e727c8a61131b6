/*
 * clients: the applications. Reads the fields that change behaviour, applies the Auth0
 * defaults, derives missing ids/secrets from the master key (config.h), loads private_key_jwt
 * credentials, and refuses what cannot be honoured safely.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/util.h"
#include "jose/jose.h"

/* Client fields that change behaviour (tenant-format.md §4) and are not implemented yet.
 * `quiet` is the value that means "feature off", which needs no warning. */
static const struct {
    const char *key;
    const char *quiet;
} client_unsupported[] = {
    {"cross_origin_authentication", NULL},
    {"cross_origin_loc", NULL},
    {"initiate_login_uri", NULL},
    {"organization_usage", "deny"},
    {"organization_require_behavior", "no_prompt"},
    {"par_request_expiry", NULL},
    {"compliance_level", NULL},
    {"session_transfer", NULL},
    {"addons", NULL},
    {"client_aliases", NULL},
    {"allowed_clients", NULL},
    {"skip_non_verifiable_callback_uri_confirmation_prompt", NULL},
    {"resource_server_identifier", NULL},
};

/* Settings that would make tokens or flows weaker than configured if ignored: refused. */
static const char *const client_refused_when_true[] = {
    "require_pushed_authorization_requests",
    "require_proof_of_possession",
    NULL,
};

void
config_client_fini(config_client *cl)
{
    free(cl->name);
    free(cl->client_id);
    tg_free_secret_str(cl->client_secret);
    free(cl->app_type);
    config_strv_fini(&cl->grant_types);
    config_strv_fini(&cl->callbacks);
    config_strv_fini(&cl->allowed_logout_urls);
    config_strv_fini(&cl->allowed_origins);
    config_strv_fini(&cl->web_origins);
    config_strv_fini(&cl->backchannel_logout_urls);
    free(cl->jwt_alg);
    for (size_t i = 0; i < cl->n_credentials; i++) {
        free(cl->credentials[i].name);
        free(cl->credentials[i].pem);
        free(cl->credentials[i].alg);
    }
    free(cl->credentials);
    memset(cl, 0, sizeof(*cl));
}

/* A PEM whose line breaks were folded into spaces (a multi-line value spliced into a quoted
 * YAML scalar through ##KEY##) is rebuilt: header, body re-wrapped at 64, footer. *out heap,
 * NULL when text is not a single PEM block. */
static tg_err
pem_normalize(const char *text, char **out)
{
    const char *begin = strstr(text, "-----BEGIN "), *label, *label_end, *end, *p;
    size_t label_len, body = 0, n, o = 0;
    char *s;

    *out = NULL;
    if (begin == NULL)
        return TG_OK;
    label = begin + 11;
    if ((label_end = strstr(label, "-----")) == NULL)
        return TG_OK;
    label_len = (size_t)(label_end - label);
    if (label_len == 0 || label_len > 64 || memchr(label, '\n', label_len) != NULL)
        return TG_OK;
    if ((end = strstr(label_end + 5, "-----END ")) == NULL)
        return TG_OK;
    if (strncmp(end + 9, label, label_len) != 0 || strncmp(end + 9 + label_len, "-----", 5) != 0)
        return TG_OK;
    for (p = label_end + 5; p < end; p++)
        if (strchr(" \t\r\n", *p) == NULL)
            body++;
    n = 2 * (16 + label_len) + body + body / 64 + 4;
    if ((s = malloc(n)) == NULL)
        return TG_ENOMEM;
    o += (size_t)snprintf(s, n, "-----BEGIN %.*s-----\n", (int)label_len, label);
    for (p = label_end + 5, body = 0; p < end; p++) {
        if (strchr(" \t\r\n", *p) != NULL)
            continue;
        s[o++] = *p;
        if (++body % 64 == 0)
            s[o++] = '\n';
    }
    if (body % 64 != 0)
        s[o++] = '\n';
    snprintf(s + o, n - o, "-----END %.*s-----\n", (int)label_len, label);
    *out = s;
    return TG_OK;
}

static tg_err
load_credential(config_ctx *c, const json_t *item, size_t i, config_client *cl, bool *dropped)
{
    config_credential *cr = &cl->credentials[cl->n_credentials];
    char field[96], *pem = NULL, *type = NULL;
    const json_t *pem_v;
    jose_key *key = NULL;
    jose_alg alg;
    tg_err err;

    *dropped = false;
    snprintf(field, sizeof(field), "client_authentication_methods.private_key_jwt.credentials[%zu]",
             i);
    if (!json_is_object(item))
        return config_fail(c, field, "must be an object");
    pem_v = json_object_get(item, "pem");
    if (json_is_string(pem_v) && config_is_placeholder(json_string_value(pem_v))) {
        config_warn(c, field, "pem is the unresolved placeholder %s; credential ignored",
                    json_string_value(pem_v));
        *dropped = true;
        return TG_OK;
    }
    if ((err = config_get_string(c, item, "credential_type", &type)) != TG_OK)
        return err;
    if (type != NULL && strcmp(type, "public_key") != 0) {
        free(type);
        return config_fail(c, field, "credential_type: only public_key is supported");
    }
    free(type);
    if ((err = config_get_string(c, item, "name", &cr->name)) != TG_OK ||
        (err = config_get_string(c, item, "alg", &cr->alg)) != TG_OK ||
        (err = config_get_string(c, item, "pem", &pem)) != TG_OK)
        goto fail;
    err = TG_ECONFIG;
    if (pem == NULL) {
        config_fail(c, field,
                    "pem: required (exports omit it; supply it, e.g. through a "
                    "##KEY## placeholder)");
        goto fail;
    }
    if (cr->name == NULL && (cr->name = strdup("")) == NULL)
        goto nomem;
    if (cr->alg == NULL && (cr->alg = strdup("RS256")) == NULL)
        goto nomem;
    alg = jose_alg_from_name(cr->alg);
    if (alg != JOSE_ALG_RS256 && alg != JOSE_ALG_RS384 && alg != JOSE_ALG_PS256) {
        config_fail(c, field, "alg: must be RS256, RS384 or PS256");
        goto fail;
    }
    if (pem_normalize(pem, &cr->pem) != TG_OK)
        goto nomem;
    if (cr->pem == NULL || jose_key_from_public_pem(alg, cr->pem, &key) != TG_OK) {
        config_fail(c, field, "pem: not an RSA public key (of at least 2048 bits) in PEM form");
        goto fail;
    }
    jose_key_free(key);
    free(pem);
    cl->n_credentials++;
    return TG_OK;
nomem:
    config_fail(c, field, "out of memory");
fail:
    free(pem);
    free(cr->name);
    free(cr->alg);
    free(cr->pem);
    memset(cr, 0, sizeof(*cr));
    return err;
}

static tg_err
load_auth_methods(config_ctx *c, const json_t *entry, config_client *cl)
{
    const json_t *methods, *pkj, *creds, *item;
    const char *key;
    size_t i;
    tg_err err;

    if ((err = config_get_object(c, entry, "client_authentication_methods", &methods)) != TG_OK)
        return err;
    if (methods == NULL)
        return TG_OK;
    json_object_foreach(
        (json_t *)methods, key,
        item) if (strcmp(key, "private_key_jwt") != 0 &&
                  config_value_is_set(item)) return config_fail(c, "client_authentication_methods",
                                                                "%s: not supported", key);
    if ((err = config_get_object(c, methods, "private_key_jwt", &pkj)) != TG_OK) {
        return config_fail(c, "client_authentication_methods.private_key_jwt", "must be an object");
    }
    if (pkj == NULL)
        return TG_OK;
    creds = json_object_get(pkj, "credentials");
    if (creds == NULL || json_is_null(creds))
        return TG_OK;
    if (!json_is_array(creds))
        return config_fail(c, "client_authentication_methods.private_key_jwt.credentials",
                           "must be a list");
    if (json_array_size(creds) == 0)
        return TG_OK;
    if ((cl->credentials = calloc(json_array_size(creds), sizeof(*cl->credentials))) == NULL)
        return config_fail(c, NULL, "out of memory");
    json_array_foreach(creds, i, item)
    {
        bool dropped;

        if ((err = load_credential(c, item, i, cl, &dropped)) != TG_OK)
            return err;
    }
    return TG_OK;
}

/* Auth0's defaults when a client has no token_endpoint_auth_method: public app types
 * authenticate with nothing, everything else is confidential. */
static config_auth_method
default_auth_method(const char *app_type)
{
    if (strcmp(app_type, "spa") == 0 || strcmp(app_type, "native") == 0)
        return CONFIG_AUTH_NONE;
    return CONFIG_AUTH_CLIENT_SECRET_POST;
}

static tg_err
load_auth_method(config_ctx *c, const json_t *entry, config_client *cl)
{
    char *m = NULL;
    tg_err err;

    if ((err = config_get_string(c, entry, "token_endpoint_auth_method", &m)) != TG_OK)
        return err;
    if (cl->n_credentials > 0) {
        cl->auth_method = CONFIG_AUTH_PRIVATE_KEY_JWT;
    } else if (m == NULL) {
        cl->auth_method = default_auth_method(cl->app_type);
    } else if (strcmp(m, "none") == 0) {
        cl->auth_method = CONFIG_AUTH_NONE;
    } else if (strcmp(m, "client_secret_post") == 0) {
        cl->auth_method = CONFIG_AUTH_CLIENT_SECRET_POST;
    } else if (strcmp(m, "client_secret_basic") == 0) {
        cl->auth_method = CONFIG_AUTH_CLIENT_SECRET_BASIC;
    } else {
        free(m);
        return config_fail(c, "token_endpoint_auth_method",
                           "must be none, client_secret_post or client_secret_basic");
    }
    free(m);
    return TG_OK;
}

static tg_err
load_jwt_configuration(config_ctx *c, const json_t *entry, config_client *cl)
{
    const json_t *jc;
    tg_err err;

    if ((err = config_get_object(c, entry, "jwt_configuration", &jc)) != TG_OK)
        return err;
    if ((err = config_get_string(c, jc, "alg", &cl->jwt_alg)) != TG_OK)
        return config_fail(c, "jwt_configuration.alg", "must be a string");
    if ((err = config_get_int(c, jc, "lifetime_in_seconds", 36000, 1, 2592000,
                              &cl->jwt_lifetime_in_seconds)) != TG_OK)
        return config_fail(c, "jwt_configuration.lifetime_in_seconds",
                           "must be an integer between 1 and 2592000");
    if (cl->jwt_alg == NULL && (cl->jwt_alg = strdup("RS256")) == NULL)
        return config_fail(c, NULL, "out of memory");
    if (strcmp(cl->jwt_alg, "RS512") == 0)
        return config_fail(c, "jwt_configuration.alg",
                           "RS512 is not supported (use RS256, PS256 or HS256)");
    if (strcmp(cl->jwt_alg, "RS256") != 0 && strcmp(cl->jwt_alg, "PS256") != 0 &&
        strcmp(cl->jwt_alg, "HS256") != 0)
        return config_fail(c, "jwt_configuration.alg", "must be RS256, PS256 or HS256");
    return TG_OK;
}

/* Absolute lifetime ceiling Auth0's Management API accepts (5 years). */
#define RT_LIFETIME_MAX 157788000

static tg_err
rt_enum(config_ctx *c, const json_t *rt, const char *key, const char *yes, const char *no,
        bool *out)
{
    char *v = NULL;
    tg_err err;

    if ((err = config_get_string(c, rt, key, &v)) != TG_OK)
        return config_fail(c, "refresh_token", "%s: must be a string", key);
    if (v != NULL) {
        if (strcmp(v, yes) == 0)
            *out = true;
        else if (strcmp(v, no) == 0)
            *out = false;
        else
            err = config_fail(c, "refresh_token", "%s: must be %s or %s", key, yes, no);
    }
    free(v);
    return err;
}

static tg_err
rt_int(config_ctx *c, const json_t *rt, const char *key, int64_t min, int64_t *inout)
{
    if (config_get_int(c, rt, key, *inout, min, RT_LIFETIME_MAX, inout) != TG_OK)
        return config_fail(c, "refresh_token", "%s: must be an integer between %lld and %d", key,
                           (long long)min, RT_LIFETIME_MAX);
    return TG_OK;
}

static tg_err
rt_bool(config_ctx *c, const json_t *rt, const char *key, bool dflt, bool *out)
{
    if (config_get_bool(c, rt, key, dflt, out) != TG_OK)
        return config_fail(c, "refresh_token", "%s: must be true or false", key);
    return TG_OK;
}

/* `refresh_token` (contract.md §21.1). Defaults are Auth0's for a client created without the
 * object: non-rotating, non-expiring. */
static tg_err
load_refresh_token(config_ctx *c, const json_t *entry, config_client *cl)
{
    config_refresh_token *rt = &cl->refresh_token;
    const json_t *o = NULL;
    tg_err err;

    rt->rotating = false;
    rt->expiring = false;
    rt->leeway = 0;
    rt->token_lifetime = 2592000;
    rt->idle_token_lifetime = 1296000;
    if ((err = config_get_object(c, entry, "refresh_token", &o)) != TG_OK)
        return err;
    if (o != NULL && ((err = rt_enum(c, o, "rotation_type", "rotating", "non-rotating",
                                     &rt->rotating)) != TG_OK ||
                      (err = rt_enum(c, o, "expiration_type", "expiring", "non-expiring",
                                     &rt->expiring)) != TG_OK))
        return err;
    if ((err = rt_int(c, o, "leeway", 0, &rt->leeway)) != TG_OK ||
        (err = rt_int(c, o, "token_lifetime", 1, &rt->token_lifetime)) != TG_OK ||
        (err = rt_int(c, o, "idle_token_lifetime", 1, &rt->idle_token_lifetime)) != TG_OK ||
        (err = rt_bool(c, o, "infinite_token_lifetime", !rt->expiring,
                       &rt->infinite_token_lifetime)) != TG_OK ||
        (err = rt_bool(c, o, "infinite_idle_token_lifetime", !rt->expiring,
                       &rt->infinite_idle_token_lifetime)) != TG_OK)
        return err;
    if (!rt->infinite_token_lifetime && !rt->infinite_idle_token_lifetime &&
        rt->idle_token_lifetime > rt->token_lifetime)
        return config_fail(c, "refresh_token.idle_token_lifetime",
                           "must not exceed token_lifetime");
    /* Auth0 makes SPAs rotate with expiry; a file that says otherwise still loads (it may be
     * an old export), but the operator should know. */
    if (strcmp(cl->app_type, "spa") == 0 && o != NULL && (!rt->rotating || !rt->expiring))
        config_warn(c, "refresh_token",
                    "Auth0 requires rotating, expiring refresh tokens for SPAs");
    return TG_OK;
}

/* Where a logout token may go: https, or plain http to this machine (tests, development). */
static bool
backchannel_url_is_ok(const char *url)
{
    static const char *const local[] = {"http://localhost", "http://127.0.0.1", "http://[::1]"};

    if (strncmp(url, "https://", 8) == 0)
        return url[8] != '\0' && strpbrk(url, " \t\r\n\\") == NULL;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        size_t n = strlen(local[i]);

        if (strncmp(url, local[i], n) == 0 && (url[n] == ':' || url[n] == '/' || url[n] == '\0'))
            return strpbrk(url, " \t\r\n\\") == NULL;
    }
    return false;
}

/* Back-channel logout URLs (OIDC Back-Channel Logout 1.0): Auth0's Deploy CLI writes
 * oidc_logout.backchannel_logout_urls; older exports oidc_backchannel_logout's. */
static tg_err
load_backchannel_logout(config_ctx *c, const json_t *entry, config_client *cl)
{
    static const char *const keys[] = {"oidc_logout", "oidc_backchannel_logout"};
    const json_t *o;
    tg_err err;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && cl->backchannel_logout_urls.n == 0;
         i++) {
        if ((err = config_get_object(c, entry, keys[i], &o)) != TG_OK)
            return err;
        if (o != NULL &&
            (err = config_get_strv(c, o, "backchannel_logout_urls", &cl->backchannel_logout_urls,
                                   NULL)) != TG_OK)
            return err;
    }
    for (size_t i = 0; i < cl->backchannel_logout_urls.n; i++)
        if (!backchannel_url_is_ok(cl->backchannel_logout_urls.v[i]))
            return config_fail(c, "oidc_logout.backchannel_logout_urls",
                               "%.200s: must be an https URL (http only to localhost)",
                               cl->backchannel_logout_urls.v[i]);
    return TG_OK;
}

static tg_err
default_grant_types(config_client *cl)
{
    static const char *const pub[] = {"authorization_code", "implicit", "refresh_token"};
    static const char *const conf[] = {"authorization_code", "implicit", "refresh_token",
                                       "client_credentials"};

    /* The Dashboard's defaults: confidential apps also get client_credentials. */
    if (cl->auth_method == CONFIG_AUTH_NONE)
        return config_strv_set(&cl->grant_types, pub, 3);
    return config_strv_set(&cl->grant_types, conf, 4);
}

static tg_err
check_unsupported(config_ctx *c, const json_t *entry)
{
    const json_t *sro;

    for (const char *const *k = client_refused_when_true; *k != NULL; k++)
        if (json_is_true(json_object_get(entry, *k)))
            return config_fail(c, *k, "true is not supported yet");
    sro = json_object_get(entry, "signed_request_object");
    if (json_is_object(sro) && json_is_true(json_object_get(sro, "required")))
        return config_fail(c, "signed_request_object.required", "true is not supported yet");
    for (size_t i = 0; i < sizeof(client_unsupported) / sizeof(client_unsupported[0]); i++) {
        const json_t *v = json_object_get(entry, client_unsupported[i].key);

        if (!config_value_is_set(v))
            continue;
        if (client_unsupported[i].quiet != NULL && json_is_string(v) &&
            strcmp(json_string_value(v), client_unsupported[i].quiet) == 0)
            continue;
        config_warn(c, client_unsupported[i].key, "not supported yet; ignored");
    }
    return TG_OK;
}

static tg_err
derive_identity(config_ctx *c, config_client *cl)
{
    char *id = NULL;
    tg_err err;

    if (cl->client_id == NULL) {
        if (c->master_key == NULL)
            return config_fail(c, "client_id", "missing, and no master key to derive it");
        if ((err = config_derive(c->master_key, "client_id:", cl->name, &id)) != TG_OK)
            return config_fail(c, "client_id", "cannot derive: %s", tg_strerror(err));
        id[32] = '\0';
        cl->client_id = id;
    }
    if (cl->client_secret == NULL) {
        if (c->master_key == NULL)
            return config_fail(c, "client_secret", "missing, and no master key to derive it");
        if ((err = config_derive(c->master_key, "client_secret:", cl->name, &cl->client_secret)) !=
            TG_OK)
            return config_fail(c, "client_secret", "cannot derive: %s", tg_strerror(err));
    }
    return TG_OK;
}

static tg_err
load_client(config_ctx *c, const json_t *entry, size_t idx, config_client *cl)
{
    const json_t *name_v = json_object_get(entry, "name");
    tg_err err;

    config_set_entry(c, "clients", idx, json_is_string(name_v) ? json_string_value(name_v) : NULL);
    if (!json_is_object(entry))
        return config_fail(c, NULL, "must be an object");
    if ((err = config_get_string(c, entry, "name", &cl->name)) != TG_OK)
        return err;
    if (cl->name == NULL || cl->name[0] == '\0')
        return config_fail(c, "name", "required");
    if (strpbrk(cl->name, "<>") != NULL)
        return config_fail(c, "name", "must not contain < or >");
    if ((err = config_get_string(c, entry, "client_id", &cl->client_id)) != TG_OK ||
        (err = config_get_string(c, entry, "client_secret", &cl->client_secret)) != TG_OK ||
        (err = config_get_string(c, entry, "app_type", &cl->app_type)) != TG_OK ||
        (err = config_get_bool(c, entry, "is_first_party", true, &cl->is_first_party)) != TG_OK ||
        (err = config_get_strv(c, entry, "callbacks", &cl->callbacks, NULL)) != TG_OK ||
        (err = config_get_strv(c, entry, "allowed_logout_urls", &cl->allowed_logout_urls, NULL)) !=
            TG_OK ||
        (err = config_get_strv(c, entry, "allowed_origins", &cl->allowed_origins, NULL)) != TG_OK ||
        (err = config_get_strv(c, entry, "web_origins", &cl->web_origins, NULL)) != TG_OK)
        return err;
    if (cl->client_id != NULL && cl->client_id[0] == '\0')
        return config_fail(c, "client_id", "must not be empty");
    if (cl->client_secret != NULL && cl->client_secret[0] == '\0')
        return config_fail(c, "client_secret", "must not be empty");
    /* No app_type: a generic confidential application. */
    if (cl->app_type == NULL && (cl->app_type = strdup("regular_web")) == NULL)
        return config_fail(c, NULL, "out of memory");
    if ((err = load_auth_methods(c, entry, cl)) != TG_OK ||
        (err = load_auth_method(c, entry, cl)) != TG_OK ||
        (err = load_jwt_configuration(c, entry, cl)) != TG_OK ||
        (err = load_refresh_token(c, entry, cl)) != TG_OK ||
        (err = load_backchannel_logout(c, entry, cl)) != TG_OK)
        return err;
    {
        bool present = false;

        if ((err = config_get_strv(c, entry, "grant_types", &cl->grant_types, &present)) != TG_OK)
            return err;
        if (!present && default_grant_types(cl) != TG_OK)
            return config_fail(c, NULL, "out of memory");
    }
    if ((err = check_unsupported(c, entry)) != TG_OK)
        return err;
    return derive_identity(c, cl);
}

tg_err
config_clients_load(config_ctx *c, const json_t *clients, config *cfg)
{
    json_t *names = NULL, *ids = NULL;
    size_t n;
    tg_err err = TG_OK;

    c->entry[0] = '\0';
    if (clients == NULL || json_is_null(clients))
        return TG_OK;
    if (!json_is_array(clients))
        return config_fail(c, "clients", "must be a list");
    if ((n = json_array_size(clients)) == 0)
        return TG_OK;
    names = json_object();
    ids = json_object();
    if ((cfg->clients = calloc(n, sizeof(*cfg->clients))) == NULL || names == NULL || ids == NULL) {
        err = config_fail(c, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && err == TG_OK; i++) {
        config_client *cl = &cfg->clients[i];
        long long dup = -1;

        cfg->n_clients = i + 1; /* so config_free sees the partly filled entry */
        if ((err = load_client(c, json_array_get(clients, i), i, cl)) != TG_OK)
            break;
        if (config_seen(names, cl->name, i, &dup) != TG_OK)
            err = config_fail(c, NULL, "out of memory");
        else if (dup >= 0)
            err = config_fail(c, "name", "duplicate of clients[%lld]", dup);
        else if (config_seen(ids, cl->client_id, i, &dup) != TG_OK)
            err = config_fail(c, NULL, "out of memory");
        else if (dup >= 0)
            err = config_fail(c, "client_id", "duplicate of clients[%lld]", dup);
    }
    if (err == TG_OK)
        c->entry[0] = '\0';
out:
    json_decref(names);
    json_decref(ids);
    return err;
}
