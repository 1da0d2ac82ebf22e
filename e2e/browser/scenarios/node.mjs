// Auth0's Node SDK against the https tenant, in a Node process that trusts
// the tenant only through NODE_EXTRA_CA_CERTS=<the CA file serve wrote>;
// the same process without it must be refused. No browser.

import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "./lib.mjs";

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "../node/auth0-node.mjs");

function runNode(env, info) {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, JSON.stringify(info)], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code ?? 1 : 0, lines: stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)), stderr }),
    );
  });
}

export default {
  name: "node",
  page: null,
  variants: ["https"],
  async run(h) {
    const base = { ...process.env };
    delete base.NODE_EXTRA_CA_CERTS;
    const trusted = await runNode({ ...base, NODE_EXTRA_CA_CERTS: h.tenant.ca_file }, h.tenant);
    for (const r of trusted.lines) {
      await h.step(`auth0 (Node) ${r.step}`, async () => {
        check(r.ok, r.detail);
        return r.detail;
      });
    }
    await h.step("the Node SDK ran every step", async () => {
      check(trusted.code === 0 && trusted.lines.length === 4, `exit ${trusted.code}, ${trusted.lines.length} steps; ${trusted.stderr.slice(0, 300)}`);
      return `4 steps with NODE_EXTRA_CA_CERTS=${path.basename(h.tenant.ca_file)}`;
    });
    await h.step("without the CA file Node refuses the tenant", async () => {
      const untrusted = await runNode(base, h.tenant);
      const first = untrusted.lines[0];
      check(first && !first.ok && /CERT/.test(first.detail), JSON.stringify(first));
      return first.detail;
    });
  },
};
