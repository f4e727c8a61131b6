#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_type { OPT_STRING, OPT_INT } opt_type;

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
    STR_OPT("bus-token", "TG_BUS_TOKEN", "tcp://127.0.0.1:7101", bus_token,
            "bus address the gateway listens on for svc-token replicas"),
    INT_OPT("deadline-ms", "TG_DEADLINE_MS", "5000", 1, 600000, deadline_ms,
            "time allowed per request (the bus deadline)"),
    INT_OPT("max-body", "TG_MAX_BODY", "65536", 1, 16 << 20, max_body,
            "largest request body in bytes"),
    STR_OPT("issuer", "TG_ISSUER", NULL, issuer,
            "issuer URL (default: https://<Host>/ or http://<Host>/ per request)"),
    STR_OPT("access-log", "TG_ACCESS_LOG", NULL, access_log, "access log file (default: stderr)"),
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static bool
set_value(const opt_def *o, const char *value, gw_config *cfg, const char *origin, char *errbuf,
          size_t errlen)
{
    char *end;
    long long v;

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
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *env = getenv_fn ? getenv_fn(opts[i].env) : NULL;
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
}
