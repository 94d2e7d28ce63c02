/**
 * A hook's 202 means durable: `dingkit serve` runs as a real process on SQLite with an Alertmanager route, alerts
 * are posted (4 requests in flight) and the process is killed with SIGKILL the instant the 25th 202 arrives, four
 * times over: 100 accepted notifications, each of whose alerts must be in the store afterwards. A restart then
 * turns every one of them into outbox messages (none left pending: nothing lost between the accept and the
 * flush). Requests in flight at the kill had no answer and are not counted (Alertmanager retries those). The twin
 * runs the same procedure against a server that answers before it writes, and the same check sees the loss.
 */

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { amBody } from '../e2e/gateways-support.js';
import { waitFor } from '../support/wait-for.js';
import { Standby } from './standby.js';

const SERVE = resolve(import.meta.dirname, 'serve-standby.ts');
const LOSSY = resolve(import.meta.dirname, 'fixtures/lossy-hook-server.ts');
const TOKEN = 'chaos-hook-token-0123456789abcdef';
const CYCLES = 4;
const PER_CYCLE = 25;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const standbys: Standby[] = [];
afterEach(async () => {
  for (const s of standbys.splice(0)) await s.close();
});

function workdir(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'dingkit-hookkill-'));
  dirs.push(cwd);
  writeFileSync(
    join(cwd, 'dingkit.config.json'),
    JSON.stringify({
      server: { port: 0 },
      emulator: { port: 0 },
      gateways: {
        flushMs: 50,
        routes: [
          {
            name: 'am',
            kind: 'alertmanager',
            auth: { type: 'bearer', token: TOKEN },
            targets: { groups: ['ops'] },
          },
        ],
      },
    }),
  );
  return cwd;
}

function standby(cwd: string, script: string): Standby {
  const s = new Standby(script, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
  });
  s.warm(1);
  standbys.push(s);
  return s;
}

interface Target {
  base: string;
  child: ChildProcessWithoutNullStreams;
}

async function start(s: Standby): Promise<Target> {
  const child = s.start({ args: ['serve', '--json', '--log', 'json', '--no-demo'] });
  s.warm(1);
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
      const b = JSON.parse(out) as { dashboard: string };
      return { base: b.dashboard.replace(/\/$/, ''), child };
    } catch {
      if (child.exitCode !== null || Date.now() > end) {
        child.kill('SIGKILL');
        throw new Error(`did not start: ${err.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function kill(t: Target): Promise<void> {
  if (t.child.exitCode !== null) return;
  const dead = new Promise<void>((r) => t.child.once('exit', () => r()));
  t.child.kill('SIGKILL');
  await dead;
}

/** Posts notifications of fresh alerts until `n` are answered 202, SIGKILLs at that instant. */
async function cycle(t: Target, c: number, n: number): Promise<string[]> {
  const accepted: string[] = [];
  let next = 0;
  let killed = false;
  const dead = new Promise<void>((r) => t.child.on('exit', () => r()));
  const worker = async () => {
    while (!killed) {
      const fp = `c${c}-a${next++}`;
      try {
        const res = await fetch(`${t.base}/hooks/am`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(amBody([{ name: 'KillMe', fp }], `group-${fp}`)),
        });
        if (killed) return;
        if (res.status !== 202) throw new Error(`unexpected ${res.status}: ${await res.text()}`);
        await res.body?.cancel();
        accepted.push(fp);
        if (accepted.length >= n) {
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
    t.child.kill('SIGKILL');
    throw e;
  }
  await dead;
  return accepted;
}

async function storedFingerprints(cwd: string): Promise<Set<string>> {
  const lossy = join(cwd, 'lossy-hooks.jsonl');
  if (existsSync(lossy)) {
    const lines = readFileSync(lossy, 'utf8').split('\n').filter(Boolean);
    return new Set(lines.flatMap((l) => JSON.parse(l) as string[]));
  }
  const store = await openStore({ url: join(cwd, 'data', 'dingkit.db') });
  try {
    const rows = await store.db.selectFrom('hook_items').select('fingerprint').execute();
    return new Set(rows.map((r) => r.fingerprint ?? ''));
  } finally {
    await store.close();
  }
}

describe('a hook’s 202 means durable (kill -9)', () => {
  it(`${CYCLES * PER_CYCLE} accepted notifications over ${CYCLES} SIGKILLs: all in the store, all sent after a restart`, async () => {
    const cwd = workdir();
    const s = standby(cwd, SERVE);
    const accepted: string[] = [];
    for (let c = 0; c < CYCLES; c++) accepted.push(...(await cycle(await start(s), c, PER_CYCLE)));
    expect(accepted).toHaveLength(CYCLES * PER_CYCLE);
    const stored = await storedFingerprints(cwd);
    expect(accepted.filter((fp) => !stored.has(fp))).toEqual([]);

    // A restarted hub flushes what the kills left pending: every accepted alert ends in an outbox message.
    const t = await start(s);
    try {
      const url = join(cwd, 'data', 'dingkit.db');
      await waitFor(
        async () => {
          const store = await openStore({ url, migrate: false });
          try {
            const rows = await store.db
              .selectFrom('hook_items')
              .select(['fingerprint', 'state', 'message_id'])
              .execute();
            const done = new Set(
              rows.filter((r) => r.state === 'sent' && r.message_id).map((r) => r.fingerprint),
            );
            return rows.every((r) => r.state !== 'pending') && accepted.every((fp) => done.has(fp));
          } finally {
            await store.close();
          }
        },
        // The gateway spends at most half of the ops robot's budget (19 a minute) in any minute and gathers the
        // rest into a digest (docs/gateways.md "Storms"): after four fast cycles the digest may wait for the
        // robot's 60 s window to move, so up to a window and a margin.
        90_000,
        'every accepted alert sent',
      );
    } finally {
      await kill(t);
    }
  }, 240_000);

  it('twin: a server that answers before it writes loses alerts, and the same check sees it', async () => {
    const cwd = workdir();
    const s = standby(cwd, LOSSY);
    const accepted: string[] = [];
    for (let c = 0; c < 2; c++) accepted.push(...(await cycle(await start(s), c, PER_CYCLE)));
    const stored = await storedFingerprints(cwd);
    expect(accepted.filter((fp) => !stored.has(fp)).length).toBeGreaterThan(0);
  }, 120_000);
});
