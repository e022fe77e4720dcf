// A command plugin: run(["Ada"]) greets Ada, run(["echo", ...]) echoes the rest.
//
// The JavaScript twin of examples/hello (Rust). The greeting word comes from the optional
// `greeting` setting, read through the `config` host API when the operator granted it.

import { HostError, config, log, onLoad, onRun } from './plinth-pdk.js';

export { lifecycle, command } from './plinth-pdk.js'; // the component's exports

const DEFAULT_GREETING = 'Hello';
let greeting;

onLoad(() => {
  let value;
  try {
    value = config.get('greeting');
  } catch (e) {
    if (!(e instanceof HostError)) throw e;
    value = undefined; // `config` not granted: keep the default
  }
  if (value !== undefined && typeof value !== 'string') {
    throw new Error(`setting \`greeting\` must be a string, got ${JSON.stringify(value)}`);
  }
  greeting = value;
});

function greet(name) {
  log.info(`greeting ${name}`);
  return `${greeting || DEFAULT_GREETING}, ${name}!`;
}

onRun((args) => {
  if (args.length && args[0] === 'echo') {
    log.info(`echoing ${args.length - 1} words`);
    return args.slice(1).join(' ');
  }
  return greet(args.length ? args.join(' ') : 'world');
});
