// A tool provider with one tool, `count_vowels`: {"text": "Plinth"} -> {"count": 1}.
//
// The JavaScript twin of examples/count-vowels (Rust); the same tests run against both.

import { InvalidInput, log, tool } from './plinth-pdk.js';

export { lifecycle, tools } from './plinth-pdk.js'; // the component's exports

// The same schema as count_vowels.schema.json (plugin.toml's [[tools]] entry).
const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'count_vowels input',
  type: 'object',
  properties: {
    text: {
      type: 'string',
      description: 'The text whose vowels (a, e, i, o, u, either case) are counted.',
    },
  },
  required: ['text'],
  additionalProperties: false,
};

const VOWELS = new Set('aeiouAEIOU');

export function count(text) {
  let n = 0;
  for (const c of text) if (VOWELS.has(c)) n += 1;
  return n;
}

tool(
  'count_vowels',
  'Counts the vowels (a, e, i, o, u, either case) in `text`.',
  SCHEMA,
  (input) => {
    const text = input !== null && typeof input === 'object' && !Array.isArray(input) ? input.text : undefined;
    if (typeof text !== 'string') throw new InvalidInput('expected an object with a string `text`');
    const n = count(text);
    log.debug(`count_vowels: ${n} in ${[...text].length} characters`);
    return { count: n };
  },
);
