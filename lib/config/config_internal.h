/*
 * Private to lib/config: the stages of loading a tenant file (placeholders, YAML -> jansson,
 * mapping and validation) and the helpers they share. Nothing outside lib/config includes it.
 */
#ifndef TG_CONFIG_CONFIG_INTERNAL_H
#define TG_CONFIG_CONFIG_INTERNAL_H

#include <jansson.h>

#include "config/config.h"

#define CONFIG_MAX_TEXT ((size_t)4 * 1024 * 1024) /* raw and expanded text ceiling */
#define CONFIG_MAX_DEPTH 64                       /* YAML nesting ceiling */

/* Where an error is reported: file name, the current entry (e.g. `clients[2] ("Acme")`) and
 * the caller's buffer. */
typedef struct config_ctx {
    const char *name;
    const char *master_key;
    char *errbuf;
    size_t errlen;
    char entry[160];
} config_ctx;

/* Text-level @@KEY@@ then ##KEY## replacement from the environment, as the Deploy CLI does.
 * *out (NUL-terminated, *out_len bytes) is heap; the caller frees it. TG_ETOOBIG past
 * CONFIG_MAX_TEXT. */
tg_err config_placeholders_expand(config_ctx *c, const char *text, size_t len, char **out,
                                  size_t *out_len);

/* Parses one YAML document into a jansson tree with js-yaml-like scalar typing. Anchors,
 * aliases, multiple documents, unknown tags and nesting deeper than CONFIG_MAX_DEPTH are
 * errors. *out is a new reference. */
tg_err config_yaml_parse(config_ctx *c, const char *text, size_t len, json_t **out);

/* True when s is a whole-value unresolved placeholder: ^(##[A-Z0-9_]+##|@@[A-Z0-9_]+@@)$. */
bool config_is_placeholder(const char *s);

/* Formats "<name>: <entry>: <field>: <msg>" into the error buffer (entry and field omitted
 * when empty/NULL) and returns TG_ECONFIG. */
tg_err config_fail(config_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same shape, logged at LOG_WARN. */
void config_warn(config_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets c->entry to `<list>[<i>]` or `<list>[<i>] ("<name>")` (name sanitised, may be NULL). */
void config_set_entry(config_ctx *c, const char *list, size_t i, const char *name);

/* Typed field readers. A field that is absent, null or a whole-value placeholder string is
 * "not provided": strings come back NULL, the others get their default. Wrong types fail with
 * a message naming the field. */
tg_err config_get_string(config_ctx *c, const json_t *obj, const char *key, char **out);
tg_err config_get_bool(config_ctx *c, const json_t *obj, const char *key, bool dflt, bool *out);
tg_err config_get_int(config_ctx *c, const json_t *obj, const char *key, int64_t dflt, int64_t min,
                      int64_t max, int64_t *out);
/* *present says whether the list was provided at all. */
tg_err config_get_strv(config_ctx *c, const json_t *obj, const char *key, config_strv *out,
                       bool *present);
/* *out borrowed, NULL when not provided. */
tg_err config_get_object(config_ctx *c, const json_t *obj, const char *key, const json_t **out);
tg_err config_get_array(config_ctx *c, const json_t *obj, const char *key, const json_t **out);
void config_strv_fini(config_strv *v);
tg_err config_strv_set(config_strv *v, const char *const *items, size_t n);

/* Uniqueness in O(1) per entry: set is a jansson object used as a hash set from key to entry
 * index. *dup is the index of an earlier entry with the same key, or -1 (then key is recorded
 * with idx). TG_ENOMEM on allocation failure. */
tg_err config_seen(json_t *set, const char *key, size_t idx, long long *dup);

/* True when v carries something: not null/false, not an empty string, array or object. */
bool config_value_is_set(const json_t *v);

/* base64url(HMAC-SHA256(master, prefix || value)); *out (43 chars) freed with
 * tg_free_secret_str. */
tg_err config_derive(const char *master, const char *prefix, const char *value, char **out);

/* Sections, each filling its part of cfg. */
tg_err config_tenant_load(config_ctx *c, const json_t *tenant, config *cfg);
/* The tenant's session_lifetime, idle_session_lifetime and session_cookie (config_session.c). */
tg_err config_session_load(config_ctx *c, const json_t *tenant, config_tenant *out);
/* tenant.picture_url and the top-level branding section (config_branding.c); after the tenant
 * section (it points cfg->tenant.branding at friendly_name). */
tg_err config_branding_load(config_ctx *c, const json_t *tenant, const json_t *branding,
                            config *cfg);
tg_err config_clients_load(config_ctx *c, const json_t *clients, config *cfg);
tg_err config_apis_load(config_ctx *c, const json_t *apis, config *cfg);
tg_err config_grants_load(config_ctx *c, const json_t *grants, config *cfg);
/* `databases:` plus the strategy-auth0 entries of `connections:`; runs after the clients. */
tg_err config_connections_load(config_ctx *c, const json_t *databases, const json_t *connections,
                               config *cfg);
/* attackProtection (may be NULL) into cfg->tenant.brute_force_*. */
tg_err config_attack_protection_load(config_ctx *c, const json_t *ap, config *cfg);
/* emailProvider (may be NULL) into cfg->email (config_email.c). */
tg_err config_email_load(config_ctx *c, const json_t *ep, config *cfg);

void config_client_fini(config_client *cl);
void config_api_fini(config_resource_server *rs);
void config_grant_fini(config_client_grant *g);
void config_connection_fini(config_connection *conn);
void config_email_fini(config_email *e);

#endif
