/**
 * The hub and the CLI hold DingTalk's messages as the library's types, built with its builders
 * (`webhookMessage`, `appMessage`, `noticeMessage`): a `msgtype` or `msgKey` written out as a literal outside
 * src/api restates DingTalk's formats, and an `as unknown as` is how such a loose object got back into a typed
 * call. A text scan of the non-test source of src/hub and src/cli finds both. (Tests may write raw bodies: they
 * check what goes on the wire, and their fakes of the port are partial on purpose.)
 */

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './import-graph.js';

const SRC = new URL('../../src', import.meta.url).pathname;
const SCANNED = ['hub', 'cli'];

/** Property names DingTalk's message formats key on; a string literal as their value is a hand-built message. */
const FIELDS = ['msg' + 'type', 'msg' + 'Key'];
const RAW_FIELD = new RegExp(`\\b(${FIELDS.join('|')})['"]?\\]?\\s*(?::|=(?!=))\\s*['"\`]`);
const DOUBLE_CAST = new RegExp(['as', 'unknown', 'as'].map((w) => `\\b${w}\\b`).join('\\s+'));

/** `file:line: text` for every offending line of `text`. */
function findOffences(file: string, text: string): string[] {
  const out: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (RAW_FIELD.test(line) || DOUBLE_CAST.test(line)) out.push(`${file}:${i + 1}: ${line.trim()}`);
  }
  return out;
}

const files = SCANNED.flatMap((d) => sourceFiles(join(SRC, d))).map((f) => relative(SRC, f));

describe('messages are built with the library, not by hand', () => {
  it('reads the hub and the CLI (the scan is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(60);
    expect(files).toContain(join('hub', 'messages', 'plan.ts'));
    expect(files).toContain(join('cli', 'doctor.ts'));
  });

  it('finds a planted raw msgtype, msgKey and double cast (the scan can fail)', () => {
    const [type, key] = FIELDS;
    const planted = [
      `const body = { ${type}: 'text', text: { content } };`,
      `payload: { t: 'oto', app, "${key}": "sampleText", msgParam },`,
      `body['${type}'] = \`markdown\`;`,
      `const m = x ${['as', 'unknown', 'as'].join(' ')} WebhookMessage;`,
    ];
    expect(findOffences('planted.ts', planted.join('\n'))).toHaveLength(planted.length);
    // Reading a type is not building one.
    const reads = [`if (m.${type} === 'link') return;`, `const { ${key} } = encode(message);`];
    expect(findOffences('reads.ts', reads.join('\n'))).toEqual([]);
  });

  it('src/hub and src/cli write no msgtype / msgKey literal and no double cast', () => {
    const offences = files.flatMap((f) => findOffences(f, readFileSync(join(SRC, f), 'utf8')));
    expect(offences).toEqual([]);
  });
});
