/*
 * The request pipeline on the loop thread: limits → route → translation → bus call → reply.
 *
 * Lifetimes. Everything request-scoped lives in req->pool, including a small state object
 * allocated with h2o_mem_alloc_shared whose dispose callback runs when h2o releases the request
 * (response finished, stream reset, connection closed). A bus call is a separate heap object
 * (gw_call) because it outlives the request when the client goes away: the NNG thread only
 * stores its result in the call and posts it to the loop with h2o_multithread_send_message; the
 * loop then answers the request if it still exists (the dispose callback clears call->req) and
 * frees the call either way. Nothing but those two fields crosses threads.
 *
 * h2o's own limits (2.2.5), measured: HTTP/1.1 requests with more than 100 header fields or a
 * head above ~400 KiB get h2o's plain-text "400 Bad Request" and a closed connection; bodies
 * above the hard entity limit get a plain-text 413 (HTTP/1.1) or RST_STREAM REFUSED_STREAM
 * (HTTP/2); HTTP/2 header blocks above ~400 KiB get RST_STREAM. Within those, the gateway's
 * own lower limits answer JSON (431, 413).
 */
#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "access_log.h"
#include "core/log.h"
#include "core/util.h"
#include "gateway.h"
#include "params.h"
#include "render.h"
#include "routes.h"
#include "web.pb-c.h"

typedef struct gw_handler {
    h2o_handler_t super;
    gw_server *srv;
} gw_handler;

typedef struct gw_filter {
    h2o_filter_t super;
    gw_server *srv;
} gw_filter;

typedef struct gw_logger {
    h2o_logger_t super;
    gw_server *srv;
} gw_logger;

typedef struct gw_call gw_call;

/* Per-request state in req->pool; on_req_disposed runs when h2o releases the request. */
typedef struct gw_reqstate {
    gw_server *srv;
    gw_call *call; /* the outstanding bus call, or NULL */
    const char *request_id;
    unsigned flags; /* response flags of the route (routes.h) */
    bool has_rate;  /* a rate-limited route: rate goes into X-RateLimit-* */
    gw_rate_verdict rate;
} gw_reqstate;

struct gw_call {
    h2o_multithread_message_t super;
    gw_server *srv;
    h2o_req_t *req;     /* NULL once the request is gone (loop thread only) */
    gw_reqstate *state; /* valid while req != NULL */
    const gw_route *route;
    bus_result *res; /* written by the NNG thread before the message is posted */
};

static const char cors_allow_headers[] = "Content-Type, Auth0-Client, Authorization, DPoP";
static const char cors_max_age[] = "86400";
static const char desc_429[] = "Too many requests. Check the X-RateLimit-* headers.";
static const char desc_415[] =
    "Content-Type must be application/json or application/x-www-form-urlencoded";

/* ---- small helpers ------------------------------------------------------------------------- */

static void *
pool_alloc(void *data, size_t size)
{
    return h2o_mem_alloc_pool(data, size);
}

static void
pool_free(void *data, void *p)
{
    (void)data;
    (void)p; /* released with req->pool */
}

static ProtobufCAllocator
req_arena(h2o_req_t *req)
{
    ProtobufCAllocator a = {pool_alloc, pool_free, &req->pool};
    return a;
}

static bool
iov_is(h2o_iovec_t v, const char *lit)
{
    return h2o_memis(v.base, v.len, lit, strlen(lit));
}

static const h2o_header_t *
find_header(const h2o_headers_t *headers, const char *lname, size_t *count)
{
    const h2o_header_t *first = NULL;
    size_t n = 0, len = strlen(lname);

    for (size_t i = 0; i < headers->size; i++) {
        if (h2o_memis(headers->entries[i].name->base, headers->entries[i].name->len, lname, len)) {
            if (first == NULL)
                first = &headers->entries[i];
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    return first;
}

/* A header value as a NUL-terminated pool string; "" when absent, not UTF-8 or holding NUL. */
static char *
header_string(h2o_req_t *req, const char *lname)
{
    const h2o_header_t *h = find_header(&req->headers, lname, NULL);

    if (h == NULL || memchr(h->value.base, '\0', h->value.len) != NULL ||
        !tg_utf8_is_valid(h->value.base, h->value.len))
        return "";
    return h2o_strdup(&req->pool, h->value.base, h->value.len).base;
}

static bool
req_is_tls(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL
                             ? req->conn->callbacks->get_socket(req->conn)
                             : NULL;
    return sock != NULL && sock->ssl != NULL;
}

/* The client's address: the peer's, or behind a trusted proxy the one X-Forwarded-For names
 * (client_ip.h; every such header, joined in order). */
static void
client_ip(const gw_server *srv, h2o_req_t *req, char *buf, size_t buflen)
{
    struct sockaddr_storage ss;
    char host[NI_MAXHOST] = "";
    socklen_t len = 0;
    h2o_iovec_t xff = {NULL, 0};
    ssize_t i = -1;

    buf[0] = '\0';
    if (req->conn->callbacks->get_peername != NULL)
        len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len == 0 || h2o_socket_getnumerichost((struct sockaddr *)&ss, len, host) == SIZE_MAX)
        return;
    if (srv->cfg.proxies.n > 0)
        while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-forwarded-for"), i)) !=
               -1)
            xff = xff.base == NULL
                      ? req->headers.entries[i].value
                      : h2o_concat(&req->pool, xff, h2o_iovec_init(H2O_STRLIT(",")),
                                   req->headers.entries[i].value);
    gw_client_ip(&srv->cfg.proxies, host, xff.base, xff.len, buf, buflen);
}

static const char *
reason_phrase(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {204, "No Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Payload Too Large"},
        {415, "Unsupported Media Type"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Status";
}

static void
add_header(h2o_req_t *req, const char *lname, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, lname, strlen(lname), 1, NULL, value,
                          strlen(value));
}

/* Sends r (X-Request-Id is already set). Every string r points to lives in req->pool or static
 * storage. */
static void
send_response(h2o_req_t *req, const gw_reqstate *st, const gw_response *r)
{
    req->res.status = r->status;
    req->res.reason = reason_phrase(r->status);
    if (r->content_type != NULL)
        add_header(req, "content-type", r->content_type);
    if (st->flags & GW_ROUTE_NO_STORE) {
        add_header(req, "cache-control", "no-store");
        add_header(req, "pragma", "no-cache");
    }
    if (st->flags & GW_ROUTE_CORS_PUBLIC)
        add_header(req, "access-control-allow-origin", "*");
    if (st->flags & GW_ROUTE_CORS_CREDENTIALED)
        add_header(req, "vary", "Origin"); /* the service's CORS answer depends on it */
    if (st->has_rate) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)st->rate.limit);
        add_header(req, "x-ratelimit-limit", h2o_strdup(&req->pool, v, SIZE_MAX).base);
        snprintf(v, sizeof(v), "%lld", (long long)st->rate.remaining);
        add_header(req, "x-ratelimit-remaining", h2o_strdup(&req->pool, v, SIZE_MAX).base);
        snprintf(v, sizeof(v), "%lld", (long long)st->rate.reset);
        add_header(req, "x-ratelimit-reset", h2o_strdup(&req->pool, v, SIZE_MAX).base);
    }
    for (size_t i = 0; i < r->n_headers; i++)
        add_header(req, r->headers[i].name, r->headers[i].value);
    if (r->status == 204 || r->status == 304) {
        h2o_send_inline(req, "", 0); /* no Content-Length, no body */
        return;
    }
    req->res.content_length = r->body_len;
    h2o_send_inline(req, r->body != NULL ? r->body : "", r->body_len);
}

static void
send_error(h2o_req_t *req, const gw_reqstate *st, int status, const char *error,
           const char *description)
{
    ProtobufCAllocator arena = req_arena(req);
    gw_response r;

    gw_render_oauth_error(&r, status, error, description, &arena);
    send_response(req, st, &r);
}

/* ---- limits, routing, CORS ----------------------------------------------------------------- */

static bool
headers_within_limits(const h2o_req_t *req)
{
    size_t bytes = req->input.authority.len;

    if (req->headers.size > GW_MAX_REQUEST_HEADERS)
        return false;
    for (size_t i = 0; i < req->headers.size; i++)
        bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    return bytes <= GW_MAX_REQUEST_HEADER_BYTES;
}

static void
send_preflight(h2o_req_t *req, gw_reqstate *st, const char *allow, unsigned flags)
{
    ProtobufCAllocator arena = req_arena(req);
    const h2o_header_t *origin = find_header(&req->headers, "origin", NULL);
    gw_response r;

    memset(&r, 0, sizeof(r));
    r.status = 204;
    gw_response_add_header(&r, "allow", allow, &arena);
    if (origin != NULL) {
        char *o = h2o_strdup(&req->pool, origin->value.base, origin->value.len).base;
        /* No service is asked: a preflight reveals nothing and changes nothing, and the
         * browser still gates the actual response on the service's own Allow-Origin. */
        if (flags & GW_ROUTE_CORS_PUBLIC) {
            gw_response_add_header(&r, "access-control-allow-origin", "*", &arena);
        } else if ((flags & GW_ROUTE_CORS_CREDENTIALED) &&
                   gw_response_add_header(&r, "access-control-allow-origin", o, &arena)) {
            gw_response_add_header(&r, "access-control-allow-credentials", "true", &arena);
            gw_response_add_header(&r, "vary", "Origin", &arena);
        }
        gw_response_add_header(&r, "access-control-allow-methods", allow, &arena);
        gw_response_add_header(&r, "access-control-allow-headers", cors_allow_headers, &arena);
        gw_response_add_header(&r, "access-control-max-age", cors_max_age, &arena);
    }
    st->flags = 0;
    send_response(req, st, &r);
}

/* Takes one request from the client's bucket of the route's group. Returns false when the
 * client is over the limit (st->rate is set either way). The client is the peer address: a
 * client-supplied header would let anyone pick a fresh bucket per request. */
static bool
rate_allows(gw_server *srv, h2o_req_t *req, gw_reqstate *st)
{
    char key[NI_MAXHOST + 2] = "p|";
    struct timespec mono;

    client_ip(srv, req, key + 2, sizeof(key) - 2);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    gw_ratelimit_take(srv->ratelimit, key, strlen(key), &srv->cfg.rate_password,
                      (int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000, (int64_t)time(NULL),
                      &st->rate);
    st->has_rate = true;
    return st->rate.allowed;
}

/* Answers requests that match no route: 404, 405 with Allow, or an OPTIONS preflight. */
static void
send_unrouted(h2o_req_t *req, gw_reqstate *st, const char *path, size_t path_len,
              gw_route_match match)
{
    ProtobufCAllocator arena = req_arena(req);
    char allow[128];
    unsigned flags;
    gw_response r;

    if (match == GW_ROUTE_NO_PATH) {
        send_error(req, st, 404, "not_found", "Not Found");
        return;
    }
    flags = gw_route_allow(path, path_len, allow, sizeof(allow));
    if (iov_is(req->method, "OPTIONS")) {
        send_preflight(req, st, allow, flags);
        return;
    }
    gw_render_oauth_error(&r, 405, "method_not_allowed", "Method Not Allowed", &arena);
    gw_response_add_header(&r, "allow", allow, &arena);
    send_response(req, st, &r);
}

/* ---- translation --------------------------------------------------------------------------- */

/* Fills msg from the query (GET) or the body (POST). Returns 0, or the HTTP status of the
 * refusal with perr->description set. */
static int
fill_params(h2o_req_t *req, ProtobufCMessage *msg, ProtobufCAllocator *arena, gw_param_error *perr)
{
    const h2o_header_t *ct;
    tg_err err = TG_OK;

    if (iov_is(req->method, "GET")) {
        if (req->query_at != SIZE_MAX)
            err = gw_params_from_form(msg, req->path.base + req->query_at + 1,
                                      req->path.len - req->query_at - 1, arena, perr);
        return err == TG_OK ? 0 : err == TG_ENOMEM ? 500 : 400;
    }
    if (req->entity.base == NULL || req->entity.len == 0)
        return 0;
    ct = find_header(&req->headers, "content-type", NULL);
    switch (ct != NULL ? gw_content_type_kind(ct->value.base, ct->value.len) : GW_BODY_OTHER) {
    case GW_BODY_FORM:
        err = gw_params_from_form(msg, req->entity.base, req->entity.len, arena, perr);
        break;
    case GW_BODY_JSON:
        err = gw_params_from_json(msg, req->entity.base, req->entity.len, arena, perr);
        break;
    default: snprintf(perr->description, sizeof(perr->description), "%s", desc_415); return 415;
    }
    return err == TG_OK ? 0 : err == TG_ENOMEM ? 500 : 400;
}

/* Joins every Cookie header (HTTP/2 may split them) with "; ". */
static char *
cookie_string(h2o_req_t *req)
{
    h2o_iovec_t parts[GW_MAX_REQUEST_HEADERS];
    size_t n = 0, total = 0;
    char *out, *p;

    for (size_t i = 0; i < req->headers.size && n < GW_MAX_REQUEST_HEADERS; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_COOKIE->buf && !memchr(h->value.base, '\0', h->value.len) &&
            tg_utf8_is_valid(h->value.base, h->value.len)) {
            parts[n++] = h->value;
            total += h->value.len + 2;
        }
    }
    if (n == 0)
        return "";
    p = out = h2o_mem_alloc_pool(&req->pool, total + 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            memcpy(p, "; ", 2);
            p += 2;
        }
        memcpy(p, parts[i].base, parts[i].len);
        p += parts[i].len;
    }
    *p = '\0';
    return out;
}

/* Fills the `web` context of msg from the connection and headers. Returns false with a 400
 * already sent when the Authorization header is unusable. */
static bool
fill_web(const gw_server *srv, h2o_req_t *req, gw_reqstate *st, ProtobufCMessage *msg,
         ProtobufCAllocator *arena)
{
    Tollgate__Web__Context *web =
        (Tollgate__Web__Context *)gw_message_new(&tollgate__web__context__descriptor, arena);
    size_t n_auth = 0;
    char ip[NI_MAXHOST];

    client_ip(srv, req, ip, sizeof(ip));
    web->client_ip = h2o_strdup(&req->pool, ip, SIZE_MAX).base;
    web->forwarded_for = header_string(req, "auth0-forwarded-for");
    web->user_agent = header_string(req, "user-agent");
    web->host = h2o_strdup(&req->pool, req->input.authority.base, req->input.authority.len).base;
    web->cookie = cookie_string(req);
    web->origin = header_string(req, "origin");
    web->request_id = (char *)st->request_id;
    web->content_type = header_string(req, "content-type");
    find_header(&req->headers, "authorization", &n_auth);
    web->authorization = header_string(req, "authorization");
    if (n_auth > 1) {
        send_error(req, st, 400, "invalid_request", "Malformed Authorization header");
        return false;
    }
    if (web->authorization[0] != '\0') {
        char *user, *password;
        tg_err err = gw_basic_decode(web->authorization, strlen(web->authorization), arena, &user,
                                     &password);
        if (err == TG_OK) {
            web->basic_user = user;
            web->basic_password = password;
            web->has_basic = 1;
        } else if (err != TG_ENOTFOUND) {
            send_error(req, st, 400, "invalid_request", "Malformed Authorization header");
            return false;
        }
    }
    gw_params_set_web(msg, &web->base);
    return true;
}

static bool
host_is_valid(h2o_iovec_t host)
{
    if (host.len == 0 || host.len > 255)
        return false;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

/* The issuer as the client reached us, or NULL when the Host is missing or malformed. */
static const char *
issuer_for(gw_server *srv, h2o_req_t *req)
{
    const char *scheme = "http";
    h2o_iovec_t host = req->input.authority;

    if (srv->cfg.issuer != NULL)
        return srv->cfg.issuer;
    if (host.base == srv->hostconf->authority.hostport.base || !host_is_valid(host))
        return NULL; /* h2o substitutes its default host when the request had none */
    if (req_is_tls(req)) {
        scheme = "https";
    } else {
        const h2o_header_t *xfp = find_header(&req->headers, "x-forwarded-proto", NULL);
        if (xfp != NULL) {
            size_t len = 0;
            while (len < xfp->value.len && xfp->value.base[len] != ',')
                len++;
            while (len > 0 && xfp->value.base[len - 1] == ' ')
                len--;
            if (len == 5 && strncasecmp(xfp->value.base, "https", 5) == 0)
                scheme = "https";
        }
    }
    return h2o_concat(&req->pool, h2o_iovec_init(scheme, strlen(scheme)),
                      h2o_iovec_init(H2O_STRLIT("://")), host, h2o_iovec_init(H2O_STRLIT("/")))
        .base;
}

/* ---- bus call ------------------------------------------------------------------------------ */

/* NNG thread: never touches h2o or the request. */
static void
on_bus_reply(void *arg, bus_result *res)
{
    gw_call *call = arg;

    call->res = res;
    h2o_multithread_send_message(&call->srv->bus_receiver, &call->super);
}

static void
start_call(gw_server *srv, h2o_req_t *req, gw_reqstate *st, const gw_route *route,
           ProtobufCMessage *msg, const char *issuer)
{
    bus_client *bus = gw_server_bus(srv, route->service);
    bus_call_opts opts = {.method = route->rpc,
                          .request_id = st->request_id,
                          .issuer = issuer,
                          .deadline_ms = tg_now_ms() + srv->cfg.deadline_ms};
    gw_response r;
    gw_call *call;
    tg_err err;

    if (bus == NULL || (call = calloc(1, sizeof(*call))) == NULL) {
        LOG_ERROR("gateway: cannot call service %s", route->service);
        gw_render_transport_failure(&r, bus == NULL ? TG_EUNAVAILABLE : TG_ENOMEM);
        send_response(req, st, &r);
        return;
    }
    call->srv = srv;
    call->req = req;
    call->state = st;
    call->route = route;
    st->call = call;
    srv->calls_in_flight++;
    if ((err = bus_call_async(bus, &opts, msg, on_bus_reply, call)) != TG_OK) {
        st->call = NULL;
        srv->calls_in_flight--;
        free(call);
        LOG_ERROR("gateway: %s not sent: %s", route->rpc, tg_strerror(err));
        gw_render_transport_failure(&r, err);
        send_response(req, st, &r);
    }
}

static void
deliver(gw_call *call)
{
    h2o_req_t *req = call->req;
    ProtobufCAllocator arena = req_arena(req);
    bus_result *res = call->res;
    gw_response r;
    tg_err err;

    if (res->status != TG_OK) {
        LOG_WARN("gateway: %s failed: %s", call->route->rpc, tg_strerror(res->status));
        gw_render_transport_failure(&r, res->status);
    } else if (res->error != NULL) {
        gw_render_bus_error(&r, res->error, &arena);
    } else if ((err = gw_render_reply(&r, call->route->reply, &res->payload, &arena)) != TG_OK) {
        LOG_ERROR("gateway: %s reply not renderable (replica %s): %s", call->route->rpc,
                  res->replica ? res->replica : "", tg_strerror(err));
        gw_render_transport_failure(&r, TG_EINTERNAL);
    }
    send_response(req, call->state, &r);
}

void
gw_http_on_bus_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    gw_server *srv = H2O_STRUCT_FROM_MEMBER(gw_server, bus_receiver, receiver);

    while (!h2o_linklist_is_empty(messages)) {
        gw_call *call = H2O_STRUCT_FROM_MEMBER(gw_call, super.link, messages->next);

        h2o_linklist_unlink(&call->super.link);
        srv->calls_in_flight--;
        if (call->req != NULL) {
            call->state->call = NULL;
            log_set_request_id(call->state->request_id);
            deliver(call);
            log_set_request_id(NULL);
        } else {
            LOG_DEBUG("gateway: %s answered after the client left", call->route->rpc);
        }
        bus_result_free(call->res);
        free(call);
    }
}

/* ---- handler ------------------------------------------------------------------------------- */

static void
on_req_disposed(void *p)
{
    gw_reqstate *st = p;

    st->srv->live_requests--;
    if (st->call != NULL) {
        st->call->req = NULL;
        st->call->state = NULL;
    }
}

static const char *
request_id_for(h2o_req_t *req)
{
    const h2o_header_t *h = find_header(&req->headers, "x-request-id", NULL);
    char id[33];

    if (h != NULL && gw_request_id_is_valid(h->value.base, h->value.len))
        return h2o_strdup(&req->pool, h->value.base, h->value.len).base;
    if (gw_request_id_generate(id) != TG_OK)
        snprintf(id, sizeof(id), "%016llx", (unsigned long long)req->conn->id);
    return h2o_strdup(&req->pool, id, SIZE_MAX).base;
}

static void
handle(gw_server *srv, h2o_req_t *req, gw_reqstate *st)
{
    ProtobufCAllocator arena = req_arena(req);
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    gw_param_error perr;
    const gw_route *route;
    gw_route_match match;
    ProtobufCMessage *msg;
    const char *issuer;
    int status;

    if (!headers_within_limits(req)) {
        send_error(req, st, 431, "invalid_request", "Request header fields too large");
        return;
    }
    route = gw_route_lookup(req->method.base, req->method.len, req->path.base, path_len, &match);
    if (route == NULL) {
        send_unrouted(req, st, req->path.base, path_len, match);
        return;
    }
    st->flags = route->flags;
    /* Per-address limits apply on the TLS port; on the cleartext port only when asked: it
     * normally sits behind an ingress, where every peer is the proxy and a per-address limit
     * would be one global limit (a trusted-proxy option for X-Forwarded-For is not built). */
    if ((route->flags & GW_ROUTE_RATE_PASSWORD) && srv->cfg.rate_password.limit > 0 &&
        (req_is_tls(req) || srv->cfg.rate_limit_cleartext || srv->cfg.proxies.n > 0) &&
        !rate_allows(srv, req, st)) {
        send_error(req, st, 429, "too_many_requests", desc_429);
        return;
    }
    if (req->entity.base != NULL && req->entity.len > (size_t)srv->cfg.max_body) {
        send_error(req, st, 413, "invalid_request", "Request entity too large");
        return;
    }
    if ((msg = gw_message_new(route->request, &arena)) == NULL) {
        send_error(req, st, 500, "server_error", "Internal Server Error");
        return;
    }
    if ((status = fill_params(req, msg, &arena, &perr)) != 0) {
        if (status == 500)
            send_error(req, st, 500, "server_error", "Internal Server Error");
        else
            send_error(req, st, status, "invalid_request", perr.description);
        return;
    }
    if (!fill_web(srv, req, st, msg, &arena))
        return;
    if ((issuer = issuer_for(srv, req)) == NULL) {
        send_error(req, st, 400, "invalid_request", "Missing or invalid Host header");
        return;
    }
    start_call(srv, req, st, route, msg, issuer);
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    gw_server *srv = ((gw_handler *)self)->srv;
    gw_reqstate *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), on_req_disposed);

    memset(st, 0, sizeof(*st));
    st->srv = srv;
    srv->live_requests++;
    st->request_id = request_id_for(req);
    /* set first so that the access log has it even when the client leaves before the reply */
    add_header(req, "x-request-id", st->request_id);
    log_set_request_id(st->request_id);
    handle(srv, req, st);
    log_set_request_id(NULL);
    return 0;
}

/* ---- response filter and access log -------------------------------------------------------- */

/* Runs for every response, h2o's own error pages included. */
static void
on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    add_header(req, "x-content-type-options", "nosniff");
    if (find_header(&req->res.headers, "x-request-id", NULL) == NULL)
        add_header(req, "x-request-id", request_id_for(req));
    h2o_setup_next_ostream(req, slot);
}

static void
on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    gw_server *srv = ((gw_logger *)self)->srv;
    const h2o_header_t *rid = find_header(&req->res.headers, "x-request-id", NULL);
    struct timeval begin = req->timestamps.request_begin_at, now;
    char ip[NI_MAXHOST], rid_buf[GW_REQUEST_ID_MAX + 1] = "";
    gw_access_entry e;
    char *line;

    if (begin.tv_sec == 0)
        begin = req->processed_at.at;
    gettimeofday(&now, NULL);
    if (rid != NULL)
        snprintf(rid_buf, sizeof(rid_buf), "%.*s", (int)rid->value.len, rid->value.base);
    client_ip(srv, req, ip, sizeof(ip));
    memset(&e, 0, sizeof(e));
    e.ts_ms = (int64_t)begin.tv_sec * 1000 + begin.tv_usec / 1000;
    e.request_id = rid_buf;
    e.method = req->input.method.base;
    e.method_len = req->input.method.len;
    e.path = req->input.path.base;
    e.path_len = req->input.path.len;
    e.status = req->res.status;
    e.duration_ms = (double)(now.tv_sec - begin.tv_sec) * 1000.0 +
                    (double)(now.tv_usec - begin.tv_usec) / 1000.0;
    e.bytes_in = req->entity.base != NULL ? req->entity.len : 0;
    e.bytes_out = req->bytes_sent;
    e.proto = req->version >= 0x200 ? "HTTP/2" : req->version == 0x101 ? "HTTP/1.1" : "HTTP/1.0";
    e.client_ip = ip;
    e.tls = req_is_tls(req);
    if ((line = gw_access_log_line(&e)) == NULL)
        return;
    if (srv->access_log != NULL) {
        fputs(line, srv->access_log);
        fputc('\n', srv->access_log);
        fflush(srv->access_log);
    } else {
        log_write_raw(line);
    }
    free(line);
}

void
gw_http_register(gw_server *srv, h2o_pathconf_t *pathconf, bool with_handler)
{
    gw_filter *filter = (gw_filter *)h2o_create_filter(pathconf, sizeof(*filter));
    gw_logger *logger = (gw_logger *)h2o_create_logger(pathconf, sizeof(*logger));

    filter->srv = srv;
    filter->super.on_setup_ostream = on_setup_ostream;
    logger->srv = srv;
    logger->super.log_access = on_log_access;
    if (with_handler) {
        gw_handler *handler = (gw_handler *)h2o_create_handler(pathconf, sizeof(*handler));
        handler->srv = srv;
        handler->super.on_req = on_req;
    }
}
