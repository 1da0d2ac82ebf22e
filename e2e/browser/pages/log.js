// The step log every page shows: kept in sessionStorage so that it
// survives redirects and reloads, rendered as the table the screenshot
// shows. window.e2eLog.record is what the runner calls after each step.
"use strict";

window.e2eLog = (() => {
  const KEY = "e2e.log";
  const read = () => JSON.parse(sessionStorage.getItem(KEY) || "[]");
  let where = location.origin;

  function render() {
    const tbody = document.getElementById("steps");
    tbody.replaceChildren();
    read().forEach((s, i) => {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[String(i + 1)], [s.step], [s.ok ? "✓ pass" : "✗ FAIL", s.ok ? "ok" : "fail"], [s.detail]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      tbody.append(tr);
    });
    document.getElementById("where").textContent = where;
  }

  // describe sets the line under the title from the run's config.
  function describe(cfg) {
    document.getElementById("sdk").textContent = cfg.sdkVersions[document.body.dataset.sdk] || "";
    where = `page ${location.origin} · tenant ${cfg.url} · domain "${cfg.domain}"` + (cfg.issuer ? ` · issuer "${cfg.issuer}"` : "") +
      ` · ${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] || ""}`;
    render();
  }

  function record(step, ok, detail) {
    const log = read();
    log.push({ step, ok, detail });
    sessionStorage.setItem(KEY, JSON.stringify(log));
    render();
  }

  document.addEventListener("DOMContentLoaded", render);
  return { describe, record };
})();

// claimsOf decodes a JWT's payload (display and assertions only; the SDKs
// verify).
window.claimsOf = (jwt) => {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
};
