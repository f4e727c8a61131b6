/*
 * Back-channel logout (OIDC Back-Channel Logout 1.0; security.md 58, 222).
 *
 * While a session lives, every client that gets a code or tokens from it and registered
 * back-channel logout URLs (oidc_logout.backchannel_logout_urls) is added to the session's
 * "clients" list (found by sid, which has no index yet: a scan, only for such clients; two
 * such clients authorized in the same session at the same instant can lose one entry, as the
 * list is read, extended and written back).
 *
 * When the session ends, svc-token signs one logout token per such client (token.LogoutToken:
 * iss, aud, iat, exp, jti, sub, sid, events; no nonce), and each URL gets
 * `POST logout_token=<token>` (application/x-www-form-urlencoded).
 *
 * The POSTs never hold the browser: they run on a detached thread with a 2 s connect and 5 s
 * total timeout per URL, no redirects followed, http(s) only; at most MAX_INFLIGHT deliveries
 * run at once and a logout beyond that is logged and not delivered. Outcomes are logged with
 * the client and URL, never the token. The URLs were checked at load (https, or http to
 * localhost); they are the tenant's own, so they are not a request-controlled fetch.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "core/log.h"
#include "core/util.h"
#include "token.pb-c.h"

#define MAX_INFLIGHT 16
#define MAX_POSTS 64 /* URLs per ended session */
#define CONNECT_TIMEOUT_MS 2000L
#define TIMEOUT_MS 5000L

static atomic_int inflight;

void
authorize_session_add_client(const authorize_app *app, const char *sid, const char *client_id)
{
    const config_client *client = config_client_by_id(app->cfg, client_id);
    json_t *doc = NULL, *clients, *set = NULL;
    size_t i;
    json_t *v;

    if (client == NULL || client->backchannel_logout_urls.n == 0 || sid == NULL || sid[0] == '\0')
        return;
    if (store_find_one(app->st, AUTHORIZE_COLL_SESSIONS, "sid", sid, &doc) != TG_OK) {
        LOG_WARN("session of client %s not found: no back-channel logout for it", client_id);
        return;
    }
    clients = json_object_get(doc, "clients");
    json_array_foreach(clients, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), client_id) == 0)
            goto out; /* already there */
    }
    clients = json_is_array(clients) ? json_copy(clients) : json_array();
    if (clients == NULL || json_array_append_new(clients, json_string(client_id)) != 0 ||
        (set = json_pack("{s:o}", "clients", clients)) == NULL) {
        json_decref(clients);
        LOG_WARN("out of memory recording client %s in its session", client_id);
        goto out;
    }
    if (store_update(app->st, AUTHORIZE_COLL_SESSIONS,
                     json_string_value(json_object_get(doc, "_id")), set) != TG_OK)
        LOG_WARN("client %s not recorded in its session: no back-channel logout", client_id);
out:
    json_decref(set);
    json_decref(doc);
}

/* One POST: everything owned (heap), freed by the delivery thread. */
typedef struct post {
    char *client_id;
    char *url;
    char *body; /* logout_token=... (a secret while it lives) */
} post;

typedef struct delivery {
    post posts[MAX_POSTS];
    size_t n;
} delivery;

static void
delivery_free(delivery *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->posts[i].client_id);
        free(d->posts[i].url);
        tg_free_secret_str(d->posts[i].body);
    }
    free(d);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n; /* the RP's answer body is of no interest */
}

static void
post_one(const post *p)
{
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc;

    if (curl == NULL) {
        LOG_ERROR("back-channel logout to %s for client %s: cannot start libcurl", p->url,
                  p->client_id);
        return;
    }
    curl_easy_setopt(curl, CURLOPT_URL, p->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        LOG_WARN("back-channel logout to %s for client %s failed: %s", p->url, p->client_id,
                 curl_easy_strerror(rc));
    else if (status < 200 || status > 299)
        LOG_WARN("back-channel logout to %s for client %s answered HTTP %ld", p->url, p->client_id,
                 status);
    else
        LOG_INFO("back-channel logout delivered to %s for client %s", p->url, p->client_id);
    curl_easy_cleanup(curl);
}

static void *
deliver(void *arg)
{
    delivery *d = arg;

    for (size_t i = 0; i < d->n; i++)
        post_one(&d->posts[i]);
    delivery_free(d);
    atomic_fetch_sub(&inflight, 1);
    return NULL;
}

/* Asks svc-token for client's logout token and queues a POST per URL into d. */
static void
queue_client(bus_ctx *ctx, const authorize_app *app, const config_client *client,
             const char *user_id, const char *sid, delivery *d)
{
    Tollgate__Token__LogoutTokenRequest r = TOLLGATE__TOKEN__LOGOUT_TOKEN_REQUEST__INIT;
    Tollgate__Token__LogoutTokenReply *lt = NULL;
    char *escaped = NULL;
    tg_err err;

    r.client_id = client->client_id;
    r.user_id = (char *)user_id;
    r.sid = (char *)sid;
    err = authorize_token_call(ctx, app, "token.LogoutToken", &r.base,
                               &tollgate__token__logout_token_reply__descriptor,
                               (ProtobufCMessage **)&lt, NULL);
    if (err != TG_OK) {
        LOG_WARN("no logout token for client %s: %s", client->client_id, tg_strerror(err));
        return;
    }
    /* a JWS is base64url and dots: nothing to escape, but do not rely on it */
    escaped = curl_easy_escape(NULL, lt->logout_token, 0);
    for (size_t i = 0; escaped != NULL && i < client->backchannel_logout_urls.n; i++) {
        post *p = &d->posts[d->n];

        if (d->n == MAX_POSTS) {
            LOG_WARN("back-channel logout: more than %d URLs; the rest are skipped", MAX_POSTS);
            break;
        }
        p->client_id = strdup(client->client_id);
        p->url = strdup(client->backchannel_logout_urls.v[i]);
        if (asprintf(&p->body, "logout_token=%s", escaped) < 0)
            p->body = NULL;
        d->n++; /* freed by delivery_free even when partly filled */
        if (p->client_id == NULL || p->url == NULL || p->body == NULL) {
            LOG_ERROR("back-channel logout: out of memory");
            break;
        }
    }
    if (escaped != NULL) {
        explicit_bzero(escaped, strlen(escaped));
        curl_free(escaped);
    }
    explicit_bzero(lt->logout_token, strlen(lt->logout_token));
    protobuf_c_message_free_unpacked(&lt->base, NULL);
}

void
authorize_session_ended(bus_ctx *ctx, const authorize_app *app, const json_t *session)
{
    const char *sid = json_string_value(json_object_get(session, "sid"));
    const char *user_id = json_string_value(json_object_get(session, "user_id"));
    const json_t *clients = json_object_get(session, "clients"), *v;
    delivery *d = NULL;
    pthread_attr_t attr;
    pthread_t th;
    bool started;
    size_t i;

    if (sid == NULL || user_id == NULL || !json_is_array(clients) || json_array_size(clients) == 0)
        return;
    if ((d = calloc(1, sizeof(*d))) == NULL) {
        LOG_ERROR("back-channel logout: out of memory");
        return;
    }
    json_array_foreach(clients, i, v)
    {
        const config_client *client = config_client_by_id(app->cfg, json_string_value(v));

        if (client != NULL && client->backchannel_logout_urls.n > 0)
            queue_client(ctx, app, client, user_id, sid, d);
    }
    if (d->n == 0) {
        delivery_free(d);
        return;
    }
    if (atomic_fetch_add(&inflight, 1) >= MAX_INFLIGHT) {
        atomic_fetch_sub(&inflight, 1);
        LOG_WARN("back-channel logout of session %s not delivered: %d deliveries running", sid,
                 MAX_INFLIGHT);
        delivery_free(d);
        return;
    }
    if (pthread_attr_init(&attr) != 0) {
        started = false;
    } else {
        started = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                  pthread_create(&th, &attr, deliver, d) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        atomic_fetch_sub(&inflight, 1);
        LOG_ERROR("back-channel logout: cannot start the delivery thread");
        delivery_free(d);
    }
}
