// The seed's single-page app: auth0-spa-js signs the user in with PKCE,
// gets a Management API token and calls /api/v2/users/{sub} from the
// browser, with CORS checks on. Tokens live in memory, so fresh ones come
// from a hidden iframe (prompt=none, response_mode=web_message). Every
// step asserts its result.

import { SUB, check, getUser, login, logout, openPage } from "./lib.mjs";

export default {
  name: "spa",
  page: "spa",
  async run(h) {
    const s = await openPage(h);
    const { page, step } = s;
    await login(h, s, {});

    await step("getTokenSilently (Management API audience)", async () => {
      const from = s.requests.length;
      const t = await page.evaluate((aud) => window.e2e.token({ authorizationParams: { audience: aud } }), h.tenant.audience);
      const aud = [].concat(t.aud);
      check(t.sub === SUB && aud.includes(h.tenant.audience), JSON.stringify(t));
      const scopes = t.scope.split(" ");
      check(scopes.includes("read:current_user") && scopes.includes("update:current_user_metadata"), `scope "${t.scope}"`);
      check(s.tenantRequests(from, () => true).length === 0, "the token did not come from the cache");
      return `from the cache: aud ${h.tenant.audience}, scope "${t.scope}"`;
    });

    await step("fetch GET /api/v2/users/{sub}", async () => {
      const r = await getUser(page);
      check(r.status === 200 && r.user_id === SUB, JSON.stringify(r));
      return `200, user_id ${r.user_id}, user_metadata ${JSON.stringify(r.user_metadata)}`;
    });

    const stamp = `${h.variant.name}-${Date.now()}`;
    await step("fetch PATCH user_metadata", async () => {
      const r = await page.evaluate((sub, md) => window.e2e.api("PATCH", sub, { user_metadata: md }), SUB, { e2e: stamp });
      check(r.status === 200 && r.user_metadata?.e2e === stamp && r.user_metadata?.theme === "light", JSON.stringify(r));
      return `200, user_metadata ${JSON.stringify(r.user_metadata)}`;
    });

    await step("getTokenSilently({cacheMode:'off'}) via web_message", async () => {
      const from = s.requests.length;
      const t = await page.evaluate(() => window.e2e.token({ cacheMode: "off" }));
      check(t.sub === SUB, `wrong user: ${JSON.stringify(t)}`);
      // Not from the cache: a hidden iframe's /authorize, then a code
      // exchange. (Tokens signed within one second are identical.)
      const silent = s.tenantRequests(from, (u) => u.pathname === "/authorize");
      const q = silent.length ? new URL(silent[0].url).searchParams : null;
      check(q && q.get("prompt") === "none" && q.get("response_mode") === "web_message", `iframe requests: ${JSON.stringify(silent)}`);
      const exchanges = s.tenantRequests(from, (u, m, body) => m === "POST" && u.pathname === "/oauth/token" && body.includes("authorization_code"));
      check(exchanges.length === 1, `${exchanges.length} code exchanges after the iframe`);
      const r = await getUser(page);
      check(r.status === 200 && r.user_metadata?.e2e === stamp, `GET with the new token: ${JSON.stringify(r)}`);
      return `code from a hidden iframe (prompt=none, response_mode=web_message), exchanged; GET sees e2e=${stamp}`;
    });

    await step("page reload restores the session", async () => {
      const from = s.requests.length;
      await page.reload({ waitUntil: "load" });
      const st = await page.evaluate(() => window.e2e.init());
      check(st.authenticated && st.sub === SUB, JSON.stringify(st));
      const silent = s.tenantRequests(from, (u) => u.pathname === "/authorize");
      check(silent.length === 1 && new URL(silent[0].url).searchParams.get("prompt") === "none", `${silent.length} silent /authorize`);
      const t = await page.evaluate(() => window.e2e.token());
      const r = await getUser(page);
      check(t.sub === SUB && r.status === 200, JSON.stringify(r));
      return `signed in as ${st.sub} again through the iframe; GET 200`;
    });

    await step("CORS refuses a page from an origin not allowed", async () => {
      const url = `${h.tenant.base_url}users/${encodeURIComponent(SUB)}`;
      const probe = async (u) => {
        try {
          const res = await fetch(u, { headers: { Authorization: "Bearer x" } });
          return `answered ${res.status}`;
        } catch (e) {
          return `blocked: ${e.name}`;
        }
      };
      const other = await h.browser.newPage();
      try {
        await other.goto(`${h.otherOrigin}/spa/`, { waitUntil: "load" });
        const r = await other.evaluate(probe, url);
        check(r.startsWith("blocked"), `fetch from ${h.otherOrigin}: ${r}`);
        const same = await page.evaluate(probe, url);
        check(same === "answered 400", `the allowed page: ${same}, want the tenant's 400 (bad bearer token)`);
        return `${h.otherOrigin}: ${r}; the allowed page reads the tenant's 400`;
      } finally {
        await other.close();
      }
    });

    await logout(h, s, {});
  },
};
