// The reference `hook` plugin in JavaScript: at `before-tool-call` it
//
// 1. denies a tool the operator listed in the `deny_subjects` setting (read through
//    `config` when granted; without the grant the list is empty);
// 2. denies a call whose payload mentions a path under /etc: a string, or a word of one
//    (split at ASCII white space), that is an absolute path whose first component is `etc`
//    once `.` and `..` are resolved;
// 3. modifies a payload whose `text` string has leading or trailing ASCII white space,
//    trimming it;
// 4. allows everything else, and every other hook point.
//
// The twin of examples/tool-guard (Rust): the same events get the same decisions and
// reasons.

import { HostError, config, deny, hook, modify } from './plinth-pdk.js';

export { lifecycle, hookExport as hook } from './plinth-pdk.js'; // the component's exports

const WORDS = /[ \t\n\r\f]/;
const TRIM = /^[ \t\n\r\f]+|[ \t\n\r\f]+$/g;

// The `deny_subjects` setting, or nothing when it is unset or `config` is not granted.
function deniedSubjects() {
  let items;
  try {
    items = config.get('deny_subjects', []);
  } catch (e) {
    if (e instanceof HostError) return [];
    throw e;
  }
  return Array.isArray(items) ? items.filter((item) => typeof item === 'string') : [];
}

export function isUnderEtc(word) {
  if (!word.startsWith('/')) return false;
  const components = [];
  for (const component of word.split('/')) {
    if (component === '' || component === '.') continue;
    if (component === '..') components.pop();
    else components.push(component);
  }
  return components[0] === 'etc';
}

function etcPaths(value, paths) {
  if (typeof value === 'string') {
    for (const word of value.split(WORDS)) if (isUnderEtc(word)) paths.push(word);
  } else if (Array.isArray(value)) {
    for (const item of value) etcPaths(item, paths);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) etcPaths(item, paths);
  }
}

// The least path by code point, as Rust and Python order strings.
function least(paths) {
  return paths.reduce((a, b) => (codePoints(b) < codePoints(a) ? b : a));
}

function codePoints(text) {
  return [...text].map((c) => c.codePointAt(0).toString(16).padStart(6, '0')).join('');
}

function decide(event, denySubjects) {
  if (denySubjects.includes(event.subject)) {
    return deny(`\`${event.subject}\` is denied by the operator's settings (\`deny_subjects\`)`);
  }
  const payload = event.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const paths = [];
  for (const value of Object.values(payload)) etcPaths(value, paths);
  if (paths.length) {
    return deny(`\`${event.subject}\` would touch \`${least(paths)}\`, which is under /etc`);
  }
  const text = payload.text;
  if (typeof text === 'string' && text.replace(TRIM, '') !== text) {
    return modify({ ...payload, text: text.replace(TRIM, '') });
  }
  return undefined;
}

hook('before-tool-call', (event) => decide(event, deniedSubjects()));
