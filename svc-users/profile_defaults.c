/*
 * The profile Auth0 gives a database user who did not send one (contract.md §3 and §9's
 * examples): name = the email, nickname = the email's local part, picture = the Gravatar of the
 * email with Auth0's initials avatar as the fallback:
 *   https://s.gravatar.com/avatar/<md5(lower(email))>?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F<xx>.png
 * where xx is the first two letters or digits of the email, lower-cased. Stored with the user,
 * so ID tokens and /userinfo show them; the signup reply echoes only what was sent.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "users.h"

#define GRAVATAR "https://s.gravatar.com/avatar/"
#define AVATARS "https%3A%2F%2Fcdn.auth0.com%2Favatars%2F"

/* Lower-case hex MD5 of s (Gravatar's key; not a security use). */
static bool
md5_hex(const char *s, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(s, strlen(s), d, &n, EVP_md5(), NULL) != 1 || n != 16)
        return false;
    tg_hex_encode(d, n, out);
    return true;
}

tg_err
users_profile_defaults(json_t *doc)
{
    const char *email = json_string_value(json_object_get(doc, "email"));
    char hash[33], initials[3] = "", url[160], *local;
    size_t at, k = 0;
    int rc = 0;

    if (email == NULL || email[0] == '\0')
        return TG_OK;
    at = strcspn(email, "@");
    for (size_t i = 0; i < at && k < 2; i++)
        if (isalnum((unsigned char)email[i]))
            initials[k++] = (char)tolower((unsigned char)email[i]);
    initials[k] = '\0';
    if (!md5_hex(email, hash)) /* the stored email is already lower-cased */
        return TG_ECRYPTO;
    snprintf(url, sizeof(url), "%s%s?s=480&r=pg&d=%s%s.png", GRAVATAR, hash, AVATARS,
             k > 0 ? initials : "default");
    if ((local = strndup(email, at)) == NULL)
        return TG_ENOMEM;
    if (json_object_get(doc, "name") == NULL)
        rc |= json_object_set_new(doc, "name", json_string(email));
    if (json_object_get(doc, "nickname") == NULL && local[0] != '\0')
        rc |= json_object_set_new(doc, "nickname", json_string(local));
    if (json_object_get(doc, "picture") == NULL)
        rc |= json_object_set_new(doc, "picture", json_string(url));
    free(local);
    return rc == 0 ? TG_OK : TG_ENOMEM;
}
