// Plinth plugin development kit for JavaScript (componentize-js 0.23.0).
//
// An author writes a plain ES module against this one, with one helper per kind:
//
//   import { tool, log, InvalidInput } from './plinth-pdk.js';
//   export { lifecycle, toolExport as tool } from './plinth-pdk.js';   // the exports
//
//   tool('word_count', 'Counts words.', { type: 'object' }, (input) => ({ words: 0 }));
//
// The other kinds: `hook(point, (event) => deny('why'))` with
// `export { lifecycle, hookExport as hook }`, and `onRun((args) => '...')` with
// `export { lifecycle, command }`. A component providing several kinds exports each one's
// object. (`toolExport` and `hookExport` are exported under the interface names `tool` and
// `hook`, which the registration functions already use in this module.)
//
// Thoth's kinds: `fileLoader(formats, { open, readRows })`, `fileViewer(formats, view)`,
// `exporter(formats, write)`, `dataSource({ renderUi, handleEvent, open, readRows })` and
// `themeProvider(names, provide)`, exported as `fileLoaderExport as fileLoader`,
// `fileViewerExport as fileViewer`, `exporterExport as exporter`, `dataSourceExport as
// dataSource`, `themeProviderExport as themeProvider`.
//
// The 0.1.0 form (manifests with `runtime.world`): `export { lifecycle, tools }` for the
// `tool` world, `export { lifecycle, command }` for the `plugin` world.
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

/** Go on with the payload as it is (a hook returning `undefined` allows too). */
export function allow() { return { kind: 'allow' }; }
/** Stop: the application does not go on; `reason` is for a person. */
export function deny(reason) { return { kind: 'deny', reason: String(reason ?? '') }; }
/** Go on with `payload` (an object) instead. */
export function modify(payload) { return { kind: 'modify', payload }; }

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

const registered = { tools: new Map(), hooks: {}, points: new Map() };

/**
 * Registers `run(input) -> output` as tool `name` (input and output are JSON values);
 * `options.outputSchema` is the output's JSON Schema, when the tool publishes one.
 *
 * Through `toolExport`, `run` sees only input that is JSON and fits `inputSchema` (the
 * subset of JSON Schema `checkSchema` checks); otherwise the call fails with
 * `invalid-input`. Throw `InvalidInput` or `ToolFailed` to fail it yourself; anything else
 * thrown is `failed`.
 */
export function tool(name, description, inputSchema, run, options = {}) {
  registered.tools.set(name, {
    name,
    description,
    inputSchema: inputSchema || { type: 'object' },
    outputSchema: options.outputSchema,
    run,
  });
}

/**
 * Registers `handle(event) -> decision` for hook point `point` (a name, or an array of
 * names): the points of the manifest's `[[provides.hook]]` entries. Events at other points
 * are allowed without calling it. `event` is `{ point, subject, payload, rawPayload }`, the
 * payload parsed (`null` when the text is not JSON); answer with `allow()`, `deny(reason)`,
 * `modify(payload)` or `undefined` (allow). A throw denies the event, with its message.
 */
export function hook(point, handle) {
  for (const name of Array.isArray(point) ? point : [point]) registered.points.set(name, handle);
}

/** Registers `f(args: string[]) -> string` as the command's `run`; a throw is its `err`. */
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

function compact(value) {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new ToolFailed('the output is not JSON');
  return text;
}

/**
 * `plinth:tool/tool`, exported as `tool`: the tools registered with `tool(...)`. A name not
 * registered is `unknown-tool`; input that is not JSON or does not fit the tool's input
 * schema is `invalid-input`, before the tool runs.
 */
export const toolExport = {
  listTools() {
    return [...registered.tools.values()].map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: JSON.stringify(t.inputSchema),
      outputSchema: t.outputSchema === undefined ? undefined : JSON.stringify(t.outputSchema),
    }));
  },
  call(name, input) {
    const t = registered.tools.get(name);
    if (!t) throw { tag: 'unknown-tool', val: name };
    let value;
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw { tag: 'invalid-input', val: `input is not valid JSON: ${message(e)}` };
    }
    const problem = checkSchema(t.inputSchema, value);
    if (problem) throw { tag: 'invalid-input', val: problem };
    try {
      return compact(t.run(value));
    } catch (e) {
      if (e instanceof InvalidInput) throw { tag: 'invalid-input', val: message(e) };
      throw { tag: 'failed', val: message(e) };
    }
  },
};

function parsePayload(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `plinth:hook/hook`, exported as `hook`: the functions registered with `hook(...)`. Points
 * nothing is registered for are allowed. A `deny` always carries a reason; a `modify`
 * payload that is not an object, or a throw, denies the event.
 */
export const hookExport = {
  handle(event) {
    const handle = registered.points.get(event.point);
    if (!handle) return { tag: 'allow' };
    let decision;
    try {
      decision = handle({
        point: event.point,
        subject: event.subject,
        payload: parsePayload(event.payload),
        rawPayload: event.payload,
      });
    } catch (e) {
      return { tag: 'deny', val: `the hook failed: ${message(e)}` };
    }
    if (decision === undefined || decision === null) return { tag: 'allow' };
    switch (decision.kind) {
      case 'allow':
        return { tag: 'allow' };
      case 'deny': {
        const reason = String(decision.reason ?? '');
        return { tag: 'deny', val: reason.trim() ? reason : `denied by a hook at \`${event.point}\`` };
      }
      case 'modify':
        if (!isObject(decision.payload)) {
          return { tag: 'deny', val: "the hook's modified payload is not an object" };
        }
        try {
          return { tag: 'modify', val: compact(decision.payload) };
        } catch (e) {
          return { tag: 'deny', val: `the hook's modified payload is not JSON: ${message(e)}` };
        }
      default:
        return { tag: 'deny', val: 'the hook answered with something that is not a decision' };
    }
  },
};

/** `plinth:command/command`, and `plinth:plugin/command` (0.1.0): the function registered with `onRun(...)`. */
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

// ------------------------------------------------------------------------- Thoth's kinds
//
// Tables are plain JavaScript: a column is `{ name, type }` (type "string", "int", "float",
// "bool", "timestamp" or "bytes"); a row is an array of values, one per column, each of its
// column's type or null (ints and timestamps as numbers or BigInts, bytes as Uint8Array).
// A UI node is an object (checked by the host against the UI-node schema); a theme is an
// object in the shape of a `theme.json`. A source is `{ bytes }` (a Uint8Array) or
// `{ path }`; JavaScript plugins have no file system, so `readLines` and `sourceBytes`
// read `bytes` sources and answer a `path` with an `io` failure.

/** Throw from a loader or viewer when the content is not valid for the format. */
export class InvalidData extends Error {}
/** Throw from an exporter when the format cannot hold the table. */
export class Unsupported extends Error {}
/** Throw from a data source: the application sees `{ code, message }`. */
export class PluginError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The most characters a `text` node holds (the UI-node schema's maxLength). */
export const TEXT_MAX_CHARS = 65536;

/** `text` cut to at most `max` characters (code points), looking at no more of it. */
export function cutText(text, max) {
  const s = String(text);
  // A string of at most `max` UTF-16 units has at most `max` code points.
  if (s.length <= max) return s;
  let end = 0;
  let count = 0;
  for (const ch of s) {
    if (count === max) break;
    end += ch.length;
    count += 1;
  }
  return s.slice(0, end);
}

/** A `text` node, cut to the schema's limit. */
export function textNode(text, heightHint = 0) {
  return { node: { type: 'text', text: cutText(text, TEXT_MAX_CHARS) }, heightHint };
}

class IoError extends Error {}

/** The content of a source (a `path` source is an `io` failure in JavaScript). */
export function sourceBytes(source) {
  if (source.bytes) return source.bytes;
  throw new IoError(`cannot read ${source.path}: JavaScript plugins read \`bytes\` sources only`);
}

/**
 * At most `maxLines` lines of `source` from byte `offset`, without their line breaks, and
 * the byte offset of the next line (null when the content ends after them).
 */
export function readLines(source, offset, maxLines) {
  return readPage(source, offset, maxLines, () => true);
}

/** `readLines` for formats of one record a line (CSV, JSON Lines): blank lines are skipped. */
export function readRecords(source, offset, maxRecords) {
  return readPage(source, offset, maxRecords, (line) => line.trim() !== '');
}

function readPage(source, offset, maxLines, keep) {
  const bytes = sourceBytes(source);
  const lines = [];
  let pos = Number(offset);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  while (lines.length < maxLines && pos < bytes.length) {
    let end = bytes.indexOf(10, pos);
    const next = end === -1 ? bytes.length : end + 1;
    if (end === -1) end = bytes.length;
    let stop = end;
    while (stop > pos && bytes[stop - 1] === 13) stop -= 1;
    let line;
    try {
      line = utf8.decode(bytes.subarray(pos, stop));
    } catch {
      throw new InvalidData(`the line ending at byte ${next} is not UTF-8`);
    }
    if (keep(line)) lines.push(line);
    pos = next;
  }
  return { lines, next: pos < bytes.length ? pos : null };
}

/** One CSV line's fields: separated by commas, `"quoted, with "" escapes"`. */
export function csvFields(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (c === '"' && quoted && line[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      out.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  out.push(field);
  return out;
}

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvField(text) {
  const s = String(text);
  return /[,"\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const thoth = { loaders: new Map(), viewers: new Map(), exporters: new Map(), themes: new Map(), source: null };

function names(list) { return Array.isArray(list) ? list : [list]; }

/**
 * Registers `{ open(format, source) -> { columns, rowCount? }, readRows(format, source,
 * cursor, maxRows) -> { rows, next? } }` for the formats of the manifest's
 * `[[provides.file-loader]]` entries; export it with `fileLoaderExport as fileLoader`.
 */
export function fileLoader(formats, loader) { for (const f of names(formats)) thoth.loaders.set(f, loader); }
/** Registers `view(format, source) -> node | { node, heightHint }` (`fileViewerExport as fileViewer`). */
export function fileViewer(formats, view) { for (const f of names(formats)) thoth.viewers.set(f, view); }
/** Registers `write(format, { columns, rows }) -> Uint8Array | string` (`exporterExport as exporter`). */
export function exporter(formats, write) { for (const f of names(formats)) thoth.exporters.set(f, write); }
/** Registers `provide(name, context) -> theme` (`themeProviderExport as themeProvider`). */
export function themeProvider(themes, provide) { for (const t of names(themes)) thoth.themes.set(t, provide); }
/**
 * Registers `{ renderUi(), handleEvent({ widgetId, kind, value }), renderSidebar()?,
 * open(query), readRows(query, cursor, maxRows) }`, the query parsed from JSON
 * (`dataSourceExport as dataSource`).
 */
export function dataSource(source) { thoth.source = source; }

const COLUMN_TYPES = ['string', 'int', 'float', 'bool', 'timestamp', 'bytes'];

function witColumn(column) {
  return { name: String(column.name), type: COLUMN_TYPES.includes(column.type) ? column.type : 'string' };
}

function witCell(value, type) {
  if (value === null || value === undefined) return { tag: 'null' };
  switch (type) {
    case 'int':
    case 'timestamp':
      return { tag: type, val: BigInt(value) };
    case 'float':
      return { tag: 'float', val: Number(value) };
    case 'bool':
      return { tag: 'bool', val: Boolean(value) };
    case 'bytes':
      return { tag: 'bytes', val: value instanceof Uint8Array ? value : encoder.encode(String(value)) };
    default:
      return { tag: 'string', val: String(value) };
  }
}

function plainCell(cell) {
  if (cell.tag === 'null') return null;
  if (typeof cell.val === 'bigint') {
    const n = Number(cell.val);
    return Number.isSafeInteger(n) ? n : cell.val;
  }
  return cell.val;
}

function witInfo(info) {
  const rowCount = info.rowCount === undefined || info.rowCount === null ? undefined : BigInt(info.rowCount);
  return { columns: info.columns.map(witColumn), rowCount };
}

function witPage(columns, page) {
  const types = columns.map((c) => c.type);
  const next = page.next === undefined || page.next === null ? undefined : BigInt(page.next);
  return { rows: (page.rows ?? []).map((row) => row.map((v, i) => witCell(v, types[i]))), next };
}

function witNode(output) {
  const wrapped = output && output.node !== undefined ? output : { node: output, heightHint: 0 };
  return { nodeJson: JSON.stringify(wrapped.node), heightHint: Number(wrapped.heightHint ?? 0) };
}

function source(src) {
  return src.tag === 'path' ? { path: src.val } : { bytes: src.val };
}

function loadError(e) {
  if (e instanceof InvalidData) return { tag: 'invalid-data', val: message(e) };
  if (e instanceof IoError) return { tag: 'io', val: message(e) };
  return { tag: 'failed', val: message(e) };
}

/** `plinth:file-loader/file-loader`, exported as `fileLoader`. */
export const fileLoaderExport = {
  open(format, src) {
    const loader = thoth.loaders.get(format);
    if (!loader) throw { tag: 'unknown-format', val: `no format \`${format}\`` };
    try {
      return witInfo(loader.open(format, source(src)));
    } catch (e) {
      throw loadError(e);
    }
  },
  readRows(format, src, cursor, maxRows) {
    const loader = thoth.loaders.get(format);
    if (!loader) throw { tag: 'unknown-format', val: `no format \`${format}\`` };
    try {
      const columns = loader.open(format, source(src)).columns.map(witColumn);
      return witPage(columns, loader.readRows(format, source(src), Number(cursor), maxRows));
    } catch (e) {
      throw loadError(e);
    }
  },
};

/** `plinth:file-viewer/file-viewer`, exported as `fileViewer`. */
export const fileViewerExport = {
  view(format, src) {
    const view = thoth.viewers.get(format);
    if (!view) throw { tag: 'unknown-format', val: `no format \`${format}\`` };
    try {
      return witNode(view(format, source(src)));
    } catch (e) {
      throw loadError(e);
    }
  },
};

/** `plinth:exporter/exporter`, exported as `exporter`. */
export const exporterExport = {
  export(format, data) {
    const write = thoth.exporters.get(format);
    if (!write) throw { tag: 'unknown-format', val: `no format \`${format}\`` };
    const table = {
      columns: data.columns.map((c) => ({ name: c.name, type: c.type })),
      rows: data.rows.map((row) => row.map(plainCell)),
    };
    let out;
    try {
      out = write(format, table);
    } catch (e) {
      if (e instanceof Unsupported) throw { tag: 'unsupported', val: message(e) };
      throw { tag: 'failed', val: message(e) };
    }
    return out instanceof Uint8Array ? out : encoder.encode(String(out));
  },
};

/** `plinth:theme-provider/theme-provider`, exported as `themeProvider`. */
export const themeProviderExport = {
  provide(name, context) {
    const provide = thoth.themes.get(name);
    if (!provide) throw `no theme \`${name}\`; this plugin provides ${[...thoth.themes.keys()].join(', ')}`;
    try {
      return JSON.stringify(provide(name, parsePayload(context)));
    } catch (e) {
      throw message(e);
    }
  },
};

function sourceCall(method, ...args) {
  const impl = thoth.source;
  if (!impl) throw { code: 'error', message: 'this plugin registered no data source' };
  const f = impl[method];
  try {
    return f === undefined ? undefined : f.apply(impl, args);
  } catch (e) {
    if (e instanceof PluginError) throw { code: e.code, message: e.message };
    throw { code: 'error', message: message(e) };
  }
}

function query(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw { code: 'invalid-query', message: `the query is not JSON: ${message(e)}` };
  }
}

/** `plinth:data-source/data-source`, exported as `dataSource`. */
export const dataSourceExport = {
  renderUi() { return witNode(sourceCall('renderUi')); },
  handleEvent(event) {
    return witNode(sourceCall('handleEvent', { widgetId: event.widgetId, kind: event.kind, value: event.value }));
  },
  renderSidebar() {
    const output = sourceCall('renderSidebar');
    return output === undefined || output === null ? undefined : witNode(output);
  },
  open(text) { return witInfo(sourceCall('open', query(text))); },
  readRows(text, cursor, maxRows) {
    const parsed = query(text);
    const columns = sourceCall('open', parsed).columns.map(witColumn);
    return witPage(columns, sourceCall('readRows', parsed, Number(cursor), maxRows));
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

// --------------------------------------------------------------------------- input check

// The input check the PDK makes before a tool runs: a subset of JSON Schema. The host
// validates every input against the full schema before it calls a tool; this keeps a tool
// called directly from seeing input of the wrong shape. It checks `type`, `enum`, `const`,
// `properties`, `required`, `additionalProperties`, `items`, `minItems`, `maxItems`,
// `minLength`, `maxLength`, `minimum`, `maximum`, `exclusiveMinimum` and
// `exclusiveMaximum`, and lets every other keyword pass: the same subset as the Rust and
// Python PDKs, with the same messages.

/** The first place where `value` does not fit `schema`, as a message; `null` when it fits. */
export function checkSchema(schema, value) {
  return checkAt(schema, value, '');
}

function checkAt(schema, value, at) {
  if (schema === true) return null;
  if (schema === false) return fail(at, 'no value is allowed here');
  if (!isObject(schema)) return null;
  const wrongType = checkType(schema, value, at);
  if (wrongType) return wrongType;
  if ('const' in schema && !same(schema.const, value)) {
    return fail(at, `expected ${JSON.stringify(schema.const)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((item) => same(item, value))) {
    return fail(at, 'not one of the allowed values');
  }
  if (typeof value === 'string') return checkString(schema, value, at);
  if (typeof value === 'number') return checkNumber(schema, value, at);
  if (isObject(value)) return checkObject(schema, value, at);
  if (Array.isArray(value)) return checkArray(schema, value, at);
  return null;
}

function typeName(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'boolean';
  return typeof value;
}

function hasType(value, name) {
  switch (name) {
    case 'integer':
      return Number.isInteger(value);
    case 'object':
    case 'array':
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return typeName(value) === name;
    default:
      return true;
  }
}

function checkType(schema, value, at) {
  let names;
  if (typeof schema.type === 'string') names = [schema.type];
  else if (Array.isArray(schema.type)) names = schema.type.filter((n) => typeof n === 'string');
  else return null;
  if (names.some((name) => hasType(value, name))) return null;
  return fail(at, `expected ${names.join(' or ')}, got ${typeName(value)}`);
}

function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length
      && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
  }
  return a === b;
}

function bound(schema, keyword) {
  return typeof schema[keyword] === 'number' ? schema[keyword] : undefined;
}

function checkString(schema, text, at) {
  const length = [...text].length;
  const low = bound(schema, 'minLength');
  if (low !== undefined && length < low) return fail(at, `shorter than ${low} characters`);
  const high = bound(schema, 'maxLength');
  if (high !== undefined && length > high) return fail(at, `longer than ${high} characters`);
  return null;
}

const BOUNDS = [
  ['minimum', (n, b) => n >= b, 'less than'],
  ['maximum', (n, b) => n <= b, 'greater than'],
  ['exclusiveMinimum', (n, b) => n > b, 'not greater than'],
  ['exclusiveMaximum', (n, b) => n < b, 'not less than'],
];

function checkNumber(schema, number, at) {
  for (const [keyword, holds, words] of BOUNDS) {
    const limit = bound(schema, keyword);
    if (limit !== undefined && !holds(number, limit)) return fail(at, `${words} ${JSON.stringify(limit)}`);
  }
  return null;
}

function checkObject(schema, value, at) {
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name === 'string' && !Object.prototype.hasOwnProperty.call(value, name)) {
        return fail(at, `missing property \`${name}\``);
      }
    }
  }
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [name, item] of Object.entries(value)) {
    let itemSchema;
    if (Object.prototype.hasOwnProperty.call(properties, name)) itemSchema = properties[name];
    else if ('additionalProperties' in schema) {
      itemSchema = schema.additionalProperties;
      if (itemSchema === false) return fail(at, `unexpected property \`${name}\``);
    } else continue;
    const problem = checkAt(itemSchema, item, within(at, name));
    if (problem) return problem;
  }
  return null;
}

function checkArray(schema, items, at) {
  const low = bound(schema, 'minItems');
  if (low !== undefined && items.length < low) return fail(at, `fewer than ${low} items`);
  const high = bound(schema, 'maxItems');
  if (high !== undefined && items.length > high) return fail(at, `more than ${high} items`);
  if ('items' in schema) {
    for (let i = 0; i < items.length; i += 1) {
      const problem = checkAt(schema.items, items[i], within(at, String(i)));
      if (problem) return problem;
    }
  }
  return null;
}

function within(at, segment) {
  return `${at}/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function fail(at, what) {
  return at ? `\`${at}\`: ${what}` : `the input: ${what}`;
}
