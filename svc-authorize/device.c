/*
 * The device authorization grant's codes (RFC 8628, contract.md §6.5, §8; security.md
 * T-98…T-100): authorize.DeviceCode (POST /oauth/device/code) and the internal
 * authorize.PollDeviceCode svc-token asks on every poll.
 *
 * A device code is base64url(32 random bytes); a user code is 8 letters of the base-20
 * alphabet (≈34.5 bits), drawn from the CSPRNG without modulo bias and shown as XXXX-XXXX.
 * The store keeps only the SHA-256 of the device code (as _id) and of the normalised user code
 * (unique index); the user code compares case-insensitively with dashes and spaces optional.
 *
 * Only native applications (of the tenant file, or registered at /oidc/register) with the
 * grant in their grant_types may start the flow (Auth0:
 * "Grant type 'urn:ietf:params:oauth:grant-type:device_code' not allowed for the client.").
 *
 * Polling (RFC 8628 §3.5 as Auth0 answers it): pending 403 authorization_pending; two polls
 * closer than the interval 429 slow_down; the user cancelled 403 access_denied; past
 * expires_in 403 expired_token exactly once (store_consume), then invalid_grant; approved:
 * taken exactly once with store_consume keyed by the bus request id (a resent poll gets the
 * same answer, a second poll invalid_grant), so of parallel polls one wins. Unknown codes and
 * another client's codes are invalid_grant.
 *
 * User-code guessing (RFC 8628 §5.1): each wrong code counts against the IP (DEVICE_IP_MAX per
 * DEVICE_IP_WINDOW_S, then 429) and against a tenant-wide failure count. A wrong code cannot be
 * charged to the device code it was aimed at, so each device code records the count when it is
 * issued and is refused once more than DEVICE_FAILURE_BUDGET failures have happened since: the
 * chance that any one code is guessed stays below 20000 / 20^8 < 2^-20. Counters are updated
 * read-modify-write; concurrent failures can lose an increment, which only slackens the bound
 * slightly.
 */
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"

#define DEVICE_GRACE_S 3600 /* an expired code stays known this long, to say expired_token once */
#define DEVICE_IP_MAX 10
#define DEVICE_IP_WINDOW_S 60
#define DEVICE_FAILURE_BUDGET 20000
#define DEVICE_TOTAL_ID "total"
#define DEVICE_CODE_TRIES 5 /* fresh user codes tried when one collides */
#define ALPHABET_N 20
#define UNBIASED_LIMIT (256 - 256 % ALPHABET_N) /* 240: bytes below map evenly */

#define MSG_GRANT_NOT_ALLOWED                                                                      \
    "Grant type '" AUTHORIZE_DEVICE_GRANT "' not allowed for the client."
#define MSG_INVALID_DEVICE_CODE "Invalid or expired device code."
#define MSG_EXPIRED "The device code has expired."
#define MSG_PENDING "User has yet to authorize device code."
#define MSG_SLOW_DOWN "You are polling faster than the specified interval of 5 seconds."
#define MSG_CANCELLED "User cancelled the confirmation prompt."

tg_err
authorize_device_store_ensure(store *st)
{
    static const char *const unique[] = {"user_code_hash", NULL};
    tg_err err;

    if ((err = store_collection_ensure(st, AUTHORIZE_COLL_DEVICE_CODES, unique)) != TG_OK ||
        (err = store_collection_ensure(st, AUTHORIZE_COLL_DEVICE_ACTIVATIONS, NULL)) != TG_OK)
        return err;
    return store_collection_ensure(st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, NULL);
}

/* ---- user codes ------------------------------------------------------------------------ */

size_t
authorize_user_code_fill(const unsigned char *rnd, size_t n, char *out, size_t want)
{
    size_t got = 0;

    for (size_t i = 0; i < n && got < want; i++)
        if (rnd[i] < UNBIASED_LIMIT)
            out[got++] = AUTHORIZE_USER_CODE_ALPHABET[rnd[i] % ALPHABET_N];
    return got;
}

void
authorize_user_code_format(const char norm[9], char out[10])
{
    memcpy(out, norm, 4);
    out[4] = '-';
    memcpy(out + 5, norm + 4, 4);
    out[9] = '\0';
}

tg_err
authorize_user_code_new(char out[10])
{
    char letters[AUTHORIZE_USER_CODE_LETTERS + 1];
    unsigned char rnd[16];
    size_t got = 0;
    tg_err err;

    out[0] = '\0';
    while (got < AUTHORIZE_USER_CODE_LETTERS) {
        if ((err = tg_random_bytes(rnd, sizeof(rnd))) != TG_OK)
            return err;
        got += authorize_user_code_fill(rnd, sizeof(rnd), letters + got,
                                        AUTHORIZE_USER_CODE_LETTERS - got);
    }
    letters[AUTHORIZE_USER_CODE_LETTERS] = '\0';
    authorize_user_code_format(letters, out);
    explicit_bzero(rnd, sizeof(rnd));
    explicit_bzero(letters, sizeof(letters));
    return TG_OK;
}

bool
authorize_user_code_normalise(const char *in, char out[9])
{
    size_t n = 0;

    out[0] = '\0';
    if (in == NULL || strlen(in) > AUTHORIZE_USER_CODE_MAX)
        return false;
    for (const char *p = in; *p != '\0'; p++) {
        char c = *p;

        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == '\0' || strchr(AUTHORIZE_USER_CODE_ALPHABET, c) == NULL ||
            n == AUTHORIZE_USER_CODE_LETTERS) {
            out[0] = '\0';
            return false;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != AUTHORIZE_USER_CODE_LETTERS) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* ---- failure counters -------------------------------------------------------------------- */

static void
ip_counter_id(const char *ip, char out[80])
{
    char hash[65];

    authorize_sha256_hex(ip != NULL ? ip : "", hash);
    snprintf(out, 80, "ip:%s", hash);
}

static int64_t
counter_get(const authorize_app *app, const char *id)
{
    json_t *doc = NULL;
    int64_t n = 0;

    if (store_get(app->st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, id, &doc) == TG_OK)
        n = json_integer_value(json_object_get(doc, "count"));
    json_decref(doc);
    return n;
}

/* count + 1 for the counter id; a new or expired one starts at 1 with expires_at (0: never). */
static void
counter_bump(const authorize_app *app, const char *id, int64_t expires_at)
{
    json_t *doc = NULL, *set = NULL;
    tg_err err = TG_OK;

    for (int tries = 0; tries < 3; tries++) {
        err = store_get(app->st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, id, &doc);
        if (err == TG_OK) {
            set =
                json_pack("{s:I}", "count", json_integer_value(json_object_get(doc, "count")) + 1);
            err = set != NULL ? store_update(app->st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, id, set)
                              : TG_ENOMEM;
        } else if (err == TG_ENOTFOUND) {
            (void)store_delete(app->st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, id); /* expired one */
            set = expires_at > 0 ? json_pack("{s:s, s:i, s:I}", "_id", id, "count", 1,
                                             "expires_at", (json_int_t)expires_at)
                                 : json_pack("{s:s, s:i}", "_id", id, "count", 1);
            err = set != NULL ? store_insert(app->st, AUTHORIZE_COLL_DEVICE_ATTEMPTS, set)
                              : TG_ENOMEM;
        }
        json_decref(doc);
        json_decref(set);
        doc = set = NULL;
        if (err != TG_EEXIST && err != TG_ENOTFOUND)
            break;
    }
    if (err != TG_OK)
        LOG_WARN("device attempt counter not updated: %s", tg_strerror(err));
}

bool
authorize_device_ip_may_try(const authorize_app *app, const char *ip)
{
    char id[80];

    ip_counter_id(ip, id);
    return counter_get(app, id) < DEVICE_IP_MAX;
}

void
authorize_device_attempt_failed(const authorize_app *app, const char *ip)
{
    char id[80];

    ip_counter_id(ip, id);
    counter_bump(app, id, tg_now_s() + DEVICE_IP_WINDOW_S);
    counter_bump(app, DEVICE_TOTAL_ID, 0);
}

tg_err
authorize_device_find_by_user_code(const authorize_app *app, const char *typed, json_t **out)
{
    char norm[AUTHORIZE_USER_CODE_LETTERS + 1], hash[65];
    const char *status;
    json_t *doc = NULL;
    tg_err err;

    *out = NULL;
    if (!authorize_user_code_normalise(typed, norm))
        return TG_ENOTFOUND;
    authorize_sha256_hex(norm, hash);
    explicit_bzero(norm, sizeof(norm));
    if ((err = store_find_one(app->st, AUTHORIZE_COLL_DEVICE_CODES, "user_code_hash", hash,
                              &doc)) != TG_OK)
        return err;
    status = json_string_value(json_object_get(doc, "status"));
    if (status == NULL || strcmp(status, "pending") != 0 ||
        json_object_get(doc, "consumed_by") != NULL ||
        json_integer_value(json_object_get(doc, "device_expires_at")) <= tg_now_s()) {
        json_decref(doc);
        return TG_ENOTFOUND;
    }
    if (counter_get(app, DEVICE_TOTAL_ID) -
            json_integer_value(json_object_get(doc, "failures_at_start")) >
        DEVICE_FAILURE_BUDGET) {
        LOG_WARN("user code refused: the failure budget of its device code is spent");
        json_decref(doc);
        return TG_ENOTFOUND;
    }
    *out = doc;
    return TG_OK;
}

/* ---- POST /oauth/device/code --------------------------------------------------------------- */

static bool
device_grant_allowed(const config_client *client)
{
    return client->app_type != NULL && strcmp(client->app_type, "native") == 0 &&
           config_strv_has(&client->grant_types, AUTHORIZE_DEVICE_GRANT);
}

/* Checks the client, its grant, the parameters and the audience: TG_OK, or ctx's error. */
static tg_err
check_device_request(bus_ctx *ctx, const authorize_app *app,
                     const Tollgate__Device__DeviceCodeRequest *req, const char **audience)
{
    const config_client *client;
    char desc[400];
    tg_err err;

    if (req->client_id[0] == '\0')
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            "Missing required parameter: client_id");
    if ((client = authorize_client_find(ctx, app, req->client_id)) == NULL) {
        LOG_INFO("device code refused: unknown client");
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__UNAUTHORIZED, "access_denied",
                            "Unauthorized");
    }
    if (!device_grant_allowed(client)) {
        err = bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "unauthorized_client",
                           MSG_GRANT_NOT_ALLOWED);
        bus_ctx_fail_extra(ctx, "error_uri", "https://auth0.com/docs/clients/client-grant-types");
        return err;
    }
    *audience = req->audience[0] != '\0' ? req->audience : req->resource;
    if (strlen(req->scope) > AUTHORIZE_MAX_PARAM || strlen(*audience) > AUTHORIZE_MAX_PARAM)
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__BAD_REQUEST, "invalid_request",
                            strlen(req->scope) > AUTHORIZE_MAX_PARAM
                                ? "Parameter too long: scope"
                                : "Parameter too long: audience");
    if ((*audience)[0] == '\0' && app->cfg->tenant.default_audience != NULL)
        *audience = app->cfg->tenant.default_audience;
    if ((*audience)[0] != '\0' && config_api_by_identifier(app->cfg, *audience) == NULL) {
        snprintf(desc, sizeof(desc), "Service not found: %.300s", *audience);
        return bus_ctx_fail(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied", desc);
    }
    return TG_OK;
}

/* Stores a new code pair; *user_code (10 bytes) gets the user code as shown. */
static tg_err
store_codes(const authorize_app *app, const Tollgate__Device__DeviceCodeRequest *req,
            const char *audience, const char *device_code, char user_code[10])
{
    char device_hash[65], user_hash[65], norm[AUTHORIZE_USER_CODE_LETTERS + 1];
    int64_t now = tg_now_s(), failures = counter_get(app, DEVICE_TOTAL_ID);
    json_t *doc = NULL;
    tg_err err = TG_EEXIST;

    authorize_sha256_hex(device_code, device_hash);
    for (int i = 0; i < DEVICE_CODE_TRIES && err == TG_EEXIST; i++) {
        if ((err = authorize_user_code_new(user_code)) != TG_OK)
            break;
        (void)authorize_user_code_normalise(user_code, norm);
        authorize_sha256_hex(norm, user_hash);
        doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "_id", device_hash,
                        "client_id", req->client_id, "scope", req->scope, "audience", audience,
                        "user_code_hash", user_hash, "status", "pending", "last_poll_ms",
                        (json_int_t)0, "failures_at_start", (json_int_t)failures,
                        "device_expires_at", (json_int_t)(now + AUTHORIZE_DEVICE_EXPIRES_IN),
                        "expires_at",
                        (json_int_t)(now + AUTHORIZE_DEVICE_EXPIRES_IN + DEVICE_GRACE_S));
        err = doc != NULL ? store_insert(app->st, AUTHORIZE_COLL_DEVICE_CODES, doc) : TG_ENOMEM;
        json_decref(doc);
        doc = NULL;
    }
    explicit_bzero(norm, sizeof(norm));
    if (err != TG_OK)
        user_code[0] = '\0';
    return err;
}

tg_err
authorize_on_device_code(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Device__DeviceCodeRequest *req = (const void *)reqm;
    Tollgate__Device__DeviceCodeReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *audience = "", *issuer = bus_ctx_issuer(ctx);
    char *device_code = NULL, *uri = NULL, user_code[10] = "";
    tg_err err;

    if ((err = check_device_request(ctx, app, req, &audience)) != TG_OK)
        return err;
    if ((err = tg_random_token(AUTHORIZE_SECRET_BYTES, &device_code)) != TG_OK ||
        (err = store_codes(app, req, audience, device_code, user_code)) != TG_OK)
        goto out;
    if (asprintf(&uri, "%sactivate", issuer) < 0) {
        uri = NULL;
        err = TG_ENOMEM;
        goto out;
    }
    const char *const kv[][2] = {{"user_code", user_code}};
    char *complete = authorize_url_with_params(uri, '?', kv, 1);
    reply->device_code = bus_ctx_strdup(ctx, device_code);
    reply->user_code = bus_ctx_strdup(ctx, user_code);
    reply->verification_uri = bus_ctx_strdup(ctx, uri);
    reply->verification_uri_complete = complete != NULL ? bus_ctx_strdup(ctx, complete) : NULL;
    free(complete);
    reply->expires_in = AUTHORIZE_DEVICE_EXPIRES_IN;
    reply->interval = AUTHORIZE_DEVICE_INTERVAL;
    if (reply->device_code == NULL || reply->user_code == NULL ||
        reply->verification_uri == NULL || reply->verification_uri_complete == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    LOG_INFO("device code issued client_id=%s", req->client_id);
out:
    tg_free_secret_str(device_code);
    explicit_bzero(user_code, sizeof(user_code));
    free(uri);
    return err;
}

/* ---- authorize.PollDeviceCode ---------------------------------------------------------------- */

static tg_err
refuse(bus_ctx *ctx, Tollgate__Bus__ErrorClass cls, const char *error, const char *text)
{
    return bus_ctx_fail(ctx, cls, error, text);
}

static tg_err
invalid_device_code(bus_ctx *ctx, const char *why)
{
    LOG_INFO("device code refused: %s", why);
    return refuse(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "invalid_grant",
                  MSG_INVALID_DEVICE_CODE);
}

/* A pending code: slow_down when polled within the interval of the last poll, else pending.
 * Every poll is recorded, so a client that keeps polling too fast stays slowed down. */
static tg_err
answer_pending(bus_ctx *ctx, const authorize_app *app, const char *id, const json_t *doc)
{
    int64_t now = tg_now_ms();
    int64_t last = json_integer_value(json_object_get(doc, "last_poll_ms"));
    json_t *set = json_pack("{s:I}", "last_poll_ms", (json_int_t)now);

    if (set == NULL || store_update(app->st, AUTHORIZE_COLL_DEVICE_CODES, id, set) != TG_OK)
        LOG_WARN("device poll time not recorded");
    json_decref(set);
    if (last > 0 && now - last < (int64_t)AUTHORIZE_DEVICE_INTERVAL * 1000)
        return refuse(ctx, TOLLGATE__BUS__ERROR_CLASS__TOO_MANY_REQUESTS, "slow_down",
                      MSG_SLOW_DOWN);
    return refuse(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "authorization_pending",
                  MSG_PENDING);
}

/* Takes an approved code exactly once and answers with its grant. */
static tg_err
take_approved(bus_ctx *ctx, const authorize_app *app, const char *id,
              Tollgate__Device__PollDeviceCodeReply *reply)
{
    json_t *doc = NULL;
    tg_err err = store_consume(app->st, AUTHORIZE_COLL_DEVICE_CODES, id, bus_ctx_request_id(ctx),
                               &doc);

    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        err = invalid_device_code(ctx, "already redeemed");
        goto out;
    }
    if (err != TG_OK)
        goto out;
    if ((reply->user_id = authorize_doc_strdup(ctx, doc, "user_id")) == NULL ||
        (reply->scope = authorize_doc_strdup(ctx, doc, "scope")) == NULL ||
        (reply->audience = authorize_doc_strdup(ctx, doc, "audience")) == NULL ||
        (reply->sid = authorize_doc_strdup(ctx, doc, "sid")) == NULL) {
        err = TG_ENOMEM;
        goto out;
    }
    reply->auth_time = json_integer_value(json_object_get(doc, "auth_time"));
out:
    json_decref(doc);
    return err;
}

tg_err
authorize_on_poll_device_code(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Device__PollDeviceCodeRequest *req = (const void *)reqm;
    Tollgate__Device__PollDeviceCodeReply *reply = (void *)replym;
    const authorize_app *app = bus_ctx_app(ctx);
    const char *client_id, *status, *by;
    json_t *doc = NULL, *taken = NULL;
    char id[65];
    tg_err err;

    if (!authorize_secret_is_well_formed(req->device_code))
        return invalid_device_code(ctx, "malformed");
    authorize_sha256_hex(req->device_code, id);
    if ((err = store_get(app->st, AUTHORIZE_COLL_DEVICE_CODES, id, &doc)) == TG_ENOTFOUND)
        return invalid_device_code(ctx, "unknown");
    if (err != TG_OK)
        return err;
    client_id = json_string_value(json_object_get(doc, "client_id"));
    status = json_string_value(json_object_get(doc, "status"));
    by = json_string_value(json_object_get(doc, "consumed_by"));
    if (client_id == NULL || !tg_ct_streq(client_id, req->client_id)) {
        err = invalid_device_code(ctx, "presented by another client");
    } else if (by != NULL && strcmp(by, bus_ctx_request_id(ctx)) != 0) {
        err = invalid_device_code(ctx, "already redeemed or reported expired");
    } else if (json_integer_value(json_object_get(doc, "device_expires_at")) <= tg_now_s()) {
        /* expired_token once: the first poll to take the code says so, later ones do not */
        err = store_consume(app->st, AUTHORIZE_COLL_DEVICE_CODES, id, bus_ctx_request_id(ctx),
                            &taken);
        if (err == TG_OK)
            err = refuse(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "expired_token", MSG_EXPIRED);
        else if (err == TG_ECONSUMED || err == TG_ENOTFOUND)
            err = invalid_device_code(ctx, "expired");
    } else if (status != NULL && strcmp(status, "approved") == 0) {
        err = take_approved(ctx, app, id, reply);
    } else if (status != NULL && strcmp(status, "denied") == 0) {
        err = refuse(ctx, TOLLGATE__BUS__ERROR_CLASS__FORBIDDEN, "access_denied", MSG_CANCELLED);
    } else {
        err = answer_pending(ctx, app, id, doc);
    }
    json_decref(taken);
    json_decref(doc);
    return err;
}
