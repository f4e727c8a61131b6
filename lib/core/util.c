#include "core/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static tg_err
encode(const char *alphabet, bool pad, const void *data, size_t len, char **out)
{
    const unsigned char *in = data;
    size_t olen = (len + 2) / 3 * 4 + 1, o = 0, i;
    char *s;

    *out = NULL;
    s = malloc(olen);
    if (s == NULL)
        return TG_ENOMEM;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        s[o++] = alphabet[v >> 18 & 63];
        s[o++] = alphabet[v >> 12 & 63];
        s[o++] = alphabet[v >> 6 & 63];
        s[o++] = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        s[o++] = alphabet[v >> 18 & 63];
        s[o++] = alphabet[v >> 12 & 63];
        if (i + 1 < len)
            s[o++] = alphabet[v >> 6 & 63];
        else if (pad)
            s[o++] = '=';
        if (pad)
            s[o++] = '=';
    }
    s[o] = '\0';
    *out = s;
    return TG_OK;
}

static int
decode_char(const char *alphabet, char c)
{
    const char *p;

    if (c == '\0')
        return -1;
    p = strchr(alphabet, c);
    return p == NULL ? -1 : (int)(p - alphabet);
}

static tg_err
decode(const char *alphabet, const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *buf;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    *out = NULL;
    *out_len = 0;
    while (len > 0 && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return TG_EINVAL;
    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL)
        return TG_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int v = decode_char(alphabet, text[i]);
        if (v < 0) {
            free(buf);
            return TG_EINVAL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return TG_OK;
}

tg_err
tg_b64url_encode(const void *data, size_t len, char **out)
{
    return encode(b64url_alphabet, false, data, len, out);
}

tg_err
tg_b64url_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len)
{
    return decode(b64url_alphabet, text, text_len, out, out_len);
}

tg_err
tg_b64_encode(const void *data, size_t len, char **out)
{
    return encode(b64_alphabet, true, data, len, out);
}

tg_err
tg_b64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len)
{
    return decode(b64_alphabet, text, text_len, out, out_len);
}

/* The kernel's CSPRNG (getrandom(2)): no lock, safe across fork(), and cheaper than
 * OpenSSL's DRBG for the short draws tokens take. OpenSSL's RAND_bytes if the kernel cannot
 * answer. */
tg_err
tg_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return len <= INT_MAX && RAND_bytes(p, (int)len) == 1 ? TG_OK : TG_ECRYPTO;
        p += n;
        len -= (size_t)n;
    }
    return TG_OK;
}

tg_err
tg_random_token(size_t nbytes, char **out)
{
    unsigned char buf[128];
    tg_err err;

    *out = NULL;
    if (nbytes > sizeof(buf))
        return TG_EINVAL;
    if ((err = tg_random_bytes(buf, nbytes)) != TG_OK)
        return err;
    err = tg_b64url_encode(buf, nbytes, out);
    OPENSSL_cleanse(buf, sizeof(buf));
    return err;
}

int
tg_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
tg_hex_encode(const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *in = data;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * len] = '\0';
}

bool
tg_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

bool
tg_ct_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    return tg_ct_equal(a, strlen(a), b, strlen(b));
}

void
tg_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

void
tg_free_secret_str(char *s)
{
    if (s == NULL)
        return;
    tg_free_secret(s, strlen(s));
}

int64_t
tg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
tg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
tg_now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t
tg_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
tg_strdup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

bool
tg_utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t n;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

size_t
tg_split_list(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;
    char *next;

    for (char *u = s; u != NULL && n < max; u = next) {
        next = strchr(u, sep);
        if (next != NULL)
            *next++ = '\0';
        if (*u != '\0')
            out[n++] = u;
    }
    out[n] = NULL;
    return n;
}
