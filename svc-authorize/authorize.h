/*
 * svc-authorize: the browser-facing sign-in (proto/authorize.proto): /authorize, the login
 * page, SSO sessions, authorization codes and /v2/logout. Every browser-facing answer is a
 * tollgate.web.Directive (302, HTML page, form_post page); only svc-token mints tokens. This
 * header is the service's internal contract between its files; nothing outside includes it.
 */
#ifndef TG_SVC_AUTHORIZE_H
#define TG_SVC_AUTHORIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "authorize.pb-c.h"
#include "device.pb-c.h"
#include "bus/bus.h"
#include "config/config.h"
#include "store/store.h"
#include "users.pb-c.h"

/* ---- the runtime ---------------------------------------------------------------------- */

/* The one runtime object, made in main and passed to handlers as the bus app pointer.
 * Immutable after start. */
typedef struct authorize_app {
    const config *cfg;
    store *st;
    bus_client *users;          /* the users bus device front(s); NULL: none configured */
    bus_client *token;          /* the token bus device front(s); NULL: none configured */
    int64_t session_lifetime_s; /* absolute SSO session lifetime */
    int64_t session_idle_s;     /* idle SSO session lifetime */
} authorize_app;

/* Auth0's defaults ("Require log in after" 7 days, idle 3 days). The service takes the tenant
 * file's session_lifetime / idle_session_lifetime (lib/config, same defaults); tests that make
 * an authorize_app by hand use these. */
#define AUTHORIZE_SESSION_LIFETIME_S ((int64_t)7 * 24 * 3600)
#define AUTHORIZE_SESSION_IDLE_S ((int64_t)3 * 24 * 3600)

/* Collections svc-authorize owns (namespace "authorize"). */
#define AUTHORIZE_COLL_TXN "transactions"
#define AUTHORIZE_COLL_SESSIONS "sessions"
#define AUTHORIZE_COLL_CODES "codes"
#define AUTHORIZE_COLL_CONSENTS "consents" /* consent.c */
tg_err authorize_store_ensure(store *st);

#define AUTHORIZE_TXN_SECONDS 600 /* a login transaction lives 10 minutes */
#define AUTHORIZE_CODE_SECONDS 60 /* an authorization code lives 60 s (contract §5.5) */
#define AUTHORIZE_SECRET_BYTES 32 /* random bytes behind codes, session cookies, CSRF */
#define AUTHORIZE_TXN_BYTES 24    /* random bytes behind a transaction id */
#define AUTHORIZE_MAX_PARAM 2048  /* longest accepted /authorize parameter value */

#define AUTHORIZE_SESSION_COOKIE "tg_session"
#define AUTHORIZE_SESSION_COOKIE_COMPAT "tg_session_compat"
#define AUTHORIZE_CSRF_COOKIE "tg_login_csrf"

#define AUTHORIZE_MSG_CALLBACK_MISMATCH                                                            \
    "Callback URL mismatch. The provided redirect_uri is not in the list of allowed "              \
    "callback URLs. Please go to the Application Settings page and make sure you are "             \
    "sending a valid callback url from your application."
#define AUTHORIZE_MSG_INVALID_CODE "Invalid authorization code"

/* ---- stored documents (doc.c) ------------------------------------------------------------ */

/* doc's string field name, "" when absent or not a string (borrowed from doc). */
const char *authorize_doc_str(const json_t *doc, const char *name);
/* An arena copy of authorize_doc_str(); NULL on exhaustion. */
char *authorize_doc_strdup(bus_ctx *ctx, const json_t *doc, const char *name);

/* ---- URLs and cookies (url.c: pure functions) -------------------------------------------- */

/* Whether uri is usable as a redirect target at all: non-empty, at most AUTHORIZE_MAX_PARAM
 * bytes, no control characters, spaces or backslashes, an explicit scheme, and not one of
 * the script-capable schemes (javascript:, data:, vbscript:, file:). */
bool authorize_uri_is_safe(const char *uri);
/* The client's callback uri is allowed for: byte-exact match with one of callbacks (no
 * normalisation, so look-alike hosts, userinfo and encoded characters never match a registered
 * URL they are not), or Auth0's subdomain wildcard (a host starting with the label "*") with
 * exactly one DNS label in place of the '*' (url.c); and authorize_uri_is_safe(). */
bool authorize_callback_is_allowed(const config_strv *callbacks, const char *uri);
/* Whether returnTo matches one of allowed the way Auth0 matches Allowed Logout URLs: the
 * query and fragment of returnTo are ignored, scheme and host (the authority) compare
 * case-insensitively, the path case-sensitively; a scheme is required. */
bool authorize_logout_url_is_allowed(const config_strv *allowed, const char *return_to);
/* Writes s percent-encoded (everything but RFC 3986 unreserved characters) to f. */
void authorize_url_put_encoded(FILE *f, const char *s);
/* base + sep + k1=v1&k2=v2... (keys and values percent-encoded; pairs with a NULL or empty
 * value are skipped). sep is '?' or '#'; '?' becomes '&' when base already holds a query.
 * kv holds n (key, value) pairs. Heap string, free(); NULL on allocation failure. */
char *authorize_url_with_params(const char *base, char sep, const char *const (*kv)[2], size_t n);
/* Whether s is exactly the base64url text of AUTHORIZE_SECRET_BYTES random bytes. */
bool authorize_secret_is_well_formed(const char *s);
/* Lower-case hex SHA-256 of s into out (65 bytes). */
void authorize_sha256_hex(const char *s, char out[65]);

/* ---- HTML (html.c: pure functions) --------------------------------------------------------- */

/* The inline script of the form_post page and its CSP hash source ('sha256-...'). */
#define AUTHORIZE_FORM_POST_SCRIPT "document.forms[0].submit();"
#define AUTHORIZE_FORM_POST_SCRIPT_HASH "'sha256-8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ='"

/* A page with a title and one paragraph; error (may be NULL) is shown as a code. All text is
 * escaped. Heap string, free(); NULL on allocation failure. */
char *authorize_message_html(const tg_branding *brand, const char *title, const char *error,
                             const char *text);
/* The login form for transaction state. client_name, username (prefill) and error may be NULL
 * or "". Heap string, free(); NULL on allocation failure. */
char *authorize_login_html(const tg_branding *brand, const char *client_name, const char *state,
                           const char *csrf, const char *username, const char *error,
                           bool signup_link);
/* What the signup page shows (signup.c). Strings borrowed; NULL or "" for none. */
typedef struct authorize_signup_view {
    const tg_branding *brand;
    const char *client_name;
    const char *state;  /* the login transaction */
    const char *csrf;
    const char *email;  /* prefill */
    const char *username;
    const char *policy; /* the connection's password policy, in words */
    const char *error;
    bool ask_username;  /* the connection requires_username */
} authorize_signup_view;
/* The signup form (POST /u/signup) with a link back to the login page. Heap string, free();
 * NULL on allocation failure. */
char *authorize_signup_html(const authorize_signup_view *v);
/* The /oidc/logout confirmation: a GET form to /oidc/logout with one hidden input per (key,
 * value) pair of kv (n pairs; NULL or empty values skipped) and a "Log out" button.
 * client_name may be NULL. Heap string, free(); NULL on allocation failure. */
char *authorize_logout_confirm_html(const tg_branding *brand, const char *client_name,
                                    const char *const (*kv)[2], size_t n);
/* The form_post response page: an auto-submitting POST form to action with one hidden input
 * per (key, value) pair of kv (n pairs; NULL or empty values skipped) and a submit button for
 * browsers without script. Heap string, free(); NULL on allocation failure. */
char *authorize_form_post_html(const char *action, const char *const (*kv)[2], size_t n);

/* The web_message page's one constant script (it reads its data from the JSON block
 * authorize_web_message_html writes) and its CSP hash source. */
#define AUTHORIZE_WEB_MESSAGE_SCRIPT                                                               \
    "(function(){var d=JSON.parse(document.getElementById(\"response\").textContent);"            \
    "var w=window.opener?window.opener:window.parent;"                                           \
    "w.postMessage({type:\"authorization_response\",response:d.response},d.origin);})();"
#define AUTHORIZE_WEB_MESSAGE_SCRIPT_HASH "'sha256-Hl7PurkYjZxgjSV/LgmjFQWBlr736KSjsdEq/gIpu08='"
/* The response_mode=web_message page (what auth0-spa-js's silent-authentication iframe and
 * popup wait for): posts {type: "authorization_response", response: {k: v, ...}} to the
 * opener, else the parent window, with target origin `origin`. Every value is written as a
 * JSON string inside a non-executed JSON block with <, >, &, ' and U+2028/9 escaped, so no
 * value can end the block or be read as script. kv holds n pairs; NULL or empty values are
 * skipped. Heap string, free(); NULL on allocation failure. */
char *authorize_web_message_html(const char *origin, const char *const (*kv)[2], size_t n);

/* ---- replies (reply.c) ------------------------------------------------------------------ */

/* Set-Cookie values of one reply (borrowed strings). */
#define AUTHORIZE_MAX_COOKIES 6
typedef struct authorize_cookies {
    const char *v[AUTHORIZE_MAX_COOKIES];
    size_t n;
} authorize_cookies;

/* An HTML page: html is taken (freed here, NULL means allocation failed: TG_ENOMEM); csp NULL
 * is the default policy; cookies may be NULL. Adds the anti-framing, no-referrer and no-store
 * headers. */
tg_err authorize_reply_html(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply, int status,
                            char *html, const char *csp, const authorize_cookies *cookies);
/* 302 to location (copied). cookies may be NULL. */
tg_err authorize_reply_redirect(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                const char *location, const authorize_cookies *cookies);
/* The CSP of a page whose form posts back to us and is then redirected to redirect_uri (the
 * login page): the default policy with form-action 'self' plus redirect_uri's origin (or its
 * scheme for a native app's callback), since browsers apply form-action to the redirects
 * after a form submission too. An arena string; NULL (use the default) when redirect_uri has
 * neither or on exhaustion. */
char *authorize_form_csp(bus_ctx *ctx, const char *redirect_uri);
/* An HTML page as authorize_reply_html, with csp (required) and without X-Frame-Options: for
 * pages meant to be framed by the origins csp's frame-ancestors names. */
tg_err authorize_reply_framed_html(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                   int status, char *html, const char *csp,
                                   const authorize_cookies *cookies);
/* An error page with the tenant's name. */
tg_err authorize_reply_error_page(bus_ctx *ctx, const authorize_app *app,
                                  Tollgate__Authorize__PageReply *reply, int status,
                                  const char *error, const char *description);

typedef enum authorize_mode {
    AUTHORIZE_MODE_QUERY = 0,
    AUTHORIZE_MODE_FRAGMENT,
    AUTHORIZE_MODE_FORM_POST,
    AUTHORIZE_MODE_WEB_MESSAGE, /* web_message.c */
} authorize_mode;

/* Where the answer of a trusted authorization request goes. Strings borrowed; state "" when
 * the client sent none. */
typedef struct authorize_target {
    const char *redirect_uri;
    authorize_mode mode;
    const char *state;
    unsigned response_type; /* AUTHORIZE_RT_* bits; 0 is code */
} authorize_target;

/* Sends params (n pairs) plus state and iss (the issuer) to the target in its response mode. */
tg_err authorize_reply_to_client(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                 const authorize_target *t, const char *const (*kv)[2], size_t n,
                                 const authorize_cookies *cookies);
/* An OAuth error (error, error_description) sent back to the trusted target. */
tg_err authorize_reply_oauth_error(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                   const authorize_target *t, const char *error,
                                   const char *description);

/* ---- response_mode=web_message (web_message.c) -------------------------------------------
 * The target origin is the redirect_uri's origin, and it must be one of the client's Allowed
 * Web Origins (contract.md §5.3); until it is, nothing is posted anywhere. */

/* Writes the redirect_uri's origin into origin (TG_ORIGIN_MAX + 1 bytes) and returns true when
 * it is one of client's web_origins (exact origin match, paths ignored, no wildcards). */
bool authorize_web_message_origin(const config_client *client, const char *redirect_uri,
                                  char *origin, size_t len);
/* The page of authorize_web_message_html for t's redirect_uri origin, framable by that origin
 * only (CSP frame-ancestors, no X-Frame-Options) and its script allowed by hash. kv (n pairs)
 * is the whole response, state included. cookies may be NULL. */
tg_err authorize_reply_web_message(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                   const authorize_target *t, const char *const (*kv)[2],
                                   size_t n, const authorize_cookies *cookies);

/* ---- SSO sessions (session.c) --------------------------------------------------------------
 * The cookie holds base64url(32 random bytes); the store keeps only its SHA-256 hex as _id of
 * AUTHORIZE_COLL_SESSIONS with {sid, user_id, auth_time, created_at, last_used_at,
 * absolute_expires_at, expires_at = min(absolute, last use + idle)}. */

/* The live session named by the Cookie header (tg_session, else tg_session_compat); its idle
 * expiry is pushed forward (best effort). TG_ENOTFOUND when none. *out a new reference. */
tg_err authorize_session_find(const authorize_app *app, const char *cookie_header, json_t **out);
/* Starts a new session (new id and cookie every time: no fixation) for user_id and ends the
 * one the Cookie header named, if any. *sid_out an arena copy; *cookie_out the cookie value,
 * freed with tg_free_secret_str(). */
tg_err authorize_session_start(bus_ctx *ctx, const authorize_app *app, const char *cookie_header,
                               const char *user_id, int64_t auth_time, char **sid_out,
                               char **cookie_out);
/* Ends the session the Cookie header names (no-op when none). */
void authorize_session_end(const authorize_app *app, const char *cookie_header);
/* The tenant file's session lifetimes (session_lifetime, idle_session_lifetime) into app. */
void authorize_session_settings(authorize_app *app, const config *cfg);
/* Set-Cookie values (arena copies) that set, or with value NULL clear, both session cookies;
 * with the tenant's session_cookie.mode non-persistent, set cookies have no Max-Age. */
tg_err authorize_session_cookies(bus_ctx *ctx, const authorize_app *app, const char *value,
                                 authorize_cookies *out);

/* ---- codes (code.c) ----------------------------------------------------------------------- */

/* What a code stands for. Strings borrowed; "" for absent. */
typedef struct authorize_grant {
    const char *client_id;
    const char *redirect_uri; /* as sent to /authorize: "" when the default callback was used */
    const char *user_id;
    const char *scope;
    const char *audience;
    const char *nonce;
    int64_t auth_time;
    const char *sid;
    const char *code_challenge;
    const char *code_challenge_method;
    bool prompt_consent; /* prompt=consent: ask a third-party application's user again */
    bool prompt_none;    /* prompt=none: consent missing is consent_required */
} authorize_grant;

/* Mints a code for g: base64url(32 random bytes); only its SHA-256 hex is stored as _id of
 * AUTHORIZE_COLL_CODES, expiring after AUTHORIZE_CODE_SECONDS. *code_out freed with
 * tg_free_secret_str(). */
tg_err authorize_code_issue(const authorize_app *app, const authorize_grant *g, char **code_out);

/* ---- the /authorize request (authorize_endpoint.c, login.c) ----------------------------- */

/* Finishes a login: a code for the grant, sent to the target with the given cookies. */
tg_err authorize_complete(bus_ctx *ctx, const authorize_app *app,
                          Tollgate__Authorize__PageReply *reply, const authorize_target *t,
                          const authorize_grant *g, const authorize_cookies *cookies);
/* The target a stored transaction names (strings borrowed from txn). */
void authorize_txn_target(const json_t *txn, authorize_target *t);
/* The live, unused login transaction named by state; TG_ENOTFOUND for anything else. One
 * taken by this very request (a resend, same request id) still counts as unused. *out a new
 * reference. */
tg_err authorize_txn_load(bus_ctx *ctx, const authorize_app *app, const char *state,
                          json_t **out);
/* Stores a new login transaction made of fields (borrowed; _id, csrf and expires_at are added to
 * it) and sends the browser to /u/<page>?state=<id>, page "login" or "signup". The one place
 * transactions are made (/authorize and /activate). */
tg_err authorize_txn_start(bus_ctx *ctx, const authorize_app *app,
                           Tollgate__Authorize__PageReply *reply, json_t *fields,
                           const char *page);
/* The error page for a missing, expired or used transaction (400). */
tg_err authorize_reply_txn_invalid(bus_ctx *ctx, const authorize_app *app,
                                   Tollgate__Authorize__PageReply *reply);
/* The double-submit CSRF check of the login and signup forms: the tg_login_csrf cookie and the
 * form token both equal expected (the transaction's), compared in constant time. */
bool authorize_csrf_ok(const char *cookie_header, const char *form_token, const char *expected);
/* The transaction a submitted form (login, signup, consent) names, checked: live, of kind
 * (NULL: any) and with the form's CSRF token. TG_OK with *txn (caller decrefs) to go on; TG_OK
 * with *txn NULL when the answer is already in reply (the invalid-transaction page, or 403 for
 * a failed CSRF check); other codes on store failures. */
tg_err authorize_form_txn(bus_ctx *ctx, const authorize_app *app,
                          Tollgate__Authorize__PageReply *reply, const char *state,
                          const Tollgate__Web__Context *web, const char *csrf_token,
                          const char *kind, json_t **txn);
/* The user is authenticated (password checked, or just signed up): takes the transaction
 * exactly once, starts a new SSO session (ending the one cookie_header names) and sends the
 * code to the client. A transaction already taken gets the invalid-transaction page. */
tg_err authorize_login_finish(bus_ctx *ctx, const authorize_app *app,
                              Tollgate__Authorize__PageReply *reply, const char *cookie_header,
                              const json_t *txn, const char *user_id);

/* ---- logout (logout.c, oidc_logout.c) ------------------------------------------------------ */

/* Ends the SSO session web's cookies name (if any; its clients get back-channel logout), clears
 * both session cookies, then 302 to target, or with target NULL or "" a "Logged out" page.
 * target must already be checked against an allow-list. The one way every logout ends. */
tg_err authorize_logout_finish(bus_ctx *ctx, const authorize_app *app,
                               Tollgate__Authorize__PageReply *reply,
                               const Tollgate__Web__Context *web, const char *target);

/* ---- consent for third-party applications (consent.c) ------------------------------------- */

/* Whether user_id has granted client_id every word of scope for audience. */
bool authorize_consent_is_granted(const authorize_app *app, const char *user_id,
                                  const char *client_id, const char *audience, const char *scope);
/* Called by authorize_complete before anything is issued: for a third-party client whose user
 * has not granted g's scopes (or g->prompt_consent), answers with the consent page (cookies,
 * borrowed, go with it), or consent_required with g->prompt_none, and sets *handled. A
 * first-party client, or a grant already given, leaves *handled false and reply untouched. */
tg_err authorize_consent_check(bus_ctx *ctx, const authorize_app *app,
                               Tollgate__Authorize__PageReply *reply, const authorize_target *t,
                               const authorize_grant *g, const authorize_cookies *cookies,
                               bool *handled);
/* The consent page: the application, the API (audience name) and the requested scopes, with
 * Accept and Decline buttons posting to /u/consent. Heap string, free(); NULL on allocation
 * failure. */
char *authorize_consent_html(const tg_branding *brand, const char *client_name,
                             const char *api_name, const char *scope, const char *state,
                             const char *csrf);

/* ---- signup (signup.c) --------------------------------------------------------------------- */

/* The database connection a transaction signs users up to: the transaction's `connection`
 * when it names one, else the tenant's default_directory when the client may use it, else the
 * first database connection enabled for the client. NULL: none. Borrowed from app->cfg. */
const config_connection *authorize_signup_connection(const authorize_app *app, const json_t *txn);
/* Whether the login page links to the signup page: a connection exists and allows signup. */
bool authorize_signup_is_offered(const authorize_app *app, const json_t *txn);
/* The connection's password policy in words (Auth0's rule texts) into buf, cut short when it
 * does not fit (policy_text.c): the legacy level's rules, or the flexible policy's
 * (password_options) with its dictionary and profile-data checks. */
void authorize_policy_text(const config_connection *conn, char *buf, size_t len);

/* ---- implicit and hybrid response types (implicit.c) ---------------------------------------- */

#define AUTHORIZE_RT_CODE 1u
#define AUTHORIZE_RT_TOKEN 2u
#define AUTHORIZE_RT_ID_TOKEN 4u
/* response_type as AUTHORIZE_RT_* bits: the words code, token, id_token in any order, each at
 * most once, separated by single spaces. false (and *out 0) for anything else. */
bool authorize_response_type_parse(const char *s, unsigned *out);
/* Whether rt puts a token or an ID token in the authorization response. */
bool authorize_response_type_has_tokens(unsigned rt);
/* Settles *mode (already parsed from response_mode) for response_type: "" becomes fragment
 * for every type bearing tokens; false when response_mode asks for query with such a type
 * (*mode is then fragment, for the refusal). Other cases are left alone (true). */
bool authorize_response_mode_fits(const char *response_type, const char *response_mode,
                                  authorize_mode *mode);
/* The client, nonce and scope rules of rt (see implicit.c). NULL when fine, else the OAuth
 * error, with its description in desc. */
const char *authorize_response_type_check(const config_client *client, unsigned rt,
                                          const char *nonce, const char *scope, char *desc,
                                          size_t desclen);
/* Whether the space-separated list has word. */
bool authorize_scope_has(const char *list, const char *word);
/* authorize_complete for a type bearing tokens: the code (if asked for), the tokens from
 * svc-token, all sent to the target in one response. */
tg_err authorize_implicit_complete(bus_ctx *ctx, const authorize_app *app,
                                   Tollgate__Authorize__PageReply *reply,
                                   const authorize_target *t, const authorize_grant *g,
                                   const authorize_cookies *cookies);

/* ---- back-channel logout (backchannel.c; OIDC Back-Channel Logout 1.0) -------------------- */

/* Records that client_id took part in the SSO session sid (the session's "clients" list),
 * when the client registered back-channel logout URLs; best effort, logged on failure. */
void authorize_session_add_client(const authorize_app *app, const char *sid,
                                  const char *client_id);
/* To be called by every path that ends an SSO session (/v2/logout, /oidc/logout), with the
 * session's stored document (borrowed; NULL is a no-op). For every client in its "clients"
 * list with back-channel logout URLs, svc-token signs a logout token (token.LogoutToken, on
 * this request's deadline); the POSTs to the URLs (logout_token=..., 5 s timeout) run on a
 * detached thread, off the request path, and their failures are logged without the token.
 * Never fails the caller's request. */
void authorize_session_ended(bus_ctx *ctx, const authorize_app *app, const json_t *session);

/* ---- svc-token (token_client.c) ------------------------------------------------------------ */

/* Calls svc-token through the token bus device; same contract as authorize_users_call. */
tg_err authorize_token_call(bus_ctx *ctx, const authorize_app *app, const char *method,
                            const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out,
                            bus_result **refusal);

/* ---- svc-users (users_client.c) ----------------------------------------------------------- */

/* Calls svc-users through the users bus device with ctx's request id, issuer and deadline.
 * TG_OK: *out is the unpacked reply (protobuf_c_message_free_unpacked(*out, NULL)).
 * TG_EDENIED: svc-users refused; when refusal is not NULL, *refusal gets the result holding
 * the bus error, freed with bus_result_free(). TG_EUNAVAILABLE: nobody answered in time. */
tg_err authorize_users_call(bus_ctx *ctx, const authorize_app *app, const char *method,
                            const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out,
                            bus_result **refusal);

/* ---- clients: the tenant file's and the registered ones (clients.c, register.c) ----------- */

#define AUTHORIZE_COLL_CLIENTS "registered_clients" /* config/config_registered.h */
#define AUTHORIZE_REGISTER_MAX_URIS 100
#define AUTHORIZE_REGISTER_NAME_MAX 128

/* The client named client_id, for a request: the tenant file's, else one registered at
 * /oidc/register (cached for the life of the process, or built in ctx's arena). NULL when
 * neither knows it. The one lookup for a client_id that comes from a request. */
const config_client *authorize_client_find(bus_ctx *ctx, const authorize_app *app,
                                           const char *client_id);
/* Whether client (from authorize_client_find) was registered at /oidc/register rather than
 * given in the tenant file. Auth0 requires PKCE of every such (third-party "tpc_") client. */
bool authorize_client_is_registered(const authorize_app *app, const config_client *client);

/* A registration request, checked (strings borrowed from the request, or static). */
typedef struct authorize_registration {
    const char *client_name;
    const char *const *redirect_uris;
    size_t n_redirect_uris;
    const char *method; /* "client_secret_post", "client_secret_basic" or "none" */
    const char *grant_types[2];
    size_t n_grant_types;
} authorize_registration;
/* Whether uri may be registered: authorize_uri_is_safe(), https (http only for localhost and
 * 127.0.0.1), an explicit host and optional numeric port, no userinfo, '%' in the authority,
 * '*' or fragment. */
bool authorize_redirect_uri_is_registrable(const char *uri);
/* Checks req (RFC 7591 §2 as Auth0 takes it) into *out. NULL when fine, else the error code
 * ("invalid_redirect_uri" or "invalid_client_metadata") with its text in desc. */
const char *authorize_register_check(const Tollgate__Authorize__RegisterRequest *req,
                                     authorize_registration *out, char *desc, size_t desclen);

/* ---- bus handlers (methods table in methods.c) -------------------------------------------- */

tg_err authorize_on_register(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err authorize_on_get_client(bus_ctx *ctx, const ProtobufCMessage *req,
                               ProtobufCMessage *reply);

tg_err authorize_on_authorize(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err authorize_on_login_page(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err authorize_on_login_submit(bus_ctx *ctx, const ProtobufCMessage *req,
                                 ProtobufCMessage *reply);
tg_err authorize_on_logout(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err authorize_on_oidc_logout(bus_ctx *ctx, const ProtobufCMessage *req,
                                ProtobufCMessage *reply);
tg_err authorize_on_consent_submit(bus_ctx *ctx, const ProtobufCMessage *req,
                                   ProtobufCMessage *reply);
tg_err authorize_on_signup_page(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);
tg_err authorize_on_signup_submit(bus_ctx *ctx, const ProtobufCMessage *req,
                                  ProtobufCMessage *reply);
tg_err authorize_on_redeem_code(bus_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage *reply);

extern const bus_method authorize_methods[];
extern const size_t authorize_n_methods;

/* ---- device authorization (RFC 8628; device.c, device_page.c) ------------------------------
 * svc-authorize owns device codes (contract §6.5, §8): AUTHORIZE_COLL_DEVICE_CODES keeps, under
 * the SHA-256 hex of the device_code, {client_id, scope, audience, user_code_hash (SHA-256 hex
 * of the normalised user code, unique), status "pending"|"approved"|"denied", user_id, sid,
 * auth_time, last_poll_ms, device_expires_at, failures_at_start, expires_at (device_expires_at
 * + a grace period, so an expired code is still recognised once as expired_token)}.
 * AUTHORIZE_COLL_DEVICE_ACTIVATIONS: one browser's confirmation of one code. The attempts
 * collection counts wrong user codes per IP and in total (brute-force budget). */

#define AUTHORIZE_COLL_DEVICE_CODES "device_codes"
#define AUTHORIZE_COLL_DEVICE_ACTIVATIONS "device_activations"
#define AUTHORIZE_COLL_DEVICE_ATTEMPTS "device_attempts"
#define AUTHORIZE_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define AUTHORIZE_DEVICE_EXPIRES_IN 900 /* Auth0: 15 minutes */
#define AUTHORIZE_DEVICE_INTERVAL 5     /* Auth0: 5 s between polls */
#define AUTHORIZE_USER_CODE_LETTERS 8
#define AUTHORIZE_USER_CODE_MAX 20 /* longest user code input accepted (Auth0's limit) */
/* RFC 8628 §6.1's base-20 alphabet: no vowels, no look-alikes. */
#define AUTHORIZE_USER_CODE_ALPHABET "BCDFGHJKLMNPQRSTVWXZ"

tg_err authorize_device_store_ensure(store *st);
/* Maps random bytes to alphabet letters without modulo bias (bytes >= 240 are skipped): writes
 * at most want letters to out and returns how many it wrote. */
size_t authorize_user_code_fill(const unsigned char *rnd, size_t n, char *out, size_t want);
/* A new user code from the CSPRNG, shown as "XXXX-XXXX" (out: 10 bytes with NUL). */
tg_err authorize_user_code_new(char out[10]);
/* The canonical form of typed input: letters upper-cased, '-' and spaces dropped; true only
 * when that leaves exactly AUTHORIZE_USER_CODE_LETTERS letters of the alphabet and the input is
 * at most AUTHORIZE_USER_CODE_MAX bytes. out: 9 bytes with NUL ("" on false). */
bool authorize_user_code_normalise(const char *in, char out[9]);
/* "BDWPHQPK" -> "BDWP-HQPK" (out: 10 bytes). */
void authorize_user_code_format(const char norm[9], char out[10]);

/* Whether ip may try another user code now (fewer than the per-IP budget of failures in the
 * current window). */
bool authorize_device_ip_may_try(const authorize_app *app, const char *ip);
/* Counts a wrong user code against ip and against the tenant-wide failure count. */
void authorize_device_attempt_failed(const authorize_app *app, const char *ip);
/* The pending, unexpired device code the typed user code names, whose failure budget is not
 * spent. TG_ENOTFOUND for anything else (malformed, unknown, used, expired). *out a new
 * reference. */
tg_err authorize_device_find_by_user_code(const authorize_app *app, const char *typed,
                                          json_t **out);
/* Whether a login transaction was started by /activate (login_finish then calls
 * authorize_device_after_login instead of issuing a code). */
bool authorize_txn_is_device(const json_t *txn);
/* After the login of a device transaction: on to the confirmation page with the new session's
 * cookies (borrowed). */
tg_err authorize_device_after_login(bus_ctx *ctx, Tollgate__Authorize__PageReply *reply,
                                    const json_t *txn, const authorize_cookies *cookies);
/* The activation pages (device_page.c). Strings borrowed, NULL or "" for none. */
char *authorize_activate_html(const tg_branding *brand, const char *csrf, const char *user_code,
                              const char *error);
char *authorize_device_confirm_html(const tg_branding *brand, const char *client_name,
                                    const char *user_code, const char *state, const char *csrf);

tg_err authorize_on_device_code(bus_ctx *ctx, const ProtobufCMessage *req,
                                ProtobufCMessage *reply);
tg_err authorize_on_poll_device_code(bus_ctx *ctx, const ProtobufCMessage *req,
                                     ProtobufCMessage *reply);
tg_err authorize_on_activate_page(bus_ctx *ctx, const ProtobufCMessage *req,
                                  ProtobufCMessage *reply);
tg_err authorize_on_activate_submit(bus_ctx *ctx, const ProtobufCMessage *req,
                                    ProtobufCMessage *reply);
tg_err authorize_on_device_confirm_page(bus_ctx *ctx, const ProtobufCMessage *req,
                                        ProtobufCMessage *reply);
tg_err authorize_on_device_confirm_submit(bus_ctx *ctx, const ProtobufCMessage *req,
                                          ProtobufCMessage *reply);

#endif
