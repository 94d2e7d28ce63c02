/**
 * Accept means durable: a process enqueues in a loop and reports each request as accepted when
 * `enqueue` resolves (when the API would answer 2xx); it is killed with SIGKILL at a random moment, several
 * times; every request it reported is in the store afterwards. Twin: a worker that reports before committing
 * loses some, so the check can fail.
 */

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backends } from '../conformance/backends.js';
import { Standby } from './standby.js';

const WORKER = fileURLToPath(new URL('./enqueue-worker.ts', import.meta.url));

/**
 * Starts a worker (a warm standby when one waits) and warms the next one when `warmNext`; kills the worker once it
 * has reported about `after` requests (plus a random slice); returns the keys it reported.
 */
function runAndKill(
  standby: Standby,
  go: [string, string, string],
  after: number,
  warmNext: boolean,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = standby.start(go);
    if (warmNext) standby.warm(1);
    child.stderr.on('data', () => {});
    const keys: string[] = [];
    let buf = '';
    let killed = false;
    const target = after + Math.floor(Math.random() * after);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('accepted ')) keys.push(l.slice('accepted '.length));
      if (!killed && keys.length >= target) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
    child.once('exit', () => resolve(keys));
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`accept means durable under kill -9 (${backend.name})`, () => {
    async function trial(mode: string): Promise<{ reported: number; missing: number }> {
      const standby = new Standby(WORKER);
      standby.warm(1);
      const f = await backend.fresh();
      try {
        const store = await f.open();
        let reported = 0;
        let missing = 0;
        for (let round = 0; round < 4; round++) {
          const keys = await runAndKill(standby, [f.url, f.schema ?? '-', mode], 60, round < 3);
          reported += keys.length;
          if (keys.length === 0) continue;
          const found = await store.db
            .selectFrom('messages')
            .select('idempotency_key')
            .where('idempotency_key', 'in', keys)
            .execute();
          missing += keys.length - found.length;
        }
        return { reported, missing };
      } finally {
        await standby.close();
        await f.cleanup();
      }
    }

    it('every request reported as accepted before the kill is in the store', async () => {
      const r = await trial('after-commit');
      expect(r.reported).toBeGreaterThanOrEqual(4 * 60);
      expect(r.missing).toBe(0);
      console.info(`[durable accept ${backend.name}] ${r.reported} accepted across 4 kills, 0 missing`);
    }, 120_000);

    it('twin: reporting before the commit loses requests at the kill', async () => {
      const r = await trial('before-commit');
      expect(r.missing).toBeGreaterThan(0);
    }, 120_000);
  });
}
