// Auth0's Node SDK (npm "auth0") against an `auth0me serve --tls` tenant,
// trusting its certificate only through NODE_EXTRA_CA_CERTS (the CA file
// serve wrote). Run by scenarios/node.mjs as
//   NODE_EXTRA_CA_CERTS=CA node node/auth0-node.mjs '<serve --json line>'
// It prints one JSON line per step: {"step", "ok", "detail"}.

import { createHash, randomBytes } from "node:crypto";
import { AuthenticationClient, ManagementClient, UserInfoClient } from "auth0";

const info = JSON.parse(process.argv[2]);
const SUB = "auth0|ada";

async function step(name, fn) {
  try {
    console.log(JSON.stringify({ step: name, ok: true, detail: await fn() }));
  } catch (e) {
    const cause = e.cause ? `: ${e.cause.code || e.cause.message}` : "";
    console.log(JSON.stringify({ step: name, ok: false, detail: String(e.message || e).split("\n")[0] + cause }));
    process.exitCode = 1;
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The fake checks no secret; the SDK insists on one for its code grant.
const auth = new AuthenticationClient({ domain: info.domain, clientId: info.client_id, clientSecret: "unused" });
const redirectURI = "http://127.0.0.1:1/callback"; // never opened: /authorize's 302 is read, not followed
let tokens;

await step("authorizationCodeGrantWithPKCE", async () => {
  const verifier = randomBytes(32).toString("base64url");
  const q = new URLSearchParams({
    client_id: info.client_id, response_type: "code", redirect_uri: redirectURI, audience: info.audience,
    scope: "openid profile email offline_access read:current_user", state: "st",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  });
  const res = await fetch(`${info.url}/authorize?${q}`, { redirect: "manual" });
  const code = new URL(res.headers.get("location")).searchParams.get("code");
  check(res.status === 302 && code, `authorize: ${res.status}`);
  tokens = (await auth.oauth.authorizationCodeGrantWithPKCE({ code, code_verifier: verifier, redirect_uri: redirectURI })).data;
  check(tokens.access_token && tokens.id_token && tokens.refresh_token, `keys ${Object.keys(tokens)}`);
  return `ID token verified by the SDK; ${Object.keys(tokens).sort().join(", ")}`;
});

await step("refreshTokenGrant", async () => {
  const r = (await auth.oauth.refreshTokenGrant({ refresh_token: tokens.refresh_token })).data;
  check(r.access_token && r.refresh_token && r.refresh_token !== tokens.refresh_token, "no rotated refresh token");
  tokens = r;
  return "new access token and a rotated refresh token";
});

await step("UserInfoClient.getUserInfo", async () => {
  const u = (await new UserInfoClient({ domain: info.domain }).getUserInfo(tokens.access_token)).data;
  check(u.sub === SUB, JSON.stringify(u));
  return `${u.sub}, ${u.email}`;
});

await step("ManagementClient users.get and users.update", async () => {
  const mgmt = new ManagementClient({ domain: info.domain, token: tokens.access_token });
  const u = (await mgmt.users.get({ id: SUB })).data;
  check(u.user_id === SUB, JSON.stringify(u));
  try {
    await mgmt.users.update({ id: SUB }, { user_metadata: { from: "node" } });
    throw new Error("users.update succeeded without update:current_user_metadata");
  } catch (e) {
    check(e.statusCode === 403, `users.update: ${e.statusCode} ${e.message}`);
  }
  return `GET ${u.user_id} 200; PATCH without the scope 403`;
});
