#include "core/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *log_service = "tollgate";
static tg_log_level log_level = TG_LOG_INFO;
static __thread char log_request_id[65];
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_init(const char *service, tg_log_level level)
{
    const char *env = getenv("TG_LOG_LEVEL");

    log_service = service;
    log_level = level;
    if (env != NULL) {
        for (int i = 0; i < 4; i++)
            if (strcasecmp(env, level_names[i]) == 0)
                log_level = (tg_log_level)i;
    }
}

bool
log_is_enabled(tg_log_level level)
{
    return level >= log_level;
}

void
log_set_request_id(const char *id)
{
    if (id == NULL) {
        log_request_id[0] = '\0';
        return;
    }
    snprintf(log_request_id, sizeof(log_request_id), "%s", id);
}

static void
format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000) % 1000);
}

void
log_write(tg_log_level level, const char *file, int line, const char *func, const char *fmt, ...)
{
    char msg[1024], ts[48], where[160];
    va_list ap;
    json_t *obj;
    char *text;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    format_time(ts, sizeof(ts));
    snprintf(where, sizeof(where), "%.100s:%d %.40s", file, line, func);

    obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "service",
                    log_service, "at", where, "msg", msg);
    if (obj == NULL)
        return;
    if (log_request_id[0] != '\0')
        json_object_set_new(obj, "request_id", json_string(log_request_id));
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (text == NULL)
        return;
    log_write_raw(text);
    free(text);
}

void
log_write_raw(const char *json_line)
{
    pthread_mutex_lock(&log_mutex);
    fputs(json_line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mutex);
}
