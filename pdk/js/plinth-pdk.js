// Plinth plugin development kit for JavaScript (componentize-js 0.23.0).
//
// An author writes a plain ES module against this one:
//
//   import { tool, log, InvalidInput } from './plinth-pdk.js';
//   export { lifecycle, tools } from './plinth-pdk.js';   // `tool` world exports
//   (`plugin` world: `export { lifecycle, command } ...` and `onRun((args) => '...')`)
//
//   tool('count_vowels', 'Counts vowels.', { type: 'object' }, (input) => ({ count: 0 }));
//
// Host calls (`log`, `config`, `http`, `kv`, `events`) are thin wrappers over the
// `plinth:host/*` imports componentize-js binds from Plinth's WIT. A host error becomes a
// `HostError` with the WIT variant's case (`kind`, e.g. "missing-grant") and message.

import * as witLog from 'plinth:host/log@0.1.0';
import * as witConfig from 'plinth:host/config@0.1.0';
import * as witHttp from 'plinth:host/http@0.1.0';
import * as witKv from 'plinth:host/kv@0.1.0';
import * as witEvents from 'plinth:host/events@0.1.0';

/** A host call failed: `kind` is the WIT error case, `message` its text. */
export class HostError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
    this.message = message;
  }
}

/** Throw from a tool when its input does not fit: the call fails with `invalid-input`. */
export class InvalidInput extends Error {}

/** Throw from a tool when it ran and failed: the call fails with `failed`. */
export class ToolFailed extends Error {}

function hostCall(f, ...args) {
  try {
    return f(...args);
  } catch (e) {
    const payload = e && e.payload !== undefined ? e.payload : e;
    if (payload && typeof payload === 'object' && 'tag' in payload) {
      throw new HostError(payload.tag, String(payload.val));
    }
    throw e;
  }
}

// ------------------------------------------------------------------------------- registry

const registered = { tools: new Map(), hooks: {} };

/** Registers `run(input) -> output` as tool `name` (input and output are JSON values). */
export function tool(name, description, inputSchema, run) {
  registered.tools.set(name, { name, description, inputSchema: inputSchema || { type: 'object' }, run });
}

/** Registers `f(args: string[]) -> string` as the `plugin` world's `run` entry point. */
export function onRun(f) { registered.hooks.run = f; }
/** Registers `f(settings)`, called once after instantiation. */
export function onLoad(f) { registered.hooks.onLoad = f; }
/** Registers `f(settings)`, called when the operator changed the settings. */
export function onSettingChange(f) { registered.hooks.onSettingChange = f; }
/** Registers `f()`, called before the instance is dropped. */
export function onClose(f) { registered.hooks.onClose = f; }
/** Registers `f({kind, subject, payload})`, called for each delivered event. */
export function onEvent(f) { registered.hooks.onEvent = f; }

function message(e) {
  return e instanceof Error ? e.message || e.name : String(e);
}

function runHook(key, ...args) {
  const f = registered.hooks[key];
  if (!f) return;
  try {
    f(...args);
  } catch (e) {
    throw message(e);
  }
}

function settings(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

// -------------------------------------------------------------------------------- exports

/** `plinth:plugin/lifecycle`: each hook defaults to doing nothing. */
export const lifecycle = {
  onLoad(text) { runHook('onLoad', settings(text)); },
  onSettingChange(text) { runHook('onSettingChange', settings(text)); },
  onClose() { try { runHook('onClose'); } catch { /* nothing to report to */ } },
  handleEvent(event) {
    runHook('onEvent', { kind: event.kind, subject: event.subject, payload: event.payload });
  },
};

/** `plinth:plugin/tools`: the tools registered with `tool(...)`. */
export const tools = {
  listTools() {
    return [...registered.tools.values()].map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: JSON.stringify(t.inputSchema),
    }));
  },
  call(name, input) {
    const t = registered.tools.get(name);
    if (!t) throw { tag: 'unknown-tool', val: name };
    let value;
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw { tag: 'invalid-input', val: `input is not JSON: ${message(e)}` };
    }
    let output;
    try {
      output = t.run(value);
    } catch (e) {
      if (e instanceof InvalidInput) throw { tag: 'invalid-input', val: message(e) };
      throw { tag: 'failed', val: message(e) };
    }
    return JSON.stringify(output);
  },
};

/** `plinth:plugin/command`: the function registered with `onRun(...)`. */
export const command = {
  run(args) {
    const f = registered.hooks.run;
    if (!f) throw 'this plugin registered no command';
    try {
      return String(f([...args]));
    } catch (e) {
      throw message(e);
    }
  },
};

// ------------------------------------------------------------------------------ host APIs

/** Structured logging (needs the `log` grant; without it records are dropped). */
export const log = {
  enabled: (level) => witLog.enabled(level),
  trace: (m) => witLog.log('trace', String(m)),
  debug: (m) => witLog.log('debug', String(m)),
  info: (m) => witLog.log('info', String(m)),
  warn: (m) => witLog.log('warn', String(m)),
  error: (m) => witLog.log('error', String(m)),
};

/** The plugin's settings (needs the `config` grant). */
export const config = {
  getAll: () => JSON.parse(hostCall(witConfig.getAll)),
  /** One setting as a JSON value, or `fallback` when it is not set. */
  get(key, fallback = undefined) {
    const text = hostCall(witConfig.get, key);
    return text === undefined || text === null ? fallback : JSON.parse(text);
  },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(url, { method = 'get', headers = [], body, timeoutMs } = {}) {
  return {
    method: method.toLowerCase(),
    url,
    headers,
    body: typeof body === 'string' ? encoder.encode(body) : body,
    timeoutMs,
  };
}

/** Outgoing HTTP (needs an `http:<host-pattern>` grant). */
export const http = {
  /** Sends a request and waits for the whole response: `{status, headers, body, text(), json()}`. */
  fetch(url, options) {
    const r = hostCall(witHttp.fetch, request(url, options));
    return {
      status: r.status,
      headers: r.headers,
      body: r.body,
      text: () => decoder.decode(r.body),
      json: () => JSON.parse(decoder.decode(r.body)),
    };
  },
  /** Sends a request in the background; the response arrives as an `http-response` event. */
  submit: (url, options) => hostCall(witHttp.submit, request(url, options)),
};

/** The plugin's durable key-value store (needs the `kv` grant). */
export const kv = {
  get: (key) => hostCall(witKv.get, key),
  getText(key) {
    const v = hostCall(witKv.get, key);
    return v === undefined || v === null ? undefined : decoder.decode(v);
  },
  set: (key, value) =>
    hostCall(witKv.set, key, typeof value === 'string' ? encoder.encode(value) : value),
  delete: (key) => hostCall(witKv.delete, key),
  listKeys: (prefix = '', limit = 1000) => hostCall(witKv.listKeys, prefix, limit),
  /** Adds `delta` (default 1) atomically; returns the new value as a Number. */
  increment: (key, delta = 1) => Number(hostCall(witKv.increment, key, BigInt(delta))),
};

/** Publishing events to the embedding application (needs an `events` grant). */
export const events = {
  publish: (channel, payload) =>
    hostCall(witEvents.publish, channel, typeof payload === 'string' ? payload : JSON.stringify(payload)),
};
