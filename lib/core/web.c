#include "core/web.h"

#include <string.h>

#define PAGE_STYLE                                                                                 \
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"       \
    "label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;"           \
    "box-sizing:border-box}button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}"          \
    ".error{color:#a00;border:1px solid #a00;padding:.5rem}"

#define LOGO_URL_MAX 2048

bool
tg_color_is_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return (n == 4 || n == 7) && s[0] == '#' && strspn(s + 1, "0123456789abcdefABCDEF") == n - 1;
}

bool
tg_logo_url_is_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n <= 8 || n > LOGO_URL_MAX || strncmp(s, "https://", 8) != 0 || s[8] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7f || strchr("\"'<>\\`", ch) != NULL)
            return false;
    }
    return true;
}

void
tg_html_page_head_branded(FILE *f, const tg_branding *b, const char *title)
{
    const char *name = b != NULL ? b->name : NULL;
    const char *logo = b != NULL && tg_logo_url_is_valid(b->logo_url) ? b->logo_url : NULL;
    const char *color = b != NULL && tg_color_is_valid(b->primary_color) ? b->primary_color : NULL;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    tg_html_put(f, title);
    fputs("</title>\n<style>" PAGE_STYLE, f);
    if (color != NULL) /* validated: "#" and 3 or 6 hex digits, nothing that ends the rule */
        fprintf(f, "button{background:%s;border:1px solid %s;color:#fff}a{color:%s}"
                   "h1{border-bottom:3px solid %s}",
                color, color, color, color);
    fputs("</style>\n</head>\n<body>\n<main>\n", f);
    if (logo != NULL) {
        fputs("<img class=\"logo\" src=\"", f);
        tg_html_put(f, logo);
        fputs("\" alt=\"", f);
        tg_html_put(f, name);
        fputs("\" height=\"52\">\n", f);
    }
    if (name != NULL && name[0] != '\0') {
        fputs("<p>", f);
        tg_html_put(f, name);
        fputs("</p>\n", f);
    }
    fputs("<h1>", f);
    tg_html_put(f, title);
    fputs("</h1>\n", f);
}

void
tg_html_page_head(FILE *f, const char *brand, const char *title)
{
    const tg_branding b = {.name = brand};

    tg_html_page_head_branded(f, &b, title);
}

void
tg_html_put(FILE *f, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

bool
tg_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = header;

    if (outlen > 0)
        out[0] = '\0';
    while (p != NULL && *p) {
        const char *end;
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = (size_t)(end - p) - nlen - 1;
            while (vlen > 0 && (p[nlen + vlen] == ' ' || p[nlen + vlen] == '\t'))
                vlen--;
            if (vlen + 1 > outlen)
                return false;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}
