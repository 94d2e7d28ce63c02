/**
 * The CLI against an in-process API server (over a FakeHub: this tests the CLI and the HTTP layer; the
 * end-to-end run through a real hub is in serve.test.ts). Human output, `--json`, and exit codes. Commands run
 * in this process through runCli, as main.ts runs them (support/cli-in-process.ts); the last describe runs the
 * real executable to show the exit status and streams reach the shell.
 */

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZonedTime } from '../../src/hub/zoned-time.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { openStore } from '../../src/store/open-store.js';
import { runCliInProcess as runCli } from '../support/cli-in-process.js';
import { runCliProcess } from '../support/cli-process.js';
import { FakeHub } from '../support/fake-hub.js';

let hub: FakeHub;
let server: ApiServer;
let dir: string;
const tok = { read: '', send: '', admin: '' };

beforeAll(async () => {
  hub = new FakeHub();
  const store = new MemoryApiTokenStore();
  tok.read = (await createApiToken(store, 'reader', ['read'])).token;
  tok.send = (await createApiToken(store, 'ci-bot', ['send'])).token;
  tok.admin = (await createApiToken(store, 'ops', ['admin'])).token;
  server = await createApiServer(hub, {
    tokens: new StoreTokenVerifier(store, { ttlMs: 0 }),
    events: hub.events,
    fileLimitBytes: 20 * 1024 * 1024,
  });
  dir = mkdtempSync(join(tmpdir(), 'dingkit-cli-'));
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const as = (token: string) => ({ DINGKIT_URL: server.url, DINGKIT_TOKEN: token });

describe('dingkit send', () => {
  it('sends to a group: human output, exit 0, the hub sees the token name as the actor', async () => {
    const r = await runCli(['send', '--group', 'ops', 'deploy', 'finished'], { env: as(tok.send) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^queued msg_\d+: 1 delivery\n {2}\d+ +queued +robot +→ ops\n$/);
    const call = hub.calls.findLast((c) => c.method === 'sendMessage');
    expect(call?.args).toEqual([
      { group: 'ops', text: 'deploy finished' },
      { by: 'api:ci-bot', idempotencyScope: 'token:ci-bot' },
    ]);
  });

  it('--json prints exactly one JSON document with the SendResult; stdin text with "-"', async () => {
    const r = await runCli(['send', '--to', 'Alice,Bob', '--json', '-'], {
      env: as(tok.send),
      stdin: 'from stdin\n',
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      messageId: string;
      duplicate: boolean;
      deliveries: Array<{ target: string }>;
    };
    expect(out.duplicate).toBe(false);
    expect(out.deliveries.map((d) => d.target)).toEqual(['Alice', 'Bob']);
    expect(hub.calls.findLast((c) => c.method === 'sendMessage')?.args[0]).toMatchObject({
      text: 'from stdin',
    });
  });

  it('--ordered / --unordered reach the hub as `ordered`; neither leaves it to the config; both is a usage error', async () => {
    const sent = async (flags: string[]) => {
      const r = await runCli(['send', '--group', 'ops', ...flags, 'x'], { env: as(tok.send) });
      expect(r.code, r.stderr).toBe(0);
      return hub.calls.findLast((c) => c.method === 'sendMessage')?.args[0] as { ordered?: boolean };
    };
    expect((await sent(['--ordered'])).ordered).toBe(true);
    expect((await sent(['--unordered'])).ordered).toBe(false);
    expect(await sent([])).not.toHaveProperty('ordered');
    const both = await runCli(['send', '--group', 'ops', '--ordered', '--unordered', 'x'], {
      env: as(tok.send),
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/at most one of --ordered or --unordered/);
  });

  it('bulk --lines: one message per line, idempotent re-run, no progress bar off a TTY', async () => {
    const stdin = 'one\n\ntwo\nthree\n';
    const first = await runCli(
      ['send', '--group', 'dev', '--lines', '--idempotency-key', 'batch7', '--json'],
      {
        env: as(tok.send),
        stdin,
      },
    );
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as {
      total: number;
      queued: number;
      results: Array<{ line: number; duplicate: boolean }>;
    };
    expect(a).toMatchObject({ total: 3, queued: 3, failed: 0 });
    expect(a.results.map((x) => x.line)).toEqual([1, 3, 4]);
    expect(first.stderr).not.toContain('\r');
    const again = await runCli(
      ['send', '--group', 'dev', '--lines', '--idempotency-key', 'batch7', '--json'],
      {
        env: as(tok.send),
        stdin,
      },
    );
    const b = JSON.parse(again.stdout) as { results: Array<{ duplicate: boolean }> };
    expect(b.results.every((x) => x.duplicate)).toBe(true);
  });

  it('bulk reports refused lines and exits 1, sending the rest', async () => {
    const r = await runCli(['send', '--to', 'Alice', '--lines'], {
      env: as(tok.send),
      stdin: `ok line\n${'x'.repeat(100_001)}\nlast\n`,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^queued 2 of 3 messages, 1 refused:\n {2}line 2: text:/);
  });

  it('exit codes: 2 usage, 5 no/weak token, 4 no hub, 1 refused by the hub', async () => {
    const usage = await runCli(['send', 'no destination'], { env: as(tok.send) });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give exactly one of --group or --to');
    expect((await runCli(['send', '--group', 'ops', '--bogus', 'x'], { env: as(tok.send) })).code).toBe(2);
    expect((await runCli(['frobnicate'], { env: as(tok.send) })).code).toBe(2);
    // No TEXT and no "-": a usage error at once, not a wait on a stdin nobody writes to.
    const noText = await runCli(['send', '--group', 'ops'], {
      env: as(tok.send),
      stdin: null,
    });
    expect(noText.code).toBe(2);

    const noToken = await runCli(['send', '--group', 'ops', 'x'], {
      env: { DINGKIT_URL: server.url },
    });
    expect(noToken.code).toBe(5);
    expect(noToken.stderr).toContain('DINGKIT_TOKEN');
    const weak = await runCli(['send', '--group', 'ops', 'x', '--json'], { env: as(tok.read) });
    expect(weak.code).toBe(5);
    expect(JSON.parse(weak.stdout)).toEqual({
      error: { code: 'forbidden', message: expect.stringContaining('send') },
    });

    const down = await runCli(['send', '--group', 'ops', 'x'], {
      env: { DINGKIT_URL: 'http://127.0.0.1:59999', DINGKIT_TOKEN: tok.send },
    });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('ECONNREFUSED');

    const refused = await runCli(['send', '--group', 'nowhere', 'x'], { env: as(tok.send) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no group named "nowhere"');
  });
});

describe('dingkit events', () => {
  it('replays the buffer filtered by type, as NDJSON, and exits after --count', async () => {
    hub.events.publish('task.reminded', { id: 1 });
    hub.events.publish('delivery.redriven', { count: 1, by: 'api:ops' });
    hub.events.publish('task.escalated', { id: 2 });
    const r = await runCli(
      ['events', '--replay', '--type', 'task.reminded,task.escalated', '--count', '2', '--json'],
      { env: as(tok.read) },
    );
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: number });
    expect(lines.map((l) => l.type)).toEqual(['task.reminded', 'task.escalated']);
    expect(lines[1]!.id).toBeGreaterThan(lines[0]!.id);
  });

  it('an unknown --type is a usage error that lists the known types', async () => {
    const r = await runCli(['events', '--type', 'task.done'], { env: as(tok.read) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown event type "task.done"');
    expect(r.stderr).toContain('task.changed, task.edited');
  });

  it('follows live events in human form; a bad token exits 5', async () => {
    const child = runCli(['events', '--type', 'task.ch*', '--count', '1'], { env: as(tok.read) });
    let done = false;
    void child.then(() => {
      done = true;
    });
    for (let i = 0; !done && i < 100; i++) {
      hub.events.publish('task.reminded', { id: i });
      hub.events.publish('task.changed', {
        id: i,
        state: 'done',
        action: 'done',
        by: 'Alice',
        via: 'todo',
        todoId: `todo-${i}`,
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await child;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\d{2}:\d{2}:\d{2} \(UTC[+-]\d{2}:\d{2}\) {2}task\.changed +id=(\d+) state=done action=done by=Alice via=todo todoId=todo-\1\n$/,
    );
    const bad = await runCli(['events'], { env: as('dk_not_a_real_token_xx') });
    expect(bad.code).toBe(5);
  });
});

describe('dingkit people', () => {
  it('lists the directory as a table', async () => {
    const r = await runCli(['people'], { env: as(tok.read) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^NAME +USERID +MOBILE +UNIONID\nAlice +u-alice +13800000001 +-\nBob +u-bob +- +-\n$/,
    );
  });
});

describe('dingkit task', () => {
  it('assign, list, show, start, done; a forbidden move exits 7, an unknown task 6', async () => {
    const assign = await runCli(
      [
        'task',
        'assign',
        'Write',
        'the',
        'report',
        '--to',
        'Alice',
        '--group',
        'ops',
        '--due',
        '2d',
        '--priority',
        'high',
        '--json',
      ],
      { env: as(tok.send) },
    );
    expect(assign.code).toBe(0);
    const task = JSON.parse(assign.stdout) as { id: number; title: string; due: string };
    expect(task.title).toBe('Write the report');
    expect(Date.parse(task.due) - Date.now()).toBeGreaterThan(47 * 3_600_000);

    // Times in the hub's zone (its health report), the zone marked.
    hub.timeZone = 'Asia/Shanghai';
    const list = await runCli(['task', 'list', '--state', 'open'], {
      env: as(tok.read),
    });
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +STATE +PRIORITY +DUE +ASSIGNEES +TITLE$/);
    expect(list.stdout).toMatch(new RegExp(`#${task.id} +open +high .* Alice +Write the report`));
    const due = new ZonedTime('Asia/Shanghai').formatIso(task.due);
    expect(due).toMatch(/ \(UTC\+08:00\)$/);
    expect(list.stdout).toContain(` ${due} `);

    expect((await runCli(['task', 'start', String(task.id)], { env: as(tok.send) })).stdout).toBe(
      `task #${task.id} is now in progress\n`,
    );
    const done = await runCli(['task', 'done', `#${task.id}`, '--note', 'sent to board'], {
      env: as(tok.send),
    });
    expect(done.code).toBe(0);
    hub.timeZone = 'America/New_York';
    const show = await runCli(['task', 'show', String(task.id)], {
      env: as(tok.read),
    });
    expect(show.stdout).toContain('state     done');
    // The operator by what it is, not as a bare api:<token>; the history's times in the zone, marked.
    expect(show.stdout).toMatch(/done +the API \(token ci-bot\): sent to board/);
    expect(show.stdout).toContain(`due       ${new ZonedTime('America/New_York').formatIso(task.due)}`);
    expect(show.stdout).toMatch(/\n {4}\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC-0[45]:00\) {2}created /);
    hub.timeZone = undefined;

    const again = await runCli(['task', 'start', String(task.id)], { env: as(tok.send) });
    expect(again.code).toBe(7);
    expect(again.stderr).toContain('cannot start a task that is done');
    expect((await runCli(['task', 'show', '9999'], { env: as(tok.read) })).code).toBe(6);
    expect((await runCli(['task', 'done', 'abc'], { env: as(tok.send) })).code).toBe(2);
    expect(
      (
        await runCli(['task', 'assign', 'x', '--to', 'Alice', '--due', 'tomorrow'], {
          env: as(tok.send),
        })
      ).code,
    ).toBe(2);
  });
});

describe('dingkit task edit', () => {
  it('edits fields and assignees, --json gives the task; closed exits 7, unknown 6, bad flags 2, a reader 5', async () => {
    const made = await runCli(
      ['task', 'assign', 'Draft', '--to', 'Alice', '--due', '1d', '--description', 'first', '--json'],
      { env: as(tok.send) },
    );
    const id = (JSON.parse(made.stdout) as { id: number }).id;
    const human = await runCli(
      ['task', 'edit', String(id), '--title', 'Final draft', '--no-due', '--add', 'Bob', '--remove', 'Alice'],
      { env: as(tok.send) },
    );
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe(`edited task #${id}\n`);
    const call = hub.calls.filter((c) => c.method === 'updateTask').at(-1)!;
    expect(call.args).toEqual([
      id,
      { title: 'Final draft', due: null, addAssignees: ['Bob'], removeAssignees: ['Alice'] },
      { by: 'api:ci-bot', idempotencyScope: 'token:ci-bot' },
    ]);
    const json = await runCli(
      ['task', 'edit', `#${id}`, '--description', 'second', '--group', 'ops', '--json'],
      { env: as(tok.send) },
    );
    expect(json.code).toBe(0);
    const t = JSON.parse(json.stdout) as { title: string; description: string; group: string; due?: string };
    expect(t).toMatchObject({ title: 'Final draft', description: 'second', group: 'ops' });
    expect(t.due).toBeUndefined();
    expect(hub.tasks.get(id)!.assignees.map((a) => a.name)).toEqual(['Bob']);

    const bad = async (args: string[], token = tok.send) => (await runCli(args, { env: as(token) })).code;
    expect(await bad(['task', 'edit', String(id)])).toBe(2);
    expect(await bad(['task', 'edit', String(id), '--due', '1d', '--no-due'])).toBe(2);
    expect(await bad(['task', 'edit', String(id), '--due', 'someday'])).toBe(2);
    expect(await bad(['task', 'edit', String(id), '--title', ' '])).toBe(2);
    expect(await bad(['task', 'edit', 'abc', '--title', 'x'])).toBe(2);
    expect(await bad(['task', 'edit', '9999', '--title', 'x'])).toBe(6);
    expect(await bad(['task', 'edit', String(id), '--title', 'x'], tok.read)).toBe(5);
    const unknown = await runCli(['task', 'edit', String(id), '--add', 'Ghost', '--json'], {
      env: as(tok.send),
    });
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout || unknown.stderr)).toMatchObject({
      error: { code: 'invalid_request' },
    });
    await runCli(['task', 'cancel', String(id)], { env: as(tok.send) });
    const closed = await runCli(['task', 'edit', String(id), '--title', 'Too late'], {
      env: as(tok.send),
    });
    expect(closed.code).toBe(7);
    expect(closed.stderr).toContain('cannot edit a task that is cancelled');
    expect(hub.tasks.get(id)!.title).toBe('Final draft');
  });
});

describe('dingkit file share', () => {
  it('uploads the bytes intact and refuses a file over 20 MiB before uploading', async () => {
    const path = join(dir, 'report.bin');
    const bytes = Buffer.alloc(300_000).map((_, i) => (i * 7) % 256);
    writeFileSync(path, bytes);
    const r = await runCli(['file', 'share', path, '--group', 'ops', '--comment', 'Q3', '--json'], {
      env: as(tok.send),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fileName: 'report.bin', size: 300_000 });
    expect(Buffer.compare(hub.shares.at(-1)!.bytes, bytes)).toBe(0);

    const big = join(dir, 'big.bin');
    writeFileSync(big, '');
    truncateSync(big, 20 * 1024 * 1024 + 1);
    const before = hub.shares.length;
    const tooBig = await runCli(['file', 'share', big, '--to', 'Alice'], { env: as(tok.send) });
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain('up to 20 MiB');
    expect(hub.shares.length).toBe(before);
    expect(
      (await runCli(['file', 'share', join(dir, 'missing'), '--to', 'Alice'], { env: as(tok.send) })).code,
    ).toBe(1);
  });

  it('--from-url fetches the file (with or without content-length) and streams it to the hub; a 404 sends nothing', async () => {
    const { createServer } = await import('node:http');
    const bytes = Buffer.alloc(70_000).map((_, i) => (i * 13) % 256);
    const origin = createServer((req, res) => {
      if (req.url === '/sized/deck.pdf') {
        res.writeHead(200, { 'content-length': String(bytes.length) });
        res.end(bytes);
      } else if (req.url === '/chunked') {
        res.writeHead(200, { 'content-disposition': 'attachment; filename="plan.pdf"' });
        res.write(bytes.subarray(0, 30_000));
        setTimeout(() => res.end(bytes.subarray(30_000)), 20);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
    try {
      const sized = await runCli(
        ['file', 'share', '--from-url', `${base}/sized/deck.pdf`, '--group', 'ops', '--json'],
        {
          env: as(tok.send),
        },
      );
      expect(sized.code, sized.stderr).toBe(0);
      expect(JSON.parse(sized.stdout)).toMatchObject({ fileName: 'deck.pdf', size: bytes.length });
      const chunked = await runCli(
        ['file', 'share', '--from-url', `${base}/chunked`, '--to', 'Bob', '--json'],
        {
          env: as(tok.send),
        },
      );
      expect(chunked.code, chunked.stderr).toBe(0);
      expect(JSON.parse(chunked.stdout)).toMatchObject({ fileName: 'plan.pdf', size: bytes.length });
      expect(Buffer.compare(hub.shares.at(-1)!.bytes, bytes)).toBe(0);
      const before = hub.shares.length;
      const missing = await runCli(['file', 'share', '--from-url', `${base}/nope.pdf`, '--to', 'Bob'], {
        env: as(tok.send),
      });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('HTTP 404');
      expect(hub.shares.length).toBe(before);
    } finally {
      origin.close();
    }
  });
});

describe('dingkit deliveries', () => {
  it('lists dead letters and redrives them with an admin token only', async () => {
    const dead = hub.addDead('ops', 'ROBOT_SECURITY: keywords not in content');
    // The banner shows the API as <origin>/v1: that works as DINGKIT_URL too.
    const list = await runCli(['deliveries', 'list', '--dead'], {
      env: { DINGKIT_URL: `${server.url}/v1/`, DINGKIT_TOKEN: tok.read },
    });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(dead.id);
    expect(list.stdout).toContain('keywords not in content');
    const denied = await runCli(['deliveries', 'redrive', '--all-dead'], { env: as(tok.send) });
    expect(denied.code).toBe(5);
    const ok = await runCli(['deliveries', 'redrive', dead.id, '--json'], { env: as(tok.admin) });
    expect(JSON.parse(ok.stdout)).toEqual({ moved: 1 });
  });
});

describe('dingkit deliveries show / resolve', () => {
  it('shows the evidence of a parked delivery, with its text made terminal-safe', async () => {
    const d = hub.addParked('ops', { t: 'group', msgParam: { content: 'deploy done\u001b[2J' } });
    const r = await runCli(['deliveries', 'show', d.id], { env: as(tok.read) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`delivery ${d.id}  parked  message to ops via app:hub (app)`);
    expect(r.stdout).toMatch(/#1 park {2}TIMEOUT \(unknown\) {2}TIMEOUT: no answer/);
    expect(r.stdout).toContain('deploy done');
    // The escape sequence is shown, not obeyed.
    expect(r.stdout).not.toContain('\u001b[2J');
    const json = await runCli(['deliveries', 'show', d.id, '--json'], { env: as(tok.read) });
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: d.id,
      failures: [{ code: 'TIMEOUT' }],
      decisions: [],
    });
    const missing = await runCli(['deliveries', 'show', '999999'], { env: as(tok.read) });
    expect(missing.code).toBe(6);
    const bad = await runCli(['deliveries', 'show', 'dlv_1'], { env: as(tok.read) });
    expect(bad.code).toBe(2);
  });

  it('resolves with an admin token only, exactly one action, the note recorded; a second decision is a conflict', async () => {
    const d = hub.addParked('ops', { t: 'group' });
    const denied = await runCli(['deliveries', 'resolve', d.id, '--drop'], { env: as(tok.send) });
    expect(denied.code).toBe(5);
    const two = await runCli(['deliveries', 'resolve', d.id, '--drop', '--redrive'], { env: as(tok.admin) });
    expect(two.code).toBe(2);
    const none = await runCli(['deliveries', 'resolve', d.id], { env: as(tok.admin) });
    expect(none.code).toBe(2);
    const ok = await runCli(['deliveries', 'resolve', d.id, '--mark-sent', '--note', 'seen in ops'], {
      env: as(tok.admin),
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`delivery ${d.id}: mark-sent recorded, now sent\n`);
    expect(hub.calls.findLast((c) => c.method === 'resolveDelivery')?.args).toEqual([
      d.id,
      'mark-sent',
      { by: 'api:ops', idempotencyScope: 'token:ops' },
      'seen in ops',
    ]);
    const again = await runCli(['deliveries', 'resolve', d.id, '--mark-sent'], { env: as(tok.admin) });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already mark-sent by api:ops/);
    const other = await runCli(['deliveries', 'resolve', d.id, '--drop', '--json'], { env: as(tok.admin) });
    expect(other.code).toBe(7);
    expect(JSON.parse(other.stdout)).toMatchObject({ error: { code: 'already_resolved' } });
    expect(other.stderr).toMatch(/already resolved: mark-sent by api:ops/);
    const shown = await runCli(['deliveries', 'show', d.id], { env: as(tok.read) });
    expect(shown.stdout).toMatch(/mark-sent by api:ops \(was parked\): seen in ops/);
  });
});

describe('dingkit deliveries: send results', () => {
  it("lists only deliveries with drops, and shows each recipient with DingTalk's code, reason and the fallback", async () => {
    // Numeric ids, as the store gives them (`show` takes no other).
    const ok = hub.addDead('Li Si', 'x');
    Object.assign(ok, { id: '2001', status: 'sent', channel: 'notice', lastError: undefined });
    ok.recipients = { pending: 0, delivered: 1, read: 0, dropped: 0 };
    const dropped = hub.addDead('Li Si', 'x');
    Object.assign(dropped, {
      id: '2002',
      status: 'sent',
      channel: 'notice',
      lastError: undefined,
      remoteId: '256271667504',
    });
    dropped.recipients = { pending: 0, delivered: 0, read: 0, dropped: 1 };
    hub.details.set(dropped.id, {
      ...dropped,
      messageId: 'msg_9',
      people: [
        {
          userId: 'lisi',
          outcome: 'dropped',
          reasonCode: '143106',
          // A reason is text from the store: control characters must not reach the terminal.
          reason: 'duplicate: same content today\u001b[2J',
          updatedAt: '2026-11-25T10:00:00.000Z',
          fallbackDeliveryId: 'dlv_99',
        },
      ],
      check: { kind: 'notice', asked: 1, doneAt: '2026-11-25T10:00:00.000Z' },
    });
    const list = await runCli(['deliveries', 'list', '--dropped'], { env: as(tok.read) });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(dropped.id);
    expect(list.stdout).toContain('1 dropped');
    expect(list.stdout).not.toContain(`${ok.id} `);
    expect(hub.calls.findLast((c) => c.method === 'listDeliveries')?.args[0]).toMatchObject({
      dropped: true,
    });

    const show = await runCli(['deliveries', 'show', dropped.id], { env: as(tok.read) });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/lisi +dropped +143106 +duplicate: same content today/);
    expect(show.stdout).toContain('dlv_99');
    expect(show.stdout).toContain('send result: asked 1 time, done');
    expect(show.stdout).not.toContain('\u001b');
    const json = await runCli(['deliveries', 'show', dropped.id, '--json'], { env: as(tok.read) });
    expect(JSON.parse(json.stdout).people[0]).toMatchObject({
      reasonCode: '143106',
      fallbackDeliveryId: 'dlv_99',
    });
    const missing = await runCli(['deliveries', 'show', '2999'], { env: as(tok.read) });
    expect(missing.code).toBe(6);
  });
});

describe('dingkit token (standalone, on the store)', () => {
  it('creates a token shown once, stores only its hash, lists and revokes it', async () => {
    const cwd = mkdtempSync(join(dir, 'tok-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ database: { url: './data/hub.db', create: true } }),
    );
    const created = await runCli(['token', 'create', 'ci', '--scopes', 'send', '--json'], { cwd });
    expect(created.code).toBe(0);
    const { token, scopes } = JSON.parse(created.stdout) as { token: string; scopes: string[] };
    expect(token).toMatch(/^dk_[A-Za-z0-9_-]{43}$/);
    expect(scopes).toEqual(['send']);

    const human = await runCli(['token', 'create', 'dash', '--scopes', 'read'], { cwd });
    expect(human.stdout).toMatch(/^dk_[A-Za-z0-9_-]{43}\n$/);
    expect(human.stderr).toContain('shown only this once');

    const list = await runCli(['token', 'list'], { cwd });
    expect(list.stdout).toMatch(/ci +send/);
    expect(list.stdout).not.toContain(token.slice(3));

    const store = await openStore({ url: join(cwd, 'data/hub.db') });
    try {
      const v = new StoreTokenVerifier(new StoreApiTokens(store), { ttlMs: 0 });
      expect(await v.verify(token)).toEqual({ name: 'ci', scopes: ['send'] });
      expect((await runCli(['token', 'create', 'ci'], { cwd })).code).toBe(7);
      expect((await runCli(['token', 'revoke', 'ci'], { cwd })).code).toBe(0);
      expect(await v.verify(token)).toBeUndefined();
      expect((await runCli(['token', 'revoke', 'ci'], { cwd })).code).toBe(6);
      expect((await runCli(['token', 'create', 'x', '--scopes', 'root'], { cwd })).code).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('creates a limited, expiring token; list shows expiry, last use and limits (human and --json)', async () => {
    const cwd = mkdtempSync(join(dir, 'tok-lim-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ database: { url: './data/hub.db', create: true }, timeZone: 'Asia/Shanghai' }),
    );
    const args = ['token', 'create', 'ci', '--scopes', 'send', '--groups', 'ops', '--people', 'alice,bob'];
    const created = await runCli([...args, '--no-at-all', '--expires', '30d', '--json'], { cwd });
    expect(created.code, created.stderr).toBe(0);
    const c = JSON.parse(created.stdout) as { token: string; createdAt: string; expiresAt: string };
    expect(Date.parse(c.expiresAt) - Date.parse(c.createdAt)).toBe(30 * 86_400_000);
    expect(JSON.parse(created.stdout)).toMatchObject({
      limits: { groups: ['ops'], people: ['alice', 'bob'], noAtAll: true },
    });
    const human = await runCli(['token', 'list'], { cwd });
    expect(human.stdout).toMatch(/EXPIRES +LAST USED +REVOKED +LIMITS/);
    expect(human.stdout).toMatch(/ci +send .* groups=ops people=alice,bob no-at-all/);
    // Times in the configured zone, marked (this verb works on the store, with no hub to ask).
    const shanghai = new ZonedTime('Asia/Shanghai');
    expect(human.stdout).toContain(
      `${shanghai.formatIso(c.createdAt)}  ${shanghai.formatIso(c.expiresAt)}  -`,
    );
    const listed = await runCli(['token', 'list', '--json'], { cwd });
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows[0]).toMatchObject({ name: 'ci', expiresAt: c.expiresAt, demo: false, expired: false });
    expect(listed.stdout).not.toContain(c.token.slice(3));
    expect(listed.stdout).not.toContain('hash');
    // Bad values are usage errors (2; the parsers' other refusals are unit-tested), and limits need send.
    expect((await runCli(['token', 'create', 'other', '--expires', '30x'], { cwd })).code).toBe(2);
    const readLimited = ['token', 'create', 'other', '--scopes', 'read', '--groups', 'ops'];
    expect((await runCli(readLimited, { cwd })).code).toBe(2);
  });

  it('a broken config exits 3 and names the bad key, never its value', async () => {
    const cwd = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ robots: { ops: { webhook: 'short' } } }),
    );
    const r = await runCli(['token', 'list'], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('robots.ops.webhook');
  });
});

describe('standalone (no hub running)', () => {
  it('starts a hub in the process on the same store: what it writes is there for the next command', async () => {
    const cwd = mkdtempSync(join(dir, 'alone-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({
        server: { port: 59_997 },
        emulator: { port: 0 },
        database: { url: './data/hub.db', create: true },
      }),
    );
    const a = await runCli(['task', 'assign', 'Offline task', '--to', 'alice'], { cwd });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe('assigned task #1 "Offline task" to Alice Chen\n');
    expect(a.stderr).toContain('working standalone on the store');
    const list = await runCli(['task', 'list', '--json'], { cwd });
    const tasks = JSON.parse(list.stdout) as Array<{ title: string }>;
    expect(tasks.map((t) => t.title)).toEqual(['Offline task']);
    const edit = await runCli(
      ['task', 'edit', '1', '--title', 'Offline task, renamed', '--add', 'bob', '--remove', 'alice'],
      { cwd },
    );
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toContain('edited task #1: title: "Offline task" → "Offline task, renamed"');
    const shown = JSON.parse((await runCli(['task', 'show', '1', '--json'], { cwd })).stdout) as {
      title: string;
      assignees: Array<{ name: string }>;
      history: Array<{ kind: string; by: string }>;
    };
    expect(shown.title).toBe('Offline task, renamed');
    expect(shown.assignees.map((a) => a.name)).toEqual(['Bob Li']);
    expect(shown.history.at(-1)).toMatchObject({ kind: 'edited', by: 'cli' });
    // The same edit again changes nothing and says so.
    const again = await runCli(['task', 'edit', '1', '--title', 'Offline task, renamed'], { cwd });
    expect(again.stdout).toBe('task #1 already looks like that; nothing changed\n');
  });
});

describe('help and version', () => {
  it('prints help (exit 0) for the program and for a verb', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const verb of [
      'serve',
      'emulator',
      'send',
      'task',
      'file',
      'deliveries',
      'token',
      'doctor',
      'verify',
    ]) {
      expect(help.stdout).toContain(`  ${verb}`);
    }
    const sendHelp = await runCli(['send', '--help']);
    expect(sendHelp.stdout).toContain('--lines');
  });

  it('the real executable: the exit code reaches the shell, the version reaches stdout', async () => {
    const none = await runCliProcess([], { timeoutMs: 28_000 });
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: dingkit <command>');
    expect((await runCliProcess(['--version'], { timeoutMs: 28_000 })).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 60_000); // two `node --import tsx` starts: seconds each on a loaded 2-core machine
});
