// The safe way: the same account page served by examples/bff, a Go back
// end that signs the user in (Authorization Code with PKCE, as a
// confidential client), keeps the tokens on the server and answers the
// page through package bff. The browser never holds a token and never
// calls the tenant's Management API; the back end refuses what its policy
// does not allow and cross-site changes. Every step asserts its result.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// startApp builds and starts examples/bff against the tenant, and waits
// until it answers.
async function startApp(tenant, dir) {
  const bin = path.join(dir, "bff-example");
  execFileSync("go", ["build", "-o", bin, "./examples/bff"], { cwd: repo, stdio: "inherit" });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    AUTH0_DOMAIN: tenant.domain,
    AUTH0_CLIENT_ID: tenant.client_id,
    AUTH0_CLIENT_SECRET: "e2e-secret", // the fake tenant checks no secret
    AUTH0_TENANT_URL: tenant.url,
  };
  if (tenant.ca_file) env.SSL_CERT_FILE = tenant.ca_file; // trust the tenant's certificate
  const child = spawn(bin, ["-addr", `127.0.0.1:${port}`], { env, stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url + "/");
      return { url, stop: async () => { child.kill("SIGTERM"); await exited; } };
    } catch {
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 100))]);
      if (done !== null) throw new Error(`examples/bff exited (${done}) before answering`);
    }
  }
  child.kill("SIGTERM");
  throw new Error("examples/bff did not answer in 10s");
}

export default {
  name: "bff",
  page: "bff", // served by examples/bff itself, not from pages/
  async run(h) {
    const dir = mkdtempSync(path.join(tmpdir(), "auth0me-e2e-bff-"));
    const app = await startApp(h.tenant, dir);
    try {
      await scenario(h, app.url);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function scenario(h, appURL) {
  const page = await h.browser.newPage();
  h.page = page;
  const requests = [];
  const bodies = []; // every answer the browser received from the app
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on("response", async (r) => {
    if (!r.url().startsWith(appURL)) return;
    try {
      bodies.push({ url: r.url(), text: await r.text(), headers: r.headers() });
    } catch {
      // redirects have no body
    }
  });
  page.on("pageerror", (e) => console.log(`    page error: ${e.message}`));
  const step = (name, fn) => h.step(name, fn);
  const toTenant = (pred) => requests.filter((r) => r.url.startsWith(h.tenant.url) && pred(new URL(r.url), r.method));
  const text = (id) => page.$eval(`#${id}`, (e) => e.textContent);
  const account = (method, p, body) =>
    page.evaluate(async (method, p, body) => {
      const init = { method, credentials: "same-origin", headers: {} };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const res = await fetch("/api/account" + p, init);
      return { status: res.status, body: await res.json() };
    }, method, p, body);

  await step("sign in through the back end", async () => {
    await page.goto(appURL + "/", { waitUntil: "load" });
    await page.waitForSelector("#sign-in", { visible: true });
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#sign-in")]);
    await page.waitForSelector("#signed-in", { visible: true });
    const auth = toTenant((u) => u.pathname === "/authorize");
    check(auth.length === 1, `${auth.length} /authorize navigations`);
    const q = new URL(auth[0].url).searchParams;
    check(q.get("code_challenge_method") === "S256" && q.get("audience") === h.tenant.audience, `authorize query ${q}`);
    check(q.get("redirect_uri") === appURL + "/callback", `redirect_uri ${q.get("redirect_uri")}`);
    const exchanges = toTenant((u) => u.pathname === "/oauth/token");
    check(exchanges.length === 0, `the browser itself called /oauth/token ${exchanges.length} times`);
    return `/authorize (PKCE, Management API audience) back to /callback; the code was exchanged by the server`;
  });

  await step("the page reads the profile", async () => {
    const name = await text("name");
    const theme = await page.$eval("#theme", (e) => e.value);
    check(name && theme === "light", `name "${name}", theme "${theme}"`);
    const me = await account("GET", "/me");
    check(me.status === 200 && me.body.user_id === "auth0|ada", JSON.stringify(me));
    check(!("app_metadata" in me.body) && Object.keys(me.body.user_metadata).every((k) => k === "theme"), `profile ${JSON.stringify(me.body)}`);
    return `signed in as ${name}; GET /api/account/me 200 with fields ${Object.keys(me.body).join(", ")}`;
  });

  await step("edit the preference", async () => {
    await page.select("#theme", "dark");
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("status").textContent === "Saved.");
    const me = await account("GET", "/me");
    check(me.body.user_metadata.theme === "dark", JSON.stringify(me.body.user_metadata));
    return `PATCH /api/account/me/metadata {"theme":"dark"}: saved, and read back`;
  });

  await step("the policy refuses other keys and values", async () => {
    const key = await account("PATCH", "/me/metadata", { role: "admin" });
    check(key.status === 400 && key.body.error === "metadata_key_not_allowed" && key.body.key === "role", JSON.stringify(key));
    const value = await account("PATCH", "/me/metadata", { theme: "<b>hi</b>" });
    check(value.status === 400 && value.body.error === "metadata_value_invalid", JSON.stringify(value));
    const wipe = await account("PATCH", "/me/metadata", {});
    check(wipe.status === 400 && wipe.body.error === "metadata_clear_not_allowed", JSON.stringify(wipe));
    const route = await account("GET", "/me/enrollments");
    check(route.status === 404, JSON.stringify(route));
    return `role: ${key.body.error}; markup as theme: ${value.body.error}; {}: ${wipe.body.error}; an unlisted route: 404`;
  });

  await step("another origin cannot change anything", async () => {
    const other = await h.browser.newPage();
    try {
      await other.goto(`${h.otherOrigin}/`, { waitUntil: "load" });
      const r = await other.evaluate(async (url, logout) => {
        const out = {};
        // Not simple (JSON): the preflight finds no CORS and the browser stops it.
        try {
          await fetch(url, { method: "PATCH", credentials: "include", headers: { "Content-Type": "application/json" }, body: '{"theme":"light"}' });
          out.json = "sent";
        } catch (e) {
          out.json = `blocked: ${e.name}`;
        }
        // Simple: the browser sends it, with the session cookie (the
        // other port is the same site); the back end must refuse it.
        await fetch(logout, { method: "POST", mode: "no-cors", credentials: "include" });
        out.simple = "sent";
        return out;
      }, `${appURL}/api/account/me/metadata`, `${appURL}/logout`);
      check(r.json.startsWith("blocked"), `JSON PATCH from ${h.otherOrigin}: ${r.json}`);
      const me = await account("GET", "/me");
      check(me.status === 200, `signed out by a cross-site POST /logout: ${JSON.stringify(me)}`);
      check(me.body.user_metadata.theme === "dark", `theme changed to ${me.body.user_metadata.theme}`);
      return `${h.otherOrigin}: JSON PATCH ${r.json} by CORS; a cross-site POST /logout with the cookie was refused: still signed in, theme still dark`;
    } finally {
      await other.close();
    }
  });

  await step("a spamming tab is cut off at the user's allowance", async () => {
    const tab = await h.browser.newPage();
    try {
      await tab.goto(appURL + "/", { waitUntil: "load" });
      const answers = await tab.evaluate(async () => {
        const out = [];
        for (let i = 0; i < 20; i++) {
          const res = await fetch("/api/account/me", { credentials: "same-origin" });
          out.push({ status: res.status, retryAfter: res.headers.get("Retry-After"), error: (await res.json()).error });
        }
        return out;
      });
      const ok = answers.filter((a) => a.status === 200).length;
      const limited = answers.filter((a) => a.status === 429 && a.error === "rate_limited" && Number(a.retryAfter) >= 1);
      check(ok <= 6 && ok + limited.length === answers.length, JSON.stringify(answers));
      return `20 calls: ${ok} went to the tenant, ${limited.length} answered 429 with Retry-After ${limited[0]?.retryAfter}s by the back end`;
    } finally {
      await tab.close();
    }
  });

  await step("no token reaches the browser", async () => {
    const mgmt = toTenant((u) => u.pathname.startsWith("/api/v2/"));
    check(mgmt.length === 0, `the browser called the Management API ${mgmt.length} times`);
    const jwt = bodies.filter((b) => b.text.includes("eyJ") || Object.values(b.headers).some((v) => v.includes("eyJ")));
    check(jwt.length === 0, `answers holding a JWT: ${jwt.map((b) => b.url).join(", ")}`);
    const cookies = await page.evaluate(() => document.cookie);
    check(cookies === "", `cookies readable by the page: "${cookies}"`);
    const store = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    check(!store.includes("eyJ"), "a JWT in web storage");
    return `${bodies.length} answers from the back end, none with a JWT; no Management API call from the page; the session cookie is HttpOnly`;
  });

  // In another tab, so that this page stays as the user left it for the
  // screenshot.
  await step("sign out", async () => {
    const tab = await h.browser.newPage();
    try {
      await tab.goto(appURL + "/", { waitUntil: "load" });
      await tab.waitForSelector("#sign-out", { visible: true });
      await Promise.all([tab.waitForNavigation({ waitUntil: "load" }), tab.click("#sign-out")]);
      await tab.waitForSelector("#sign-in", { visible: true });
      const me = await account("GET", "/me");
      check(me.status === 401 && me.body.error === "unauthorized", JSON.stringify(me));
      return `POST /logout; GET /api/account/me is 401 again`;
    } finally {
      await tab.close();
    }
  });
}
