// A command plugin using granted host APIs: run(["Ada"]) counts Ada's visit in the
// key-value store and answers "Hello, Ada! Visit 1.", then 2, 3, ... across calls and
// processes.
//
// The JavaScript twin of examples/visits (Rust): `kv` (required) keeps the counter
// `visits/NAME`; `config` (optional) supplies the `greeting` setting, read on every call;
// `log` (optional) gets one record per visit. Without `kv` the call fails with the host's
// `missing-grant` error, whose text names the `plinth grant` command.

import { HostError, config, kv, log, onRun } from './plinth-pdk.js';

export { lifecycle, command } from './plinth-pdk.js'; // the component's exports

const DEFAULT_GREETING = 'Hello';

function greeting() {
  let value;
  try {
    value = config.get('greeting');
  } catch (e) {
    if (!(e instanceof HostError)) throw e;
    return DEFAULT_GREETING; // `config` not granted
  }
  return typeof value === 'string' && value ? value : DEFAULT_GREETING;
}

onRun((args) => {
  const name = args.length ? args.join(' ') : 'world';
  let count;
  try {
    count = kv.increment(`visits/${name}`);
  } catch (e) {
    if (!(e instanceof HostError)) throw e;
    throw new Error(`${e.kind}: ${e.message}`);
  }
  log.info(`visit ${name} ${count}`);
  return `${greeting()}, ${name}! Visit ${count}.`;
});
