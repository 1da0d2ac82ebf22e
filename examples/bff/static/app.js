// The page talks only to its own server: the session cookie (HttpOnly) is
// the only credential, and there is no token to steal here.
"use strict";

const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch("/api/account" + path, init);
  const data = resp.status === 204 ? null : await resp.json();
  return { status: resp.status, data };
}

function show(profile) {
  $("signed-in").hidden = false;
  $("signed-out").hidden = true;
  $("name").textContent = profile.name || profile.user_id;
  $("email").textContent = profile.email || "";
  const md = profile.user_metadata || {};
  $("theme").value = md.theme || "light";
  document.body.dataset.theme = $("theme").value;
}

async function load() {
  const { status, data } = await call("GET", "/me");
  if (status === 401) {
    $("signed-out").hidden = false;
    $("signed-in").hidden = true;
    return;
  }
  if (status !== 200) {
    $("status").textContent = "Could not load your profile: " + data.message;
    $("signed-in").hidden = false;
    return;
  }
  show(data);
}

$("save").addEventListener("click", async () => {
  $("status").textContent = "Saving…";
  const { status, data } = await call("PATCH", "/me/metadata", { theme: $("theme").value });
  if (status === 200) {
    show(data);
    $("status").textContent = "Saved.";
  } else {
    $("status").textContent = "Not saved (" + data.error + "): " + data.message;
  }
});

load();
