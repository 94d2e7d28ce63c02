/**
 * Log injection: a log field carrying text people control (an error that quotes a chat message, a
 * nick, a file name) with a newline must not forge a second log line, and one with terminal escapes must not act
 * on the terminal of an operator running `tail -f`. The `serve` and `emulator` log (src/cli/console-logger.ts) is
 * driven directly in both formats, and then through the hub's HTTP API: a request whose failure text quotes the
 * attacker's input is logged without a forged line.
 */

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src/cli/console-logger.js';
import { Redactor } from '../../src/core/redact.js';

const FORGED =
  'ok\n12:00:00 error admin token revoked  by=root\r\x1b[2K\x1b]52;c;cm0gLXJm\x07\u202e\x9b2J\u2028x';
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('the console log escapes its fields', () => {
  it('attack: pretty format, a field with a newline, CR, CSI, OSC 52, RLO, C1 and U+2028 → one clean line', () => {
    const out = sink();
    const log = createConsoleLogger(out, { format: 'pretty', redactor: new Redactor(), now: () => 0 });
    log.warn({ err: FORGED, sender: 'Mallory\nforged', n: 3 }, `inbound push failed ${FORGED}`);
    const lines = out.text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).not.toMatch(CONTROL);
    // Still readable: the text is quoted and escaped, not dropped.
    expect(lines[0]).toContain('err="ok\\n12:00:00 error admin token revoked  by=root\\r\\u001b[2K');
    expect(lines[0]).toContain('sender="Mallory\\nforged"');
    expect(lines[0]).toContain('n=3');
    // A plain value stays bare.
    const plain = sink();
    createConsoleLogger(plain, { format: 'pretty', redactor: new Redactor(), now: () => 0 }).info(
      { route: '/v1/tasks', status: 200 },
      'http',
    );
    expect(plain.text).toBe('00:00:00 info  http  route=/v1/tasks status=200\n');
  });

  it('attack: a value that fakes another field (`a=1 by=root`) is quoted, so it cannot pose as one', () => {
    const out = sink();
    createConsoleLogger(out, { format: 'pretty', redactor: new Redactor(), now: () => 0 }).info(
      { nick: 'x by=root' },
      'm',
    );
    expect(out.text).toContain('nick="x by=root"');
  });

  it('attack: JSON format → one JSON document per line, C1, bidi and U+2028 escaped, the text exact', () => {
    const out = sink();
    const log = createConsoleLogger(out, { format: 'json', redactor: new Redactor(), now: () => 0 });
    log.warn({ err: FORGED }, 'm');
    const lines = out.text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toMatch(CONTROL);
    expect((JSON.parse(lines[0]!) as { err: string }).err).toBe(FORGED);
  });

  it('secrets are still redacted inside an escaped value (pretty and JSON)', () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t"with\\quote');
    for (const format of ['pretty', 'json'] as const) {
      const out = sink();
      createConsoleLogger(out, { format, redactor, now: () => 0 }).error(
        { err: 'token s3cr3t"with\\quote refused\nnext' },
        'x',
      );
      expect(out.text, format).not.toContain('s3cr3t');
      expect(out.text, format).toContain('[REDACTED]');
    }
  });
});
