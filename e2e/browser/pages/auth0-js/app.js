// A page using auth0-js (the older browser SDK): the implicit grant
// (response_type "token id_token"), parseHash, checkSession through a
// hidden iframe (web_message), client.userInfo, and the Management API
// with the access token. The runner drives it through window.e2e; tokens
// stay in the page.
"use strict";

let cfg = null;
let webAuth = null;
let token = null;

function promise(fn) {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(new Error(err.error_description || err.errorDescription || err.description || JSON.stringify(err))) : resolve(res))));
}

window.e2e = {
  async init() {
    cfg = await (await fetch("/config.json", { cache: "no-store" })).json();
    e2eLog.describe(cfg);
    const options = {
      domain: cfg.domain,
      clientID: cfg.clientId,
      responseType: "token id_token",
      redirectUri: location.origin + "/auth0-js/",
      audience: cfg.audience,
      scope: "openid profile email read:current_user",
    };
    // A plain-http tenant: auth0-js builds the issuer (and from it the
    // JWKS URL) as https://DOMAIN/, so both are given.
    if (cfg.issuer) options.overrides = { __token_issuer: cfg.issuer, __jwks_uri: cfg.url + "/.well-known/jwks.json" };
    webAuth = new auth0.WebAuth(options);
  },
  authorize() {
    webAuth.authorize({ appState: { from: "e2e" } });
  },
  async parseHash() {
    const r = await promise((cb) => webAuth.parseHash(cb));
    token = r.accessToken;
    history.replaceState({}, "", "/auth0-js/");
    return { sub: r.idTokenPayload.sub, email: r.idTokenPayload.email, appState: r.appState, aud: claimsOf(token).aud, expiresIn: r.expiresIn };
  },
  async checkSession() {
    const r = await promise((cb) => webAuth.checkSession({}, cb));
    token = r.accessToken;
    return { sub: r.idTokenPayload.sub, scope: claimsOf(token).scope };
  },
  async userInfo() {
    const u = await promise((cb) => webAuth.client.userInfo(token, cb));
    return { sub: u.sub, email: u.email, name: u.name };
  },
  async getUser(sub) {
    const res = await fetch(`${cfg.url}/api/v2/users/${encodeURIComponent(sub)}`, { headers: { Authorization: `Bearer ${token}` } });
    const json = await res.json();
    return { status: res.status, user_id: json.user_id };
  },
  logout() {
    webAuth.logout({ returnTo: location.origin + "/auth0-js/?signed_out=1" });
  },
  record: (step, ok, detail) => e2eLog.record(step, ok, detail),
};
