/*
 * Small helpers for the server-rendered pages some services answer with: HTML escaping and
 * reading a cookie from a Cookie header. Services never see HTTP; these work on the strings the
 * gateway hands over in tollgate.web.Context.
 */
#ifndef TG_CORE_WEB_H
#define TG_CORE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s to f escaped for HTML text and attribute values (& < > " '). NULL writes nothing. */
void tg_html_put(FILE *f, const char *s);

/* The tenant's branding on its pages: name (friendly_name), logo (https URL) and primary colour
 * ("#rgb" or "#rrggbb"). Borrowed strings; NULL or "" for none. */
typedef struct tg_branding {
    const char *name;
    const char *logo_url;
    const char *primary_color;
} tg_branding;

/* Whether s is a CSS colour the pages accept from a tenant file: "#rgb" or "#rrggbb" (hex
 * digits), nothing else, so no value can leave the style rule it is put in. */
bool tg_color_is_valid(const char *s);
/* Whether s is a logo URL the pages accept: "https://" and a host, at most 2048 bytes, no
 * control characters, spaces, quotes, angle brackets or backslashes. (It is also escaped.) */
bool tg_logo_url_is_valid(const char *s);

/* Opens a server-rendered page: doctype, viewport, title, the one stylesheet every page
 * shares (inline: the pages' CSP allows inline styles only; images need img-src https:), the
 * tenant's logo, name and primary colour when b gives them (invalid ones are left out), and
 * the heading. b may be NULL. The caller writes the body and closes with
 * "</main></body></html>". */
void tg_html_page_head_branded(FILE *f, const tg_branding *b, const char *title);
/* tg_html_page_head_branded with a name only. */
void tg_html_page_head(FILE *f, const char *brand, const char *title);

/* Copies the value of cookie `name` from a Cookie header ("a=1; b=2") into out (NUL-terminated).
 * Returns false when the cookie is absent or its value does not fit (out is then ""). header
 * may be NULL. */
bool tg_cookie_get(const char *header, const char *name, char *out, size_t outlen);

#endif
