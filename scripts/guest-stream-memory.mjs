#!/usr/bin/env node
// Measures how a content-transform component's linear memory grows while N MiB stream
// through it (docs/design/0070). The component is turned into JavaScript with `jco
// transpile` (found on PATH or under the scripts/install-lang-tools prefix) and run under
// Node with stand-in streams and imports; the guest's own allocator decides what it keeps,
// as under any host. Node 20 needs `--experimental-wasm-extended-const`:
//
//   node --experimental-wasm-extended-const scripts/guest-stream-memory.mjs \
//     probe.wasm text/x-copy 32
//
// prints one JSON line: the memory before and after, and the growth per MiB streamed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';

const [component, mediaType, mibText] = process.argv.slice(2);
if (!component || !mediaType || !mibText) {
  console.error('usage: guest-stream-memory.mjs COMPONENT MEDIA_TYPE MIB');
  process.exit(2);
}
const total = Number(mibText) * 1024 * 1024;
const memories = [];
class Pollable { block() {} ready() { return true; } }
class IoError { toDebugString() { return 'error'; } }
class InputStream {
  constructor(size) { this.left = size; this.line = new TextEncoder().encode('line 0: the quick brown fox jumps\n'); }
  blockingRead(len) {
    if (this.left === 0) throw { tag: 'closed' };
    const n = Math.min(Number(len), this.left, 65536);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += this.line.length) out.set(this.line.subarray(0, Math.min(this.line.length, n - i)), i);
    this.left -= n;
    return out;
  }
  read(len) { return this.blockingRead(len); }
  subscribe() { return new Pollable(); }
}
class OutputStream {
  constructor() { this.written = 0; }
  checkWrite() { return 65536n; }
  write(bytes) { this.written += bytes.length; }
  blockingWriteAndFlush(bytes) { this.written += bytes.length; }
  flush() {}
  blockingFlush() {}
  subscribe() { return new Pollable(); }
  blockingSplice(src, len) {
    const chunk = src.blockingRead(len);
    this.written += chunk.length;
    return BigInt(chunk.length);
  }
  splice(src, len) { return this.blockingSplice(src, len); }
}

const stub = (name) => new Proxy({}, {
  get(_, key) {
    if (key === 'then') return undefined;
    return (...args) => { throw new Error(`${name}.${String(key)} called`); };
  },
});
const wasiVersion = '0.2.9';
const imports = new Proxy({
  [`wasi:io/streams@${wasiVersion}`]: { InputStream, OutputStream },
  [`wasi:io/poll@${wasiVersion}`]: { Pollable, poll: () => new Uint32Array([0]) },
  [`wasi:io/error@${wasiVersion}`]: { Error: IoError },
  [`wasi:cli/environment@${wasiVersion}`]: { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
  [`wasi:cli/stdout@${wasiVersion}`]: { getStdout: () => new OutputStream() },
  [`wasi:cli/stderr@${wasiVersion}`]: { getStderr: () => new OutputStream() },
  [`wasi:cli/stdin@${wasiVersion}`]: { getStdin: () => new InputStream(0) },
  [`wasi:cli/exit@${wasiVersion}`]: { exit: (s) => { throw new Error(`exit ${JSON.stringify(s)}`); } },
  [`wasi:cli/terminal-input@${wasiVersion}`]: { TerminalInput: class {} },
  [`wasi:cli/terminal-output@${wasiVersion}`]: { TerminalOutput: class {} },
  [`wasi:cli/terminal-stdin@${wasiVersion}`]: { getTerminalStdin: () => undefined },
  [`wasi:cli/terminal-stdout@${wasiVersion}`]: { getTerminalStdout: () => undefined },
  [`wasi:cli/terminal-stderr@${wasiVersion}`]: { getTerminalStderr: () => undefined },
  [`wasi:clocks/monotonic-clock@${wasiVersion}`]: { now: () => 0n, resolution: () => 1n, subscribeInstant: () => new Pollable(), subscribeDuration: () => new Pollable() },
  [`wasi:clocks/wall-clock@${wasiVersion}`]: { now: () => ({ seconds: 0n, nanoseconds: 0 }), resolution: () => ({ seconds: 0n, nanoseconds: 1 }) },
  [`wasi:filesystem/preopens@${wasiVersion}`]: { getDirectories: () => [] },
  [`wasi:filesystem/types@${wasiVersion}`]: { Descriptor: class {}, DirectoryEntryStream: class {}, filesystemErrorCode: () => undefined },
  [`wasi:random/random@${wasiVersion}`]: { getRandomBytes: (n) => new Uint8Array(Number(n)), getRandomU64: () => 4n },
  [`wasi:random/insecure@${wasiVersion}`]: { getInsecureRandomBytes: (n) => new Uint8Array(Number(n)), getInsecureRandomU64: () => 4n },
  [`wasi:random/insecure-seed@${wasiVersion}`]: { insecureSeed: () => [1n, 2n] },
  [`wasi:sockets/tcp@${wasiVersion}`]: { TcpSocket: class {} },
  [`wasi:sockets/udp@${wasiVersion}`]: { UdpSocket: class {}, IncomingDatagramStream: class {}, OutgoingDatagramStream: class {} },
  [`wasi:sockets/network@${wasiVersion}`]: { Network: class {} },
  [`wasi:sockets/ip-name-lookup@${wasiVersion}`]: { ResolveAddressStream: class {}, resolveAddresses: () => { throw 'x'; } },
}, {
  get(target, key) {
    if (key in target) return target[key];
    if (typeof key === 'string' && `${key.split('@')[0]}@${wasiVersion}` in target) return target[`${key.split('@')[0]}@${wasiVersion}`];
    return stub(String(key));
  },
  has() { return true; },
});

const prefix = process.env.PLINTH_NODE_PREFIX ?? join(homedir(), '.local/share/plinth/node');
const bundled = join(prefix, 'node_modules/.bin/jco');
const jco = existsSync(bundled) ? bundled : 'jco';
const out = mkdtempSync(join(tmpdir(), 'guest-stream-memory-'));
execFileSync(jco, ['transpile', resolve(component), '-o', out, '--name', 'probe',
  '--instantiation', 'async', '--no-namespaced-exports'], { stdio: 'ignore' });
const { instantiate } = await import(join(out, 'probe.js'));
const root = await instantiate(
  (path) => WebAssembly.compile(readFileSync(join(out, path))),
  imports,
  async (module, imps) => {
    const instance = await WebAssembly.instantiate(module, imps);
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) memories.push(value);
    }
    return instance;
  },
);
const sizeNow = () => memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
const before = sizeNow();
const output = new OutputStream();
const t0 = Date.now();
const meta = root.contentTransform.transform({ mediaType, size: BigInt(total), params: [] }, new InputStream(total), output);
const after = sizeNow();
const mib = (n) => (n / 1048576).toFixed(1);
console.log(JSON.stringify({
  mediaType, streamedMiB: Number(mibText), writtenMiB: mib(output.written), memoryBeforeMiB: mib(before),
  memoryAfterMiB: mib(after), growthPerStreamedMiB: ((after - before) / total).toFixed(3), ms: Date.now() - t0, meta,
}));
