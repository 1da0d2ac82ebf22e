// The seed's single-page app: auth0-spa-js signs the user in with PKCE,
// gets a Management API token and calls /api/v2/users/{sub} from the
// browser, with CORS checks on. Every step asserts its result.

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const SUB = "auth0|ada"; // auth0me serve's demo user

export default {
  name: "spa",
  page: "spa",
  async run(h) {
    const page = await h.browser.newPage();
    h.page = page;
    const requests = [];
    page.on("request", (r) => requests.push({ method: r.method(), url: r.url() }));
    page.on("pageerror", (e) => console.log(`    page error: ${e.message}`));
    const record = (step, ok, detail) => page.evaluate((s, o, d) => window.e2e.record(s, o, d), step, ok, detail);
    const step = (name, fn) => h.step(name, fn, record);
    const tenantRequests = (pred) => requests.filter((r) => r.url.startsWith(h.tenant.url) && pred(new URL(r.url), r.method));

    await page.goto(h.pageURL(), { waitUntil: "load" });
    await page.evaluate(() => sessionStorage.clear());
    const initial = await page.evaluate(() => window.e2e.init());
    check(!initial.authenticated, `signed in before logging in: ${JSON.stringify(initial)}`);

    await step("loginWithRedirect", async () => {
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => void window.e2e.login()).catch(() => {})]);
      const u = new URL(page.url());
      check(u.origin === h.pageOrigin && u.searchParams.get("code") && u.searchParams.get("state"), `back at ${page.url()}`);
      const auth = tenantRequests((u) => u.pathname === "/authorize");
      check(auth.length === 1, `${auth.length} /authorize navigations`);
      const q = new URL(auth[0].url).searchParams;
      check(q.get("code_challenge_method") === "S256" && q.get("audience") === h.tenant.audience, `authorize query ${q}`);
      return `302 from ${new URL(auth[0].url).pathname} back to ${u.pathname} with code and state`;
    });

    await step("handleRedirectCallback", async () => {
      await page.evaluate(() => window.e2e.init());
      const r = await page.evaluate(() => window.e2e.callback());
      check(r.sub === SUB && r.appState?.from === "e2e" && r.email === "ada@example.com", JSON.stringify(r));
      const st = await page.evaluate(() => window.e2e.state());
      check(st.authenticated, "isAuthenticated() is false");
      return `ID token verified; user ${r.sub} (${r.name}), appState kept`;
    });

    await step("getTokenSilently (Management API audience)", async () => {
      const first = await page.evaluate((aud) => window.e2e.token({ authorizationParams: { audience: aud } }), h.tenant.audience);
      const aud = [].concat(first.aud);
      check(first.sub === SUB && aud.includes(h.tenant.audience), JSON.stringify(first));
      check(first.scope.split(" ").includes("read:current_user") && first.scope.split(" ").includes("update:current_user_metadata"), `scope "${first.scope}"`);
      return `aud ${h.tenant.audience}, scope "${first.scope}"`;
    });

    await step("fetch GET /api/v2/users/{sub}", async () => {
      const r = await page.evaluate((sub) => window.e2e.api("GET", sub), SUB);
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
      const before = requests.length;
      const t = await page.evaluate(() => window.e2e.token({ cacheMode: "off" }));
      check(t.sub === SUB, `wrong user: ${JSON.stringify(t)}`);
      // Not from the cache: a hidden iframe's /authorize, then a code
      // exchange. (Tokens signed within one second are identical.)
      const silent = requests.slice(before).filter((r) => r.url.startsWith(h.tenant.url + "/authorize"));
      const q = silent.length ? new URL(silent[0].url).searchParams : null;
      check(q && q.get("prompt") === "none" && q.get("response_mode") === "web_message", `iframe requests: ${JSON.stringify(silent)}`);
      const exchanges = requests.slice(before).filter((r) => r.method === "POST" && r.url === h.tenant.url + "/oauth/token");
      check(exchanges.length === 1, `${exchanges.length} POST /oauth/token after the iframe`);
      const r = await page.evaluate((sub) => window.e2e.api("GET", sub), SUB);
      check(r.status === 200 && r.user_metadata?.e2e === stamp, `GET with the new token: ${JSON.stringify(r)}`);
      return `code from a hidden iframe (prompt=none, response_mode=web_message), exchanged; GET sees e2e=${stamp}`;
    });

    await step("page reload restores the session", async () => {
      const before = requests.length;
      await page.reload({ waitUntil: "load" });
      const st = await page.evaluate(() => window.e2e.init());
      check(st.authenticated && st.sub === SUB, JSON.stringify(st));
      const silent = requests.slice(before).filter((r) => r.url.startsWith(h.tenant.url + "/authorize"));
      check(silent.length === 1 && new URL(silent[0].url).searchParams.get("prompt") === "none", `${silent.length} silent /authorize`);
      const t = await page.evaluate(() => window.e2e.token());
      const r = await page.evaluate((sub) => window.e2e.api("GET", sub), SUB);
      check(t.sub === SUB && r.status === 200, JSON.stringify(r));
      return `signed in as ${st.sub} again through the iframe; GET 200`;
    });

    await step("CORS refuses a page from an origin not allowed", async () => {
      const other = await h.browser.newPage();
      try {
        await other.goto(`${h.otherOrigin}/spa/`, { waitUntil: "load" });
        const r = await other.evaluate(async (url) => {
          try {
            const res = await fetch(url, { headers: { Authorization: "Bearer x" } });
            return `answered ${res.status}`;
          } catch (e) {
            return `blocked: ${e.name}`;
          }
        }, `${h.tenant.base_url}users/${encodeURIComponent(SUB)}`);
        check(r.startsWith("blocked"), `fetch from ${h.otherOrigin}: ${r}`);
        const same = await page.evaluate(async (url) => (await fetch(url, { headers: { Authorization: "Bearer x" } })).status, `${h.tenant.base_url}users/${encodeURIComponent(SUB)}`);
        check(same === 400, `the allowed page reads the 400 (bad bearer token), got ${same}`);
        return `${h.otherOrigin}: ${r}; the allowed page reads the tenant's 400`;
      } finally {
        await other.close();
      }
    });

    await step("logout", async () => {
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => void window.e2e.logout()).catch(() => {})]);
      const u = new URL(page.url());
      check(u.origin === h.pageOrigin && u.searchParams.get("signed_out") === "1", `back at ${page.url()}`);
      const out = tenantRequests((u) => u.pathname === "/v2/logout");
      check(out.length === 1 && new URL(out[0].url).searchParams.get("client_id") === h.tenant.client_id, JSON.stringify(out));
      const st = await page.evaluate(() => window.e2e.init());
      check(!st.authenticated, `still signed in: ${JSON.stringify(st)}`);
      return `/v2/logout redirected to ${u.pathname}${u.search}; isAuthenticated() false`;
    });
  },
};
