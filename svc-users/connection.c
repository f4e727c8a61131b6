/*
 * Database connection lookups. lib/config declares config_connection_by_name() and
 * config_connection_enabled_for() but is still implementing them; these equivalents read the
 * same parsed fields so svc-users links either way (switch over once lib/config has them).
 */
#include <string.h>

#include "users.h"

const config_connection *
users_connection_find(const config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL || name[0] == '\0')
        return NULL;
    for (size_t i = 0; i < cfg->n_connections; i++)
        if (strcmp(cfg->connections[i].name, name) == 0)
            return &cfg->connections[i];
    return NULL;
}

/* A client must exist in the tenant even when the connection is open to all clients. */
bool
users_connection_enabled_for(const config *cfg, const config_connection *conn,
                             const char *client_id)
{
    if (conn == NULL || client_id == NULL || config_client_by_id(cfg, client_id) == NULL)
        return false;
    return conn->all_clients || config_strv_has(&conn->enabled_clients, client_id);
}
