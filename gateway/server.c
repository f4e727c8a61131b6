/*
 * The gateway's h2o server: configuration with every limit set explicitly (h2o's defaults are a
 * 1 GB body and no header limits of ours), listeners, bus clients, the loop and the graceful
 * stop.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "gateway.h"
#include "routes.h"

#define LOOP_WAIT_MS 1000
#define STOP_POLL_MS 20

void
gw_signals_init(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void
configure(gw_server *srv)
{
    h2o_globalconf_t *g = &srv->globalconf;
    size_t entity_limit = (size_t)srv->cfg.max_body * 2;

    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT("tollgate"));
    /* above this h2o answers on its own; below it the gateway's JSON 413 applies */
    g->max_request_entity_size =
        entity_limit > GW_H2O_MIN_ENTITY_LIMIT ? entity_limit : GW_H2O_MIN_ENTITY_LIMIT;
    g->max_delegations = 0;
    g->handshake_timeout = GW_TIMEOUT_MS;
    g->http1.req_timeout = GW_TIMEOUT_MS;
    g->http1.upgrade_to_http2 = 1; /* needed for h2c prior knowledge on the cleartext port */
    g->http2.idle_timeout = GW_TIMEOUT_MS;
    g->http2.graceful_shutdown_timeout = (uint64_t)srv->cfg.deadline_ms + 1000;
    g->http2.max_concurrent_requests_per_connection = GW_HTTP2_MAX_STREAMS;
    srv->hostconf = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    gw_http_register(srv, h2o_config_register_path(srv->hostconf, "/", 0), true);
    /* h2o binds its own error responses (e.g. 413 while reading a body) to the fallback path */
    gw_http_register(srv, &srv->hostconf->fallback_path, false);
}

tg_err
gw_server_new(const gw_config *cfg, gw_server **out)
{
    gw_server *srv;

    *out = NULL;
    if ((srv = calloc(1, sizeof(*srv))) == NULL)
        return TG_ENOMEM;
    srv->cfg = *cfg;
    if (cfg->access_log != NULL) {
        if ((srv->access_log = fopen(cfg->access_log, "ae")) == NULL) {
            LOG_ERROR("gateway: cannot open access log %s: %s", cfg->access_log, strerror(errno));
            free(srv);
            return TG_ECONFIG;
        }
    }
    if (gw_ratelimit_new(GW_RATELIMIT_MAX_KEYS, &srv->ratelimit) != TG_OK) {
        if (srv->access_log != NULL)
            fclose(srv->access_log);
        free(srv);
        return TG_ENOMEM;
    }
    configure(srv);
    srv->loop = h2o_evloop_create();
    h2o_context_init(&srv->ctx, srv->loop, &srv->globalconf);
    h2o_multithread_register_receiver(srv->ctx.queue, &srv->bus_receiver, gw_http_on_bus_messages);
    *out = srv;
    return TG_OK;
}

void
gw_server_set_tls(gw_server *srv, SSL_CTX *ssl_ctx)
{
    srv->ssl_ctx = ssl_ctx;
}

/* ---- listeners ----------------------------------------------------------------------------- */

static void
on_accept(h2o_socket_t *listener, const char *err)
{
    gw_listener *l = listener->data;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(&l->accept, sock);
}

/* "HOST:PORT" or "[v6]:PORT" → a listening, non-blocking socket. */
static tg_err
open_listen_fd(const char *spec, int *out)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *ai = NULL;
    size_t hlen;
    int fd = -1, one = 1, rv;

    *out = -1;
    if (colon == NULL || (hlen = (size_t)(colon - spec)) == 0 || hlen >= sizeof(host))
        return TG_ECONFIG;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rv = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
        LOG_ERROR("gateway: cannot resolve %s: %s", spec, gai_strerror(rv));
        return TG_ECONFIG;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        LOG_ERROR("gateway: cannot listen on %s: %s", spec, strerror(errno));
        if (fd != -1)
            close(fd);
        freeaddrinfo(ai);
        return TG_EIO;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    freeaddrinfo(ai);
    *out = fd;
    return TG_OK;
}

static tg_err
add_listener(gw_server *srv, const char *spec, bool tls)
{
    gw_listener *l;
    tg_err err;
    int fd;

    if (spec == NULL || spec[0] == '\0')
        return TG_OK;
    if ((err = open_listen_fd(spec, &fd)) != TG_OK)
        return err;
    l = &srv->listeners[srv->n_listeners++];
    l->srv = srv;
    l->tls = tls;
    l->accept.ctx = &srv->ctx;
    l->accept.hosts = srv->globalconf.hosts;
    l->accept.ssl_ctx = tls ? srv->ssl_ctx : NULL;
    l->sock = h2o_evloop_socket_create(srv->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    l->sock->data = l;
    h2o_socket_read_start(l->sock, on_accept);
    LOG_INFO("gateway: listening on %s (%s)", spec, tls ? "TLS, h2 + http/1.1" : "h2c + http/1.1");
    return TG_OK;
}

tg_err
gw_server_listen(gw_server *srv)
{
    tg_err err;

    if (srv->cfg.tls_listen[0] != '\0' && srv->ssl_ctx == NULL)
        return TG_ECONFIG;
    if ((err = add_listener(srv, srv->cfg.tls_listen, true)) != TG_OK)
        return err;
    return add_listener(srv, srv->cfg.h2c_listen, false);
}

int
gw_server_port(const gw_server *srv, bool tls)
{
    for (size_t i = 0; i < srv->n_listeners; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int32_t port;

        if (srv->listeners[i].tls != tls)
            continue;
        if (getsockname(h2o_socket_get_fd(srv->listeners[i].sock), (struct sockaddr *)&ss, &len) !=
                0 ||
            (port = h2o_socket_getport((struct sockaddr *)&ss)) < 0)
            return -1;
        return port;
    }
    return -1;
}

static void
close_listeners(gw_server *srv)
{
    for (size_t i = 0; i < srv->n_listeners; i++) {
        h2o_socket_read_stop(srv->listeners[i].sock);
        h2o_socket_close(srv->listeners[i].sock);
    }
    srv->n_listeners = 0;
}

/* ---- bus ----------------------------------------------------------------------------------- */

tg_err
gw_server_add_service(gw_server *srv, const char *name, const char *url)
{
    gw_service *s;
    tg_err err;

    if (srv->n_services == GW_MAX_SERVICES)
        return TG_ETOOBIG;
    s = &srv->services[srv->n_services];
    s->name = name;
    if ((err = bus_client_open(url, &s->client)) != TG_OK)
        return err;
    srv->n_services++;
    LOG_INFO("gateway: service %s: replicas dial %s", name, url);
    return TG_OK;
}

bus_client *
gw_server_bus(const gw_server *srv, const char *service)
{
    for (size_t i = 0; i < srv->n_services; i++)
        if (strcmp(srv->services[i].name, service) == 0)
            return srv->services[i].client;
    return NULL;
}

tg_err
gw_server_check_routes(const gw_server *srv)
{
    size_t n;
    const gw_route *routes = gw_routes(&n);

    for (size_t i = 0; i < n; i++) {
        if (gw_server_bus(srv, routes[i].service) == NULL) {
            LOG_ERROR("gateway: route %s %s: no bus client for service %s", routes[i].method,
                      routes[i].path, routes[i].service);
            return TG_ECONFIG;
        }
    }
    return TG_OK;
}

static void
close_services(gw_server *srv)
{
    for (size_t i = 0; i < srv->n_services; i++)
        bus_client_close(srv->services[i].client);
    srv->n_services = 0;
}

/* ---- run and stop -------------------------------------------------------------------------- */

static void
begin_stop(gw_server *srv)
{
    LOG_INFO("gateway: stopping (%zu requests in flight)", srv->live_requests);
    close_listeners(srv);
    h2o_context_request_shutdown(&srv->ctx);
    /* Idle keep-alive connections would hold the stop until their timeout: expire them now.
     * A connection with a request in the handler has no read timeout armed, so it stays. */
    srv->ctx.http1.req_timeout.timeout = 0;
    srv->ctx.http2.idle_timeout.timeout = 0;
    srv->ctx.handshake_timeout.timeout = 0; /* TLS handshakes not finished yet */
    srv->stop_deadline = tg_monotonic_ms() + srv->cfg.deadline_ms + 1000;
}

static void
on_signal(h2o_socket_t *sock, const char *err)
{
    gw_server *srv = sock->data;

    if (err != NULL)
        return;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (++srv->stop_requests == 1)
        begin_stop(srv);
    else
        LOG_WARN("gateway: second signal, stopping now");
}

/* No request, call, connection or TLS handshake left. */
static bool
idle(gw_server *srv)
{
    return srv->live_requests == 0 && srv->calls_in_flight == 0 &&
           h2o_linklist_is_empty(&srv->ctx.http1._conns) &&
           h2o_linklist_is_empty(&srv->ctx.http2._conns) &&
           h2o_linklist_is_empty(&srv->ctx.handshake_timeout._entries);
}

/* h2o_context_dispose asserts that no timer of the context is armed. */
static bool
timers_idle(gw_server *srv)
{
    h2o_timeout_t *const timeouts[] = {
        &srv->ctx.zero_timeout,
        &srv->ctx.one_sec_timeout,
        &srv->ctx.hundred_ms_timeout,
        &srv->ctx.handshake_timeout,
        &srv->ctx.http1.req_timeout,
        &srv->ctx.http2.idle_timeout,
        &srv->ctx.http2.graceful_shutdown_timeout,
        &srv->ctx.proxy.io_timeout,
    };

    /* the GOAWAY resend timer of h2o's graceful shutdown may still be armed */
    if (h2o_timeout_is_linked(&srv->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&srv->ctx.http2._graceful_shutdown_timeout);
    for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
        if (!h2o_linklist_is_empty(&timeouts[i]->_entries))
            return false;
    return true;
}

tg_err
gw_server_run(gw_server *srv)
{
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
        LOG_ERROR("gateway: signalfd: %s", strerror(errno));
        return TG_EIO;
    }
    srv->signals = h2o_evloop_socket_create(srv->loop, fd, 0);
    srv->signals->data = srv;
    h2o_socket_read_start(srv->signals, on_signal);

    for (;;) {
        h2o_evloop_run(srv->loop, srv->stop_requests ? STOP_POLL_MS : LOOP_WAIT_MS);
        if (srv->stop_requests == 0)
            continue;
        if (idle(srv) || srv->stop_requests > 1)
            break;
        if (tg_monotonic_ms() > srv->stop_deadline) {
            LOG_WARN("gateway: stop deadline passed with %zu requests in flight",
                     srv->live_requests);
            break;
        }
    }
    return TG_OK;
}

/* Releases h2o only when no connection is left (h2o 2.2 cannot dispose a context with live
 * connections); otherwise the process is about to exit and the kernel reclaims the rest. */
void
gw_server_free(gw_server *srv)
{
    bool clean;

    if (srv == NULL)
        return;
    close_listeners(srv);
    close_services(srv); /* calls still pending complete with TG_ECLOSED... */
    for (int i = 0; i < 50 && srv->calls_in_flight > 0; i++)
        h2o_evloop_run(srv->loop, STOP_POLL_MS); /* ...and are delivered or dropped here */
    clean = idle(srv) && timers_idle(srv);
    if (srv->signals != NULL) {
        h2o_socket_read_stop(srv->signals);
        h2o_socket_close(srv->signals);
    }
    if (clean) {
        h2o_multithread_unregister_receiver(srv->ctx.queue, &srv->bus_receiver);
        h2o_context_dispose(&srv->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR < 3
        free(srv->ctx.queue); /* h2o < 2.3 does not free it (fixed upstream in 6b0a76ef) */
#endif
        h2o_evloop_destroy(srv->loop);
        h2o_config_dispose(&srv->globalconf);
    } else {
        LOG_WARN("gateway: exiting with open connections");
    }
    SSL_CTX_free(srv->ssl_ctx);
    gw_ratelimit_free(srv->ratelimit);
    if (srv->access_log != NULL)
        fclose(srv->access_log);
    if (clean)
        free(srv);
}
