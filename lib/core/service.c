#include "core/service.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

#define MASTER_KEY_MIN 16

const char *
tg_env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : fallback;
}

long
tg_parse_long(const char *s, long min, long max)
{
    const char *digits = s[0] == '-' ? s + 1 : s;
    char *end;
    long v;

    if (*digits < '0' || *digits > '9') /* strtol would skip blanks and take a '+' */
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && v >= min && v <= max ? v : -1;
}

void
tg_service_opts_init(tg_service_opts *o, const char *default_store)
{
    o->tenant = tg_env_or("TG_TENANT_FILE", NULL);
    o->store_url = tg_env_or("TG_STORE", default_store);
    o->master_key_file = tg_env_or("TG_MASTER_KEY_FILE", NULL);
    o->replica_id = NULL;
    o->workers = tg_parse_long(tg_env_or("TG_WORKERS", "64"), 1, 256);
}

bool
tg_service_opt(tg_service_opts *o, int c, const char *arg)
{
    switch (c) {
    case 't': o->tenant = arg; return true;
    case 's': o->store_url = arg; return true;
    case 'w': o->workers = tg_parse_long(arg, 1, 256); return true;
    case 'm': o->master_key_file = arg; return true;
    case 'r': o->replica_id = arg; return true;
    default: return false;
    }
}

bool
tg_service_opts_ok(const tg_service_opts *o)
{
    return o->tenant != NULL && o->workers >= 1 && o->workers <= 256;
}

char *
tg_master_key_read(const char *path)
{
    char buf[512];
    size_t n;
    FILE *f;

    if (path == NULL) {
        const char *env = getenv("TG_MASTER_KEY");
        if (env == NULL || strlen(env) < MASTER_KEY_MIN)
            return NULL;
        return strdup(env);
    }
    if ((f = fopen(path, "r")) == NULL) {
        LOG_ERROR("cannot read master key file %s: %s", path, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    n = strcspn(buf, "\n");
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    if (n < MASTER_KEY_MIN) {
        LOG_ERROR("master key file %s holds under %d characters", path, MASTER_KEY_MIN);
        OPENSSL_cleanse(buf, sizeof(buf));
        return NULL;
    }
    {
        char *key = strdup(buf);
        OPENSSL_cleanse(buf, sizeof(buf));
        return key;
    }
}

void
tg_signals_block(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void
tg_serve_until_signal(const sigset_t *sigs, int every_s, void (*tick)(void *arg), void *arg)
{
    struct timespec wait = {.tv_sec = every_s > 0 ? every_s : 60};

    for (;;) {
        int sig = sigtimedwait(sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig < 0 && errno == EAGAIN && tick != NULL)
            tick(arg);
    }
}
