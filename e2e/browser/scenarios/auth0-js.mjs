// auth0-js, Auth0's older browser SDK: the implicit grant in the URL
// fragment, parseHash (ID token checked against the JWKS, at_hash against
// the access token), checkSession through a hidden iframe (web_message),
// client.userInfo, the Management API, and logout; CORS checks on.

import { SUB, check, openPage } from "./lib.mjs";

export default {
  name: "auth0-js",
  page: "auth0-js",
  async run(h) {
    const s = await openPage(h);
    const { page, step } = s;
    await page.evaluate(() => window.e2e.init());

    await step("authorize (implicit, token id_token)", async () => {
      const from = s.requests.length;
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => window.e2e.authorize()).catch(() => {})]);
      const u = new URL(page.url());
      const f = new URLSearchParams(u.hash.slice(1));
      check(u.origin === h.pageOrigin && f.get("access_token") && f.get("id_token") && f.get("state"), `back at ${u.origin}${u.pathname} with fragment keys ${[...f.keys()]}`);
      const auth = s.tenantRequests(from, (u) => u.pathname === "/authorize");
      check(auth.length === 1 && new URL(auth[0].url).searchParams.get("response_type") === "token id_token", JSON.stringify(auth.map((r) => r.url.split("?")[0])));
      return `302 from /authorize back to ${u.pathname} with ${[...f.keys()].join(", ")} in the fragment`;
    });

    await step("parseHash", async () => {
      await page.evaluate(() => window.e2e.init());
      const r = await page.evaluate(() => window.e2e.parseHash());
      check(r.sub === SUB && r.email === "ada@example.com" && r.appState?.from === "e2e" && [].concat(r.aud).includes(h.tenant.audience), JSON.stringify(r));
      return `ID token verified (JWKS, nonce, at_hash); ${r.sub}; access token for ${h.tenant.audience}`;
    });

    await step("fetch GET /api/v2/users/{sub}", async () => {
      const r = await page.evaluate((sub) => window.e2e.getUser(sub), SUB);
      check(r.status === 200 && r.user_id === SUB, JSON.stringify(r));
      return `200, user_id ${r.user_id}`;
    });

    await step("checkSession via web_message", async () => {
      const from = s.requests.length;
      const r = await page.evaluate(() => window.e2e.checkSession());
      check(r.sub === SUB && r.scope.split(" ").includes("read:current_user"), JSON.stringify(r));
      const silent = s.tenantRequests(from, (u) => u.pathname === "/authorize");
      const q = silent.length ? new URL(silent[0].url).searchParams : null;
      check(q && q.get("prompt") === "none" && q.get("response_mode") === "web_message", `iframe requests: ${silent.length}`);
      const g = await page.evaluate((sub) => window.e2e.getUser(sub), SUB);
      check(g.status === 200, `GET with the new token: ${JSON.stringify(g)}`);
      return `tokens from a hidden iframe (prompt=none, response_mode=web_message); GET 200`;
    });

    await step("client.userInfo", async () => {
      const r = await page.evaluate(() => window.e2e.userInfo());
      check(r.sub === SUB && r.email === "ada@example.com", JSON.stringify(r));
      return `/userinfo: ${r.sub}, ${r.email}, ${r.name}`;
    });

    await step("logout", async () => {
      const from = s.requests.length;
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => window.e2e.logout()).catch(() => {})]);
      const u = new URL(page.url());
      check(u.origin === h.pageOrigin && u.searchParams.get("signed_out") === "1", `back at ${page.url()}`);
      check(s.tenantRequests(from, (u) => u.pathname === "/v2/logout").length === 1, "no /v2/logout");
      await page.evaluate(() => window.e2e.init());
      return `/v2/logout redirected to ${u.pathname}${u.search}`;
    });
  },
};
