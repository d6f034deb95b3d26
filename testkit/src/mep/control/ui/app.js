// The mock-mep dashboard. Everything shown comes from the MEP (recorded requests are whatever clients sent), so
// it is written as text only: elements are built with createElement and filled with textContent, never innerHTML.
"use strict";

const MAX_REQUESTS = 200;

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function replaceRows(tableId, rows) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
}

function time(seconds) {
  if (seconds === undefined || seconds === null) return "";
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function say(text, bad) {
  const m = document.getElementById("message");
  m.textContent = text;
  m.className = bad ? "bad" : "muted";
}

async function control(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.status + " " + response.statusText;
    try { const p = await response.json(); if (p.detail) detail = p.detail; } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response;
}

async function act(what, method, path, body) {
  try {
    await control(method, path, body);
    say(what + ": done");
  } catch (e) {
    say(what + ": " + e.message, true);
  }
  await refresh();
}

function stateCell(state) {
  return el("span", state, "state-" + String(state).replace(/[^A-Z_]/g, ""));
}

function renderApps(apps) {
  replaceRows("apps", apps.map((a) => {
    const subs = el("div");
    for (const s of a.subscriptions) subs.appendChild(el("div", s.type + " → " + s.callbackReference));
    const tokens = el("div", a.tokens);
    if (a.tokensValidFrom) tokens.appendChild(el("div", "valid from " + time(a.tokensValidFrom), "muted"));
    const terminate = el("button", "Terminate");
    terminate.type = "button";
    terminate.dataset.app = a.appInstanceId;
    terminate.className = "terminate";
    terminate.disabled = a.state === "TERMINATED" || a.state === "TERMINATING";
    terminate.addEventListener("click", () =>
      act("terminate " + a.appInstanceId, "POST", "/_mock/apps/" + encodeURIComponent(a.appInstanceId) + "/terminate"));
    const tr = row([a.appInstanceId, stateCell(a.state), tokens, a.accessKeys.join(", "), subs, terminate]);
    tr.dataset.app = a.appInstanceId;
    return tr;
  }));
  const rules = [];
  for (const a of apps) {
    for (const r of a.dnsRules) {
      rules.push(row([a.appInstanceId, "DNS", r.dnsRuleId, stateCell(r.state), r.domainName + " → " + r.ipAddress]));
    }
    for (const r of a.trafficRules) {
      rules.push(row([a.appInstanceId, "traffic", r.trafficRuleId, stateCell(r.state), JSON.stringify(r)]));
    }
  }
  replaceRows("rules", rules);
}

function renderServices(services) {
  replaceRows("services", services.map((s) => {
    let liveness = "no heartbeats";
    if (s.livenessInterval) {
      liveness = "every " + s.livenessInterval + " s, last " + time(s.lastHeartbeat);
    }
    const live = el("span", liveness, s.late ? "late" : "");
    const select = el("select");
    for (const st of ["ACTIVE", "INACTIVE", "SUSPENDED"]) {
      const o = el("option", st);
      o.value = st;
      if (st === s.state) o.selected = true;
      select.appendChild(o);
    }
    select.addEventListener("change", () =>
      act("set " + s.serName + " " + select.value, "PUT",
        "/_mock/services/" + encodeURIComponent(s.serInstanceId) + "/state", { state: select.value }));
    const tr = row([s.serName, s.version, s.serInstanceId, s.owner, stateCell(s.state), live, select]);
    tr.dataset.service = s.serInstanceId;
    tr.dataset.serName = s.serName;
    return tr;
  }));
}

async function refreshNotifications() {
  const r = await fetch("/_mock/notifications");
  if (!r.ok) return;
  const n = await r.json();
  const st = n.stats;
  document.getElementById("delivery-stats").textContent =
    "delivered " + st.delivered + ", failed " + st.failed + ", dropped " + st.dropped + ", retries " + st.retries +
    ", pending " + st.pendingEvents;
  const list = n.notifications.slice(-100).reverse();
  replaceRows("notifications", list.map((d, i) => {
    const o = d.outcome;
    const text = o.result + (o.status ? " " + o.status : "") + (o.reason ? ": " + o.reason : "");
    return row([n.notifications.length - i, d.appInstanceId, d.callbackReference, d.attempts,
      el("span", text, o.result === "DELIVERED" ? "ok" : "bad")]);
  }));
}

let refreshing = null;
let again = false;

async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const r = await fetch("/_mock/state");
        if (r.ok) {
          const s = await r.json();
          document.getElementById("clock").textContent =
            "clock: " + time(s.now) + (s.manualClock ? " (manual)" : "");
          document.getElementById("received").textContent = "(" + s.requestsReceived + " received)";
          renderApps(s.apps);
          renderServices(s.services);
        }
        await refreshNotifications();
      } catch (e) {
        say("cannot read the mock's state: " + e.message, true);
      }
    } while (again);
    refreshing = null;
  })();
  return refreshing;
}

function addRequest(r) {
  const body = document.querySelector("#requests tbody");
  const tr = row([r.number, r.method, r.path + (r.query ? "?" + r.query : ""), r.appInstanceId,
    el("span", r.status, r.status < 400 ? "ok" : "bad")]);
  body.insertBefore(tr, body.firstChild);
  while (body.children.length > MAX_REQUESTS) body.removeChild(body.lastChild);
}

async function loadRequests() {
  const r = await fetch("/_mock/requests");
  if (!r.ok) return;
  const list = await r.json();
  document.querySelector("#requests tbody").replaceChildren();
  for (const req of list.requests.slice(-MAX_REQUESTS)) addRequest(req);
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/_mock/events");
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "badge on";
    loadRequests();
    refresh();
  });
  source.addEventListener("error", () => {
    live.textContent = "live: reconnecting";
    live.className = "badge off";
  });
  source.addEventListener("request", (e) => addRequest(JSON.parse(e.data)));
  source.addEventListener("lagged", () => loadRequests());
  source.addEventListener("changed", () => refresh());
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("expire-tokens").addEventListener("click", () =>
    act("expire every token", "POST", "/_mock/tokens/expire"));
  document.getElementById("advance").addEventListener("click", () => {
    const seconds = Number(document.getElementById("advance-seconds").value);
    act("advance the clock " + seconds + " s", "POST", "/_mock/clock/advance", { seconds });
  });
  document.getElementById("reset").addEventListener("click", () =>
    act("reset to the seed", "POST", "/_mock/reset"));
  refresh();
  connect();
  // Heartbeats fall due as time passes, without any change to tell of.
  setInterval(refresh, 5000);
});
