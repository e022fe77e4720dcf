// The reference `tool` plugin in JavaScript: one tool, `word_count`,
// {"text": "one two  three"} -> {"words": 3}.
//
// The twin of examples/word-count (Rust); the same tests run against both. Words are
// separated by white space: the characters Rust's `char::is_whitespace` takes (Unicode
// White_Space).

import { log, tool } from './plinth-pdk.js';

export { lifecycle, toolExport as tool } from './plinth-pdk.js'; // the component's exports

// The same schemas as word_count.schema.json and word_count.output.json (plugin.toml).
const INPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'word_count input',
  type: 'object',
  properties: {
    text: {
      type: 'string',
      description: 'The text whose words are counted; words are separated by white space.',
    },
  },
  required: ['text'],
  additionalProperties: false,
};

const OUTPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'word_count output',
  type: 'object',
  properties: {
    words: {
      type: 'integer',
      minimum: 0,
      description: 'How many words `text` has.',
    },
  },
  required: ['words'],
  additionalProperties: false,
};

const WHITE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function countWords(text) {
  return text.split(WHITE_SPACE).filter((word) => word.length > 0).length;
}

tool(
  'word_count',
  'Counts the words in `text`.',
  INPUT_SCHEMA,
  (input) => {
    // The PDK checked the input against INPUT_SCHEMA: an object with a string `text`.
    const words = countWords(input.text);
    log.debug(`word_count: ${words} in ${[...input.text].length} characters`);
    return { words };
  },
  { outputSchema: OUTPUT_SCHEMA },
);
