// auth0-spa-js as many apps configure it: refresh tokens (rotating) kept
// in localStorage. Fresh tokens come from the refresh_token grant, sent
// cross-origin to /oauth/token, and a reload restores the session from
// storage without an iframe.

import { SUB, check, getUser, login, logout, openPage } from "./lib.mjs";

const OPTIONS = { useRefreshTokens: true, cacheLocation: "localstorage" };

export default {
  name: "spa-refresh",
  page: "spa",
  async run(h) {
    const s = await openPage(h);
    const { page, step } = s;
    await login(h, s, OPTIONS);

    await step("getTokenSilently({cacheMode:'off'}) via refresh token", async () => {
      await page.evaluate((o) => window.e2e.init(o), OPTIONS);
      const from = s.requests.length;
      const t = await page.evaluate(() => window.e2e.token({ cacheMode: "off" }));
      check(t.sub === SUB, JSON.stringify(t));
      const grants = s.tenantRequests(from, (u, m, body) => m === "POST" && u.pathname === "/oauth/token" && body.includes("refresh_token"));
      check(grants.length === 1, `${grants.length} refresh_token grants`);
      check(s.tenantRequests(from, (u) => u.pathname === "/authorize").length === 0, "an iframe was used");
      const r = await getUser(page);
      check(r.status === 200 && r.user_id === SUB, JSON.stringify(r));
      return "refresh_token grant to /oauth/token (no iframe); GET 200";
    });

    await step("rotated refresh token works again", async () => {
      const from = s.requests.length;
      const t = await page.evaluate(() => window.e2e.token({ cacheMode: "off" }));
      const grants = s.tenantRequests(from, (u, m, body) => m === "POST" && u.pathname === "/oauth/token" && body.includes("refresh_token"));
      check(t.sub === SUB && grants.length === 1, `${grants.length} grants, ${JSON.stringify(t)}`);
      return "second refresh with the rotated token succeeded";
    });

    await step("page reload restores the session from localStorage", async () => {
      const from = s.requests.length;
      await page.reload({ waitUntil: "load" });
      const st = await page.evaluate((o) => window.e2e.init(o), OPTIONS);
      check(st.authenticated && st.sub === SUB, JSON.stringify(st));
      check(s.tenantRequests(from, (u) => u.pathname === "/authorize").length === 0, "an iframe was used");
      await page.evaluate(() => window.e2e.token());
      const r = await getUser(page);
      check(r.status === 200, JSON.stringify(r));
      return `signed in as ${st.sub} from storage, no iframe; GET 200`;
    });

    await logout(h, s, OPTIONS);
  },
};
