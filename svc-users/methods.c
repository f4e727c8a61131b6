/* svc-users' RPC methods: the one table the bus dispatches from. */
#include "users.h"

const bus_method users_methods[] = {
    {"users.Signup", &tollgate__users__signup_request__descriptor,
     &tollgate__users__signup_reply__descriptor, users_on_signup},
    {"users.VerifyPassword", &tollgate__users__verify_password_request__descriptor,
     &tollgate__users__verify_password_reply__descriptor, users_on_verify_password},
    {"users.GetUser", &tollgate__users__get_user_request__descriptor,
     &tollgate__users__get_user_reply__descriptor, users_on_get_user},
    {"users.ChangePassword", &tollgate__users__change_password_request__descriptor,
     &tollgate__users__change_password_reply__descriptor, users_on_change_password},
    {"users.ResetPage", &tollgate__users__reset_page_request__descriptor,
     &tollgate__users__reset_page_reply__descriptor, users_on_reset_page},
    {"users.ResetSubmit", &tollgate__users__reset_submit_request__descriptor,
     &tollgate__users__reset_page_reply__descriptor, users_on_reset_submit},
};
const size_t users_n_methods = sizeof(users_methods) / sizeof(users_methods[0]);
