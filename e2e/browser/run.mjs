// The browser end-to-end test: Auth0's own browser SDKs (and the bff
// example) in headless Chromium, against a tenant started with
// `auth0me serve`, with CORS checks on.
//
//   node run.mjs            (make e2e installs Chromium and npm packages first)
//
// The harness builds the auth0me command, serves the pages under pages/
// from a loopback origin of their own, starts one tenant per variant
// (plain http, and https with the tenant's certificate trusted by
// Chromium), launches Chromium and runs every scenario of SCENARIOS in it.
// A scenario is a module whose default export is
//   { name, page, async run(h) }
// where page names a folder under pages/ (null: no page) and h is the
// harness (see harness() below); an optional variants lists the variants
// it runs in (default: all). To add a page: add pages/NAME/, scenarios/NAME.mjs
// and one line to SCENARIOS.
//
// Exit status 0 when every step of every scenario passed; the screenshots
// are written to out/.

import { spawn, execFileSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const out = path.join(here, "out");

// Every scenario, in order. One line per page.
const SCENARIOS = [
  (await import("./scenarios/spa.mjs")).default,
  (await import("./scenarios/spa-refresh.mjs")).default,
  (await import("./scenarios/auth0-js.mjs")).default,
  (await import("./scenarios/node.mjs")).default,
  (await import("./scenarios/bff.mjs")).default,
];

// Each scenario runs once per variant of the tenant.
const VARIANTS = [
  { name: "http", tls: false },
  { name: "https", tls: true },
];

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_TIMEOUT_MS = 30_000;

function fail(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

if (!existsSync(CHROMIUM)) {
  fail(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM`);
}

const work = mkdtempSync(path.join(tmpdir(), "auth0me-e2e-"));
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (e) {
      console.error(`e2e: cleanup: ${e.message}`);
    }
  }
}

// pageServer serves pages/ at /, auth0-spa-js's dist at /vendor/ and the
// run's config at /config.json, on 127.0.0.1 with a free port.
async function pageServer(config) {
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json" };
  const roots = {
    "/vendor/auth0-spa-js/": path.join(here, "node_modules/@auth0/auth0-spa-js/dist/"),
    "/vendor/auth0-js/": path.join(here, "node_modules/auth0-js/dist/"),
    "/": path.join(here, "pages/"),
  };
  const srv = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/config.json") {
      res.writeHead(200, { "Content-Type": types[".json"], "Cache-Control": "no-store" });
      res.end(JSON.stringify(config.value));
      return;
    }
    let p = url.pathname.endsWith("/") ? url.pathname + "index.html" : url.pathname;
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!p.startsWith(prefix)) continue;
      const file = path.resolve(dir, "." + p.slice(prefix.length - 1));
      if (!file.startsWith(dir) || !existsSync(file)) break;
      res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream", "Cache-Control": "no-store" });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => srv.close(resolve)));
  return `http://127.0.0.1:${srv.address().port}`;
}

// startTenant runs `auth0me serve --json` and returns its coordinates and
// a stop function that sends SIGTERM and checks the exit status is 0.
async function startTenant(bin, args) {
  const child = spawn(bin, ["serve", "--json", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout });
  let timer;
  const first = await Promise.race([
    new Promise((resolve) => lines.once("line", resolve)),
    exited.then(({ code, signal }) => {
      throw new Error(`auth0me serve exited (${code ?? signal}) before printing its coordinates`);
    }),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("auth0me serve printed nothing in 30s")), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const info = JSON.parse(first);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill("SIGTERM");
    const { code, signal } = await exited;
    if (code !== 0) throw new Error(`auth0me serve exited with ${code ?? signal} on SIGTERM, want 0`);
  };
  cleanups.push(stop);
  return { info, stop };
}

// spkiHash is what --ignore-certificate-errors-spki-list takes: the
// base64 SHA-256 of the certificate's public key, so that Chromium trusts
// this one certificate and no other.
function spkiHash(pemFile) {
  const der = new X509Certificate(readFileSync(pemFile)).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

async function launch(extraArgs) {
  const profile = mkdtempSync(path.join(work, "profile-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--window-size=1280,500",
      ...extraArgs,
    ],
    defaultViewport: { width: 1280, height: 500 },
  });
  cleanups.push(async () => {
    if (browser.connected) await browser.close();
  });
  return browser;
}

// harness is what a scenario gets.
function harness({ browser, tenant, pageOrigin, otherOrigin, variant, scenario }) {
  const results = [];
  return {
    browser, tenant, pageOrigin, otherOrigin, variant,
    pageURL: (p = "") => `${pageOrigin}/${scenario.page}/${p}`,
    results,
    // step runs fn (which returns a detail string, or throws), records the
    // result in the console and, through record, in the page's log.
    async step(name, fn, record) {
      const t0 = Date.now();
      let ok = true;
      let detail;
      try {
        detail = await Promise.race([
          fn(),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000}s`)), STEP_TIMEOUT_MS)),
        ]);
      } catch (e) {
        ok = false;
        detail = e.message.split("\n")[0];
      }
      const ms = Date.now() - t0;
      results.push({ name, ok, detail, ms });
      console.log(`  ${ok ? "✓" : "✗"} ${name} (${ms} ms): ${detail}`);
      if (record) await record(name, ok, detail).catch(() => {});
      if (!ok) throw new StepFailure(name, detail);
      return detail;
    },
  };
}

class StepFailure extends Error {
  constructor(step, detail) {
    super(`step "${step}" failed: ${detail}`);
  }
}

async function main() {
  const started = Date.now();
  mkdirSync(out, { recursive: true });
  const bin = path.join(work, "auth0me");
  console.log("e2e: building auth0me");
  execFileSync("go", ["build", "-o", bin, "./cmd/auth0me"], { cwd: repo, stdio: "inherit" });

  const version = (pkg) => JSON.parse(readFileSync(path.join(here, "node_modules", pkg, "package.json"))).version;
  const sdkVersions = { "auth0-spa-js": version("@auth0/auth0-spa-js"), "auth0-js": version("auth0-js") };
  const config = { value: null };
  const pageOrigin = await pageServer(config);
  // A second origin, not allowed by the tenant: its page must be refused.
  const otherOrigin = await pageServer(config);

  let failures = 0;
  for (const variant of VARIANTS) {
    const args = ["--allowed-origin", pageOrigin];
    if (variant.tls) args.push("--tls");
    const tenant = await startTenant(bin, args);
    const info = tenant.info;
    // Over https the domain is a bare host:port, as for a real tenant.
    // Over plain http the SDK is given the http URL as its domain and,
    // since tokens' iss stays https://DOMAIN/, the issuer.
    config.value = variant.tls
      ? { domain: info.domain, clientId: info.client_id, audience: info.audience, url: info.url, sdkVersions }
      : { domain: info.url, issuer: info.issuer, clientId: info.client_id, audience: info.audience, url: info.url, sdkVersions };
    const browser = await launch(variant.tls ? [`--ignore-certificate-errors-spki-list=${spkiHash(info.ca_file)}`] : []);
    for (const scenario of SCENARIOS) {
      if (scenario.variants && !scenario.variants.includes(variant.name)) continue;
      console.log(`e2e: ${scenario.name} over ${variant.name} (page ${pageOrigin}, tenant ${info.url})`);
      const h = harness({ browser, tenant: info, pageOrigin, otherOrigin, variant, scenario });
      try {
        await scenario.run(h);
      } catch (e) {
        failures++;
        console.error(`e2e: ${scenario.name} over ${variant.name}: ${e.message}`);
      }
      const shot = path.join(out, `${scenario.name}-${variant.name}.png`);
      if (h.page) {
        await h.page.screenshot({ path: shot, fullPage: true }).catch((e) => console.error(`e2e: screenshot: ${e.message}`));
        console.log(`e2e: screenshot ${path.relative(repo, shot)}`);
      }
      const passed = h.results.filter((r) => r.ok).length;
      console.log(`e2e: ${scenario.name} over ${variant.name}: ${passed}/${h.results.length} steps passed`);
    }
    await browser.close();
    await tenant.stop();
  }
  console.log(`e2e: ${failures === 0 ? "PASS" : "FAIL"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failures === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`e2e: ${e.stack || e.message}`);
} finally {
  await cleanup();
}
process.exit(code);
