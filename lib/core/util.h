/*
 * Small shared utilities: encodings, randomness, constant-time comparison, clocks.
 * Encoders return heap strings the caller frees with free(); decoders return heap buffers the
 * caller frees with free() (use tg_free_secret() for secrets).
 */
#ifndef TG_CORE_UTIL_H
#define TG_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Base64url without padding (RFC 7515 §2). *out is NUL-terminated; caller frees. */
tg_err tg_b64url_encode(const void *data, size_t len, char **out);
/* Accepts base64url with or without padding; rejects any other character. *out gets a NUL
 * after *out_len bytes for convenience; caller frees. */
tg_err tg_b64url_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len);
/* Standard base64 with padding (x5c, HTTP Basic). */
tg_err tg_b64_encode(const void *data, size_t len, char **out);
tg_err tg_b64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len);

/* Cryptographically secure random bytes. */
tg_err tg_random_bytes(void *buf, size_t len);
/* nbytes of randomness rendered as base64url; caller frees. */
tg_err tg_random_token(size_t nbytes, char **out);
/* The value of one hex digit (either case), or -1. */
int tg_hex_value(char c);
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void tg_hex_encode(const void *data, size_t len, char *out);

/* Constant-time equality of two byte strings (time depends only on the lengths). */
bool tg_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
bool tg_ct_streq(const char *a, const char *b);

/* Wipes len bytes then frees; NULL is fine. */
void tg_free_secret(void *p, size_t len);
/* Wipes a NUL-terminated string then frees; NULL is fine. */
void tg_free_secret_str(char *s);

int64_t tg_now_ms(void); /* wall clock, epoch milliseconds */
int64_t tg_now_us(void); /* wall clock, epoch microseconds */
int64_t tg_now_s(void);  /* wall clock, epoch seconds */
int64_t tg_monotonic_ms(void);

/* Whether s[0..len) is well-formed UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF. NUL bytes are allowed here; callers that forbid them check separately. */
bool tg_utf8_is_valid(const char *s, size_t len);

/* Splits s in place at every sep into at most max non-empty items stored in out, which must
 * have room for max + 1 pointers and is NULL-terminated. The items point into s. Returns the
 * count; items beyond max are dropped. */
size_t tg_split_list(char *s, char sep, char **out, size_t max);

/* strdup that returns NULL for NULL. */
char *tg_strdup(const char *s);

#endif
