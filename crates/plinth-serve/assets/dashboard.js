// The Plinth dashboard: every action is a call of the JSON API this page is served with.
"use strict";

const state = { tenant: "", plugins: [], selected: null, logs: null, metrics: {} };

// The token comes from the URL fragment `#token=…` (never sent to the server: `plinth
// serve` prints the URL) or is typed in; it is kept in sessionStorage, for this tab only,
// and dropped from the address bar at once.
function token() {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromUrl) {
    sessionStorage.setItem("plinth-token", fromUrl);
    history.replaceState(null, "", location.pathname + location.search);
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
    if (method !== "GET") banner(diagnostics);
    const error = new Error(diagnostics[0].message);
    error.diagnostics = diagnostics;
    throw error;
  }
  if (method !== "GET") banner(null);
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

function seconds(value) {
  if (value === undefined) return "–";
  if (value === null) return "> 5 s";
  return value < 1 ? `≤ ${+(value * 1000).toFixed(3)} ms` : `≤ ${value} s`;
}

function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${+n.toFixed(1)} ${units[i]}`;
}

const SIGNATURE_LABELS = {
  trusted: "trusted", unsigned: "unsigned", "untrusted-key": "untrusted key", "bad-signature": "bad signature",
};

function renderPlugins() {
  const body = document.querySelector("#plugins tbody");
  body.replaceChildren();
  if (state.plugins.length === 0) body.append(el("tr", {}, el("td", { colspan: "7" }, "No plugins installed.")));
  for (const plugin of state.plugins) {
    const status = plugin.status.state;
    const signature = plugin.signature ? plugin.signature.status : "unknown";
    const counters = plugin.counters || {};
    const toggle = el("input", {
      type: "checkbox", "data-id": plugin.id, class: "enable", checked: plugin.enabled,
      title: plugin.enabled ? "Disable" : "Review and enable",
      onchange: (event) => { event.target.checked = plugin.enabled; plugin.enabled ? disable(plugin) : review(plugin); },
    });
    const error = status === "error" && plugin.status.diagnostic
      ? el("div", { class: "error-text" }, `${plugin.status.diagnostic.code}: ${plugin.status.diagnostic.message} `,
          el("button", { class: "retry", onclick: () => retry(plugin) }, "Retry"))
      : null;
    const service = plugin.service
      ? el("div", { class: "service-line" },
          el("span", { class: "badge service " + plugin.service.status.state, title: plugin.service.status.reason || "" },
            `service ${plugin.service.status.state}`),
          ` queued ${plugin.service.queued}, delivered ${plugin.service.stats.delivered},` +
          ` dead-lettered ${plugin.service.stats.dead_lettered}, refused ${plugin.service.stats.rejected + plugin.service.stats.shed}`)
      : null;
    const update = plugin.update_available
      ? el("span", { class: "badge update", title: "A newer compatible version is in the index" }, `update ${plugin.update_available}`)
      : null;
    body.append(el("tr", { "data-id": plugin.id },
      el("td", {}, el("strong", {}, plugin.name || plugin.id), " ", update, el("br"), `${plugin.id} ${plugin.version || ""}`),
      el("td", {}, el("span", { class: "badge status " + status }, status), error, service),
      el("td", {}, el("span", { class: "badge signature " + signature }, SIGNATURE_LABELS[signature] || signature)),
      el("td", {}, toggle),
      el("td", {}, "requested: " + (plugin.requested.join(", ") || "none"), el("br"), "granted: " + (plugin.granted.join(", ") || "none")),
      el("td", { class: "runtime" }, `calls ${counters.calls || 0}, errors ${counters.errors || 0}`, el("br"),
        `fuel ${counters.fuel_used || 0}, memory ${bytes(counters.peak_memory_bytes)}`),
      el("td", {}, el("button", { class: "open", onclick: () => open(plugin) }, "Details"))));
  }
}

async function refresh() {
  const listed = await api("GET", "/api/plugins" + query());
  state.plugins = listed.plugins;
  renderPlugins();
  if (state.selected) {
    const again = state.plugins.find((p) => p.id === state.selected.id);
    if (again) { state.selected = again; renderUpdateBox(again); }
    await loadRuntime().catch(() => {});
  }
  const consent = await api("GET", "/api/consent" + query({ pending: "true" }));
  const list = document.getElementById("consent");
  list.replaceChildren(...consent.consent.map((c) => el("li", { "data-plugin": c.plugin, "data-host": c.host },
    el("strong", {}, c.plugin), ` wants to reach ${c.host} `,
    el("button", { class: "approve", onclick: () => decide("approve", c) }, "Approve"),
    el("button", { class: "deny", onclick: () => decide("deny", c) }, "Deny"))));
  if (consent.consent.length === 0) list.append(el("li", { class: "none" }, "None pending."));
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

// Before enabling: every requested capability with whether the component's imports can
// use it, each approved or refused; the plugin is then granted exactly the approved ones
// (the others are revoked) and enabled.
async function review(plugin) {
  await open(plugin);
  const data = await api("GET", `/api/plugins/${plugin.id}/review` + query());
  const box = document.getElementById("review");
  const list = document.getElementById("review-list");
  list.replaceChildren(...data.requested.map((row) => el("tr", { "data-grant": row.grant },
    el("td", {}, el("code", {}, row.grant)),
    el("td", { class: "usable" }, row.usable === null ? "unknown" : row.usable ? "yes" : "no (not imported)"),
    el("td", {},
      el("label", {}, el("input", { type: "radio", name: "grant-" + row.grant, class: "approve-grant", value: row.grant, checked: row.granted }), " approve"), " ",
      el("label", {}, el("input", { type: "radio", name: "grant-" + row.grant, class: "refuse-grant", value: row.grant, checked: !row.granted }), " refuse")))));
  if (data.requested.length === 0) list.append(el("tr", {}, el("td", { colspan: "3" }, "It requests no capabilities.")));
  document.getElementById("review-unrequested").textContent = data.unrequested.length
    ? `Its imports could also reach ${data.unrequested.join(", ")}, which it does not request: the host refuses those.`
    : "";
  document.getElementById("review-imports").replaceChildren(...data.imports.map((i) =>
    el("li", {}, el("code", {}, i.name), i.capability ? ` (${i.capability})` : "")));
  box.hidden = false;
  document.getElementById("review-approve").onclick = async () => {
    const approved = [...list.querySelectorAll("input.approve-grant:checked")].map((b) => b.value);
    const refused = [...list.querySelectorAll("input.refuse-grant:checked")].map((b) => b.value);
    if (approved.length) await api("POST", `/api/plugins/${plugin.id}/grant` + query(), { grants: approved });
    const revoke = data.granted.filter((g) => !approved.includes(g) || refused.includes(g));
    if (revoke.length) await api("POST", `/api/plugins/${plugin.id}/revoke` + query(), { grants: revoke });
    await api("POST", `/api/plugins/${plugin.id}/enable` + query());
    box.hidden = true;
    await refresh();
  };
  document.getElementById("review-cancel").onclick = () => { box.hidden = true; };
}

// A settings form from the plugin's JSON Schema: strings, numbers, integers, booleans and
// enums, with their defaults. The page checks what it can (type, range, length, pattern,
// required) and shows why; the server checks the values against the schema again.
function field(name, schema, value, required) {
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
  input.schema = schema;
  input.required = required;
  return el("div", { class: "field", "data-name": name }, el("label", { for: id }, (schema.title || name) + (required ? " *" : "")), input,
    schema.description ? el("small", {}, " " + schema.description) : null,
    el("div", { class: "field-error", id: id + "-error" }));
}

// Why `value` breaks `schema`, or null.
function invalid(schema, value, required) {
  if (value === undefined) return required ? "required" : null;
  if (schema.type === "integer" && !Number.isInteger(value)) return "must be a whole number";
  if ((schema.type === "integer" || schema.type === "number") && Number.isNaN(value)) return "must be a number";
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return `must be at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `must be at most ${schema.maximum}`;
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `must be at least ${schema.minLength} characters`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `must be at most ${schema.maxLength} characters`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) return `must match ${schema.pattern}`;
  }
  return null;
}

function readForm(form) {
  const settings = {};
  let ok = true;
  for (const input of form.querySelectorAll("[data-type]")) {
    const type = input.dataset.type;
    let value;
    if (type === "boolean") value = input.checked;
    else if (type === "enum") value = JSON.parse(input.value);
    else if (input.value === "") value = undefined;
    else if (type === "integer" || type === "number") value = Number(input.value);
    else value = input.value;
    const problem = invalid(input.schema || {}, value, input.required);
    document.getElementById(input.id + "-error").textContent = problem ? `${input.name} ${problem}` : "";
    input.classList.toggle("bad", !!problem);
    if (problem) ok = false;
    if (value !== undefined) settings[input.name] = value;
  }
  return ok ? settings : null;
}

async function open(plugin) {
  state.selected = plugin;
  document.getElementById("detail").hidden = false;
  document.getElementById("review").hidden = true;
  document.getElementById("detail-title").textContent = `${plugin.name || plugin.id} (${plugin.id} ${plugin.version || ""})`;
  const read = await api("GET", `/api/plugins/${plugin.id}/settings` + query());
  const fields = document.getElementById("settings-fields");
  const properties = (read.schema && read.schema.properties) || {};
  const required = (read.schema && read.schema.required) || [];
  fields.replaceChildren(...Object.entries(properties).map(([name, schema]) => field(name, schema, read.settings[name], required.includes(name))));
  if (Object.keys(properties).length === 0) fields.append(el("p", {}, "It has no settings."));
  document.getElementById("settings-errors").textContent = "";
  renderUpdateBox(plugin);
  await loadRuntime().catch(() => {});
  followLogs(plugin.id);
}

async function renderUpdateBox(plugin) {
  const box = document.getElementById("update-box");
  const select = document.getElementById("update-version");
  let offered;
  try {
    offered = await api("GET", `/api/plugins/${plugin.id}/versions` + query());
  } catch (error) {
    box.hidden = true;
    return;
  }
  if (state.selected !== plugin) return;
  // A refresh keeps what the person picked.
  const picked = select.dataset.plugin === plugin.id && offered.versions.some((v) => v.version === select.value)
    ? select.value : null;
  select.dataset.plugin = plugin.id;
  const wanted = picked || offered.update_available || (offered.versions[0] && offered.versions[0].version);
  select.replaceChildren(...offered.versions.map((v) => el("option", { value: v.version, selected: v.version === wanted },
    v.version + (v.installed ? " (installed)" : "") + (v.version === offered.update_available ? " (update)" : ""))));
  box.hidden = offered.versions.length === 0;
}

async function loadRuntime() {
  const plugin = state.selected;
  if (!plugin) return;
  const runtime = await api("GET", `/api/plugins/${plugin.id}/runtime` + query());
  const counters = runtime.counters || {};
  const calls = runtime.api;
  document.getElementById("rt-calls").textContent = `${counters.calls || 0} through the manager, ${calls ? calls.calls : 0} through the API`;
  document.getElementById("rt-errors").textContent = `${counters.errors || 0} through the manager, ${calls ? calls.errors : 0} through the API`;
  document.getElementById("rt-p50").textContent = calls ? seconds(calls.p50_seconds) : "–";
  document.getElementById("rt-p99").textContent = calls ? seconds(calls.p99_seconds) : "–";
  document.getElementById("rt-fuel").textContent = String(counters.fuel_used || 0);
  document.getElementById("rt-memory").textContent = bytes(counters.peak_memory_bytes);
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
  events.addEventListener("service", () => refresh().catch(() => {}));
  return events;
}

async function loadTenants() {
  const listed = await api("GET", "/api/tenants");
  const select = document.getElementById("tenant");
  for (const name of listed.tenants) select.append(el("option", { value: name }, name));
}

async function loadIndex() {
  const list = document.getElementById("index");
  const note = document.getElementById("index-state");
  let offered;
  try {
    offered = await api("GET", "/api/index" + query());
  } catch (error) {
    list.replaceChildren();
    note.textContent = `No index: ${error.message}`;
    return;
  }
  note.textContent = `${offered.plugins.length} plugin(s) offered.`;
  list.replaceChildren(...offered.plugins.map((plugin) => {
    const select = el("select", { class: "version" }, plugin.versions.map((v) =>
      el("option", { value: v.version }, v.version + (v.installed ? " (installed)" : "") + (v.signed ? "" : " (unsigned)"))));
    const install = async () => {
      const version = select.value;
      if (plugin.installed) await api("POST", `/api/plugins/${plugin.id}/update` + query(), { version });
      else await api("POST", "/api/plugins" + query(), { source: `${plugin.id}@=${version}` });
      await Promise.all([refresh(), loadIndex()]);
    };
    return el("li", { "data-id": plugin.id },
      el("strong", {}, plugin.name || plugin.id), ` ${plugin.id}`, plugin.description ? ` — ${plugin.description}` : "", " ",
      select, " ",
      el("button", { class: "install", onclick: install }, plugin.installed ? "Install this version" : "Install"),
      plugin.installed ? el("span", { class: "installed" }, ` installed: ${plugin.installed}`) : null,
      el("br"), el("small", {}, "capabilities: " + ((plugin.versions[0] && plugin.versions[0].capabilities.join(", ")) || "none")));
  }));
}

document.getElementById("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const plugin = state.selected;
  const out = document.getElementById("settings-errors");
  const settings = readForm(event.target);
  if (settings === null) { out.textContent = "Fix the marked settings."; return; }
  try {
    const written = await api("PUT", `/api/plugins/${plugin.id}/settings` + query(), settings);
    out.textContent = written.applied === "live" ? "Saved and applied to the running plugin." : "Saved.";
  } catch (error) {
    out.textContent = error.message;
  }
});

document.getElementById("update-button").addEventListener("click", async () => {
  const plugin = state.selected;
  const version = document.getElementById("update-version").value;
  const out = document.getElementById("update-result");
  try {
    const updated = await api("POST", `/api/plugins/${plugin.id}/update` + query(), { version });
    out.textContent = updated.updated ? `Updated ${updated.from} → ${updated.to}.` : "Already up to date.";
  } catch (error) {
    out.textContent = error.message;
  }
  await Promise.all([refresh(), loadIndex()]);
});

document.getElementById("install").addEventListener("submit", async (event) => {
  event.preventDefault();
  const source = document.getElementById("install-source").value.trim();
  if (!source) return;
  await api("POST", "/api/plugins" + query(), { source, allow_unsigned: document.getElementById("install-unsigned").checked });
  await Promise.all([refresh(), loadIndex()]);
});

document.getElementById("token-save").addEventListener("click", () => {
  sessionStorage.setItem("plinth-token", document.getElementById("token-input").value.trim());
  document.getElementById("token-box").hidden = true;
  showTokenState();
});

function showTokenState() {
  const has = !!token();
  document.getElementById("token-state").textContent = has ? "token set for this tab" : "no token: read only";
  document.getElementById("token-box").hidden = has;
}

let statusEvents = null;
document.getElementById("tenant").addEventListener("change", (event) => {
  state.tenant = event.target.value;
  state.selected = null;
  document.getElementById("detail").hidden = true;
  if (statusEvents) statusEvents.close();
  statusEvents = followStatus();
  refresh().catch(() => {});
  loadIndex().catch(() => {});
});

showTokenState();
loadTenants().catch(() => {});
statusEvents = followStatus();
refresh().catch(() => {});
loadIndex().catch(() => {});
