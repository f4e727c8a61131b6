#include "core/web.h"

#include <string.h>

#define PAGE_STYLE                                                                                 \
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"       \
    "label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;"           \
    "box-sizing:border-box}button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}"          \
    ".error{color:#a00;border:1px solid #a00;padding:.5rem}"

void
tg_html_page_head(FILE *f, const char *brand, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    tg_html_put(f, title);
    fputs("</title>\n<style>" PAGE_STYLE "</style>\n</head>\n<body>\n<main>\n", f);
    if (brand != NULL && brand[0] != '\0') {
        fputs("<p>", f);
        tg_html_put(f, brand);
        fputs("</p>\n", f);
    }
    fputs("<h1>", f);
    tg_html_put(f, title);
    fputs("</h1>\n", f);
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
