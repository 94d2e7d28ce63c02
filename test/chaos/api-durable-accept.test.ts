/**
 * Durable accept through the HTTP API: a 202 means the message is durable. `dingkit serve` runs as a real
 * process on SQLite; messages are posted (4 in flight) and the process is killed with SIGKILL the instant the
 * 50th 202 arrives, 20 times over — 1,000 accepted messages, each of them required to exist after a restart
 * (looked up by id, and its idempotency key must return the same id). Requests still in flight at the kill had
 * no answer and are not counted. The twin runs the same procedure against a server that answers before it
 * writes, and the check catches the loss.
 */

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { pool } from './hub-chaos-support.js';
import { Standby } from './standby.js';

const LOSSY = resolve(import.meta.dirname, 'fixtures/lossy-server.ts');
const SERVE = resolve(import.meta.dirname, 'serve-standby.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Target {
  base: string;
  token: string;
  /** A person the target's directory knows. */
  to: string;
  child: ChildProcessWithoutNullStreams;
}

/**
 * The servers of one test, in one working directory. Each start takes a warm standby (standby.ts) and warms the
 * next one, so module loading overlaps the previous cycle; the store is opened only when the previous process is
 * dead.
 */
const standbys: Standby[] = [];
afterEach(async () => {
  for (const s of standbys.splice(0)) await s.close();
});
function servers(cwd: string, script: 'serve' | 'lossy'): Standby {
  const s = new Standby(script === 'serve' ? SERVE : LOSSY, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
  });
  s.warm(1);
  standbys.push(s);
  return s;
}

async function start(s: Standby, script: 'serve' | 'lossy', warmNext = true): Promise<Target> {
  const child = s.start({ args: ['serve', '--json', '--log', 'json', '--no-demo'] });
  if (warmNext) s.warm(1);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      const b = JSON.parse(out) as { dashboard: string; token: string };
      return {
        base: b.dashboard.replace(/\/$/, ''),
        token: b.token,
        to: script === 'serve' ? 'alice' : 'Alice',
        child,
      };
    } catch {
      if (child.exitCode !== null || Date.now() > end) {
        child.kill('SIGKILL'); // never leave a half-started server behind
        throw new Error(`did not start: ${err.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function post(t: Target, key: string): Promise<Response> {
  return fetch(`${t.base}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${t.token}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ to: [t.to], text: `durable ${key}` }),
  });
}

/** Posts until `perCycle` answers are 202, SIGKILLs at that instant; returns what was accepted. */
async function cycle(
  t: Target,
  cycleNo: number,
  perCycle: number,
): Promise<Array<{ key: string; id: string; token: string }>> {
  const accepted: Array<{ key: string; id: string; token: string }> = [];
  let next = 0;
  let killed = false;
  const dead = new Promise<void>((r) => t.child.on('exit', () => r()));
  const worker = async () => {
    while (!killed) {
      const key = `c${cycleNo}-m${next++}`;
      try {
        const res = await post(t, key);
        if (killed) return; // answered after the kill decision: not counted, to keep the rule simple
        if (res.status !== 202) throw new Error(`unexpected ${res.status}`);
        const body = (await res.json()) as { messageId: string };
        accepted.push({ key, id: body.messageId, token: t.token });
        if (accepted.length >= perCycle) {
          killed = true;
          t.child.kill('SIGKILL');
        }
      } catch (e) {
        if (!killed) throw e;
      }
    }
  };
  try {
    await Promise.all([worker(), worker(), worker(), worker()]);
  } catch (e) {
    t.child.kill('SIGKILL'); // a failed cycle must not leave its server running
    throw e;
  }
  await dead;
  return accepted;
}

async function missingAfterRestart(
  s: Standby,
  script: 'serve' | 'lossy',
  accepted: Array<{ key: string; id: string }>,
  warmNext = false,
): Promise<number> {
  const t = await start(s, script, warmNext);
  let missing = 0;
  try {
    // Each accepted id looked up once; 8 at a time (the answer per id does not depend on the order).
    await pool(accepted, 8, async (a) => {
      const res = await fetch(`${t.base}/v1/messages/${encodeURIComponent(a.id)}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      await res.body?.cancel();
      if (res.status !== 200) missing++;
    });
  } finally {
    t.child.kill('SIGKILL');
    await new Promise<void>((r) => (t.child.exitCode !== null ? r() : t.child.once('exit', () => r())));
  }
  return missing;
}

describe('D1: a 202 from the API means durable', () => {
  it('1,000 accepted messages over 20 SIGKILLs: none lost, idempotency keys still bound', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dingkit-d1-'));
    dirs.push(cwd);
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ server: { port: 0 }, emulator: { port: 0 } }),
    );
    const s = servers(cwd, 'serve');
    const accepted: Array<{ key: string; id: string; token: string }> = [];
    for (let c = 0; c < 20; c++) accepted.push(...(await cycle(await start(s, 'serve'), c, 50)));
    expect(accepted.length).toBe(1_000);
    expect(await missingAfterRestart(s, 'serve', accepted, true)).toBe(0);

    // The idempotency key committed with each message: re-posting returns the first id, nothing new. Keys belong
    // to the token that used them (each demo `serve` mints its own, still valid here), so each is re-posted with it.
    const t = await start(s, 'serve', false);
    try {
      for (const a of accepted.filter((_, i) => i % 50 === 49)) {
        const res = await post({ ...t, token: a.token }, a.key);
        const body = (await res.json()) as { messageId: string; duplicate: boolean };
        expect(body).toMatchObject({ messageId: a.id, duplicate: true });
      }
    } finally {
      t.child.kill('SIGKILL');
    }
  }, 300_000);

  it('graceful stop via serve: SIGTERM under load exits 0 within 10 s, loses nothing, leaves nothing "sending"', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dingkit-d10-'));
    dirs.push(cwd);
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ server: { port: 0 }, emulator: { port: 0 } }),
    );
    const s = servers(cwd, 'serve');
    const t = await start(s, 'serve');
    const accepted: Array<{ key: string; id: string }> = [];
    let stop = false;
    let n = 0;
    const load = async () => {
      while (!stop) {
        const key = `t-${n++}`;
        try {
          const res = await post(t, key);
          if (res.status === 202)
            accepted.push({ key, id: ((await res.json()) as { messageId: string }).messageId });
          else await res.body?.cancel();
        } catch {
          return; // the server has stopped taking requests
        }
      }
    };
    const workers = [load(), load(), load(), load()];
    await waitFor(() => accepted.length >= 100, 30_000, '100 accepted sends');
    const exited = new Promise<number | null>((r) => t.child.on('exit', (code) => r(code)));
    const signalled = Date.now();
    t.child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - signalled;
    stop = true;
    await Promise.all(workers);
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    const { openStore } = await import('../../src/store/open-store.js');
    const store = await openStore({ url: join(cwd, 'data', 'dingkit.db') });
    try {
      const sending = await store.db
        .selectFrom('deliveries')
        .select('id')
        .where('status', '=', 'sending')
        .execute();
      expect(sending).toEqual([]);
    } finally {
      await store.close();
    }
    expect(await missingAfterRestart(s, 'serve', accepted)).toBe(0);
  }, 120_000);

  it('twin: a server that answers before it writes loses messages, and the same check sees it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dingkit-d1-twin-'));
    dirs.push(cwd);
    const s = servers(cwd, 'lossy');
    const accepted: Array<{ key: string; id: string }> = [];
    for (let c = 0; c < 3; c++) accepted.push(...(await cycle(await start(s, 'lossy'), c, 50)));
    expect(await missingAfterRestart(s, 'lossy', accepted)).toBeGreaterThan(0);
  }, 120_000);
});
