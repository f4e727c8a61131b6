/* svc-token's RPC methods: the one table the bus dispatches from. */
#include "token.h"

const bus_method token_methods[] = {
    {"token.Token", &tollgate__token__token_request__descriptor,
     &tollgate__token__token_reply__descriptor, token_on_token},
    {"token.Jwks", &tollgate__token__empty__descriptor, &tollgate__token__jwks__descriptor,
     token_on_jwks},
    {"token.Discovery", &tollgate__token__empty__descriptor,
     &tollgate__token__open_id_configuration__descriptor, token_on_discovery},
    {"token.Userinfo", &tollgate__token__empty__descriptor,
     &tollgate__token__userinfo_reply__descriptor, token_on_userinfo},
    {"token.Revoke", &tollgate__token__revoke_request__descriptor,
     &tollgate__token__revoke_reply__descriptor, token_on_revoke},
    /* internal: svc-authorize, through the token bus device (docs/architecture.md) */
    {"token.IssueForAuthorize", &tollgate__token__issue_for_authorize_request__descriptor,
     &tollgate__token__issue_for_authorize_reply__descriptor, token_on_issue_for_authorize},
    {"token.LogoutToken", &tollgate__token__logout_token_request__descriptor,
     &tollgate__token__logout_token_reply__descriptor, token_on_logout_token},
    /* internal: svc-users, through the token bus device */
    {"token.UserState", &tollgate__token__user_state_request__descriptor,
     &tollgate__token__user_state_reply__descriptor, token_on_user_state},
};
const size_t token_n_methods = sizeof(token_methods) / sizeof(token_methods[0]);
