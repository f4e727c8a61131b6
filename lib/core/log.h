/*
 * Structured logging: one JSON line per event on stderr, with time, level, service, request id
 * (thread-local, set by whoever serves the request), source location and message. The level is
 * checked before any formatting. Never pass a secret, password, code or full token.
 */
#ifndef TG_CORE_LOG_H
#define TG_CORE_LOG_H

#include <stdbool.h>

typedef enum tg_log_level {
    TG_LOG_DEBUG = 0,
    TG_LOG_INFO,
    TG_LOG_WARN,
    TG_LOG_ERROR,
} tg_log_level;

/* service is borrowed and must outlive logging (a string literal in main). Level from
 * TG_LOG_LEVEL=debug|info|warn|error when set. */
void log_init(const char *service, tg_log_level level);
bool log_is_enabled(tg_log_level level);
/* Copies up to 64 bytes of id into thread-local storage; NULL clears it. */
void log_set_request_id(const char *id);
void log_write(tg_log_level level, const char *file, int line, const char *func, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));
/* Writes a pre-built JSON object line (access logs); obj must be a complete JSON object. */
void log_write_raw(const char *json_line);

#define TG_LOG(lvl, ...)                                                                           \
    do {                                                                                           \
        if (log_is_enabled(lvl))                                                                   \
            log_write(lvl, __FILE__, __LINE__, __func__, __VA_ARGS__);                             \
    } while (0)
#define LOG_DEBUG(...) TG_LOG(TG_LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) TG_LOG(TG_LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) TG_LOG(TG_LOG_WARN, __VA_ARGS__)
#define LOG_ERROR(...) TG_LOG(TG_LOG_ERROR, __VA_ARGS__)

#endif
