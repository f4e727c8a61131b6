#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OPT_BUS: `--bus SERVICE=URL`; OPT_BUS_TOKEN: the old `--bus-token URL`, = `--bus token=URL`.
 * Their environment variables are per service (TG_BUS_<SERVICE>), read in bus_defaults. */
typedef enum opt_type { OPT_STRING, OPT_INT, OPT_BUS, OPT_BUS_TOKEN, OPT_RATE } opt_type;

typedef struct opt_def {
    const char *name; /* without the leading "--" */
    const char *env;
    opt_type type;
    const char *dflt; /* NULL: unset */
    int64_t min, max;
    size_t offset;
    const char *help;
} opt_def;

#define STR_OPT(n, e, d, field, h)                                                                 \
    {                                                                                              \
        n, e, OPT_STRING, d, 0, 0, offsetof(gw_config, field), h                                   \
    }
#define INT_OPT(n, e, d, lo, hi, field, h)                                                         \
    {                                                                                              \
        n, e, OPT_INT, d, lo, hi, offsetof(gw_config, field), h                                    \
    }

static const opt_def opts[] = {
    STR_OPT("tls-listen", "TG_TLS_LISTEN", "127.0.0.1:8443", tls_listen,
            "HOST:PORT for HTTPS (HTTP/1.1 and HTTP/2 via ALPN); \"\" disables"),
    STR_OPT("h2c-listen", "TG_H2C_LISTEN", "127.0.0.1:8080", h2c_listen,
            "HOST:PORT for cleartext HTTP/1.1 and h2c (prior knowledge); \"\" disables"),
    STR_OPT("cert", "TG_TLS_CERT", NULL, cert, "PEM certificate chain (default: dev cert)"),
    STR_OPT("key", "TG_TLS_KEY", NULL, key, "PEM private key"),
    {"bus", "TG_BUS_<SERVICE>", OPT_BUS, NULL, 0, 0, 0,
     "SERVICE=URL: bus address the gateway listens on for that service's replicas (repeatable; "
     "defaults token=tcp://127.0.0.1:7101 users=tcp://127.0.0.1:7102 "
     "authorize=tcp://127.0.0.1:7103)"},
    {"bus-token", "TG_BUS_TOKEN", OPT_BUS_TOKEN, NULL, 0, 0, 0, "URL: same as --bus token=URL"},
    INT_OPT("deadline-ms", "TG_DEADLINE_MS", "5000", 1, 600000, deadline_ms,
            "time allowed per request (the bus deadline)"),
    INT_OPT("max-body", "TG_MAX_BODY", "65536", 1, 16 << 20, max_body,
            "largest request body in bytes"),
    STR_OPT("issuer", "TG_ISSUER", NULL, issuer,
            "issuer URL (default: https://<Host>/ or http://<Host>/ per request)"),
    STR_OPT("access-log", "TG_ACCESS_LOG", NULL, access_log, "access log file (default: stderr)"),
    {"rate-limit", "TG_RATE_LIMIT_PASSWORD", OPT_RATE, "300/min", 0, 0, 0,
     "GROUP=N/UNIT: requests per client address (GROUP password; UNIT s, min or h; burst N; "
     "N=0 disables)"},
    INT_OPT("rate-limit-cleartext", "TG_RATE_LIMIT_CLEARTEXT", "0", 0, 1, rate_limit_cleartext,
            "1 = apply the per-address limits on the cleartext port too (default 0: its peer is "
            "usually an ingress)"),
    STR_OPT("trusted-proxies", "TG_TRUSTED_PROXIES", NULL, trusted_proxies,
            "CIDR,...: proxies whose X-Forwarded-For names the client (the right-most address "
            "that is not one of them); default none: the peer is the client"),
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* Services the route table calls, and where their replicas dial in by default. */
static const struct {
    const char *name;
    const char *url;
} bus_defaults[] = {
    {"token", "tcp://127.0.0.1:7101"},
    {"users", "tcp://127.0.0.1:7102"},
    {"authorize", "tcp://127.0.0.1:7103"},
};

static bool
bus_name_is_valid(const char *s, size_t len)
{
    if (len == 0 || len > GW_BUS_NAME_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Sets service name (len bytes, validated) to url, adding the service when new. */
static bool
bus_set(gw_config *cfg, const char *name, size_t len, const char *url, const char *origin,
        char *errbuf, size_t errlen)
{
    size_t i;

    if (!bus_name_is_valid(name, len)) {
        snprintf(errbuf, errlen,
                 "%s: expected SERVICE=URL, SERVICE in [a-z][a-z0-9_]* (at most %d)", origin,
                 GW_BUS_NAME_MAX);
        return false;
    }
    if (url[0] == '\0') {
        snprintf(errbuf, errlen, "%s %.*s: empty address", origin, (int)len, name);
        return false;
    }
    for (i = 0; i < cfg->n_bus; i++)
        if (strlen(cfg->bus[i].name) == len && memcmp(cfg->bus[i].name, name, len) == 0)
            break;
    if (i == cfg->n_bus) {
        if (cfg->n_bus == GW_OPTIONS_MAX_BUS) {
            snprintf(errbuf, errlen, "%s: at most %d services", origin, GW_OPTIONS_MAX_BUS);
            return false;
        }
        memcpy(cfg->bus[i].name, name, len);
        cfg->bus[i].name[len] = '\0';
        cfg->n_bus++;
    }
    cfg->bus[i].url = url;
    return true;
}

/* The defaults, each overridden by TG_BUS_<SERVICE upper-case>. */
static bool
bus_from_env(gw_config *cfg, gw_getenv_fn getenv_fn, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < sizeof(bus_defaults) / sizeof(bus_defaults[0]); i++) {
        const char *name = bus_defaults[i].name, *url = bus_defaults[i].url, *env;
        char var[sizeof("TG_BUS_") + GW_BUS_NAME_MAX];
        size_t n = strlen(name);

        memcpy(var, "TG_BUS_", 7);
        for (size_t k = 0; k <= n; k++)
            var[7 + k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A' : name[k]);
        if (getenv_fn != NULL && (env = getenv_fn(var)) != NULL)
            url = env;
        if (!bus_set(cfg, name, n, url, var, errbuf, errlen))
            return false;
    }
    return true;
}

/* Two services on one address would fight over the listener. */
static bool
bus_check(const gw_config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_bus; i++)
        for (size_t k = i + 1; k < cfg->n_bus; k++)
            if (strcmp(cfg->bus[i].url, cfg->bus[k].url) == 0) {
                snprintf(errbuf, errlen, "--bus %s and %s: same address", cfg->bus[i].name,
                         cfg->bus[k].name);
                return false;
            }
    return true;
}

const char *
gw_options_bus_url(const gw_config *cfg, const char *service)
{
    for (size_t i = 0; i < cfg->n_bus; i++)
        if (strcmp(cfg->bus[i].name, service) == 0)
            return cfg->bus[i].url;
    return NULL;
}

/* "N/UNIT" (UNIT s, min or h; a bare N is per minute) into *rate. */
static bool
rate_parse(const char *v, gw_rate *rate)
{
    static const struct {
        const char *unit;
        int64_t seconds;
    } units[] = {{"s", 1}, {"sec", 1}, {"min", 60}, {"m", 60}, {"h", 3600}, {"hour", 3600}};
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || n < 0 || n > GW_RATELIMIT_MAX_LIMIT)
        return false;
    rate->limit = n;
    rate->period_s = 60;
    if (*end == '\0')
        return true;
    if (*end++ != '/')
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0) {
            rate->period_s = units[i].seconds;
            return true;
        }
    return false;
}

/* `--rate-limit GROUP=N/UNIT` on the command line, TG_RATE_LIMIT_<GROUP>=N/UNIT in the
 * environment (origin then names the variable and value holds no group). */
static bool
rate_set(gw_config *cfg, const char *value, bool with_group, const char *origin, char *errbuf,
         size_t errlen)
{
    if (with_group) {
        if (strncmp(value, "password=", 9) != 0) {
            snprintf(errbuf, errlen, "%s --rate-limit: expected password=N/UNIT", origin);
            return false;
        }
        value += 9;
    }
    if (!rate_parse(value, &cfg->rate_password)) {
        snprintf(errbuf, errlen,
                 "%s rate-limit: expected N/UNIT, N in [0, %d], UNIT s, min or h (e.g. 300/min)",
                 origin, GW_RATELIMIT_MAX_LIMIT);
        return false;
    }
    return true;
}

static bool
set_value(const opt_def *o, const char *value, gw_config *cfg, const char *origin, char *errbuf,
          size_t errlen)
{
    char *end;
    long long v;

    if (o->type == OPT_BUS) {
        const char *eq = strchr(value, '=');

        if (eq == NULL) {
            snprintf(errbuf, errlen, "%s --bus: expected SERVICE=URL", origin);
            return false;
        }
        return bus_set(cfg, value, (size_t)(eq - value), eq + 1, "--bus", errbuf, errlen);
    }
    if (o->type == OPT_BUS_TOKEN)
        return bus_set(cfg, "token", 5, value, "--bus-token", errbuf, errlen);
    if (o->type == OPT_RATE) /* the environment's value has no group (origin is its name) */
        return rate_set(cfg, value, strcmp(origin, o->env) != 0, origin, errbuf, errlen);
    if (o->type == OPT_STRING) {
        *(const char **)((char *)cfg + o->offset) = value;
        return true;
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max) {
        snprintf(errbuf, errlen, "%s %s: expected an integer in [%lld, %lld]", origin, o->name,
                 (long long)o->min, (long long)o->max);
        return false;
    }
    *(int64_t *)((char *)cfg + o->offset) = v;
    return true;
}

static const opt_def *
find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static bool
check_listen(const char *what, const char *v, char *errbuf, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long port;

    if (v[0] == '\0')
        return true;
    if (colon == NULL || colon == v) {
        snprintf(errbuf, errlen, "%s: expected HOST:PORT", what);
        return false;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || port < 1 || port > 65535) {
        snprintf(errbuf, errlen, "%s: bad port", what);
        return false;
    }
    return true;
}

gw_options_result
gw_options_parse(int argc, char *const *argv, gw_getenv_fn getenv_fn, gw_config *cfg, char *errbuf,
                 size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    errbuf[0] = '\0';
    if (!bus_from_env(cfg, getenv_fn, errbuf, errlen))
        return GW_OPTIONS_USAGE;
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *env;

        if (opts[i].type == OPT_BUS || opts[i].type == OPT_BUS_TOKEN)
            continue; /* per service, above */
        env = getenv_fn ? getenv_fn(opts[i].env) : NULL;
        const char *v = env != NULL ? env : opts[i].dflt;
        if (v != NULL && !set_value(&opts[i], v, cfg, opts[i].env, errbuf, errlen))
            return GW_OPTIONS_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        const opt_def *o;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return GW_OPTIONS_HELP;
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(errbuf, errlen, "unexpected argument: %.64s", arg);
            return GW_OPTIONS_USAGE;
        }
        arg += 2;
        eq = strchr(arg, '=');
        if ((o = find_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg))) == NULL) {
            snprintf(errbuf, errlen, "unknown option: --%.64s", arg);
            return GW_OPTIONS_USAGE;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(errbuf, errlen, "option --%s needs a value", o->name);
            return GW_OPTIONS_USAGE;
        }
        if (!set_value(o, value, cfg, "option", errbuf, errlen))
            return GW_OPTIONS_USAGE;
    }
    if (!bus_check(cfg, errbuf, errlen))
        return GW_OPTIONS_USAGE;
    if (gw_proxies_parse(cfg->trusted_proxies, &cfg->proxies, errbuf, errlen) != TG_OK)
        return GW_OPTIONS_USAGE;
    if (cfg->issuer != NULL && cfg->issuer[0] == '\0')
        cfg->issuer = NULL;
    if (cfg->access_log != NULL && cfg->access_log[0] == '\0')
        cfg->access_log = NULL;
    if ((cfg->cert == NULL || cfg->cert[0] == '\0') != (cfg->key == NULL || cfg->key[0] == '\0')) {
        snprintf(errbuf, errlen, "--cert and --key go together");
        return GW_OPTIONS_USAGE;
    }
    if (cfg->cert != NULL && cfg->cert[0] == '\0')
        cfg->cert = cfg->key = NULL;
    if (!check_listen("--tls-listen", cfg->tls_listen, errbuf, errlen) ||
        !check_listen("--h2c-listen", cfg->h2c_listen, errbuf, errlen))
        return GW_OPTIONS_USAGE;
    if (cfg->tls_listen[0] == '\0' && cfg->h2c_listen[0] == '\0') {
        snprintf(errbuf, errlen, "at least one of --tls-listen and --h2c-listen is needed");
        return GW_OPTIONS_USAGE;
    }
    if (cfg->issuer != NULL && strncmp(cfg->issuer, "https://", 8) != 0 &&
        strncmp(cfg->issuer, "http://", 7) != 0) {
        snprintf(errbuf, errlen, "--issuer must be an http(s) URL");
        return GW_OPTIONS_USAGE;
    }
    return GW_OPTIONS_OK;
}

void
gw_options_print_usage(FILE *f)
{
    fprintf(f, "usage: tollgate-gateway [options]\n");
    for (size_t i = 0; i < N_OPTS; i++)
        fprintf(f, "  --%-12s %-5s %s [%s]\n", opts[i].name,
                opts[i].type == OPT_INT ? "N" : "VALUE", opts[i].help, opts[i].env);
    fprintf(f, "  (--bus VALUE: SERVICE=URL, e.g. --bus token=tcp://127.0.0.1:7101 "
               "--bus users=tcp://127.0.0.1:7102)\n");
}
