// Helpers shared by the scenarios.

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

export const SUB = "auth0|ada"; // auth0me serve's demo user

// openPage opens the scenario's page in a new tab, records every request the tab
// makes (iframes included), and returns what the steps need.
export async function openPage(h) {
  const page = await h.browser.newPage();
  h.page = page;
  const requests = [];
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), body: r.postData() || "" }));
  page.on("pageerror", (e) => console.log(`    page error: ${e.message}`));
  const record = (step, ok, detail) => page.evaluate((s, o, d) => window.e2e.record(s, o, d), step, ok, detail);
  await page.goto(h.pageURL(), { waitUntil: "load" });
  await page.evaluate(() => {
    sessionStorage.clear();
    localStorage.clear();
  });
  return {
    page,
    requests,
    step: (name, fn) => h.step(name, fn, record),
    // tenantRequests returns the requests to the tenant since index from
    // whose URL and method pred accepts.
    tenantRequests: (from, pred) => requests.slice(from).filter((r) => r.url.startsWith(h.tenant.url) && pred(new URL(r.url), r.method, r.body)),
  };
}

// login runs loginWithRedirect and handleRedirectCallback as two steps.
export async function login(h, s, options) {
  const { page, step } = s;
  const initial = await page.evaluate((o) => window.e2e.init(o), options);
  check(!initial.authenticated, `signed in before logging in: ${JSON.stringify(initial)}`);

  await step("loginWithRedirect", async () => {
    const from = s.requests.length;
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => void window.e2e.login()).catch(() => {})]);
    const u = new URL(page.url());
    check(u.origin === h.pageOrigin && u.searchParams.get("code") && u.searchParams.get("state"), `back at ${page.url()}`);
    const auth = s.tenantRequests(from, (u) => u.pathname === "/authorize");
    check(auth.length === 1, `${auth.length} /authorize navigations`);
    const q = new URL(auth[0].url).searchParams;
    check(q.get("code_challenge_method") === "S256" && q.get("audience") === h.tenant.audience, `authorize query ${q}`);
    return `302 from /authorize back to ${u.pathname} with code and state (scope "${q.get("scope")}")`;
  });

  await step("handleRedirectCallback", async () => {
    await page.evaluate((o) => window.e2e.init(o), options);
    const r = await page.evaluate(() => window.e2e.callback());
    check(r.sub === SUB && r.appState?.from === "e2e" && r.email === "ada@example.com", JSON.stringify(r));
    const st = await page.evaluate(() => window.e2e.state());
    check(st.authenticated, "isAuthenticated() is false");
    return `ID token verified; user ${r.sub} (${r.name}), appState kept`;
  });
}

// getUser fetches GET /api/v2/users/{sub} with the page's last token.
export async function getUser(page) {
  return page.evaluate((sub) => window.e2e.api("GET", sub), SUB);
}

// logout runs logout() as a step.
export async function logout(h, s, options) {
  const { page, step } = s;
  await step("logout", async () => {
    const from = s.requests.length;
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.evaluate(() => void window.e2e.logout()).catch(() => {})]);
    const u = new URL(page.url());
    check(u.origin === h.pageOrigin && u.searchParams.get("signed_out") === "1", `back at ${page.url()}`);
    const out = s.tenantRequests(from, (u) => u.pathname === "/v2/logout");
    check(out.length === 1 && new URL(out[0].url).searchParams.get("client_id") === h.tenant.client_id, JSON.stringify(out));
    const st = await page.evaluate((o) => window.e2e.init(o), options);
    check(!st.authenticated, `still signed in: ${JSON.stringify(st)}`);
    return `/v2/logout redirected to ${u.pathname}${u.search}; isAuthenticated() false`;
  });
}
