// The SPA under test: two auth0-spa-js clients for the same application. `spa` uses refresh
// tokens (rotating, from the browser); `silent` does not, so its getTokenSilently always takes
// the hidden iframe with prompt=none and response_mode=web_message (as loginWithPopup's popup). The Playwright suite
// (tests/e2e/test_browser_spa.py) drives them through window.spaTest.
(function () {
  var cfg = window.SPA_CONFIG;
  var common = {
    domain: cfg.domain,
    clientId: cfg.clientId,
    authorizationParams: {
      redirect_uri: cfg.redirectUri,
      audience: cfg.audience,
      scope: 'openid profile email offline_access'
    }
  };
  var spa = new auth0.Auth0Client(Object.assign({}, common, { useRefreshTokens: true }));
  var silent = new auth0.Auth0Client(Object.assign({}, common, { useRefreshTokens: false }));
  // errors come back as {error, error_description} so the test can assert on them
  function settle(p) {
    return p.then(
      function (value) { return { ok: true, value: value === undefined ? null : value }; },
      function (e) {
        return { ok: false, error: e && e.error, error_description: e && e.error_description,
                 message: String(e && e.message) };
      });
  }
  window.spaTest = {
    login: function () { return settle(spa.loginWithRedirect()); },
    // loginWithPopup: the interactive login happens in a popup whose answer page posts to
    // this window (response_mode=web_message); the outcome lands in popupResult
    popup: function () {
      window.spaTest.popupResult = null;
      settle(spa.loginWithPopup()).then(function (r) { window.spaTest.popupResult = r; });
    },
    handleRedirectCallback: function () { return settle(spa.handleRedirectCallback()); },
    isAuthenticated: function () { return settle(spa.isAuthenticated()); },
    getUser: function () { return settle(spa.getUser()); },
    refresh: function () {
      return settle(spa.getTokenSilently({ cacheMode: 'off', detailedResponse: true }));
    },
    silent: function () {
      return settle(silent.getTokenSilently({ cacheMode: 'off', detailedResponse: true }));
    },
    logout: function () {
      return settle(spa.logout({ logoutParams: { returnTo: cfg.redirectUri } }));
    }
  };
  document.getElementById('status').textContent = 'ready';
})();
