/*
 * Database connection lookups over lib/config's, with one addition: a client must exist in
 * the tenant even when the connection is open to all clients.
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
