/*
 * users.ResetPage (GET /u/reset-password?ticket=) and users.ResetSubmit (POST, form body): the
 * server-rendered page behind the reset link. Plain HTML forms, no JavaScript, every
 * user-visible value HTML-escaped; headers forbid framing, scripts, foreign form targets and
 * referrers (the URL carries the ticket).
 *
 * CSRF is a double submit bound to the ticket: the ticket document holds a random token
 * (ticket.c); the page puts it in a hidden field and in the cookie tg_csrf (Path
 * /u/reset-password, Secure, HttpOnly, SameSite=Strict), and the POST must carry both, equal
 * to the document's (constant-time). Otherwise 403.
 *
 * The POST checks, in order: ticket live (else 400 "invalid or expired" page), CSRF, the two
 * passwords equal, the connection's policy (legacy or flexible: users_policy_check), the
 * password history (PasswordHistoryError), then takes the ticket with store_consume (so a
 * ticket changes a password at most once, even under concurrent posts) and stores the new
 * hash, tokens_valid_after and attempts_reset_at (store_users.c). Before the ticket is taken,
 * svc-token hears of the new tokens_valid_after (token_notify.c); when it does not, the
 * answer is a 503 page and the ticket stays usable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/web.h"
#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define CSRF_COOKIE "tg_csrf"
#define CSRF_MAX 128
#define MAX_DETAILS 8
#define CSP                                                                                   \
    "default-src 'none'; img-src https:; style-src 'unsafe-inline'; form-action 'self'; "     \
    "frame-ancestors 'none'; base-uri 'none'"
#define MSG_INVALID                                                                           \
    "This link is invalid or has expired. Request a new password reset email and use the "   \
    "newest link."
#define MSG_CSRF                                                                              \
    "This form could not be verified. Open the link from the email again and resubmit."
#define MSG_RETRY                                                                             \
    "Your password could not be changed just now. Your link still works: please try again "   \
    "in a moment."

bool
users_csrf_ok(const char *cookie_header, const char *form_token, const char *expected)
{
    char cookie[CSRF_MAX + 1];
    bool a, b;

    if (expected == NULL || expected[0] == '\0' || form_token == NULL ||
        !tg_cookie_get(cookie_header != NULL ? cookie_header : "", CSRF_COOKIE, cookie,
                          sizeof(cookie)))
        return false;
    /* both compared, always, so the time says nothing about which one failed */
    a = tg_ct_streq(cookie, expected);
    b = tg_ct_streq(form_token, expected);
    return a && b;
}

char *
users_reset_form_html(const tg_branding *brand, const char *email, const char *ticket,
                      const char *csrf, const char *error, const char *const *details,
                      size_t n_details)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, "Change your password");
    if (email != NULL && email[0] != '\0') {
        fputs("<p>Enter a new password for ", f);
        tg_html_put(f, email);
        fputs(".</p>\n", f);
    }
    if (error != NULL) {
        fputs("<div class=\"error\" role=\"alert\" id=\"error\"><p>", f);
        tg_html_put(f, error);
        fputs("</p>\n", f);
        if (n_details > 0) {
            fputs("<ul>\n", f);
            for (size_t i = 0; i < n_details; i++) {
                fputs("<li>", f);
                tg_html_put(f, details[i]);
                fputs("</li>\n", f);
            }
            fputs("</ul>\n", f);
        }
        fputs("</div>\n", f);
    }
    fputs("<form method=\"post\" action=\"/u/reset-password\">\n"
          "<input type=\"hidden\" name=\"ticket\" value=\"",
          f);
    tg_html_put(f, ticket);
    fputs("\">\n<input type=\"hidden\" name=\"csrf_token\" value=\"", f);
    tg_html_put(f, csrf);
    fputs("\">\n"
          "<label for=\"new_password\">New password</label>\n"
          "<input type=\"password\" id=\"new_password\" name=\"new_password\" "
          "autocomplete=\"new-password\" required autofocus",
          f);
    if (error != NULL)
        fputs(" aria-describedby=\"error\"", f);
    fputs(">\n<label for=\"confirm_new_password\">Confirm new password</label>\n"
          "<input type=\"password\" id=\"confirm_new_password\" name=\"confirm_new_password\" "
          "autocomplete=\"new-password\" required>\n"
          "<button type=\"submit\">Reset password</button>\n</form>\n</main>\n</body>\n</html>\n",
          f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *
message_html(const tg_branding *brand, const char *title, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    tg_html_page_head_branded(f, brand, title);
    fputs("<p>", f);
    tg_html_put(f, text);
    fputs("</p>\n</main>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Replies with html (heap, taken) and the security headers; cookie may be NULL. */
static tg_err
reply_page(bus_ctx *ctx, Tollgate__Users__ResetPageReply *reply, int status, char *html,
           const char *cookie)
{
    static const char *const fixed[][2] = {
        {"Content-Security-Policy", CSP},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
    };
    size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]), n = n_fixed + (cookie != NULL);
    Tollgate__Web__Directive *d = bus_ctx_alloc(ctx, sizeof(*d));
    Tollgate__Web__Header *h = bus_ctx_alloc(ctx, n * sizeof(*h));
    Tollgate__Web__Header **hp = bus_ctx_alloc(ctx, n * sizeof(*hp));
    tg_err err = TG_ENOMEM;

    if (d == NULL || h == NULL || hp == NULL || html == NULL)
        goto out;
    tollgate__web__directive__init(d);
    for (size_t i = 0; i < n; i++) {
        tollgate__web__header__init(&h[i]);
        h[i].name = (char *)(i < n_fixed ? fixed[i][0] : "Set-Cookie");
        h[i].value = i < n_fixed ? (char *)fixed[i][1] : bus_ctx_strdup(ctx, cookie);
        if (h[i].value == NULL)
            goto out;
        hp[i] = &h[i];
    }
    d->status = status;
    d->content_type = "text/html; charset=utf-8";
    d->headers = hp;
    d->n_headers = n;
    d->body.len = strlen(html);
    if ((d->body.data = bus_ctx_alloc(ctx, d->body.len + 1)) == NULL)
        goto out;
    memcpy(d->body.data, html, d->body.len);
    reply->http = d;
    err = TG_OK;
out:
    free(html);
    return err;
}

static const tg_branding *
friendly(const users_app *app)
{
    return &app->cfg->tenant.branding;
}

static tg_err
reply_message(bus_ctx *ctx, const users_app *app, Tollgate__Users__ResetPageReply *reply,
              int status, const char *title, const char *text)
{
    return reply_page(ctx, reply, status, message_html(friendly(app), title, text), NULL);
}

static char *
csrf_cookie(const char *csrf)
{
    char *c = NULL;

    if (asprintf(&c, CSRF_COOKIE "=%s; Path=/u/reset-password; Secure; HttpOnly; "
                                 "SameSite=Strict",
                 csrf) < 0)
        return NULL;
    return c;
}

/* The form again, with an error; the cookie is set again so the page stays usable. */
static tg_err
reply_form(bus_ctx *ctx, const users_app *app, Tollgate__Users__ResetPageReply *reply,
           int status, const json_t *ticket_doc, const json_t *user, const char *ticket,
           const char *error, const char *const *details, size_t n_details)
{
    const char *csrf = json_string_value(json_object_get(ticket_doc, "csrf"));
    char *cookie = csrf_cookie(csrf), *html;
    tg_err err;

    html = users_reset_form_html(friendly(app), json_string_value(json_object_get(user, "email")),
                                 ticket, csrf, error, details, n_details);
    err = cookie != NULL ? reply_page(ctx, reply, status, html, cookie) : TG_ENOMEM;
    if (cookie == NULL)
        free(html);
    free(cookie);
    return err;
}

/* The ticket's document, its user and connection; TG_ENOTFOUND when any is gone. */
static tg_err
load_ticket(const users_app *app, const char *ticket, json_t **doc, json_t **user,
            const config_connection **conn)
{
    const char *uid;
    tg_err err;

    *user = NULL;
    *conn = NULL;
    if ((err = users_ticket_find(app->st, ticket, doc)) != TG_OK)
        return err;
    uid = json_string_value(json_object_get(*doc, "user_id"));
    if ((err = users_store_get(app->st, uid, user)) != TG_OK)
        return err;
    *conn = users_connection_find(app->cfg,
                                  json_string_value(json_object_get(*doc, "connection")));
    return *conn != NULL ? TG_OK : TG_ENOTFOUND;
}

tg_err
users_on_reset_page(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__ResetPageRequest *req = (const void *)reqm;
    Tollgate__Users__ResetPageReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const config_connection *conn;
    json_t *doc = NULL, *user = NULL;
    tg_err err;

    err = load_ticket(app, req->ticket, &doc, &user, &conn);
    if (err == TG_ENOTFOUND)
        err = reply_message(ctx, app, reply, 400, "Link invalid or expired", MSG_INVALID);
    else if (err == TG_OK)
        err = reply_form(ctx, app, reply, 200, doc, user, req->ticket, NULL, NULL, 0);
    json_decref(doc);
    json_decref(user);
    return err;
}

/* One rule of a password-sheriff report as text: %d / %s filled from its format. */
static char *
rule_text(bus_ctx *ctx, const json_t *rule)
{
    const char *msg = json_string_value(json_object_get(rule, "message"));
    const json_t *format = json_object_get(rule, "format");
    char out[256];
    size_t o = 0, k = 0;

    if (msg == NULL)
        return NULL;
    for (const char *p = msg; *p && o < sizeof(out) - 1; p++) {
        if (p[0] == '%' && (p[1] == 'd' || p[1] == 's') && k < json_array_size(format)) {
            const json_t *v = json_array_get(format, k++);
            int n = json_is_integer(v)
                        ? snprintf(out + o, sizeof(out) - o, "%lld",
                                   (long long)json_integer_value(v))
                        : snprintf(out + o, sizeof(out) - o, "%s",
                                   json_string_value(v) != NULL ? json_string_value(v) : "");
            o = n > 0 && (size_t)n < sizeof(out) - o ? o + (size_t)n : sizeof(out) - 1;
            p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return bus_ctx_strdup(ctx, out);
}

/* The unmet rules of a report, as lines for the page. */
static size_t
report_details(bus_ctx *ctx, const json_t *report, const char **details, size_t max)
{
    const json_t *rule, *item;
    size_t i, j, n = 0;

    json_array_foreach(json_object_get(report, "rules"), i, rule)
    {
        if (json_is_true(json_object_get(rule, "verified")) || n >= max)
            continue;
        if ((details[n] = rule_text(ctx, rule)) != NULL)
            n++;
        json_array_foreach(json_object_get(rule, "items"), j, item)
        {
            if (n < max && !json_is_true(json_object_get(item, "verified")) &&
                (details[n] = rule_text(ctx, item)) != NULL)
                n++;
        }
    }
    return n;
}

/* Whether pw matches the current hash or one in the history. */
static bool
in_history(const users_app *app, const json_t *user, const char *pw)
{
    const char *current = json_string_value(json_object_get(user, "password_hash"));
    const json_t *h;
    size_t i;

    if (current != NULL && users_hash_verify(app->hasher, current, pw, strlen(pw)) == TG_OK)
        return true;
    json_array_foreach(json_object_get(user, "password_history"), i, h)
    {
        const char *s = json_string_value(h);
        if (s != NULL && users_hash_verify(app->hasher, s, pw, strlen(pw)) == TG_OK)
            return true;
    }
    return false;
}

/* The connection's policy, legacy or flexible (users_policy_check, the check signup makes),
 * then the history; on refusal *error (and details) say why. */
static void
check_new_password(bus_ctx *ctx, const users_app *app, const config_connection *conn,
                   const json_t *user, const char *pw, const char **error,
                   const char **details, size_t *n_details)
{
    users_policy_verdict verdict = USERS_POLICY_OK;
    json_t *report = NULL;

    *error = NULL;
    *n_details = 0;
    if (users_policy_check(conn, user, pw, users_hash_max_bytes(app->hasher), &verdict,
                           &report) != TG_OK) {
        *error = "Something went wrong. Please try again.";
        return;
    }
    switch (verdict) {
    case USERS_POLICY_OK:
        if (conn->password_history && conn->password_history_size > 0 &&
            in_history(app, user, pw))
            *error = "Password has previously been used"; /* Auth0's PasswordHistoryError */
        break;
    case USERS_POLICY_TOO_LONG:
        *error = "Password is too long";
        break;
    case USERS_POLICY_WEAK:
        *error = "Password is too weak. It must meet these rules:";
        *n_details = report_details(ctx, report, details, MAX_DETAILS);
        break;
    case USERS_POLICY_DICTIONARY:
        *error = "The chosen password is too common.";
        break;
    case USERS_POLICY_PERSONAL_INFO:
        *error = "The chosen password is based on user information.";
        break;
    }
    json_decref(report);
}

tg_err
users_on_reset_submit(bus_ctx *ctx, const ProtobufCMessage *reqm, ProtobufCMessage *replym)
{
    const Tollgate__Users__ResetSubmitRequest *req = (const void *)reqm;
    Tollgate__Users__ResetPageReply *reply = (void *)replym;
    const users_app *app = bus_ctx_app(ctx);
    const char *pw = req->new_password != NULL ? req->new_password : "", *error = NULL;
    const char *confirm = req->confirm_new_password != NULL ? req->confirm_new_password : "";
    const char *details[MAX_DETAILS];
    const config_connection *conn;
    json_t *doc = NULL, *user = NULL;
    size_t n_details = 0;
    int64_t valid_after;
    char *hash = NULL;
    tg_err err;

    err = load_ticket(app, req->ticket, &doc, &user, &conn);
    if (err == TG_ENOTFOUND) {
        err = reply_message(ctx, app, reply, 400, "Link invalid or expired", MSG_INVALID);
        goto out;
    }
    if (err != TG_OK)
        goto out;
    if (!users_csrf_ok(req->web != NULL ? req->web->cookie : NULL, req->csrf_token,
                       json_string_value(json_object_get(doc, "csrf")))) {
        err = reply_message(ctx, app, reply, 403, "Request refused", MSG_CSRF);
        goto out;
    }
    if (pw[0] == '\0')
        error = "Enter a new password.";
    else if (strcmp(pw, confirm) != 0)
        error = "The passwords do not match.";
    else
        check_new_password(ctx, app, conn, user, pw, &error, details, &n_details);
    if (error != NULL) {
        err = reply_form(ctx, app, reply, 400, doc, user, req->ticket, error, details,
                         n_details);
        goto out;
    }
    if ((err = users_hash_password(app->hasher, pw, strlen(pw), &hash)) != TG_OK) {
        if (err == TG_EUNAVAILABLE) /* the hashing threads are full (users_hasher_limit) */
            err = reply_message(ctx, app, reply, 503, "Try again", MSG_RETRY);
        goto out;
    }
    /* svc-token first (token_notify.c): if it does not hear of the reset, nothing changes */
    valid_after = tg_now_s();
    if (users_token_tell_state(ctx, app, user, valid_after) != TG_OK) {
        err = reply_message(ctx, app, reply, 503, "Try again", MSG_RETRY);
        goto out;
    }
    err = users_ticket_consume(app->st, req->ticket, bus_ctx_request_id(ctx));
    if (err == TG_ECONSUMED || err == TG_ENOTFOUND) {
        err = reply_message(ctx, app, reply, 400, "Link invalid or expired", MSG_INVALID);
        goto out;
    }
    if (err != TG_OK ||
        (err = users_store_set_password(
             app->st, user, hash, conn->password_history ? conn->password_history_size : 0,
             valid_after)) != TG_OK)
        goto out;
    LOG_INFO("password reset for user %s", json_string_value(json_object_get(user, "_id")));
    err = reply_page(ctx, reply, 200,
                     message_html(friendly(app), "Password changed",
                                  "Your password has been changed."),
                     CSRF_COOKIE "=; Path=/u/reset-password; Max-Age=0; Secure; HttpOnly; "
                                 "SameSite=Strict");
out:
    json_decref(doc);
    json_decref(user);
    free(hash);
    return err;
}
