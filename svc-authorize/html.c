/*
 * The server-rendered pages: error and message pages, the login form and the form_post
 * response page. Every value is HTML-escaped (attribute values are always double-quoted);
 * no page but form_post has a script, and that one script is a constant whose hash the
 * page's CSP allows (reply.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/web.h"
#include "authorize.h"

/* Text between tags needs only & < > escaped; quotes stay readable (messages quote URLs). */
static void
text_put(FILE *f, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Closes the memstream that writes into *buf (only fclose makes *buf final). */
static char *
finish(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

/* A POST form to action carrying the transaction state and its CSRF token as hidden inputs:
 * every form of these pages starts so. */
static void
form_begin(FILE *f, const char *action, const char *state, const char *csrf)
{
    fputs("<form method=\"post\" action=\"", f);
    tg_html_put(f, action);
    fputs("\">\n<input type=\"hidden\" name=\"state\" value=\"", f);
    tg_html_put(f, state);
    fputs("\">\n<input type=\"hidden\" name=\"csrf_token\" value=\"", f);
    tg_html_put(f, csrf);
    fputs("\">\n", f);
}

/* <p>lead <a href="path?state=...">text</a></p>; the state is a transaction id (base64url),
 * percent-encoded anyway. */
static void
state_link(FILE *f, const char *lead, const char *path, const char *state, const char *text)
{
    char *q = NULL;
    size_t qlen = 0;
    FILE *m = open_memstream(&q, &qlen);

    if (m == NULL)
        return;
    authorize_url_put_encoded(m, state);
    if (fclose(m) != 0) {
        free(q);
        return;
    }
    fputs("<p>", f);
    tg_html_put(f, lead);
    fputs(" <a href=\"", f);
    tg_html_put(f, path);
    fputs("?state=", f);
    tg_html_put(f, q);
    fputs("\">", f);
    tg_html_put(f, text);
    fputs("</a></p>\n", f);
    free(q);
}

char *
authorize_message_html(const tg_branding *brand, const char *title, const char *error,
                       const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, title);
    if (error != NULL && error[0] != '\0') {
        fputs("<p class=\"error\" role=\"alert\"><code>", f);
        text_put(f, error);
        fputs("</code>: ", f);
        text_put(f, text);
        fputs("</p>\n", f);
    } else {
        fputs("<p>", f);
        text_put(f, text);
        fputs("</p>\n", f);
    }
    fputs("</main>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

char *
authorize_login_html(const tg_branding *brand, const char *client_name, const char *state,
                     const char *csrf, const char *username, const char *error, bool signup_link)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool has_error = error != NULL && error[0] != '\0';

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Log in");
    if (client_name != NULL && client_name[0] != '\0') {
        fputs("<p>Log in to continue to ", f);
        tg_html_put(f, client_name);
        fputs(".</p>\n", f);
    }
    if (has_error) {
        fputs("<div class=\"error\" role=\"alert\" id=\"error\"><p>", f);
        tg_html_put(f, error);
        fputs("</p></div>\n", f);
    }
    form_begin(f, "/u/login", state, csrf);
    fputs("<label for=\"username\">Email address</label>\n"
          "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
          "autocapitalize=\"none\" spellcheck=\"false\" required value=\"",
          f);
    tg_html_put(f, username);
    fputs("\"", f);
    if (has_error)
        fputs(" aria-describedby=\"error\"", f);
    if (username == NULL || username[0] == '\0')
        fputs(" autofocus", f);
    fputs(">\n<label for=\"password\">Password</label>\n"
          "<input type=\"password\" id=\"password\" name=\"password\" "
          "autocomplete=\"current-password\" required",
          f);
    if (username != NULL && username[0] != '\0')
        fputs(" autofocus", f);
    fputs(">\n<button type=\"submit\">Continue</button>\n</form>\n", f);
    if (signup_link)
        state_link(f, "Don't have an account?", "/u/signup", state, "Sign up");
    fputs("</main>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

char *
authorize_form_post_html(const char *action, const char *const (*kv)[2], size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>Submit This Form</title>\n</head>\n<body>\n<form method=\"post\" action=\"",
          f);
    tg_html_put(f, action);
    fputs("\">\n", f);
    for (size_t i = 0; i < n; i++) {
        if (kv[i][1] == NULL || kv[i][1][0] == '\0')
            continue;
        fputs("<input type=\"hidden\" name=\"", f);
        tg_html_put(f, kv[i][0]);
        fputs("\" value=\"", f);
        tg_html_put(f, kv[i][1]);
        fputs("\">\n", f);
    }
    fputs("<noscript><p>Script is disabled. Click Continue to go on.</p>"
          "<button type=\"submit\">Continue</button></noscript>\n</form>\n"
          "<script>" AUTHORIZE_FORM_POST_SCRIPT "</script>\n</body>\n</html>\n",
          f);
    return finish(f, &buf);
}

/* One labelled input; value and describedby (an element id) may be NULL. */
static void
input_put(FILE *f, const char *type, const char *name, const char *label, const char *autocomplete,
          const char *value, const char *describedby)
{
    fputs("<label for=\"", f);
    tg_html_put(f, name);
    fputs("\">", f);
    tg_html_put(f, label);
    fputs("</label>\n<input type=\"", f);
    tg_html_put(f, type);
    fputs("\" id=\"", f);
    tg_html_put(f, name);
    fputs("\" name=\"", f);
    tg_html_put(f, name);
    fputs("\" autocomplete=\"", f);
    tg_html_put(f, autocomplete);
    fputs("\" required", f);
    if (value != NULL) {
        fputs(" value=\"", f);
        tg_html_put(f, value);
        fputs("\"", f);
    }
    if (describedby != NULL) {
        fputs(" aria-describedby=\"", f);
        tg_html_put(f, describedby);
        fputs("\"", f);
    }
    fputs(">\n", f);
}

char *
authorize_signup_html(const authorize_signup_view *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool has_error = v->error != NULL && v->error[0] != '\0';
    const char *err_id = has_error ? "error" : NULL;

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, v->brand, "Sign up");
    if (v->client_name != NULL && v->client_name[0] != '\0') {
        fputs("<p>Sign up to continue to ", f);
        tg_html_put(f, v->client_name);
        fputs(".</p>\n", f);
    }
    if (has_error) {
        fputs("<div class=\"error\" role=\"alert\" id=\"error\"><p>", f);
        tg_html_put(f, v->error);
        fputs("</p></div>\n", f);
    }
    form_begin(f, "/u/signup", v->state, v->csrf);
    input_put(f, "email", "email", "Email address", "email", v->email != NULL ? v->email : "",
              err_id);
    if (v->ask_username)
        input_put(f, "text", "username", "Username", "username",
                  v->username != NULL ? v->username : "", err_id);
    input_put(f, "password", "password", "Password", "new-password", NULL, "policy");
    fputs("<p id=\"policy\">", f);
    tg_html_put(f, v->policy);
    fputs("</p>\n<button type=\"submit\">Continue</button>\n</form>\n", f);
    state_link(f, "Already have an account?", "/u/login", v->state, "Log in");
    fputs("</main>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

/* s as a JSON string that is also inert inside an HTML <script> block: besides what JSON
 * needs, < > & ' and U+2028/U+2029 are written as \u escapes. */
static void
json_string_put(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

    fputc('"', f);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&' || *p == '\'') {
            fprintf(f, "\\u%04x", *p);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            fprintf(f, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
            p += 2;
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

char *
authorize_web_message_html(const char *origin, const char *const (*kv)[2], size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool first = true;

    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>Authorization Response</title>\n</head>\n<body>\n"
          "<script type=\"application/json\" id=\"response\">{\"origin\":",
          f);
    json_string_put(f, origin);
    fputs(",\"response\":{", f);
    for (size_t i = 0; i < n; i++) {
        if (kv[i][1] == NULL || kv[i][1][0] == '\0')
            continue;
        if (!first)
            fputc(',', f);
        first = false;
        json_string_put(f, kv[i][0]);
        fputc(':', f);
        json_string_put(f, kv[i][1]);
    }
    fputs("}}</script>\n<script>" AUTHORIZE_WEB_MESSAGE_SCRIPT "</script>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

char *
authorize_activate_html(const tg_branding *brand, const char *csrf, const char *user_code,
                        const char *error)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool has_error = error != NULL && error[0] != '\0';

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Activate your device");
    fputs("<p>Enter the code displayed on your device.</p>\n", f);
    if (has_error) {
        fputs("<div class=\"error\" role=\"alert\" id=\"error\"><p>", f);
        tg_html_put(f, error);
        fputs("</p></div>\n", f);
    }
    fputs("<form method=\"post\" action=\"/activate\">\n"
          "<input type=\"hidden\" name=\"csrf_token\" value=\"",
          f);
    tg_html_put(f, csrf);
    fputs("\">\n<label for=\"user_code\">Code</label>\n"
          "<input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"off\" "
          "autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"20\" required "
          "autofocus value=\"",
          f);
    tg_html_put(f, user_code);
    fputs("\"", f);
    if (has_error)
        fputs(" aria-describedby=\"error\"", f);
    fputs(">\n<button type=\"submit\">Continue</button>\n</form>\n</main>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

char *
authorize_device_confirm_html(const tg_branding *brand, const char *client_name,
                              const char *user_code, const char *state, const char *csrf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Confirm your device");
    /* RFC 8628 §5.4: say that a device is being connected, and which application */
    fputs("<p>A <strong>device</strong> is asking to access your account through ", f);
    fputs("<strong id=\"client-name\">", f);
    tg_html_put(f, client_name != NULL && client_name[0] != '\0' ? client_name : "an application");
    fputs("</strong>.</p>\n<p>Confirm only if this code is the one displayed on your own "
          "device:</p>\n<p><strong id=\"user-code\">",
          f);
    tg_html_put(f, user_code);
    fputs("</strong></p>\n", f);
    form_begin(f, "/activate/confirm", state, csrf);
    fputs("<button type=\"submit\" name=\"action\" value=\"confirm\">Confirm</button>\n"
          "<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n"
          "</form>\n</main>\n</body>\n</html>\n",
          f);
    return finish(f, &buf);
}

char *
authorize_logout_confirm_html(const tg_branding *brand, const char *client_name,
                              const char *const (*kv)[2], size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Log out");
    fputs("<p>", f);
    if (client_name != NULL && client_name[0] != '\0') {
        tg_html_put(f, client_name);
        fputs(" asks to log you out. ", f);
    }
    fputs("Do you want to log out?</p>\n<form method=\"get\" action=\"/oidc/logout\">\n", f);
    for (size_t i = 0; i < n; i++) {
        if (kv[i][1] == NULL || kv[i][1][0] == '\0')
            continue;
        fputs("<input type=\"hidden\" name=\"", f);
        tg_html_put(f, kv[i][0]);
        fputs("\" value=\"", f);
        tg_html_put(f, kv[i][1]);
        fputs("\">\n", f);
    }
    fputs("<button type=\"submit\">Log out</button>\n</form>\n</main>\n</body>\n</html>\n", f);
    return finish(f, &buf);
}

char *
authorize_consent_html(const tg_branding *brand, const char *client_name, const char *api_name,
                       const char *scope, const char *state, const char *csrf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *p = scope;

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Authorize application");
    fputs("<p><strong>", f);
    tg_html_put(f, client_name);
    fputs("</strong> is requesting access to your account", f);
    if (api_name != NULL && api_name[0] != '\0') {
        fputs(" and to <strong>", f);
        tg_html_put(f, api_name);
        fputs("</strong>", f);
    }
    fputs(":</p>\n<ul id=\"scopes\">\n", f);
    while (p != NULL && *p) {
        size_t n = strcspn(p, " ");
        if (n > 0) {
            char *word = strndup(p, n);
            fputs("<li>", f);
            tg_html_put(f, word);
            fputs("</li>\n", f);
            free(word);
        }
        p += n;
        p += strspn(p, " ");
    }
    fputs("</ul>\n", f);
    form_begin(f, "/u/consent", state, csrf);
    fputs("<button type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\n"
          "<button type=\"submit\" name=\"action\" value=\"deny\">Decline</button>\n"
          "</form>\n</main>\n</body>\n</html>\n",
          f);
    return finish(f, &buf);
}
