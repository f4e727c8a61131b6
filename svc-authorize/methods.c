/* svc-authorize's RPC methods: the one table the bus dispatches from. */
#include "authorize.h"

const bus_method authorize_methods[] = {
    {"authorize.Authorize", &tollgate__authorize__authorize_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_authorize},
    {"authorize.LoginPage", &tollgate__authorize__login_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_login_page},
    {"authorize.LoginSubmit", &tollgate__authorize__login_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_login_submit},
    {"authorize.Logout", &tollgate__authorize__logout_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_logout},
    {"authorize.SignupPage", &tollgate__authorize__login_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_signup_page},
    {"authorize.SignupSubmit", &tollgate__authorize__signup_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_signup_submit},
    {"authorize.DeviceCode", &tollgate__device__device_code_request__descriptor,
     &tollgate__device__device_code_reply__descriptor, authorize_on_device_code},
    {"authorize.ActivatePage", &tollgate__device__activate_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_activate_page},
    {"authorize.ActivateSubmit", &tollgate__device__activate_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_activate_submit},
    {"authorize.DeviceConfirmPage", &tollgate__device__confirm_page_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_device_confirm_page},
    {"authorize.DeviceConfirmSubmit", &tollgate__device__confirm_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_device_confirm_submit},
    {"authorize.OidcLogout", &tollgate__authorize__oidc_logout_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_oidc_logout},
    {"authorize.Register", &tollgate__authorize__register_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_register},
    {"authorize.ConsentSubmit", &tollgate__authorize__consent_submit_request__descriptor,
     &tollgate__authorize__page_reply__descriptor, authorize_on_consent_submit},
    /* internal: svc-token, through the authorize bus device */
    {"authorize.GetClient", &tollgate__authorize__get_client_request__descriptor,
     &tollgate__authorize__get_client_reply__descriptor, authorize_on_get_client},
    {"authorize.RedeemCode", &tollgate__authorize__redeem_code_request__descriptor,
     &tollgate__authorize__redeem_code_reply__descriptor, authorize_on_redeem_code},
    {"authorize.PollDeviceCode", &tollgate__device__poll_device_code_request__descriptor,
     &tollgate__device__poll_device_code_reply__descriptor, authorize_on_poll_device_code},
};
const size_t authorize_n_methods = sizeof(authorize_methods) / sizeof(authorize_methods[0]);

tg_err
authorize_store_ensure(store *st)
{
    static const char *const colls[] = {AUTHORIZE_COLL_TXN, AUTHORIZE_COLL_SESSIONS,
                                        AUTHORIZE_COLL_CODES, AUTHORIZE_COLL_CLIENTS,
                                        AUTHORIZE_COLL_CONSENTS};
    tg_err err;

    for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
        if ((err = store_collection_ensure(st, colls[i], NULL)) != TG_OK)
            return err;
    return authorize_device_store_ensure(st);
}
