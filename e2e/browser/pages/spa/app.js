// The single-page app of the seed: it signs the user in with
// auth0-spa-js (PKCE), gets a Management API token and calls
// /api/v2/users/{sub} from the browser. The e2e runner drives it through
// window.e2e. Tokens stay in the page: the runner only sees their claims.
"use strict";

let cfg = null;
let client = null;
let token = null;

window.e2e = {
  // init creates the client, which restores a session through a hidden
  // iframe (prompt=none, response_mode=web_message) when the SDK's
  // "is authenticated" cookie says there was one. extra is merged into
  // the client options (e.g. useRefreshTokens).
  async init(extra = {}) {
    cfg = await (await fetch("/config.json", { cache: "no-store" })).json();
    e2eLog.describe(cfg);
    const options = {
      domain: cfg.domain,
      clientId: cfg.clientId,
      authorizeTimeoutInSeconds: 10,
      authorizationParams: {
        audience: cfg.audience,
        redirect_uri: location.origin + "/spa/",
        scope: "openid profile email read:current_user update:current_user_metadata",
      },
    };
    // A plain-http tenant: its tokens' iss is still https://DOMAIN/.
    if (cfg.issuer) options.issuer = cfg.issuer;
    Object.assign(options, extra);
    client = await auth0.createAuth0Client(options);
    return this.state();
  },
  async state() {
    const user = await client.getUser();
    return { authenticated: await client.isAuthenticated(), sub: user?.sub || null, url: location.href };
  },
  login() {
    return client.loginWithRedirect({ appState: { from: "e2e" } });
  },
  async callback() {
    const res = await client.handleRedirectCallback();
    history.replaceState({}, "", "/spa/");
    const user = await client.getUser();
    return { appState: res.appState, sub: user.sub, email: user.email, name: user.name };
  },
  async token(options) {
    token = await client.getTokenSilently(options);
    const c = claimsOf(token);
    return { sub: c.sub, aud: c.aud, scope: c.scope, iss: c.iss };
  },
  async api(method, sub, body) {
    const res = await fetch(`${cfg.url}/api/v2/users/${encodeURIComponent(sub)}`, {
      method,
      headers: Object.assign({ Authorization: `Bearer ${token}` }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    return { status: res.status, user_id: json.user_id, user_metadata: json.user_metadata, error: json.errorCode || json.message };
  },
  logout() {
    return client.logout({ logoutParams: { returnTo: location.origin + "/spa/?signed_out=1" } });
  },
  record: (step, ok, detail) => e2eLog.record(step, ok, detail),
};
