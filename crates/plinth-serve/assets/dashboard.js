// The Plinth dashboard: every action is a call of the JSON API this page is served with.
"use strict";

const state = { tenant: "", plugins: [], selected: null, logs: null, metrics: {} };

// The token comes from the URL fragment `#token=…` (never sent to the server) or is typed
// in; it is kept for this tab only.
function token() {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromUrl) {
    sessionStorage.setItem("plinth-token", fromUrl);
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("plinth-token") || "";
}

function query(extra) {
  const params = new URLSearchParams(extra || {});
  if (state.tenant) params.set("tenant", state.tenant);
  const text = params.toString();
  return text ? "?" + text : "";
}

function banner(diagnostics) {
  const box = document.getElementById("banner");
  if (!diagnostics || diagnostics.length === 0) { box.hidden = true; return; }
  box.textContent = diagnostics
    .map((d) => `${d.code}: ${d.message}${d.hint ? " (" + d.hint + ")" : ""}`)
    .join("\n");
  box.hidden = false;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["Authorization"] = "Bearer " + token();
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body === undefined ? {} : body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) document.getElementById("token-box").hidden = false;
    const diagnostics = (data && data.diagnostics) || [{ code: String(response.status), message: response.statusText }];
    banner(diagnostics);
    const error = new Error(diagnostics[0].message);
    error.diagnostics = diagnostics;
    throw error;
  }
  banner(null);
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// p50 and p99 of a plugin's API calls, read from the Prometheus histogram.
function parseMetrics(text) {
  const buckets = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^plinth_api_call_duration_seconds_bucket\{tenant="([^"]*)",plugin="([^"]*)",le="([^"]+)"\} (\d+)/);
    if (!m) continue;
    const key = m[1] + "/" + m[2];
    (buckets[key] = buckets[key] || []).push([m[3] === "+Inf" ? Infinity : Number(m[3]), Number(m[4])]);
  }
  const out = {};
  for (const [key, list] of Object.entries(buckets)) {
    const total = list[list.length - 1][1];
    const at = (q) => { const want = q * total; const hit = list.find(([, c]) => c >= want); return hit ? hit[0] : Infinity; };
    out[key] = total ? { p50: at(0.5), p99: at(0.99) } : null;
  }
  return out;
}

function seconds(value) {
  if (value === undefined || value === null) return "–";
  if (value === Infinity) return "> 5 s";
  return value < 1 ? `≤ ${value * 1000} ms` : `≤ ${value} s`;
}

function renderPlugins() {
  const body = document.querySelector("#plugins tbody");
  body.replaceChildren();
  for (const plugin of state.plugins) {
    const status = plugin.status.state;
    const signature = plugin.signature ? plugin.signature.status : "unknown";
    const latency = state.metrics[(state.tenant || "") + "/" + plugin.id];
    const counters = plugin.counters || {};
    const toggle = el("input", {
      type: "checkbox", "data-id": plugin.id, class: "enable", checked: plugin.enabled,
      onchange: (event) => { event.target.checked = plugin.enabled; plugin.enabled ? disable(plugin) : review(plugin); },
    });
    const error = status === "error" && plugin.status.diagnostic
      ? el("div", { class: "error-text" }, `${plugin.status.diagnostic.code}: ${plugin.status.diagnostic.message} `,
          el("button", { class: "retry", onclick: () => retry(plugin) }, "Retry"))
      : null;
    body.append(el("tr", { "data-id": plugin.id },
      el("td", {}, el("strong", {}, plugin.name || plugin.id), el("br"), `${plugin.id} ${plugin.version || ""}`),
      el("td", {}, el("span", { class: "badge status " + status }, status), error),
      el("td", {}, el("span", { class: "badge signature " + signature }, signature)),
      el("td", {}, toggle),
      el("td", {}, "requested: " + (plugin.requested.join(", ") || "none"), el("br"), "granted: " + (plugin.granted.join(", ") || "none")),
      el("td", { class: "runtime" },
        `calls ${counters.calls || 0}, errors ${counters.errors || 0}`, el("br"),
        `p50 ${seconds(latency && latency.p50)}, p99 ${seconds(latency && latency.p99)}`, el("br"),
        `fuel ${counters.fuel_used || 0}, memory ${counters.peak_memory_bytes || 0} B`),
      el("td", {}, el("button", { class: "open", onclick: () => open(plugin) }, "Details"))));
  }
}

async function refresh() {
  const [listed, metrics] = await Promise.all([
    api("GET", "/api/plugins" + query()),
    fetch("/metrics").then((r) => r.text()).catch(() => ""),
  ]);
  state.plugins = listed.plugins;
  state.metrics = parseMetrics(metrics);
  renderPlugins();
  const consent = await api("GET", "/api/consent" + query({ pending: "true" }));
  const list = document.getElementById("consent");
  list.replaceChildren(...consent.consent.map((c) => el("li", { "data-plugin": c.plugin, "data-host": c.host },
    `${c.plugin} wants to reach ${c.host} `,
    el("button", { class: "approve", onclick: () => decide("approve", c) }, "Approve"),
    el("button", { class: "deny", onclick: () => decide("deny", c) }, "Deny"))));
  if (consent.consent.length === 0) list.append(el("li", {}, "none pending"));
}

async function decide(verb, request) {
  await api("POST", `/api/consent/${verb}` + query(), { plugin: request.plugin, host: request.host });
  await refresh();
}

async function disable(plugin) {
  await api("POST", `/api/plugins/${plugin.id}/disable` + query());
  await refresh();
}

async function retry(plugin) {
  await api("POST", `/api/plugins/${plugin.id}/reload` + query());
  await refresh();
}

// Before enabling: every requested capability, checked when granted; the plugin is then
// granted exactly the checked ones and the rest revoked.
async function review(plugin) {
  await open(plugin);
  const box = document.getElementById("review");
  const list = document.getElementById("review-list");
  list.replaceChildren(...plugin.requested.map((grant) => el("li", {},
    el("label", {}, el("input", { type: "checkbox", class: "grant", value: grant, checked: plugin.granted.includes(grant) }), " " + grant))));
  if (plugin.requested.length === 0) list.append(el("li", {}, "It requests no capabilities."));
  box.hidden = false;
  document.getElementById("review-approve").onclick = async () => {
    const boxes = [...list.querySelectorAll("input.grant")];
    const approved = boxes.filter((b) => b.checked).map((b) => b.value);
    const refused = boxes.filter((b) => !b.checked).map((b) => b.value);
    if (approved.length) await api("POST", `/api/plugins/${plugin.id}/grant` + query(), { grants: approved });
    const extra = plugin.granted.filter((g) => !approved.includes(g));
    const revoke = [...new Set([...refused, ...extra])].filter((g) => plugin.granted.includes(g));
    if (revoke.length) await api("POST", `/api/plugins/${plugin.id}/revoke` + query(), { grants: revoke });
    await api("POST", `/api/plugins/${plugin.id}/enable` + query());
    box.hidden = true;
    await refresh();
  };
  document.getElementById("review-cancel").onclick = () => { box.hidden = true; };
}

// A settings form from the plugin's JSON Schema: strings, numbers, integers, booleans and
// enums, with their defaults; the server checks the values and its message is shown.
function field(name, schema, value) {
  const id = "setting-" + name;
  const current = value === undefined ? schema.default : value;
  let input;
  if (Array.isArray(schema.enum)) {
    input = el("select", { id, name }, schema.enum.map((v) => el("option", { value: JSON.stringify(v), selected: v === current }, String(v))));
  } else if (schema.type === "boolean") {
    input = el("input", { id, name, type: "checkbox", checked: current === true });
  } else if (schema.type === "integer" || schema.type === "number") {
    input = el("input", { id, name, type: "number", step: schema.type === "integer" ? "1" : "any", value: current === undefined ? "" : current });
  } else {
    input = el("input", { id, name, type: "text", value: current === undefined ? "" : current });
  }
  input.dataset.type = Array.isArray(schema.enum) ? "enum" : schema.type || "string";
  return el("div", { class: "field" }, el("label", { for: id }, schema.title || name), input,
    schema.description ? el("small", {}, " " + schema.description) : null);
}

function readForm(form) {
  const settings = {};
  for (const input of form.querySelectorAll("[data-type]")) {
    const type = input.dataset.type;
    if (type === "boolean") settings[input.name] = input.checked;
    else if (type === "enum") settings[input.name] = JSON.parse(input.value);
    else if (input.value === "") continue;
    else if (type === "integer" || type === "number") settings[input.name] = Number(input.value);
    else settings[input.name] = input.value;
  }
  return settings;
}

async function open(plugin) {
  state.selected = plugin;
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-title").textContent = plugin.id;
  const read = await api("GET", `/api/plugins/${plugin.id}/settings` + query());
  const fields = document.getElementById("settings-fields");
  const properties = (read.schema && read.schema.properties) || {};
  fields.replaceChildren(...Object.entries(properties).map(([name, schema]) => field(name, schema, read.settings[name])));
  document.getElementById("settings-errors").textContent = "";
  followLogs(plugin.id);
}

function followLogs(id) {
  if (state.logs) state.logs.close();
  const log = document.getElementById("log");
  log.textContent = "";
  state.logs = new EventSource("/api/logs" + query({ plugin: id }));
  state.logs.addEventListener("log", (event) => {
    const line = JSON.parse(event.data);
    log.textContent += `[${line.level}] ${line.message}\n`;
  });
}

function followStatus() {
  const events = new EventSource("/api/events" + query());
  events.addEventListener("status", () => refresh().catch(() => {}));
  return events;
}

async function loadTenants() {
  const listed = await api("GET", "/api/tenants");
  const select = document.getElementById("tenant");
  for (const name of listed.tenants) select.append(el("option", { value: name }, name));
}

document.getElementById("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const plugin = state.selected;
  try {
    await api("PUT", `/api/plugins/${plugin.id}/settings` + query(), readForm(event.target));
    document.getElementById("settings-errors").textContent = "saved";
  } catch (error) {
    document.getElementById("settings-errors").textContent = error.message;
  }
});

document.getElementById("install").addEventListener("submit", async (event) => {
  event.preventDefault();
  const source = document.getElementById("install-source").value.trim();
  if (!source) return;
  await api("POST", "/api/plugins" + query(), { source, allow_unsigned: document.getElementById("install-unsigned").checked });
  await refresh();
});

document.getElementById("token-save").addEventListener("click", () => {
  sessionStorage.setItem("plinth-token", document.getElementById("token-input").value.trim());
  document.getElementById("token-box").hidden = true;
});

let statusEvents = null;
document.getElementById("tenant").addEventListener("change", (event) => {
  state.tenant = event.target.value;
  if (statusEvents) statusEvents.close();
  statusEvents = followStatus();
  refresh().catch(() => {});
});

token();
if (!token()) document.getElementById("token-box").hidden = false;
loadTenants().catch(() => {});
statusEvents = followStatus();
refresh().catch(() => {});
