/*
 * Unit tests for lib/config: a realistic Deploy CLI export loads, placeholders behave like the
 * Deploy CLI's, names resolve to ids, derived credentials are stable, and every hostile or
 * invalid file is refused with a message naming the file, the entry and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "jose/jose.h"

#define MASTER "test-master-key-0123456789"

/* tenant-format.md §1.6, verbatim apart from the email body path comment. */
static const char realistic[] =
    "tenant:\n"
    "  friendly_name: 'Acme'\n"
    "  picture_url: 'https://acme.example/logo.png'\n"
    "  support_email: 'support@acme.example'\n"
    "  session_lifetime: 168          # hours\n"
    "  idle_session_lifetime: 72      # hours\n"
    "  default_directory: 'Username-Password-Authentication'\n"
    "  default_audience: 'https://api.acme.example/'\n"
    "  enabled_locales: [en, de]      # first = default\n"
    "  flags:\n"
    "    enable_client_connections: false\n"
    "    revoke_refresh_token_grant: false\n"
    "clients:\n"
    "  - name: 'Acme SPA'\n"
    "    app_type: spa\n"
    "    is_first_party: true\n"
    "    oidc_conformant: true\n"
    "    token_endpoint_auth_method: none\n"
    "    grant_types: [authorization_code, refresh_token]\n"
    "    callbacks: ['https://app.acme.example/callback']\n"
    "    allowed_logout_urls: ['https://app.acme.example/']\n"
    "    allowed_origins: ['https://app.acme.example']\n"
    "    web_origins: ['https://app.acme.example']\n"
    "    cross_origin_authentication: false\n"
    "    jwt_configuration: {alg: RS256, lifetime_in_seconds: 36000, secret_encoded: false}\n"
    "    refresh_token:\n"
    "      rotation_type: rotating\n"
    "      expiration_type: expiring\n"
    "      leeway: 0\n"
    "      token_lifetime: 2592000\n"
    "      infinite_token_lifetime: false\n"
    "      idle_token_lifetime: 1296000\n"
    "      infinite_idle_token_lifetime: false\n"
    "    organization_usage: deny\n"
    "  - name: 'Acme Worker'\n"
    "    app_type: non_interactive\n"
    "    is_first_party: true\n"
    "    grant_types: [client_credentials]\n"
    "    client_authentication_methods:\n"
    "      private_key_jwt:\n"
    "        credentials:\n"
    "          - name: worker-key-2024\n"
    "            credential_type: public_key\n"
    "            pem: \"##WORKER_PUBLIC_KEY_PEM##\"\n"
    "  - name: 'Acme Intranet (SAML SP)'\n"
    "    app_type: regular_web\n"
    "    callbacks: ['https://intranet.acme.example/saml/acs']\n"
    "    addons:\n"
    "      samlp:\n"
    "        audience: 'urn:acme:intranet'\n"
    "        signatureAlgorithm: rsa-sha256\n"
    "        digestAlgorithm: sha256\n"
    "        lifetimeInSeconds: 3600\n"
    "        mappings: {email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
    "emailaddress'}\n"
    "resourceServers:\n"
    "  - name: 'Acme API'\n"
    "    identifier: 'https://api.acme.example/'\n"
    "    signing_alg: RS256\n"
    "    token_lifetime: 86400\n"
    "    token_lifetime_for_web: 7200\n"
    "    allow_offline_access: true\n"
    "    skip_consent_for_verifiable_first_party_clients: true\n"
    "    enforce_policies: true\n"
    "    token_dialect: access_token_authz\n"
    "    scopes:\n"
    "      - {value: 'read:orders', description: 'Read orders'}\n"
    "clientGrants:\n"
    "  - client_id: 'Acme Worker'          # client NAME\n"
    "    audience: 'https://api.acme.example/'\n"
    "    scope: ['read:orders']\n"
    "databases:\n"
    "  - name: 'Username-Password-Authentication'   # strategy defaults to auth0\n"
    "    enabled_clients: ['Acme SPA']               # client NAMES\n"
    "    options:\n"
    "      passwordPolicy: good\n"
    "      password_complexity_options: {min_length: 10}\n"
    "      password_history: {enable: true, size: 5}\n"
    "      password_dictionary: {enable: true, dictionary: ['acme']}\n"
    "      password_no_personal_info: {enable: true}\n"
    "      brute_force_protection: true\n"
    "      requires_username: false\n"
    "      disable_signup: false\n"
    "      import_mode: false\n"
    "      enabledDatabaseCustomization: false\n"
    "connections:\n"
    "  - name: email\n"
    "    strategy: email\n"
    "    enabled_clients: ['Acme SPA']\n"
    "    options:\n"
    "      name: email\n"
    "      brute_force_protection: true\n"
    "      disable_signup: false\n"
    "      totp: {length: 6, time_step: 180}\n"
    "      email: {from: 'login@acme.example', subject: 'Your code', syntax: liquid, body: "
    "'./email.html'}\n"
    "  - name: acme-okta-saml\n"
    "    strategy: samlp\n"
    "    enabled_clients: ['Acme SPA']\n"
    "    options:\n"
    "      signInEndpoint: 'https://idp.acme.example/sso/saml'\n"
    "      signingCert: '##ACME_IDP_CERT_B64##'\n"
    "      signatureAlgorithm: rsa-sha256\n"
    "      digestAlgorithm: sha256\n"
    "      protocolBinding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'\n"
    "      user_id_attribute: "
    "'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier'\n"
    "      fieldsMap: {email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
    "emailaddress'}\n"
    "      debug: false\n"
    "guardianFactors:\n"
    "  - {name: otp, enabled: true}\n"
    "  - {name: email, enabled: true}\n"
    "  - {name: sms, enabled: false}\n"
    "guardianPolicies:\n"
    "  policies: []                       # or [all-applications]\n"
    "attackProtection:\n"
    "  bruteForceProtection: {enabled: true, shields: [block, user_notification], mode: "
    "count_per_identifier_and_ip, allowlist: [], max_attempts: 10}\n"
    "  suspiciousIpThrottling: {enabled: true, shields: [block], allowlist: [], stage: "
    "{pre-login: {max_attempts: 100, rate: 864000}, pre-user-registration: {max_attempts: 50, "
    "rate: 1200}}}\n"
    "  breachedPasswordDetection: {enabled: false, shields: [], admin_notification_frequency: "
    "[], method: standard}\n"
    "emailProvider:\n"
    "  name: smtp\n"
    "  enabled: true\n"
    "  default_from_address: 'no-reply@acme.example'\n"
    "  credentials: {smtp_host: smtp.acme.example, smtp_port: 587, smtp_user: '##SMTP_USER##', "
    "smtp_pass: '##SMTP_PASS##'}\n"
    "emailTemplates:\n"
    "  - {template: verify_email, enabled: true, syntax: liquid, from: 'no-reply@acme.example', "
    "subject: 'Verify your email', body: ./emailTemplates/verify_email.html, "
    "urlLifetimeInSeconds: 432000}\n"
    "pages: []\n"
    "rules: []\n"
    "exclude: {}\n";

static config *
load_ok(const char *text, const char *master)
{
    char err[512] = "";
    config *cfg = NULL;
    tg_err rc = config_load_text("tenant.yaml", text, strlen(text), master, &cfg, err, sizeof(err));

    if (rc != TG_OK)
        fail_msg("load failed (%s): %s", tg_strerror(rc), err);
    assert_non_null(cfg);
    return cfg;
}

/* Loading fails, and the message contains every one of the NULL-terminated substrings. */
static void
load_fails(const char *text, size_t len, ...)
{
    char err[512] = "";
    config *cfg = (config *)0x1;
    tg_err rc = config_load_text("tenant.yaml", text, len, MASTER, &cfg, err, sizeof(err));
    const char *want;
    va_list ap;

    if (rc == TG_OK)
        fail_msg("loaded, but should have failed: %.200s", text);
    assert_null(cfg);
    va_start(ap, len);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (strstr(err, want) == NULL)
            fail_msg("error \"%s\" lacks \"%s\"", err, want);
    va_end(ap);
}

#define FAILS(text, ...) load_fails(text, strlen(text), __VA_ARGS__, NULL)

static char *
derive_expected(const char *master, const char *msg)
{
    unsigned char mac[32];
    size_t maclen = 0;
    char *out = NULL;

    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, master, strlen(master),
                              (const unsigned char *)msg, strlen(msg), mac, sizeof(mac), &maclen));
    assert_int_equal(tg_b64url_encode(mac, maclen, &out), TG_OK);
    return out;
}

static int
setup(void **state)
{
    (void)state;
    log_init("config_test", TG_LOG_ERROR);
    unsetenv("WORKER_PUBLIC_KEY_PEM");
    return 0;
}

static void
test_realistic_export(void **state)
{
    config *cfg = load_ok(realistic, MASTER);
    const config_client *spa, *worker, *saml;
    const config_resource_server *api;
    const config_client_grant *g;
    char *id;

    (void)state;
    assert_string_equal(cfg->path, "tenant.yaml");
    assert_string_equal(cfg->tenant.friendly_name, "Acme");
    assert_string_equal(cfg->tenant.default_audience, "https://api.acme.example/");
    assert_string_equal(cfg->tenant.default_directory, "Username-Password-Authentication");
    assert_int_equal(cfg->tenant.allowed_logout_urls.n, 0);

    assert_int_equal(cfg->n_clients, 3);
    spa = &cfg->clients[0];
    worker = &cfg->clients[1];
    saml = &cfg->clients[2];
    assert_string_equal(spa->name, "Acme SPA");
    assert_string_equal(spa->app_type, "spa");
    assert_true(spa->is_first_party);
    assert_int_equal(spa->auth_method, CONFIG_AUTH_NONE);
    assert_int_equal(spa->grant_types.n, 2);
    assert_true(config_strv_has(&spa->grant_types, "authorization_code"));
    assert_true(config_strv_has(&spa->grant_types, "refresh_token"));
    assert_false(config_strv_has(&spa->grant_types, "implicit"));
    assert_true(config_strv_has(&spa->callbacks, "https://app.acme.example/callback"));
    assert_true(config_strv_has(&spa->allowed_logout_urls, "https://app.acme.example/"));
    assert_true(config_strv_has(&spa->allowed_origins, "https://app.acme.example"));
    assert_true(config_strv_has(&spa->web_origins, "https://app.acme.example"));
    assert_string_equal(spa->jwt_alg, "RS256");
    assert_int_equal(spa->jwt_lifetime_in_seconds, 36000);
    assert_int_equal(strlen(spa->client_id), 32);
    assert_int_equal(strlen(spa->client_secret), 43);

    /* The credential's pem is an unresolved placeholder: dropped, so the worker is an
     * ordinary confidential client. */
    assert_string_equal(worker->app_type, "non_interactive");
    assert_int_equal(worker->n_credentials, 0);
    assert_int_equal(worker->auth_method, CONFIG_AUTH_CLIENT_SECRET_POST);
    assert_int_equal(worker->grant_types.n, 1);
    assert_string_equal(worker->grant_types.v[0], "client_credentials");

    assert_string_equal(saml->name, "Acme Intranet (SAML SP)");
    assert_int_equal(saml->auth_method, CONFIG_AUTH_CLIENT_SECRET_POST);
    assert_true(config_strv_has(&saml->grant_types, "client_credentials"));
    assert_true(config_strv_has(&saml->grant_types, "authorization_code"));

    assert_int_equal(cfg->n_resource_servers, 1);
    api = config_api_by_identifier(cfg, "https://api.acme.example/");
    assert_non_null(api);
    assert_string_equal(api->name, "Acme API");
    assert_string_equal(api->signing_alg, "RS256");
    assert_null(api->signing_secret);
    assert_int_equal(api->token_lifetime, 86400);
    assert_int_equal(api->token_lifetime_for_web, 7200);
    assert_true(api->allow_offline_access);
    assert_int_equal(api->n_scopes, 1);
    assert_string_equal(api->scopes[0].value, "read:orders");
    assert_string_equal(api->scopes[0].description, "Read orders");

    /* The grant names the client; it resolves to the worker's derived id. */
    assert_int_equal(cfg->n_client_grants, 1);
    id = derive_expected(MASTER, "client_id:Acme Worker");
    id[32] = '\0';
    assert_string_equal(worker->client_id, id);
    g = config_grant_find(cfg, id, "https://api.acme.example/");
    assert_non_null(g);
    assert_int_equal(g->scope.n, 1);
    assert_string_equal(g->scope.v[0], "read:orders");
    assert_false(g->allow_all_scopes);
    assert_ptr_equal(config_client_by_id(cfg, id), worker);
    assert_null(config_grant_find(cfg, spa->client_id, "https://api.acme.example/"));
    assert_null(config_client_by_id(cfg, "nope"));
    assert_null(config_api_by_identifier(cfg, "https://other/"));
    free(id);

    /* The databases entry: every honoured field, the client name resolved to the SPA's id;
     * the email and samlp connections are flagged, not loaded. */
    {
        const config_connection *db =
            config_connection_by_name(cfg, "Username-Password-Authentication");

        assert_int_equal(cfg->n_connections, 1);
        assert_non_null(db);
        assert_string_equal(db->strategy, "auth0");
        assert_false(db->all_clients);
        assert_int_equal(db->enabled_clients.n, 1);
        assert_string_equal(db->enabled_clients.v[0], spa->client_id);
        assert_true(config_connection_enabled_for(db, spa->client_id));
        assert_false(config_connection_enabled_for(db, worker->client_id));
        assert_int_equal(db->password_policy, CONFIG_PW_GOOD);
        assert_int_equal(db->min_length, 10);
        assert_true(db->password_history);
        assert_int_equal(db->password_history_size, 5);
        assert_true(db->password_dictionary);
        assert_int_equal(db->dictionary.n, 1);
        assert_string_equal(db->dictionary.v[0], "acme");
        assert_true(db->password_no_personal_info);
        assert_true(db->brute_force_protection);
        assert_false(db->requires_username);
        assert_int_equal(db->username_min, 1);
        assert_int_equal(db->username_max, 15);
        assert_false(db->disable_signup);
        assert_false(db->disable_self_service_change_password);
        assert_null(config_connection_by_name(cfg, "email"));
        assert_null(config_connection_by_name(cfg, "acme-okta-saml"));
        assert_true(cfg->tenant.brute_force_enabled);
        assert_int_equal(cfg->tenant.brute_force_max_attempts, 10);
        assert_false(cfg->tenant.signup_user_exists_error);
    }
    config_free(cfg);
    config_free(NULL);
}

/* Public key PEM of a fresh RSA key, as an operator would paste it into the environment. */
static char *
fresh_public_pem(void)
{
    jose_key *key = NULL;
    char *priv = NULL, *cert = NULL, *out;
    BIO *in, *bio = BIO_new(BIO_s_mem());
    EVP_PKEY *pkey;
    BUF_MEM *mem;

    assert_int_equal(jose_key_generate(JOSE_ALG_RS256, "worker", &key), TG_OK);
    assert_int_equal(jose_key_to_pem(key, &priv, &cert), TG_OK);
    in = BIO_new_mem_buf(priv, -1);
    pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    assert_true(PEM_write_bio_PUBKEY(bio, pkey));
    BIO_get_mem_ptr(bio, &mem);
    out = strndup(mem->data, mem->length);
    BIO_free(bio);
    BIO_free(in);
    EVP_PKEY_free(pkey);
    tg_free_secret_str(priv);
    free(cert);
    jose_key_free(key);
    return out;
}

static void
test_credentials_from_environment(void **state)
{
    static const char *const forms[] = {
        /* ##: the PEM's newlines are folded into spaces inside the quoted scalar. */
        "clients:\n  - name: W\n    app_type: non_interactive\n"
        "    client_authentication_methods:\n      private_key_jwt:\n        credentials:\n"
        "          - {name: k1, credential_type: public_key, pem: \"##WORKER_PUBLIC_KEY_PEM##\"}\n",
        /* @@: JSON.stringify keeps them as \n escapes. */
        "clients:\n  - name: W\n    app_type: non_interactive\n"
        "    client_authentication_methods:\n      private_key_jwt:\n        credentials:\n"
        "          - {name: k1, alg: PS256, pem: '@@WORKER_PUBLIC_KEY_PEM@@'}\n",
    };
    char *pem = fresh_public_pem();

    (void)state;
    setenv("WORKER_PUBLIC_KEY_PEM", pem, 1);
    for (size_t i = 0; i < 2; i++) {
        config *cfg = load_ok(forms[i], MASTER);
        const config_client *w = &cfg->clients[0];

        assert_int_equal(w->auth_method, CONFIG_AUTH_PRIVATE_KEY_JWT);
        assert_int_equal(w->n_credentials, 1);
        assert_string_equal(w->credentials[0].name, "k1");
        assert_string_equal(w->credentials[0].alg, i == 0 ? "RS256" : "PS256");
        assert_string_equal(w->credentials[0].pem, pem);
        config_free(cfg);
    }
    unsetenv("WORKER_PUBLIC_KEY_PEM");
    free(pem);
}

static void
test_placeholder_replacement(void **state)
{
    static const char text[] = "tenant:\n"
                               "  friendly_name: My ##TGT_NAME## tenant\n"
                               "  allowed_logout_urls: @@TGT_ORIGINS@@\n"
                               "clients:\n"
                               "  - name: '@@TGT_NAME@@'\n"
                               "    client_id: \"##TGT_UNSET##\"\n"
                               "    allowed_origins: '@@TGT_ORIGINS@@'\n"
                               "    web_origins: [\"https://z.example\", ##TGT_MORE##]\n"
                               "    callbacks: ['@@TGT_UNSET@@', \"@@TGT_DOLLAR@@\"]\n"
                               "    allowed_logout_urls: ##TGT_UNSET##\n"
                               "    app_type: ##TGT_TYPE##\n";
    config *cfg;
    const config_client *cl;

    (void)state;
    setenv("TGT_NAME", "Acme \"Dev\"", 1);
    setenv("TGT_ORIGINS", "[\"https://a.example\", \"https://b.example\"]", 1);
    setenv("TGT_MORE", "\"https://x.example\", \"https://y.example\"", 1);
    setenv("TGT_DOLLAR", "$& $' $1", 1);
    setenv("TGT_TYPE", "spa", 1);
    unsetenv("TGT_UNSET");
    cfg = load_ok(text, MASTER);
    cl = &cfg->clients[0];
    assert_string_equal(cfg->tenant.friendly_name, "My Acme \"Dev\" tenant");
    assert_int_equal(cfg->tenant.allowed_logout_urls.n, 2);
    assert_string_equal(cfg->tenant.allowed_logout_urls.v[1], "https://b.example");
    /* Quoted @@ is replaced together with its quotes: a JSON string, escapes and all. */
    assert_string_equal(cl->name, "Acme \"Dev\"");
    /* A whole-value unresolved placeholder is "not provided": the id is derived. */
    assert_int_equal(strlen(cl->client_id), 32);
    assert_int_equal(cl->allowed_origins.n, 2);
    assert_string_equal(cl->allowed_origins.v[0], "https://a.example");
    /* ## splices literally, here into a flow list. */
    assert_int_equal(cl->web_origins.n, 3);
    assert_string_equal(cl->web_origins.v[2], "https://y.example");
    /* Unresolved placeholders inside lists stay as text; $ sequences are literal. */
    assert_int_equal(cl->callbacks.n, 2);
    assert_string_equal(cl->callbacks.v[0], "@@TGT_UNSET@@");
    assert_string_equal(cl->callbacks.v[1], "$& $' $1");
    /* Unquoted unresolved ## is a YAML comment: the field is null. */
    assert_int_equal(cl->allowed_logout_urls.n, 0);
    assert_string_equal(cl->app_type, "spa");
    assert_int_equal(cl->auth_method, CONFIG_AUTH_NONE);
    config_free(cfg);
    unsetenv("TGT_NAME");
    unsetenv("TGT_ORIGINS");
    unsetenv("TGT_MORE");
    unsetenv("TGT_DOLLAR");
    unsetenv("TGT_TYPE");
}

static void
expand_is(const char *in, const char *want)
{
    config_ctx c = {.name = "t"};
    char *out = NULL;
    size_t len = 0;

    assert_int_equal(config_placeholders_expand(&c, in, strlen(in), &out, &len), TG_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

static void
test_placeholder_edges(void **state)
{
    (void)state;
    setenv("TGE_A", "a", 1);
    setenv("TGE_OBJ", " {\"k\": [1, 2]}", 1);
    setenv("TGE_BS", "C:\\x\n", 1);
    unsetenv("TGE_NO");
    expand_is("", "");
    expand_is("plain", "plain");
    expand_is("@@TGE_A@@", "\"a\"");
    expand_is("'@@TGE_A@@'", "\"a\"");
    expand_is("\"@@TGE_A@@\"", "\"a\"");
    expand_is("'@@TGE_A@@\"", "'\"a\"\"");
    expand_is("@@TGE_NO@@TGE_A@@", "@@TGE_NO\"a\"");
    expand_is("@@@TGE_A@@", "@\"a\"");
    expand_is("###TGE_A###", "#a#");
    expand_is("'@@TGE_NO@@', \"@@TGE_A@@\"", "'@@TGE_NO@@', \"a\"");
    expand_is("@@TGE_OBJ@@", "{\"k\": [1, 2]}");
    expand_is("@@TGE_BS@@", "\"C:\\\\x\\n\"");
    expand_is("##TGE_A####TGE_A##", "aa");
    expand_is("##TGE_NO## ##TGE_A##", "##TGE_NO## a");
    expand_is("@@tge_a@@ ## Section ## #", "@@tge_a@@ ## Section ## #");
    /* @@ runs first; what it produces can hold ## markers for the second pass. */
    setenv("TGE_HASH", "##TGE_A##", 1);
    expand_is("@@TGE_HASH@@", "\"a\"");
    assert_true(config_is_placeholder("##ABC_1##"));
    assert_true(config_is_placeholder("@@X@@"));
    assert_false(config_is_placeholder("##abc##"));
    assert_false(config_is_placeholder("####"));
    assert_false(config_is_placeholder(" ##A##"));
    assert_false(config_is_placeholder("@@A##"));
    unsetenv("TGE_A");
    unsetenv("TGE_OBJ");
    unsetenv("TGE_BS");
    unsetenv("TGE_HASH");
}

static void
test_grant_resolution(void **state)
{
    static const char text[] =
        "clients:\n"
        "  - {name: Worker, app_type: non_interactive}\n"
        "  - {name: Pinned, client_id: pinned-id, client_secret: pinned-secret}\n"
        "resourceServers:\n"
        "  - {name: API, identifier: 'urn:api', scopes: [{name: 'a:b'}, {value: 'c:d'}]}\n"
        "clientGrants:\n"
        "  - {client_id: Worker, audience: 'urn:api', scope: ['a:b']}\n"
        "  - {client_id: Pinned, audience: 'urn:api', allow_all_scopes: true}\n"
        "  - {client_id: 'literal-client-id', audience: 'urn:api', scope: []}\n"
        "  - {default_for: third_party_clients, audience: 'urn:api', scope: ['a:b']}\n"
        "  - {client_id: Worker, audience: 'urn:other', subject_type: user}\n";
    config *cfg = load_ok(text, MASTER);
    const config_client_grant *g;

    (void)state;
    assert_int_equal(cfg->n_client_grants, 3); /* default_for and user grants are skipped */
    assert_string_equal(cfg->client_grants[0].client_id, cfg->clients[0].client_id);
    g = config_grant_find(cfg, "pinned-id", "urn:api");
    assert_non_null(g);
    assert_true(g->allow_all_scopes);
    assert_int_equal(g->scope.n, 0);
    assert_non_null(config_grant_find(cfg, "literal-client-id", "urn:api"));
    assert_null(config_grant_find(cfg, cfg->clients[0].client_id, "urn:other"));
    /* Scopes: `name` is accepted as the Deploy CLI schema's alias of `value`. */
    assert_string_equal(cfg->resource_servers[0].scopes[0].value, "a:b");
    assert_string_equal(cfg->resource_servers[0].scopes[1].value, "c:d");
    config_free(cfg);
}

static void
test_derived_credentials(void **state)
{
    static const char text[] =
        "clients:\n"
        "  - {name: One}\n"
        "  - {name: Two}\n"
        "  - {name: Given, client_id: given-id, client_secret: given-secret}\n"
        "resourceServers:\n"
        "  - {name: H, identifier: 'urn:h', signing_alg: HS256}\n"
        "  - {name: H2, identifier: 'urn:h2', signing_alg: HS256, signing_secret: "
        "'0123456789abcdef-own'}\n";
    config *a = load_ok(text, MASTER), *b = load_ok(text, MASTER),
           *other = load_ok(text, "another-master-key");
    char *want_id = derive_expected(MASTER, "client_id:One");
    char *want_secret = derive_expected(MASTER, "client_secret:One");
    char *want_signing = derive_expected(MASTER, "signing_secret:urn:h");

    (void)state;
    want_id[32] = '\0';
    assert_string_equal(a->clients[0].client_id, want_id);
    assert_string_equal(a->clients[0].client_secret, want_secret);
    assert_int_equal(strlen(a->clients[0].client_secret), 43);
    /* Stable across loads, distinct per name and per master key. */
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(a->clients[i].client_id, b->clients[i].client_id);
        assert_string_equal(a->clients[i].client_secret, b->clients[i].client_secret);
        assert_string_not_equal(a->clients[i].client_id, other->clients[i].client_id);
        assert_string_not_equal(a->clients[i].client_secret, other->clients[i].client_secret);
    }
    assert_string_not_equal(a->clients[0].client_id, a->clients[1].client_id);
    assert_string_not_equal(a->clients[0].client_secret, a->clients[1].client_secret);
    /* Explicit values are used as they are. */
    assert_string_equal(a->clients[2].client_id, "given-id");
    assert_string_equal(a->clients[2].client_secret, "given-secret");
    assert_string_equal(a->resource_servers[0].signing_secret, want_signing);
    assert_string_equal(a->resource_servers[1].signing_secret, "0123456789abcdef-own");
    free(want_id);
    free(want_secret);
    free(want_signing);
    config_free(a);
    config_free(b);
    config_free(other);
}

static void
test_without_master_key(void **state)
{
    static const char pinned[] =
        "clients:\n  - {name: P, client_id: p-id, client_secret: p-secret}\n";
    char err[256];
    config *cfg = NULL;
    const char *t;

    (void)state;
    cfg = load_ok(pinned, NULL);
    assert_string_equal(cfg->clients[0].client_id, "p-id");
    config_free(cfg);
    cfg = NULL;
    t = "clients:\n  - {name: A, client_id: x}\n";
    assert_int_equal(config_load_text("tenant.yaml", t, strlen(t), NULL, &cfg, err, sizeof(err)),
                     TG_ECONFIG);
    assert_null(cfg);
    assert_string_equal(err, "tenant.yaml: clients[0] (\"A\"): client_secret: missing, and no "
                             "master key to derive it");
    t = "clients:\n  - {name: B}\n";
    assert_int_equal(config_load_text("tenant.yaml", t, strlen(t), "", &cfg, err, sizeof(err)),
                     TG_ECONFIG);
    assert_non_null(strstr(err, "clients[0] (\"B\"): client_id: missing"));
    t = "resourceServers:\n  - {name: H, identifier: h, signing_alg: HS256}\n";
    assert_int_equal(config_load_text("t.yaml", t, strlen(t), NULL, &cfg, err, sizeof(err)),
                     TG_ECONFIG);
    assert_non_null(strstr(err, "t.yaml: resourceServers[0] (\"H\"): signing_secret: missing"));
}

static void
test_defaults(void **state)
{
    static const char text[] =
        "clients:\n"
        "  - {name: Bare}\n"
        "  - {name: Native, app_type: native}\n"
        "  - {name: M2M, app_type: non_interactive, token_endpoint_auth_method: "
        "client_secret_basic, is_first_party: false, jwt_configuration: {alg: HS256, "
        "lifetime_in_seconds: 600}}\n"
        "resourceServers:\n"
        "  - {name: A, identifier: 'urn:a'}\n"
        "  - {name: B, identifier: 'urn:b', token_lifetime: 3600, signing_alg: ES256, "
        "signing_secret: ignored-for-es256}\n"
        "tenant: ~\n"
        "clientGrants: []\n";
    config *cfg = load_ok(text, MASTER);
    const config_client *bare = &cfg->clients[0], *native = &cfg->clients[1],
                        *m2m = &cfg->clients[2];

    (void)state;
    assert_string_equal(cfg->tenant.friendly_name, "");
    assert_null(cfg->tenant.default_audience);
    assert_null(cfg->tenant.default_directory);
    assert_true(bare->is_first_party);
    assert_string_equal(bare->app_type, "regular_web");
    assert_int_equal(bare->auth_method, CONFIG_AUTH_CLIENT_SECRET_POST);
    assert_string_equal(bare->jwt_alg, "RS256");
    assert_int_equal(bare->jwt_lifetime_in_seconds, 36000);
    assert_int_equal(bare->grant_types.n, 4);
    assert_int_equal(bare->callbacks.n, 0);
    assert_int_equal(native->auth_method, CONFIG_AUTH_NONE);
    assert_int_equal(native->grant_types.n, 3);
    assert_false(config_strv_has(&native->grant_types, "client_credentials"));
    assert_int_equal(m2m->auth_method, CONFIG_AUTH_CLIENT_SECRET_BASIC);
    assert_false(m2m->is_first_party);
    assert_string_equal(m2m->jwt_alg, "HS256");
    assert_int_equal(m2m->jwt_lifetime_in_seconds, 600);
    assert_string_equal(cfg->resource_servers[0].signing_alg, "RS256");
    assert_int_equal(cfg->resource_servers[0].token_lifetime, 86400);
    assert_int_equal(cfg->resource_servers[0].token_lifetime_for_web, 7200);
    assert_false(cfg->resource_servers[0].allow_offline_access);
    assert_int_equal(cfg->resource_servers[0].n_scopes, 0);
    assert_int_equal(cfg->resource_servers[1].token_lifetime_for_web, 3600);
    assert_string_equal(cfg->resource_servers[1].signing_alg, "ES256");
    assert_null(cfg->resource_servers[1].signing_secret);
    assert_int_equal(cfg->n_client_grants, 0);
    assert_false(config_strv_has(NULL, "x"));
    config_free(cfg);
}

/* tenant.flags.enable_dynamic_client_registration: off by default (contract §18), on when set,
 * and a non-boolean stops the load naming the flag. */
static void
test_dynamic_registration_flag(void **state)
{
    config *cfg;

    (void)state;
    cfg = load_ok("tenant: {friendly_name: T}\n", MASTER);
    assert_false(cfg->tenant.dynamic_client_registration);
    config_free(cfg);
    cfg = load_ok("tenant: {flags: {enable_dynamic_client_registration: true}}\n", MASTER);
    assert_true(cfg->tenant.dynamic_client_registration);
    config_free(cfg);
    FAILS("tenant: {flags: {enable_dynamic_client_registration: [1]}}\n",
          "enable_dynamic_client_registration");
}

static void
test_invalid_files(void **state)
{
    (void)state;
    FAILS("tenant: {friendly_name: x}\nfooBar: 1\n", "tenant.yaml: fooBar: unknown top-level key");
    FAILS("clients: \"x\"\n", "tenant.yaml: clients: must be a list");
    FAILS("clients: [{name: A, grant_types: 3}]\n",
          "tenant.yaml: clients[0] (\"A\"): grant_types: must be a list of strings");
    FAILS("clients: [{name: A, callbacks: [1]}]\n",
          "clients[0] (\"A\"): callbacks: must be a list");
    FAILS("clients: [x]\n", "tenant.yaml: clients[0]: must be an object");
    FAILS("clients: [{app_type: spa}]\n", "tenant.yaml: clients[0]: name: required");
    FAILS("clients: [{name: ''}]\n", "clients[0]: name: required");
    FAILS("clients: [{name: 7}]\n", "clients[0]: name: must be a string");
    FAILS("clients: [{name: '<b>'}]\n", "clients[0] (\"<b>\"): name: must not contain < or >");
    FAILS("clients: [{name: A}, {name: B}, {name: A}]\n",
          "tenant.yaml: clients[2] (\"A\"): name: duplicate of clients[0]");
    FAILS("clients: [{name: A, client_id: same}, {name: B, client_id: same}]\n",
          "clients[1] (\"B\"): client_id: duplicate of clients[0]");
    FAILS("clients: [{name: A, is_first_party: 'yes'}]\n",
          "clients[0] (\"A\"): is_first_party: must be true or false");
    FAILS("clients: [{name: A, token_endpoint_auth_method: private_key_jwt}]\n",
          "clients[0] (\"A\"): token_endpoint_auth_method: must be none");
    FAILS("clients: [{name: A, jwt_configuration: {alg: RS512}}]\n",
          "clients[0] (\"A\"): jwt_configuration.alg: RS512 is not supported");
    FAILS("clients: [{name: A, jwt_configuration: {alg: none}}]\n",
          "jwt_configuration.alg: must be RS256, PS256 or HS256");
    FAILS("clients: [{name: A, jwt_configuration: {lifetime_in_seconds: 0}}]\n",
          "jwt_configuration.lifetime_in_seconds");
    FAILS("clients: [{name: A, jwt_configuration: 5}]\n",
          "clients[0] (\"A\"): jwt_configuration: must be an object");
    FAILS("clients: [{name: A, require_proof_of_possession: true}]\n",
          "clients[0] (\"A\"): require_proof_of_possession: true is not supported");
    FAILS("clients: [{name: A, client_authentication_methods: {tls_client_auth: {credentials: "
          "[{id: x}]}}}]\n",
          "client_authentication_methods: tls_client_auth: not supported");
    FAILS("clients: [{name: W, client_authentication_methods: {private_key_jwt: {credentials: "
          "[{name: k, credential_type: public_key}]}}}]\n",
          "clients[0] (\"W\"): client_authentication_methods.private_key_jwt.credentials[0]: "
          "pem: required");
    FAILS("clients: [{name: W, client_authentication_methods: {private_key_jwt: {credentials: "
          "[{name: k, pem: 'not a key'}]}}}]\n",
          "credentials[0]: pem: not an RSA public key");
    FAILS("clients: [{name: W, client_authentication_methods: {private_key_jwt: {credentials: "
          "[{pem: x, alg: ES256}]}}}]\n",
          "credentials[0]: alg: must be RS256, RS384 or PS256");
    FAILS("resourceServers: [{name: API}]\n",
          "tenant.yaml: resourceServers[0] (\"API\"): identifier: required");
    FAILS("resourceServers: [{identifier: 'urn:a'}]\n", "resourceServers[0]: name: required");
    FAILS("resourceServers: [{name: A, identifier: x}, {name: B, identifier: x}]\n",
          "resourceServers[1] (\"B\"): identifier: duplicate of resourceServers[0]");
    FAILS("resourceServers: [{name: API, identifier: x, scopes: [1]}]\n",
          "tenant.yaml: resourceServers[0] (\"API\"): scopes[0]: must be an object");
    FAILS("resourceServers: [{name: API, identifier: x, scopes: [{description: d}]}]\n",
          "resourceServers[0] (\"API\"): scopes[0]: value: required");
    FAILS("resourceServers: [{name: API, identifier: x, scopes: 'read'}]\n",
          "resourceServers[0] (\"API\"): scopes: must be a list");
    FAILS("resourceServers: [{name: API, identifier: x, signing_alg: RS512}]\n",
          "resourceServers[0] (\"API\"): signing_alg: RS512 is not supported");
    FAILS("resourceServers: [{name: API, identifier: x, token_lifetime: 2592001}]\n",
          "resourceServers[0] (\"API\"): token_lifetime: must be between 0 and 2592000");
    FAILS("resourceServers: [{name: API, identifier: x, token_lifetime: '86400'}]\n",
          "token_lifetime: must be an integer");
    FAILS("resourceServers: [{name: API, identifier: x, token_lifetime: 600, "
          "token_lifetime_for_web: 700}]\n",
          "resourceServers[0] (\"API\"): token_lifetime_for_web: must not exceed token_lifetime");
    FAILS("resourceServers: [{name: API, identifier: x, token_encryption: {format: "
          "compact-nested-jwe}}]\n",
          "token_encryption: not supported");
    FAILS("resourceServers: [{name: Auth0 Management API, identifier: x}]\n",
          "cannot be configured");
    FAILS("resourceServers: [{name: H, identifier: x, signing_alg: HS256, signing_secret: "
          "short}]\n",
          "signing_secret: must be at least 16 characters");
    FAILS("clientGrants: [{client_id: A, scope: []}]\n", "tenant.yaml: clientGrants[0]: audience: "
                                                         "required");
    FAILS("clientGrants: [{audience: x}]\n",
          "clientGrants[0]: client_id: exactly one of client_id and default_for");
    FAILS("clientGrants: [{audience: x, client_id: A, default_for: third_party_clients}]\n",
          "clientGrants[0]: client_id: exactly one");
    FAILS("clientGrants: [{audience: x, client_id: A, scope: [a], allow_all_scopes: true}]\n",
          "clientGrants[0]: scope: must not be given together with allow_all_scopes");
    FAILS("clientGrants: [{audience: x, client_id: A, scope: [1]}]\n",
          "clientGrants[0]: scope: must be a list of strings");
    FAILS("clientGrants: [{audience: x, client_id: A}, {audience: x, client_id: A}]\n",
          "clientGrants[1]: duplicate of clientGrants[0] (same client_id and audience)");
    FAILS("tenant: x\n", "tenant.yaml: tenant: must be an object");
    FAILS("tenant: {allowed_logout_urls: 3}\n", "tenant: allowed_logout_urls: must be a list");
    FAILS("tenant: {error_page: {url: x}}\n", "tenant: error_page: page settings belong under");
    FAILS("- a\n- b\n", "tenant.yaml: the top level must be a mapping");
    FAILS("just text\n", "the top level must be a mapping");
}

static void
test_hostile_yaml(void **state)
{
    static const char laughs[] =
        "databases:\n"
        "  - a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "    d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
    char deep[400], *huge;
    size_t o = 0;

    (void)state;
    FAILS(laughs, "tenant.yaml: line 2", "anchors and aliases are not supported");
    FAILS("clients:\n  - *x\n", "anchors and aliases are not supported");
    FAILS("tenant: &t {friendly_name: x}\n", "anchors and aliases are not supported");
    FAILS("x: &k a\n", "anchors and aliases are not supported");
    FAILS("tenant: {<<: {friendly_name: x}}\n", "merge keys");
    o += (size_t)snprintf(deep, sizeof(deep), "databases: ");
    for (int i = 0; i < 100; i++)
        deep[o++] = '[';
    for (int i = 0; i < 100; i++)
        deep[o++] = ']';
    deep[o++] = '\n';
    deep[o] = '\0';
    FAILS(deep, "tenant.yaml: line 1", "nesting is deeper than 64 levels");
    FAILS("tenant: {friendly_name: \"caf\xc3\x28\"}\n", "tenant.yaml: line 1");
    FAILS("tenant: {friendly_name: \xff\xfe}\n", "tenant.yaml:");
    FAILS("clients:\n  - name: \"Acme\n", "tenant.yaml: line");
    FAILS("clients:\n  - name: [Acme\n", "tenant.yaml: line");
    FAILS("tenant:\n\tfriendly_name: x\n", "tenant.yaml: line 2");
    FAILS("", "tenant.yaml: file is empty");
    FAILS("# only a comment\n", "tenant.yaml: file is empty");
    FAILS("tenant: {}\n---\nclients: []\n", "multiple YAML documents are not supported");
    FAILS("tenant: {a: 1, a: 2}\n", "tenant.yaml: line 1", "duplicated mapping key");
    FAILS("tenant: !!binary aGVsbG8=\n", "unsupported tag");
    FAILS("tenant: !custom x\n", "unsupported tag");
    FAILS("tenant: !!int abc\n", "does not match its tag");
    FAILS("tenant: {friendly_name: \"a\\0b\"}\n", "NUL characters are not allowed");
    FAILS("{[a]: 1}\n", "mapping keys must be scalars");
    load_fails("tenant: {}\n\0clients: x\n", 22, "tenant.yaml: line", NULL);
    /* More than 4 MiB, before and after expansion. */
    huge = malloc(CONFIG_MAX_TEXT + 2);
    memset(huge, '#', CONFIG_MAX_TEXT + 1);
    huge[CONFIG_MAX_TEXT + 1] = '\0';
    load_fails(huge, CONFIG_MAX_TEXT + 1, "file is larger than 4 MiB", NULL);
    free(huge);
    {
        char *big = malloc(2 * 1024 * 1024 + 1), *text = malloc(2 * 1024 * 1024);
        size_t n = 0;

        memset(big, 'x', 2 * 1024 * 1024);
        big[2 * 1024 * 1024] = '\0';
        setenv("TGH_BIG", big, 1);
        n += (size_t)snprintf(text, 64, "tenant: {friendly_name: ##TGH_BIG####TGH_BIG##}\n");
        load_fails(text, n, "exceeds 4 MiB", NULL);
        unsetenv("TGH_BIG");
        free(big);
        free(text);
    }
}

static void
test_yaml_typing(void **state)
{
    static const char text[] =
        "n1: ~\nn2: null\nn3: NULL\nn4:\nn5: ''\n"
        "b1: true\nb2: False\nb3: TRUE\nb4: yes\nb5: 'true'\n"
        "i1: 42\ni2: -7\ni3: +3\ni4: 0x1F\ni5: 0o17\ni6: 99999999999999999999\ni7: \"42\"\n"
        "f1: 1.5\nf2: -.5\nf3: 1e3\nf4: .inf\nf5: 1.\n"
        "s1: ##c comment\ns2: a ##b\ns3: |\n  line1\n  line2\ns4: !!str 12\ns5: ! 12\n"
        "s6: 1_000\ns7: 0x\ns8: 12:30\n";
    config_ctx c = {.name = "t"};
    json_t *root = NULL;

    (void)state;
    assert_int_equal(config_yaml_parse(&c, text, strlen(text), &root), TG_OK);
    for (const char *const *k = (const char *const[]){"n1", "n2", "n3", "n4", "s1", NULL}; *k; k++)
        assert_true(json_is_null(json_object_get(root, *k)));
    assert_string_equal(json_string_value(json_object_get(root, "n5")), "");
    assert_true(json_is_true(json_object_get(root, "b1")));
    assert_true(json_is_false(json_object_get(root, "b2")));
    assert_true(json_is_true(json_object_get(root, "b3")));
    assert_string_equal(json_string_value(json_object_get(root, "b4")), "yes");
    assert_string_equal(json_string_value(json_object_get(root, "b5")), "true");
    assert_int_equal(json_integer_value(json_object_get(root, "i1")), 42);
    assert_int_equal(json_integer_value(json_object_get(root, "i2")), -7);
    assert_int_equal(json_integer_value(json_object_get(root, "i3")), 3);
    assert_int_equal(json_integer_value(json_object_get(root, "i4")), 31);
    assert_int_equal(json_integer_value(json_object_get(root, "i5")), 15);
    assert_true(json_is_real(json_object_get(root, "i6")));
    assert_string_equal(json_string_value(json_object_get(root, "i7")), "42");
    assert_true(json_real_value(json_object_get(root, "f1")) == 1.5);
    assert_true(json_real_value(json_object_get(root, "f2")) == -0.5);
    assert_true(json_real_value(json_object_get(root, "f3")) == 1000.0);
    assert_string_equal(json_string_value(json_object_get(root, "f4")), ".inf");
    assert_true(json_is_real(json_object_get(root, "f5")));
    assert_string_equal(json_string_value(json_object_get(root, "s2")), "a");
    assert_string_equal(json_string_value(json_object_get(root, "s3")), "line1\nline2\n");
    assert_string_equal(json_string_value(json_object_get(root, "s4")), "12");
    assert_string_equal(json_string_value(json_object_get(root, "s5")), "12");
    assert_string_equal(json_string_value(json_object_get(root, "s6")), "1_000");
    assert_string_equal(json_string_value(json_object_get(root, "s7")), "0x");
    assert_string_equal(json_string_value(json_object_get(root, "s8")), "12:30");
    json_decref(root);
}

static void
test_load_from_file(void **state)
{
    char path[] = "/tmp/tollgate-config-test-XXXXXX";
    char err[512];
    config *cfg = NULL;
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(realistic, f);
    fclose(f);
    assert_int_equal(config_load(path, MASTER, &cfg, err, sizeof(err)), TG_OK);
    assert_string_equal(cfg->path, path);
    assert_int_equal(cfg->n_clients, 3);
    config_free(cfg);
    cfg = NULL;
    /* Errors name the path. */
    f = fopen(path, "w");
    fputs("clients: [{name: A, grant_types: 3}]\n", f);
    fclose(f);
    assert_int_equal(config_load(path, MASTER, &cfg, err, sizeof(err)), TG_ECONFIG);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "clients[0] (\"A\"): grant_types"));
    unlink(path);
    assert_int_not_equal(config_load(path, MASTER, &cfg, err, sizeof(err)), TG_OK);
    assert_non_null(strstr(err, "cannot open"));
    assert_null(cfg);
}

/* Many entries load in linear time (uniqueness and name lookups are hashed). */
static void
test_many_entries(void **state)
{
    const size_t n = 20000;
    size_t cap = n * 120 + 256, o = 0;
    char *text = malloc(cap), id[40];
    config *cfg;

    (void)state;
    o += (size_t)snprintf(text + o, cap - o,
                          "resourceServers: [{name: A, identifier: 'urn:a'}]\n"
                          "clients:\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "  - {name: c%zu, client_id: id%zu}\n", i, i);
    o += (size_t)snprintf(text + o, cap - o, "clientGrants:\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "  - {client_id: c%zu, audience: 'urn:a'}\n", i);
    cfg = load_ok(text, MASTER);
    assert_int_equal(cfg->n_clients, n);
    assert_int_equal(cfg->n_client_grants, n);
    snprintf(id, sizeof(id), "id%zu", n - 1);
    assert_non_null(config_grant_find(cfg, id, "urn:a"));
    config_free(cfg);
    free(text);
}

/* Random byte mutations of the realistic file: every outcome is a clean load or a clean error,
 * never a crash or a leak (ASan/UBSan watch). */
static void
test_mutations_never_crash(void **state)
{
    size_t len = sizeof(realistic) - 1;
    char *buf = malloc(len + 1);
    uint32_t seed = 7;

    (void)state;
    for (int i = 0; i < 1500; i++) {
        char err[256];
        config *cfg = NULL;
        int flips;

        memcpy(buf, realistic, len + 1);
        seed = seed * 1103515245u + 12345u;
        flips = 1 + (int)((seed >> 16) % 4);
        for (int k = 0; k < flips; k++) {
            static const char pool[] = ":-[]{}&*!|>'\"#@ \t\n\\%,?x0";
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[at] = pool[(seed >> 16) % (sizeof(pool) - 1)];
        }
        if (config_load_text("m.yaml", buf, len, MASTER, &cfg, err, sizeof(err)) == TG_OK)
            config_free(cfg);
        else
            assert_non_null(strstr(err, "m.yaml: "));
    }
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realistic_export),
        cmocka_unit_test(test_credentials_from_environment),
        cmocka_unit_test(test_placeholder_replacement),
        cmocka_unit_test(test_placeholder_edges),
        cmocka_unit_test(test_grant_resolution),
        cmocka_unit_test(test_derived_credentials),
        cmocka_unit_test(test_without_master_key),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dynamic_registration_flag),
        cmocka_unit_test(test_invalid_files),
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_yaml_typing),
        cmocka_unit_test(test_load_from_file),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_mutations_never_crash),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
