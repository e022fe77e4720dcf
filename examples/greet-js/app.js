// The reference `command` plugin in JavaScript: `greet [--shout] [NAME...]`.
//
// run(["Ada"]) answers "Hello, Ada!", run([]) "Hello, world!", `--shout` upper-cases the
// answer and `--help` prints the usage. Any other argument starting with `-` is an `err`
// with the usage. The greeting word comes from the `greeting` setting, read through
// `config` when granted ("Hello" otherwise).
//
// The twin of examples/greet (Rust); the same tests run against both.

import { HostError, config, onRun } from './plinth-pdk.js';

export { lifecycle, command } from './plinth-pdk.js'; // the component's exports

const USAGE = 'usage: greet [--shout] [NAME...]';
const DEFAULT_GREETING = 'Hello';

// The `greeting` setting, or the default when it is unset, not a string, or `config` is
// not granted.
function greeting() {
  let value;
  try {
    value = config.get('greeting');
  } catch (e) {
    if (e instanceof HostError) return DEFAULT_GREETING;
    throw e;
  }
  return typeof value === 'string' ? value : DEFAULT_GREETING;
}

export function greet(args, word) {
  let shout = false;
  const names = [];
  for (const arg of args) {
    if (arg === '--shout') shout = true;
    else if (arg === '--help') return USAGE;
    else if (arg.startsWith('-')) throw new Error(`unknown option \`${arg}\`; ${USAGE}`);
    else names.push(arg);
  }
  const answer = `${word}, ${names.length ? names.join(' ') : 'world'}!`;
  return shout ? answer.toUpperCase() : answer;
}

onRun((args) => greet(args, greeting()));
