/*
 * Database connection lookups over lib/config's, with one addition: a client must exist in
 * the tenant even when the connection is open to all clients. A client the tenant file does
 * not list but a neighbour service has authenticated (one registered at /oidc/register) may use
 * the domain connections only, as Auth0's third-party applications do.
 */
#include "users.h"

const config_connection *
users_connection_find(const config *cfg, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return NULL;
    return config_connection_by_name(cfg, name);
}

bool
users_connection_enabled_for(const config *cfg, const config_connection *conn,
                             const char *client_id)
{
    if (client_id == NULL || config_client_by_id(cfg, client_id) == NULL)
        return false;
    return config_connection_enabled_for(conn, client_id);
}

bool
users_connection_enabled_for_verified(const config *cfg, const config_connection *conn,
                                      const char *client_id)
{
    if (client_id == NULL || client_id[0] == '\0' || conn == NULL)
        return false;
    if (config_client_by_id(cfg, client_id) != NULL)
        return config_connection_enabled_for(conn, client_id);
    return conn->is_domain_connection;
}
