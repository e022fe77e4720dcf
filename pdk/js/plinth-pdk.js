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
// BitVault's kinds: `eventHandler(handle)` (answering `ok()`, `reject(reason)` or
// `retry(afterMs)`), `authProvider(authenticate)` (an `identity(subject, tenant, claims)`,
// or throw `Denied`/`Unavailable`), `policyHook(decide)` (`allow()`, `deny(reason)` or
// `addAttributes(...)`), `searchAnalyzer(names, analyze)` (tokens; `words(text)`) and
// `preview(mediaTypes, render)` (text, or `pngGray(...)`), exported as `eventHandlerExport
// as eventHandler`, `authProviderExport as authProvider`, `policyHookExport as policyHook`,
// `searchAnalyzerExport as searchAnalyzer`, `previewExport as preview`.
//
// The streaming kinds: `contentTransform(mediaTypes, transform)` (answering
// `transformOutput(mediaType)`) and `storageProvider({ put, get, head, list, delete })`,
// over `Input`/`Output` wrappers of the host's `wasi:io` streams, exported as
// `contentTransformExport as contentTransform` and `storageProviderExport as
// storageProvider`; `output.forward(input)` has the host copy bytes without them entering
// the plugin, and `items(stream)` iterates a stream an app-defined host function returns.
//
// Services: `service({ start, handle, stop })`, `handle` answering
// `Handled.ok().command(ServiceCommand.sendText(connection, text))` (also `publish`,
// `close`, `httpRequest`, `postJson`, `action`) and `.respond(status, type, body)` for HTTP
// routes, exported as `serviceExport as service`.
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

// ---------------------------------------------------------------------- BitVault's kinds
//
// An object event is `{ id, action, tenant, path, size, mediaType, digest, atMs,
// attributes }` (`action` "created", "updated" or "deleted"; `size` and `atMs` numbers;
// `attributes` an array of [name, value] pairs). Each registration takes one function;
// export the kind's object (`eventHandlerExport as eventHandler`, `authProviderExport as
// authProvider`, `policyHookExport as policyHook`, `searchAnalyzerExport as
// searchAnalyzer`, `previewExport as preview`).

/** Handled (an event handler returning `undefined` answers `ok` too). */
export function ok() { return { kind: 'ok' }; }
/** Refused for good; `reason` says why, for a person. Not delivered again. */
export function reject(reason) { return { kind: 'reject', reason: String(reason ?? '') }; }
/** Not handled now: deliver again after `afterMs` milliseconds. */
export function retry(afterMs) { return { kind: 'retry', afterMs: u32(afterMs) }; }

function u32(value) {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? Math.min(Math.max(n, 0), 0xffffffff) : 0;
}

/** The value of the first attribute called `name` in [name, value] pairs, if any. */
export function attribute(attributes, name) {
  const found = (attributes ?? []).find(([key]) => key === name);
  return found === undefined ? undefined : found[1];
}

/** An identity: a subject and a tenant (never empty) and claims (an object or [name, value] pairs). */
export function identity(subject, tenant, claims = []) {
  return { subject: String(subject), tenant: String(tenant), claims: pairs(claims) };
}

/** Throw from an auth provider: the token is not valid (the text is for the server's log). */
export class Denied extends Error {}
/** Throw from an auth provider that cannot decide now (its backend is unreachable). */
export class Unavailable extends Error {}

/** Whether strings (or Uint8Arrays) `a` and `b` are equal, in a time that depends on their lengths only. */
export function constantTimeEqual(a, b) {
  const x = typeof a === 'string' ? encoder.encode(a) : a;
  const y = typeof b === 'string' ? encoder.encode(b) : b;
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i += 1) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** Serve a policy hook's request with `attributes` (an object or [name, value] pairs) added. */
export function addAttributes(attributes) { return { kind: 'add', attributes: pairs(attributes) }; }

function pairs(list) {
  const entries = Array.isArray(list) ? list : Object.entries(list ?? {});
  return entries.map(([k, v]) => [String(k), String(v)]);
}

// componentize-js's engine has no Unicode property tables (`\p{...}` does not compile), so
// a word character is an ASCII letter or digit, or any other character outside whitespace,
// combining marks, punctuation, symbols and emoji.
const WORD_RUN =
  /[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\xbf\xd7\xf7\u0300-\u036f\u2000-\u2bff\u2e00-\u2e7f\u3000-\u303f\ufe00-\ufe0f\ufe30-\ufe4f\ufeff\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u{1f000}-\u{1faff}\s]+/gu;
const ASCII_WORD_RUN = /[A-Za-z0-9]+/g;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * The words of `text` (runs of letters and digits), lowercased, numbered from 0, with their
 * UTF-8 byte offsets: `{ term, position, start, end }`, as the Rust PDK's `words` (outside
 * ASCII, letters and digits are told from the rest by ranges: see `WORD_RUN`). At most
 * `limit` words are read: the rest of the text is not looked at.
 */
export function words(text, limit = Infinity) {
  const s = String(text);
  const tokens = [];
  const ascii = ASCII.test(s);
  const run = ascii ? ASCII_WORD_RUN : WORD_RUN;
  run.lastIndex = 0;
  let chars = 0; // where the previous word ended, in UTF-16 units and in UTF-8 bytes
  let bytes = 0;
  let match;
  while (tokens.length < limit && (match = run.exec(s)) !== null) {
    const word = match[0];
    const start = ascii ? match.index : bytes + encoder.encode(s.slice(chars, match.index)).length;
    const end = ascii ? start + word.length : start + encoder.encode(word).length;
    tokens.push({ term: word.toLowerCase(), position: tokens.length, start, end });
    chars = match.index + word.length;
    bytes = end;
  }
  return tokens;
}

/**
 * A greyscale PNG of `width` × `height` pixels (one byte each, row by row; stored, not
 * compressed) as an image preview `{ data, width, height }`; null when the sizes do not
 * match the pixels.
 */
export function pngGray(width, height, pixels) {
  if (!(width > 0 && height > 0) || width * height !== pixels.length) return null;
  const raw = new Uint8Array((width + 1) * height);
  for (let row = 0; row < height; row += 1) {
    raw.set(pixels.subarray(row * width, (row + 1) * width), row * (width + 1) + 1);
  }
  const parts = [Uint8Array.of(0x78, 0x01)];
  for (let at = 0; at < raw.length; at += 65535) {
    const block = raw.subarray(at, at + 65535);
    const last = at + 65535 >= raw.length ? 1 : 0;
    const len = block.length;
    parts.push(Uint8Array.of(last, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff), block);
  }
  parts.push(be32(adler32(raw)));
  const ihdr = concat([be32(width), be32(height), Uint8Array.of(8, 0, 0, 0, 0)]);
  const out = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)];
  for (const [kind, body] of [['IHDR', ihdr], ['IDAT', concat(parts)], ['IEND', new Uint8Array(0)]]) {
    const chunk = concat([encoder.encode(kind), body]);
    out.push(be32(body.length), chunk, be32(crc32(chunk)));
  }
  return { data: concat(out), width, height, mediaType: 'image/png' };
}

function be32(n) { return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff); }

function concat(arrays) {
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function adler32(data) {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

let crcTable = null;

function crc32(data) {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const bitvault = { handle: null, authenticate: null, decide: null, analyzers: new Map(), previews: new Map() };

/** Registers `handle(event) -> ok() | reject(reason) | retry(afterMs)` (`eventHandlerExport as eventHandler`); a throw rejects the event. */
export function eventHandler(handle) { bitvault.handle = handle; }
/** Registers `authenticate(token) -> identity(...)` (`authProviderExport as authProvider`); throw `Denied` or `Unavailable`. */
export function authProvider(authenticate) { bitvault.authenticate = authenticate; }
/** Registers `decide(request) -> allow() | deny(reason) | addAttributes(...)` (`policyHookExport as policyHook`). */
export function policyHook(decide) { bitvault.decide = decide; }
/** Registers `analyze(analyzer, text) -> tokens` for the names of `[[provides.search-analyzer]]` (`searchAnalyzerExport as searchAnalyzer`). */
export function searchAnalyzer(analyzers, analyze) { for (const a of names(analyzers)) bitvault.analyzers.set(a, analyze); }
/**
 * Registers `render(mediaType, bytes) -> string | pngGray(...)` for the media types of
 * `[[provides.preview]]` (`previewExport as preview`); throw `InvalidData` for bytes not
 * valid in the format.
 */
export function preview(mediaTypes, render) { for (const m of names(mediaTypes)) bitvault.previews.set(m, render); }

function safeNumber(value) {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function witOutcome(outcome) {
  if (outcome === undefined || outcome === null || outcome.kind === 'ok') return { tag: 'ok' };
  if (outcome.kind === 'reject') {
    const reason = String(outcome.reason ?? '');
    return { tag: 'reject', val: reason.trim() ? reason : 'rejected by the handler' };
  }
  if (outcome.kind === 'retry') return { tag: 'retry', val: u32(outcome.afterMs) };
  return { tag: 'reject', val: 'the handler answered something other than ok(), reject() or retry()' };
}

/** `plinth:event-handler/event-handler`, exported as `eventHandler`. */
export const eventHandlerExport = {
  handle(event) {
    if (!bitvault.handle) return { tag: 'reject', val: 'this plugin registered no event handler' };
    const typed = {
      id: event.id,
      action: event.action,
      tenant: event.tenant,
      path: event.path,
      size: safeNumber(event.size),
      mediaType: event.mediaType,
      digest: event.digest,
      atMs: safeNumber(event.atMs),
      attributes: event.attributes.map(([k, v]) => [k, v]),
    };
    try {
      return witOutcome(bitvault.handle(typed));
    } catch (e) {
      return { tag: 'reject', val: `the handler failed: ${message(e)}` };
    }
  },
};

/** `plinth:auth-provider/auth-provider`, exported as `authProvider`. */
export const authProviderExport = {
  authenticate(token) {
    if (!bitvault.authenticate) throw { tag: 'unavailable', val: 'this plugin registered no auth provider' };
    let who;
    try {
      who = bitvault.authenticate(token);
    } catch (e) {
      if (e instanceof Denied) throw { tag: 'denied', val: message(e) };
      if (e instanceof Unavailable) throw { tag: 'unavailable', val: message(e) };
      throw { tag: 'unavailable', val: `the provider failed: ${message(e)}` };
    }
    if (who === undefined || who === null) throw { tag: 'denied', val: 'no identity for this token' };
    return { subject: String(who.subject), tenant: String(who.tenant), claims: pairs(who.claims ?? []) };
  },
};

/** `plinth:policy-hook/policy-hook`, exported as `policyHook`. */
export const policyHookExport = {
  decide(request) {
    if (!bitvault.decide) return { tag: 'allow' };
    const typed = {
      operation: request.operation,
      subject: request.subject,
      tenant: request.tenant,
      path: request.path,
      attributes: request.attributes.map(([k, v]) => [k, v]),
      attribute(name) { return attribute(this.attributes, name); },
    };
    let decision;
    try {
      decision = bitvault.decide(typed);
    } catch (e) {
      return { tag: 'deny', val: `the policy hook failed: ${message(e)}` };
    }
    if (decision === undefined || decision === null || decision.kind === 'allow') return { tag: 'allow' };
    if (decision.kind === 'deny') {
      const reason = String(decision.reason ?? '');
      return { tag: 'deny', val: reason.trim() ? reason : `denied by a policy hook: ${request.operation}` };
    }
    if (decision.kind === 'add') return { tag: 'add', val: pairs(decision.attributes) };
    return { tag: 'deny', val: 'the policy hook answered something other than allow(), deny() or addAttributes()' };
  },
};

/** `plinth:search-analyzer/search-analyzer`, exported as `searchAnalyzer`. */
export const searchAnalyzerExport = {
  analyze(analyzer, text) {
    const analyze = bitvault.analyzers.get(analyzer);
    if (!analyze) throw { tag: 'unknown-analyzer', val: analyzer };
    try {
      // Lowered as they are: a copy per token would cost as much as lowering it.
      return analyze(analyzer, text);
    } catch (e) {
      throw { tag: 'failed', val: message(e) };
    }
  },
};

/** `plinth:preview/preview`, exported as `preview`. */
export const previewExport = {
  render(mediaType, data) {
    const render = bitvault.previews.get(mediaType);
    if (!render) throw { tag: 'unsupported', val: `no preview of \`${mediaType}\`` };
    let out;
    try {
      out = render(mediaType, data);
    } catch (e) {
      if (e instanceof InvalidData) throw { tag: 'invalid-data', val: message(e) };
      throw { tag: 'failed', val: message(e) };
    }
    if (typeof out === 'string') return { tag: 'text', val: out };
    if (out && out.data instanceof Uint8Array) {
      return {
        tag: 'image',
        val: { mediaType: String(out.mediaType ?? 'image/png'), data: out.data, width: u32(out.width), height: u32(out.height) },
      };
    }
    throw { tag: 'failed', val: 'the preview is neither a string nor an image' };
  },
};

// ------------------------------------------------------------------------ streaming kinds
//
// `contentTransform(mediaTypes, transform)` registers `transform(request, input, output)`
// answering `transformOutput(mediaType).withEntry(key, value)` (`contentTransformExport as
// contentTransform`); the same function serves `transform-bytes` over in-memory streams.
// `storageProvider({ put, get, head, list, delete })` registers a provider
// (`storageProviderExport as storageProvider`), throwing `NotFound`, `InvalidKey`,
// `TooLarge`, `Conflict` or `Backend`. `input.read(n)` gives up to `n` bytes (an empty array
// at the end; `for (const chunk of input)` iterates); `output.write(bytes)` writes;
// `output.forward(input)` has the host copy the rest of the input (`splice`) without it
// entering the plugin. `items(stream)` iterates a stream an app-defined host function
// returns (`next()` until `undefined`) and drops it when the loop ends.
//
// Memory: with componentize-js 0.23.0 the bytes of every list an import call takes
// (`write`, `kv.set`) stay in linear memory until the instance ends, so a call's memory
// grows by what it writes (docs/design/0070). Write small outputs; forward large parts.

/** The bytes asked of the host per read or splice. */
export const CHUNK = 64 * 1024;

/** The host refused a read or a write (its output cap, a closed sink). */
export class StreamFailed extends Error {}

const disposeSymbol = Symbol.dispose || Symbol.for('dispose');

function drop(resource) {
  const dispose = resource?.[disposeSymbol];
  if (typeof dispose === 'function') dispose.call(resource);
}

function streamErrorTag(e) {
  return e?.payload?.tag;
}

function describeStreamError(e) {
  const value = e?.payload?.val;
  if (value && typeof value.toDebugString === 'function') {
    try {
      return value.toDebugString();
    } catch {
      // the text is a courtesy
    }
  }
  return streamErrorTag(e) ?? message(e);
}

/** The input the host lends for the call. */
export class Input {
  constructor(stream) {
    this.stream = stream;
    this.done = false;
  }

  /** Up to `n` bytes (at least one unless at the end); an empty array at the end. */
  read(n = CHUNK) {
    if (this.done || n <= 0) return new Uint8Array(0);
    try {
      return this.stream.blockingRead(BigInt(n));
    } catch (e) {
      if (streamErrorTag(e) === 'closed') {
        this.done = true;
        return new Uint8Array(0);
      }
      throw new StreamFailed(`reading the input failed: ${describeStreamError(e)}`);
    }
  }

  *[Symbol.iterator]() {
    for (;;) {
      const chunk = this.read(CHUNK);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }
}

/** The output the host lends for the call. */
export class Output {
  constructor(stream) {
    this.stream = stream;
  }

  /** Writes all of `data` (a Uint8Array or a string, as UTF-8). */
  write(data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    let at = 0;
    try {
      while (at < bytes.length) {
        const permit = Number(this.stream.checkWrite());
        if (permit === 0) {
          const pollable = this.stream.subscribe();
          pollable.block();
          drop(pollable);
          continue;
        }
        const piece = bytes.subarray(at, at + Math.min(permit, CHUNK));
        this.stream.write(piece);
        at += piece.length;
      }
    } catch (e) {
      throw new StreamFailed(`writing the output failed: ${describeStreamError(e)}`);
    }
  }

  /** Copies the rest of `input` (at most `limit` bytes) here; returns the bytes copied.
   * The host copies them (`splice`): the plugin's memory does not grow. */
  forward(input, limit = Infinity) {
    if (!(input instanceof Input) || input instanceof BytesInput || input.done) {
      return copyStream(input, this, limit);
    }
    let moved = 0;
    try {
      while (moved < limit) {
        const want = Math.min(CHUNK, limit - moved);
        moved += Number(this.stream.blockingSplice(input.stream, BigInt(want)));
      }
    } catch (e) {
      if (streamErrorTag(e) !== 'closed') {
        throw new StreamFailed(`forwarding failed: ${describeStreamError(e)}`);
      }
      input.done = true;
    }
    return moved;
  }

  /** Waits until the host has taken everything written. */
  flush() {
    try {
      this.stream.blockingFlush();
    } catch (e) {
      throw new StreamFailed(`flushing the output failed: ${describeStreamError(e)}`);
    }
  }
}

/** An input over bytes in memory: what `transform-bytes` hands the function. */
export class BytesInput extends Input {
  constructor(data) {
    super(null);
    this.data = data;
    this.at = 0;
  }

  read(n = CHUNK) {
    const chunk = this.data.subarray(this.at, this.at + Math.max(n, 0));
    this.at += chunk.length;
    return chunk;
  }
}

/** An output into memory: what `transform-bytes` collects (`bytes()`). */
export class BytesOutput extends Output {
  constructor() {
    super(null);
    this.chunks = [];
    this.length = 0;
  }

  write(data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  forward(input, limit = Infinity) {
    return copyStream(input, this, limit);
  }

  flush() {}

  /** Everything written, in one array. */
  bytes() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

function copyStream(input, output, limit) {
  let moved = 0;
  while (moved < limit) {
    const chunk = input.read(Math.min(CHUNK, limit - moved));
    if (chunk.length === 0) break;
    output.write(chunk);
    moved += chunk.length;
  }
  return moved;
}

/** The items of a stream an app-defined host function returned (a resource with
 * `next()`), until `undefined`. The resource is dropped when the loop ends, also early
 * (`{ close: false }` keeps it), which stops the host's producer. */
export function* items(stream, { close = true } = {}) {
  try {
    for (;;) {
      const item = stream.next();
      if (item === undefined || item === null) return;
      yield item;
    }
  } finally {
    if (close) drop(stream);
  }
}

/** What a transform produced besides its bytes. */
export function transformOutput(mediaType) {
  return {
    mediaType: String(mediaType),
    entries: [],
    /** Adds the fact `key = value`. */
    withEntry(key, value) {
      this.entries.push([String(key), String(value)]);
      return this;
    },
  };
}

const transforms = new Map();

/** Registers `transform(request, input, output)` for the media types of the manifest's
 * `[[provides.content-transform]]` entries. `request` is `{ mediaType, size, params,
 * param(name) }` (`size` a Number or undefined, `params` [key, value] pairs). Others are
 * `unsupported-media-type`; `InvalidInput` is `invalid-input`, any other throw `failed`.
 * The PDK flushes the output afterwards. */
export function contentTransform(mediaTypes, transform) {
  for (const m of names(mediaTypes)) transforms.set(m, transform);
}

function runTransform(request, input, output) {
  const transform = transforms.get(request.mediaType);
  if (!transform) {
    throw { tag: 'unsupported-media-type', val: `no transform of \`${request.mediaType}\`` };
  }
  const params = (request.params ?? []).map((p) => [p.key, p.value]);
  const typed = {
    mediaType: request.mediaType,
    size: request.size === undefined || request.size === null ? undefined : Number(request.size),
    params,
    param(name) {
      const found = params.find(([key]) => key === name);
      return found === undefined ? undefined : found[1];
    },
  };
  let out;
  try {
    out = transform(typed, input, output);
    output.flush();
  } catch (e) {
    if (e instanceof InvalidInput) throw { tag: 'invalid-input', val: message(e) };
    throw { tag: 'failed', val: message(e) };
  }
  if (!out || typeof out.mediaType !== 'string') {
    throw { tag: 'failed', val: 'the transform answered no transformOutput(...)' };
  }
  return {
    mediaType: out.mediaType,
    entries: (out.entries ?? []).map(([key, value]) => ({ key: String(key), value: String(value) })),
  };
}

export const contentTransformExport = {
  transform(request, input, output) {
    return runTransform(request, new Input(input), new Output(output));
  },
  transformBytes(request, data) {
    const output = new BytesOutput();
    const meta = runTransform(request, new BytesInput(data), output);
    return [meta, output.bytes()];
  },
};

/** A storage provider's error; throw a subclass. Any other throw is `backend`. */
export class StorageError extends Error {}
/** No object has this key. */
export class NotFound extends StorageError {}
/** The key breaks the key rules. */
export class InvalidKey extends StorageError {}
/** The object is over the provider's size limit. */
export class TooLarge extends StorageError {}
/** Another writer changed the object during the operation. */
export class Conflict extends StorageError {}
/** The backend failed. */
export class Backend extends StorageError {}

/** The longest key a storage provider takes, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Throws `InvalidKey` unless `key` follows the kind's rules: 1 to 1024 bytes of UTF-8,
 * no control character, no backslash, no leading `/`, no empty, `.` or `..` segment. */
export function checkKey(key) {
  if (!key) throw new InvalidKey('the key is empty');
  if (encoder.encode(key).length > MAX_KEY_BYTES) throw new InvalidKey('the key is over 1024 bytes');
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) throw new InvalidKey('the key holds a control character');
  if (key.includes('\\')) throw new InvalidKey('the key holds a backslash');
  if (key.startsWith('/')) throw new InvalidKey('the key starts with `/`');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidKey('the key has an empty, `.` or `..` segment');
  }
}

function compareBytes(a, b) {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** The page of `sortedKeys` (distinct, in byte order) that start with `prefix` and come
 * after `cursor`, at most `limit` long: `{ keys, nextCursor }`, the next page's cursor its
 * last key. */
export function pageOf(sortedKeys, prefix, cursor, limit) {
  const max = Math.max(Number(limit) || 0, 1);
  const keys = [];
  let more = false;
  for (const key of sortedKeys) {
    if (!key.startsWith(prefix)) continue;
    if (cursor !== undefined && cursor !== null && compareBytes(key, cursor) <= 0) continue;
    if (keys.length === max) {
      more = true;
      break;
    }
    keys.push(key);
  }
  return { keys, nextCursor: more ? keys[keys.length - 1] : undefined };
}

let registeredProvider = null;

/** Registers the storage provider: `{ put(key, size, input), get(key, output), head(key),
 * list(prefix, cursor, limit), delete(key) }`, the first three answering `{ key, size }`
 * (size a Number), `list` a `pageOf(...)`. */
export function storageProvider(impl) { registeredProvider = impl; }

const STORAGE_CASES = new Map([
  [NotFound, 'not-found'],
  [InvalidKey, 'invalid-key'],
  [TooLarge, 'too-large'],
  [Conflict, 'conflict'],
]);

function storageCall(method, ...args) {
  const f = registeredProvider?.[method];
  if (typeof f !== 'function') {
    throw { tag: 'backend', val: `this plugin's storage provider has no \`${method}\`` };
  }
  try {
    return f.call(registeredProvider, ...args);
  } catch (e) {
    for (const [type, tag] of STORAGE_CASES) {
      if (e instanceof type) throw { tag, val: message(e) };
    }
    throw { tag: 'backend', val: message(e) };
  }
}

function objectMeta(meta) {
  if (!meta || typeof meta.key !== 'string') {
    throw { tag: 'backend', val: 'the provider answered no { key, size }' };
  }
  return { key: meta.key, size: BigInt(meta.size ?? 0) };
}

export const storageProviderExport = {
  put(key, size, input) {
    const known = size === undefined || size === null ? undefined : Number(size);
    return objectMeta(storageCall('put', key, known, new Input(input)));
  },
  get(key, output) {
    const out = new Output(output);
    const meta = storageCall('get', key, out);
    try {
      out.flush();
    } catch (e) {
      throw { tag: 'backend', val: message(e) };
    }
    return objectMeta(meta);
  },
  head(key) {
    return objectMeta(storageCall('head', key));
  },
  list(prefix, cursor, limit) {
    const page = storageCall('list', prefix, cursor, limit);
    if (!page || !Array.isArray(page.keys)) {
      throw { tag: 'backend', val: 'the provider answered no pageOf(...)' };
    }
    return {
      keys: page.keys.map(String),
      nextCursor: page.nextCursor === undefined || page.nextCursor === null ? undefined : String(page.nextCursor),
    };
  },
  delete(key) {
    storageCall('delete', key);
  },
};

// ------------------------------------------------------------------------------- services
//
// `service({ start?, handle(event), stop? })` registers the service (`serviceExport as
// service`). An ingress event is `{ sequence, attempt, source, kind, connection,
// connectionSequence, meta, rawMeta, body, text() }` (`connection` null when none, `meta`
// parsed, null when it is not JSON). `handle` answers `Handled.ok()` (or `reject`,
// `retry`) with `.command(ServiceCommand.sendText(...))` and `.respond(...)`, or a plain
// `ok()`/`reject()`/`retry()`; a throw rejects the event (it is dead-lettered).

/** The output commands a handler answers with, as the Rust PDK's `ServiceCommand`. */
export const ServiceCommand = Object.freeze({
  /** A text frame on a host-owned WebSocket connection (`websocket:<endpoint>`). */
  sendText: (connection, text) => ({ command: 'send-frame', connection: String(connection), frame: String(text) }),
  /** A binary frame on a host-owned WebSocket connection. */
  sendBinary: (connection, bytes) => ({ command: 'send-frame', connection: String(connection), frame: bytes }),
  /** Close a host-owned WebSocket connection. */
  close: (connection, code = 1000, reason = '') =>
    ({ command: 'close', connection: String(connection), code: Number(code), reason: String(reason) }),
  /** Publish `payload` (a string as it is, anything else as JSON) on `channel` (`events.publish:<channel>`). */
  publish: (channel, payload) =>
    ({ command: 'publish', channel: String(channel), payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  /** An HTTP request (`http:<host>`); its answer arrives as an `http-client` event whose connection is `tag`. */
  httpRequest: (tag, method, url, { headers = [], body = new Uint8Array(0) } = {}) =>
    ({ command: 'http-request', tag: String(tag), method: String(method), url: String(url), headers: pairs(headers), body: typeof body === 'string' ? encoder.encode(body) : body }),
  /** A `POST` of `value` as JSON to `url`, tagged `tag`. */
  postJson: (tag, url, value) =>
    ({ command: 'http-request', tag: String(tag), method: 'POST', url: String(url), headers: [['content-type', 'application/json']], body: encoder.encode(JSON.stringify(value)) }),
  /** The application action `name` with `payload` (a JSON value), its grant checked for `scope`. */
  action: (name, payload = null, scope = undefined) =>
    ({ command: 'action', name: String(name), payload, scope: scope === undefined || scope === null ? undefined : String(scope) }),
});

/** A service handler's answer: an outcome, commands carried out in order, and an HTTP reply. */
export class Handled {
  constructor(outcome = ok()) {
    this.outcome = outcome;
    this.commands = [];
    this.reply = undefined;
  }

  /** Done. */
  static ok() { return new Handled(ok()); }
  /** Never processable: the host dead-letters the event with `reason`. */
  static reject(reason) { return new Handled(reject(reason)); }
  /** Deliver the event again after `afterMs` milliseconds (up to `max_attempts`). */
  static retry(afterMs) { return new Handled(retry(afterMs)); }

  /** This answer with `command` (a `ServiceCommand`) added. */
  command(command) {
    this.commands.push(command);
    return this;
  }

  /** This answer with an HTTP reply of `status` carrying `body` as `contentType`. */
  respond(status, contentType, body) {
    this.reply = {
      status: Number(status),
      headers: [['content-type', String(contentType)]],
      body: typeof body === 'string' ? encoder.encode(body) : body,
    };
    return this;
  }
}

let registeredService = null;

/** Registers the service: `{ start?(), handle(event), stop?() }` (`serviceExport as service`). */
export function service(impl) { registeredService = impl; }

function witHeaders(list) { return pairs(list).map(([name, value]) => ({ name, value })); }

function witCommand(c) {
  switch (c.command) {
    case 'send-frame': {
      const frame = typeof c.frame === 'string' ? { tag: 'text', val: c.frame } : { tag: 'binary', val: c.frame };
      return { tag: 'send-frame', val: { connection: c.connection, frame } };
    }
    case 'close':
      return { tag: 'close', val: { connection: c.connection, code: c.code, reason: c.reason } };
    case 'publish':
      return { tag: 'publish', val: { channel: c.channel, payload: c.payload } };
    case 'http-request':
      return { tag: 'http-request', val: { tag: c.tag, method: c.method, url: c.url, headers: witHeaders(c.headers), body: c.body } };
    case 'action':
      return { tag: 'action', val: { name: c.name, scope: c.scope, payload: JSON.stringify(c.payload ?? null) } };
    default:
      throw new Error('a command is not a ServiceCommand');
  }
}

/** `plinth:service/service`, exported as `service`. */
export const serviceExport = {
  start() {
    try {
      if (registeredService && registeredService.start) registeredService.start();
    } catch (e) {
      throw message(e);
    }
  },
  handle(event) {
    const body = event.body;
    const typed = {
      sequence: safeNumber(event.sequence),
      attempt: event.attempt,
      source: event.source,
      kind: event.kind,
      connection: event.connection ?? null,
      connectionSequence: safeNumber(event.connectionSequence),
      meta: parsePayload(event.meta),
      rawMeta: event.meta,
      body,
      text: () => new TextDecoder().decode(body),
    };
    try {
      if (!registeredService) throw new Error('this plugin registered no service');
      let answer = registeredService.handle(typed);
      if (!(answer instanceof Handled)) answer = new Handled(answer ?? ok());
      return {
        outcome: witOutcome(answer.outcome),
        commands: answer.commands.map(witCommand),
        reply: answer.reply === undefined
          ? undefined
          : { status: answer.reply.status, headers: witHeaders(answer.reply.headers), body: answer.reply.body },
      };
    } catch (e) {
      return { outcome: { tag: 'reject', val: `the handler failed: ${message(e)}` }, commands: [], reply: undefined };
    }
  },
  stop() {
    try {
      if (registeredService && registeredService.stop) registeredService.stop();
    } catch {
      // The host stops the service anyway.
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
