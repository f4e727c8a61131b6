/*
 * Client authentication at the token endpoint (contract.md §1.3): client_secret_post and
 * client_secret_basic (either is accepted for a client configured with one of them, as Auth0
 * does), private_key_jwt (RFC 7523 client assertions), and none for public clients.
 * Every refusal is 401 access_denied "Unauthorized", the body Auth0 sends, so a caller learns
 * nothing about which part was wrong; the log says.
 */
#include <openssl/evp.h>
#include <string.h>

#include "config/config_registered.h"
#include "core/log.h"
#include "core/util.h"
#include "token.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ASSERTION_MAX_LIFETIME 300 /* Auth0: exp at most 5 minutes ahead */
#define ASSERTION_SKEW 10          /* Auth0: iat/nbf +-10 s */

static tg_err
unauthorized(bus_ctx *ctx, const char *why)
{
    LOG_INFO("client authentication failed: %s", why);
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "access_denied",
                        "Unauthorized");
}

static tg_err
invalid_request(bus_ctx *ctx, const char *text)
{
    return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request", text);
}

static bool
aud_matches(const json_t *aud, const char *issuer)
{
    char token_url[512];
    const json_t *v;
    size_t i;

    snprintf(token_url, sizeof(token_url), "%soauth/token", issuer);
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), issuer) == 0 ||
               strcmp(json_string_value(aud), token_url) == 0;
    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (aud_matches(v, issuer))
                return true;
        }
    }
    return false;
}

/* Time and identity claims of a client assertion (signature already verified). */
static const char *
assertion_claims_problem(const json_t *p, const char *client_id, const char *issuer)
{
    int64_t now = tg_now_s();
    const json_t *exp = json_object_get(p, "exp"), *iat = json_object_get(p, "iat");
    const json_t *nbf = json_object_get(p, "nbf"), *jti = json_object_get(p, "jti");

    if (!json_is_string(json_object_get(p, "iss")) ||
        strcmp(json_string_value(json_object_get(p, "iss")), client_id) != 0)
        return "iss is not the client_id";
    if (!json_is_string(json_object_get(p, "sub")) ||
        strcmp(json_string_value(json_object_get(p, "sub")), client_id) != 0)
        return "sub is not the client_id";
    if (!aud_matches(json_object_get(p, "aud"), issuer))
        return "aud is not this issuer";
    if (!json_is_integer(exp) || json_integer_value(exp) <= now - ASSERTION_SKEW)
        return "expired or missing exp";
    if (json_integer_value(exp) > now + ASSERTION_MAX_LIFETIME + ASSERTION_SKEW)
        return "exp too far in the future";
    if (iat != NULL && (!json_is_integer(iat) || json_integer_value(iat) > now + ASSERTION_SKEW))
        return "iat in the future";
    if (nbf != NULL && (!json_is_integer(nbf) || json_integer_value(nbf) > now + ASSERTION_SKEW))
        return "nbf in the future";
    if (!json_is_string(jti) || json_string_length(jti) == 0 || json_string_length(jti) > 256)
        return "missing jti";
    return NULL;
}

/* Records the assertion's jti; TG_EEXIST when it was seen before (replay). */
static tg_err
remember_jti(const token_app *app, const char *client_id, const json_t *payload)
{
    unsigned char digest[32];
    char id[65];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const char *jti = json_string_value(json_object_get(payload, "jti"));
    json_t *doc;
    tg_err err;

    if (md == NULL)
        return TG_ENOMEM;
    /* Hashing keeps ids short and free of whatever characters the client put in its jti. */
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, client_id, strlen(client_id) + 1);
    EVP_DigestUpdate(md, jti, strlen(jti));
    EVP_DigestFinal_ex(md, digest, NULL);
    EVP_MD_CTX_free(md);
    tg_hex_encode(digest, sizeof(digest), id);
    doc = json_pack("{s:s, s:I}", "_id", id, "expires_at",
                    (json_int_t)(json_integer_value(json_object_get(payload, "exp")) +
                                 ASSERTION_SKEW));
    if (doc == NULL)
        return TG_ENOMEM;
    err = store_insert(app->st, TOKEN_COLL_JTI, doc);
    json_decref(doc);
    return err;
}

static bool
verify_with_credentials(const config_client *client, const jose_jws *jws)
{
    for (size_t i = 0; i < client->n_credentials; i++) {
        const config_credential *cred = &client->credentials[i];
        jose_alg alg = jose_alg_from_name(cred->alg ? cred->alg : "RS256");
        jose_key *key = NULL;
        bool ok;

        /* The credential's alg is the only one accepted for it (no alg confusion). */
        if (alg != jws->alg)
            continue;
        if (jose_key_from_public_pem(alg, cred->pem, &key) != TG_OK)
            continue;
        ok = jose_jws_verify(jws, key, NULL, 0) == TG_OK;
        jose_key_free(key);
        if (ok)
            return true;
    }
    return false;
}

static tg_err
auth_assertion(bus_ctx *ctx, const token_app *app, const token_client_creds *req,
               token_client_auth *out)
{
    jose_jws *jws = NULL;
    const config_client *client;
    const char *client_id = req->client_id, *problem;
    tg_err err;

    if (strcmp(req->client_assertion_type, ASSERTION_TYPE) != 0)
        return invalid_request(ctx, "Invalid client_assertion_type");
    if (req->client_secret[0] != '\0' || req->web->has_basic)
        return invalid_request(ctx, "Multiple client authentication methods are not allowed");
    if (jose_jws_parse(req->client_assertion, &jws) != TG_OK)
        return unauthorized(ctx, "malformed client assertion");
    if (client_id[0] == '\0')
        client_id = json_string_value(json_object_get(jws->payload, "iss"));
    client = client_id != NULL ? config_client_by_id(app->cfg, client_id) : NULL;
    if (client == NULL) {
        err = unauthorized(ctx, "client assertion for an unknown client");
        goto out;
    }
    if (client->auth_method != CONFIG_AUTH_PRIVATE_KEY_JWT || !verify_with_credentials(client, jws)) {
        err = unauthorized(ctx, "client assertion signature not verified");
        goto out;
    }
    if ((problem = assertion_claims_problem(jws->payload, client->client_id,
                                            bus_ctx_issuer(ctx))) != NULL) {
        err = unauthorized(ctx, problem);
        goto out;
    }
    err = remember_jti(app, client->client_id, jws->payload);
    if (err == TG_EEXIST) {
        err = unauthorized(ctx, "client assertion jti replayed");
        goto out;
    }
    if (err != TG_OK)
        goto out;
    out->client = client;
    out->method = "private_key_jwt";
out:
    jose_jws_free(jws);
    return err;
}

tg_err
token_client_authenticate(bus_ctx *ctx, const token_app *app, const token_client_creds *req,
                          token_client_auth *out)
{
    const Tollgate__Web__Context *web = req->web;
    const char *client_id = req->client_id, *secret = req->client_secret, *method;
    const config_client *client;
    const config_registered *reg;
    bool secret_ok;
    tg_err err;

    memset(out, 0, sizeof(*out));
    if (web == NULL)
        return TG_EINVAL;
    if (req->client_assertion[0] != '\0')
        return auth_assertion(ctx, app, req, out);
    method = "client_secret_post";
    if (web->has_basic) {
        if (secret[0] != '\0')
            return invalid_request(ctx, "Multiple client authentication methods are not allowed");
        if (client_id[0] != '\0' && strcmp(client_id, web->basic_user) != 0)
            return unauthorized(ctx, "client_id differs from the Basic user");
        client_id = web->basic_user;
        secret = web->basic_password;
        method = "client_secret_basic";
    }
    if (client_id[0] == '\0')
        return invalid_request(ctx, "Missing required parameter: client_id");
    if ((err = token_client_find(ctx, app, client_id, &client, &reg)) == TG_EUNAVAILABLE)
        return err;
    /* Compare against something even for unknown clients so timing says nothing; a registered
     * client's secret is checked against its stored hash. */
    secret_ok = reg != NULL ? config_registered_secret_matches(reg, secret)
                            : tg_ct_streq(secret, client != NULL
                                                      ? client->client_secret
                                                      : "unknown-client-dummy-secret-value");
    if (client == NULL)
        return unauthorized(ctx, "unknown client");
    switch (client->auth_method) {
    case CONFIG_AUTH_NONE:
        if (secret[0] != '\0')
            return unauthorized(ctx, "public client sent a secret");
        out->client = client;
        out->method = "none";
        return TG_OK;
    case CONFIG_AUTH_PRIVATE_KEY_JWT:
        return unauthorized(ctx, "client requires private_key_jwt");
    case CONFIG_AUTH_CLIENT_SECRET_POST:
    case CONFIG_AUTH_CLIENT_SECRET_BASIC:
        if (secret[0] == '\0' || !secret_ok)
            return unauthorized(ctx, "wrong or missing client secret");
        out->client = client;
        out->method = method;
        return TG_OK;
    }
    return TG_EINTERNAL;
}

bool
token_client_allows_grant(const config_client *client, const char *grant_type)
{
    static const char *const confidential[] = {"client_credentials", "authorization_code",
                                               "implicit", "refresh_token", NULL};
    static const char *const m2m[] = {"client_credentials", NULL};
    static const char *const public_[] = {"authorization_code", "implicit", "refresh_token",
                                          NULL};
    const char *const *defaults;

    if (client->grant_types.n > 0)
        return config_strv_has(&client->grant_types, grant_type);
    /* No grant_types in the file: the Auth0 dashboard's defaults by application type. */
    if (client->app_type != NULL && strcmp(client->app_type, "non_interactive") == 0)
        defaults = m2m;
    else if (client->auth_method == CONFIG_AUTH_NONE)
        defaults = public_;
    else
        defaults = confidential;
    for (; *defaults != NULL; defaults++)
        if (strcmp(*defaults, grant_type) == 0)
            return true;
    return false;
}
