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

/* Opens a server-rendered page: doctype, viewport, title, the one stylesheet every page
 * shares (inline: the pages' CSP allows inline styles only), the tenant's name when given, and
 * the heading. The caller writes the body and closes with "</main></body></html>". */
void tg_html_page_head(FILE *f, const char *brand, const char *title);

/* Copies the value of cookie `name` from a Cookie header ("a=1; b=2") into out (NUL-terminated).
 * Returns false when the cookie is absent or its value does not fit (out is then ""). header
 * may be NULL. */
bool tg_cookie_get(const char *header, const char *name, char *out, size_t outlen);

#endif
