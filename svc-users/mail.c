/*
 * Reset emails, sent off the request path by one background thread. users.ChangePassword
 * queues a job for every request, known user or not (an unknown user's job does nothing), so
 * the answer costs the same either way. The thread issues the ticket and sends the link:
 *   - by SMTP through libcurl when the tenant has an smtp emailProvider: STARTTLS when the
 *     server offers it (required when credentials are set, so they never travel in clear),
 *     implicit TLS on port 465, AUTH when smtp_user is set, 10 s timeouts;
 *   - otherwise as an RFC 5322 file <outbox>/<ms>-<n>.eml (written to a temporary name, then
 *     renamed, so a reader never sees half a message).
 * The ticket and the link are never logged.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "users.h"

#define QUEUE_MAX 1024
#define SMTP_TIMEOUT_S 10L
#define OUTBOX_FROM "no-reply@localhost"

typedef struct mail_job {
    struct mail_job *next;
    char *user_id; /* NULL: unknown user, nothing to send */
    char *email;
    char *connection;
    char *issuer;
} mail_job;

struct users_mailer {
    const config *cfg;
    store *st;
    const char *outbox;
    int64_t ticket_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mail_job *head, *tail;
    size_t queued;
    unsigned long seq;
    bool stopping;
};

static void
job_free(mail_job *j)
{
    if (j == NULL)
        return;
    free(j->user_id);
    free(j->email);
    free(j->connection);
    free(j->issuer);
    free(j);
}

static bool
has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

tg_err
users_mail_compose_reset(const char *from, const char *to, const char *friendly_name,
                         const char *link, char **out)
{
    char date[64], *text = NULL;
    time_t now = time(NULL);
    struct tm tm;
    const char *name = friendly_name != NULL && friendly_name[0] != '\0' ? friendly_name : NULL;
    int n;

    *out = NULL;
    if (has_control(from) || has_control(to) || has_control(link) ||
        (name != NULL && has_control(name)))
        return TG_EINVAL;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    n = asprintf(&text,
                 "From: %s\r\n"
                 "To: %s\r\n"
                 "Subject: Reset your password\r\n"
                 "Date: %s\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n"
                 "\r\n"
                 "Hello,\r\n"
                 "\r\n"
                 "Someone asked to reset the password of your %s%saccount (%s).\r\n"
                 "To choose a new password, open this link:\r\n"
                 "\r\n"
                 "%s\r\n"
                 "\r\n"
                 "The link works once and expires in %d minutes. If you did not ask for this, "
                 "ignore this email: your password stays as it is.\r\n",
                 from, to, date, name != NULL ? name : "", name != NULL ? " " : "", to, link,
                 USERS_TICKET_SECONDS / 60);
    if (n < 0)
        return TG_ENOMEM;
    *out = text;
    return TG_OK;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t
on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    upload *u = arg;
    size_t n = size * nitems;

    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

static tg_err
send_smtp(const config_email *e, const char *to, const char *msg)
{
    char url[400], from[400], rcpt[400];
    upload up = {.data = msg, .len = strlen(msg)};
    struct curl_slist *rcpts = NULL;
    bool v6 = strchr(e->smtp_host, ':') != NULL;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    CURL *curl;

    snprintf(url, sizeof(url), "%s://%s%s%s:%lld", e->smtp_port == 465 ? "smtps" : "smtp",
             v6 ? "[" : "", e->smtp_host, v6 ? "]" : "", (long long)e->smtp_port);
    snprintf(from, sizeof(from), "<%s>", e->default_from_address);
    snprintf(rcpt, sizeof(rcpt), "<%s>", to);
    if ((curl = curl_easy_init()) == NULL)
        return TG_ENOMEM;
    if ((rcpts = curl_slist_append(NULL, rcpt)) == NULL)
        goto out;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, SMTP_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, SMTP_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     e->smtp_user != NULL ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (e->smtp_user != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, e->smtp_user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, e->smtp_pass != NULL ? e->smtp_pass : "");
    }
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        LOG_WARN("smtp to %s:%lld failed: %s", e->smtp_host, (long long)e->smtp_port,
                 curl_easy_strerror(rc));
out:
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? TG_OK : TG_EUNAVAILABLE;
}

static tg_err
write_outbox(users_mailer *m, const char *msg)
{
    char tmp[1024], final[1024];
    size_t len = strlen(msg);
    unsigned long seq;
    ssize_t w;
    int fd;

    pthread_mutex_lock(&m->mu);
    seq = ++m->seq;
    pthread_mutex_unlock(&m->mu);
    snprintf(final, sizeof(final), "%s/%lld-%d-%lu.eml", m->outbox, (long long)tg_now_ms(),
             (int)getpid(), seq);
    snprintf(tmp, sizeof(tmp), "%s/.%lld-%d-%lu.tmp", m->outbox, (long long)tg_now_ms(),
             (int)getpid(), seq);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        LOG_WARN("cannot write to outbox %s: %s", m->outbox, strerror(errno));
        return TG_EIO;
    }
    w = write(fd, msg, len);
    if (close(fd) != 0 || w != (ssize_t)len || rename(tmp, final) != 0) {
        LOG_WARN("cannot write to outbox %s: %s", m->outbox, strerror(errno));
        unlink(tmp);
        return TG_EIO;
    }
    return TG_OK;
}

static void
deliver(users_mailer *m, const mail_job *j)
{
    const config_email *e = &m->cfg->email;
    const char *from = e->default_from_address != NULL ? e->default_from_address : OUTBOX_FROM;
    char *ticket = NULL, *link = NULL, *msg = NULL;
    tg_err err;

    if (j->user_id == NULL)
        return; /* unknown user: queued only so both answers cost the same */
    if ((err = users_ticket_issue(m->st, j->user_id, j->connection, m->ticket_s, &ticket)) !=
        TG_OK)
        goto out;
    if (asprintf(&link, "%su/reset-password?ticket=%s", j->issuer, ticket) < 0) {
        link = NULL;
        err = TG_ENOMEM;
        goto out;
    }
    if ((err = users_mail_compose_reset(from, j->email, m->cfg->tenant.friendly_name, link,
                                        &msg)) != TG_OK)
        goto out;
    err = e->enabled ? send_smtp(e, j->email, msg) : write_outbox(m, msg);
out:
    if (err == TG_OK)
        LOG_INFO("reset email sent to user %s", j->user_id);
    else
        LOG_WARN("reset email to user %s not sent: %s", j->user_id, tg_strerror(err));
    tg_free_secret_str(ticket);
    tg_free_secret_str(link);
    tg_free_secret_str(msg);
}

static void *
run(void *arg)
{
    users_mailer *m = arg;

    for (;;) {
        mail_job *j;

        pthread_mutex_lock(&m->mu);
        while (m->head == NULL && !m->stopping)
            pthread_cond_wait(&m->cv, &m->mu);
        if ((j = m->head) == NULL) { /* stopping, and the queue is drained */
            pthread_mutex_unlock(&m->mu);
            return NULL;
        }
        if ((m->head = j->next) == NULL)
            m->tail = NULL;
        m->queued--;
        pthread_mutex_unlock(&m->mu);
        deliver(m, j);
        job_free(j);
    }
}

tg_err
users_mailer_new(const config *cfg, store *st, const char *outbox_dir, int64_t ticket_s,
                 users_mailer **out)
{
    users_mailer *m;

    *out = NULL;
    if (!cfg->email.enabled && outbox_dir != NULL && mkdir(outbox_dir, 0700) != 0 &&
        errno != EEXIST) {
        LOG_ERROR("cannot create outbox %s: %s", outbox_dir, strerror(errno));
        return TG_EIO;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return TG_EINTERNAL;
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        curl_global_cleanup();
        return TG_ENOMEM;
    }
    m->cfg = cfg;
    m->st = st;
    m->outbox = outbox_dir != NULL ? outbox_dir : "outbox";
    m->ticket_s = ticket_s > 0 ? ticket_s : USERS_TICKET_SECONDS;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m);
        curl_global_cleanup();
        return TG_EINTERNAL;
    }
    *out = m;
    return TG_OK;
}

void
users_mailer_free(users_mailer *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
    curl_global_cleanup();
}

tg_err
users_mailer_enqueue_reset(users_mailer *m, const char *user_id, const char *email,
                           const char *connection, const char *issuer)
{
    mail_job *j;
    tg_err err = TG_OK;

    if (m == NULL) /* an app built without a mailer (tests of other methods) */
        return TG_ECLOSED;
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return TG_ENOMEM;
    j->user_id = user_id != NULL ? strdup(user_id) : NULL;
    j->email = strdup(email);
    j->connection = strdup(connection);
    j->issuer = strdup(issuer != NULL ? issuer : "");
    if ((user_id != NULL && j->user_id == NULL) || j->email == NULL || j->connection == NULL ||
        j->issuer == NULL) {
        job_free(j);
        return TG_ENOMEM;
    }
    pthread_mutex_lock(&m->mu);
    if (m->stopping || m->queued >= QUEUE_MAX) {
        err = m->stopping ? TG_ECLOSED : TG_ETOOBIG;
    } else {
        if (m->tail != NULL)
            m->tail->next = j;
        else
            m->head = j;
        m->tail = j;
        m->queued++;
        j = NULL;
        pthread_cond_signal(&m->cv);
    }
    pthread_mutex_unlock(&m->mu);
    job_free(j);
    return err;
}
