/**
 * Text every store can hold. PostgreSQL's `text` type refuses U+0000 outright (the insert fails), and a lone UTF-16
 * surrogate has no UTF-8 form: both drivers would store U+FFFD in its place, so two different strings (say, two
 * idempotency keys) would come back equal. Input is refused before any I/O (API, hub); text that arrives from
 * DingTalk, which cannot be refused, is cleaned with `storableText` instead.
 */

import { ValidationError } from './errors.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Why `s` cannot be stored, or undefined when it can. */
function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000), which cannot be stored';
  if (LONE_SURROGATE.test(s))
    return 'contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored';
  return undefined;
}

export function isStorableText(s: string): boolean {
  return textProblem(s) === undefined;
}

/** The message zod contracts give for a string that fails `isStorableText`. */
export const STORABLE_TEXT_MESSAGE = 'must not contain NUL (U+0000) or lone UTF-16 surrogates';

/**
 * Walks `value` (strings, arrays, plain objects; not Buffers or streams) and throws a ValidationError naming the
 * first string that cannot be stored, as a dotted path under `field` (`to.2`, `vars.name`).
 */
export function assertStorableText(value: unknown, field: string, depth = 0): void {
  if (typeof value === 'string') {
    const p = textProblem(value);
    if (p) throw new ValidationError(p, field || 'input');
    return;
  }
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertStorableText(v, join(field, String(i)), depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return;
  for (const [k, v] of Object.entries(value)) {
    const kp = textProblem(k);
    if (kp) throw new ValidationError(`a key ${kp}`, field || 'input');
    assertStorableText(v, join(field, k), depth + 1);
  }
}

function join(a: string, b: string): string {
  return a === '' ? b : `${a}.${b}`;
}

/** Drops NUL and turns lone surrogates into U+FFFD: for text from DingTalk, which has no 400 to answer. */
function storableText(s: string): string {
  return s.replace(/\u0000/g, '').replace(LONE_SURROGATES, '\ufffd');
}

/** `storableText` over every string of a JSON-like value (a pushed chat message). */
export function storableDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => storableDeep(v, depth + 1)) as T;
  // fromEntries defines own properties: `out[k] = v` with k === '__proto__' (an own key after JSON.parse) would call
  // the prototype setter and let the copy inherit fields such as senderStaffId (test/security/prototype-keys.test.ts).
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [storableText(k), storableDeep(v, depth + 1)]),
  ) as T;
}
