/**
 * Nothing lost and nothing sent twice under kill -9, with real processes: a hub process (`hub-runner.ts`: store →
 * `startHub` → HTTP API, as `dingkit serve` runs it) on SQLite, with a production config pointed at an emulator
 * this test started, is killed with SIGKILL at seeded points while messages are queued through its HTTP API,
 * and restarted each time. One kill lands during the enqueue: the client retries its unanswered requests with
 * the same `Idempotency-Key` on the restarted hub.
 *
 * Channel: the groups' custom robots, which the library sends with `msgUuid` (docs/dingtalk.md §2.1), so a send cut
 * off by a kill is retried and DingTalk drops the repeat. App-robot sends (no idempotency key) are not used
 * here: a cut-off one is parked for an operator and, by design, blocks the later messages of its conversation
 * until redriven (docs/store.md), so a run could not drain on its own; proof (b) covers their parking.
 *
 * Oracle (the emulator's recorded messages, each tagged `[chaos:<tag>]`): every message accepted by the API
 * ends `sent` or `parked`; every sent one was recorded exactly once; no tag was recorded twice; sent + parked
 * equals the number of messages; parked ones are listed with whether DingTalk had in fact got them.
 */

import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/emulator.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import type { Store } from '../../src/store/open-store.js';
import { backends } from '../conformance/backends.js';
import {
  account,
  apiPost,
  CHAOS,
  chaosOrg,
  chaosScene,
  kill9,
  pool,
  productionConfig,
  seeded,
  spawnHub,
} from './hub-chaos-support.js';
import type { RunnerInput } from './hub-runner.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill -9 of a hub process under thousands of queued messages (SQLite, real processes)', () => {
  const scene = chaosScene();
  const { procs, standby } = scene;

  it(
    '0 lost, 0 duplicated at the emulator; parked unknowns listed; sent + parked = all',
    async () => {
      const { messages: N, robots, kills, leaseMs, sendTimeoutMs } = CHAOS.kill;
      const rnd = seeded(CHAOS.seed);
      // The first hub loads its modules while the emulator and the store are set up; each later one while its
      // predecessor runs (standby.ts).
      standby.warm(1);
      const emu = await startEmulator({
        port: 0,
        seed: CHAOS.seed,
        fixture: chaosOrg(robots),
        // Limits out of the way: this test is about crashes, (c) is about budgets.
        limits: { robotLimit: 1_000_000, robotWindowMs: 1_000 },
      });
      scene.emu = emu;
      const fresh = await sqlite.fresh();
      const store: Store = await fresh.open();
      scene.cleanup = fresh.cleanup;
      const { token } = await createApiToken(new StoreApiTokens(store), 'chaos', ['send']);
      const input: RunnerInput = {
        config: productionConfig(emu, robots, {
          leaseMs,
          sendTimeoutMs,
          maxAttempts: 50,
          robotBudget: { limit: 100_000, windowMs: 1_000 },
        }),
        databaseUrl: fresh.url,
        receive: false,
      };

      let hub = await spawnHub(input, { standby });
      procs.push(hub);
      let restarts = 0;
      if (restarts < kills) standby.warm(1);
      let restarting: Promise<void> | undefined;
      const restart = async () => {
        await kill9(hub);
        hub = await spawnHub(input, { standby });
        procs.push(hub);
        if (++restarts < kills) standby.warm(1);
      };
      const killNow = () => {
        restarting ??= restart().finally(() => {
          restarting = undefined;
        });
        return restarting;
      };

      // Enqueue through the HTTP API; kill #1 lands once a seeded share of the requests was answered.
      const tags = Array.from({ length: N }, (_, i) => `a${i}`);
      const killDuringEnqueueAt = Math.floor(N * (0.2 + 0.5 * rnd()));
      let answered = 0;
      let retriedRequests = 0;
      await pool(tags, 8, async (tag) => {
        const i = Number(tag.slice(1));
        const body = {
          group: `g${i % robots}`,
          text: `[chaos:${tag}] message ${i} of ${N}`,
        };
        for (let attempt = 0; ; attempt++) {
          if (attempt > 0) retriedRequests++;
          await restarting;
          try {
            const r = await apiPost(hub.url, token, '/v1/messages', body, { 'idempotency-key': tag });
            if (r.status === 202 || r.status === 200) break;
            throw new Error(`API answered ${r.status}: ${JSON.stringify(r.body)}`);
          } catch (e) {
            // Connection refused / reset by the kill: retry on the restarted hub (same key, so never twice).
            if (attempt > 20 || (e as Error).message.startsWith('API answered')) throw e;
            await sleep(50);
          }
        }
        if (++answered === killDuringEnqueueAt) void killNow();
      });
      await restarting;

      // The remaining kills at seeded points of the delivery, measured by what the emulator has recorded.
      const base = emu.messages().length;
      const points = Array.from({ length: kills - 1 }, () =>
        Math.floor(base + (N - base) * (0.05 + 0.75 * rnd())),
      ).sort((a, b) => a - b);
      for (const at of points) {
        const deadline = Date.now() + 90_000;
        while (emu.messages().length < at && Date.now() < deadline) await sleep(10);
        await killNow();
      }

      // Drain: nothing queued or sending (expired leases are reclaimed by the live hub).
      const deadline = Date.now() + CHAOS.kill.drainMs;
      let rows: { id: number; status: string; payload: string; attempts: number }[] = [];
      while (Date.now() < deadline) {
        rows = await store.db
          .selectFrom('deliveries')
          .select(['id', 'status', 'payload', 'attempts'])
          .execute();
        if (rows.length === N && rows.every((r) => r.status !== 'queued' && r.status !== 'sending')) break;
        await sleep(200);
      }
      const tagOf = (payload: string) => /\[chaos:([^\]]+)\]/.exec(payload)?.[1] ?? '?';
      const sent = rows.filter((r) => r.status === 'sent').map((r) => tagOf(r.payload));
      const parked = rows.filter((r) => r.status === 'parked').map((r) => tagOf(r.payload));
      const other = rows.filter((r) => r.status !== 'sent' && r.status !== 'parked');
      const acc = account(emu.messages(), tags);
      const recorded = new Set(tags.filter((t) => !acc.missing.includes(t)));
      const parkedButDelivered = parked.filter((t) => recorded.has(t));
      // Sends DingTalk answered ok beyond one per message: retries of cut-off sends dropped under their msgUuid.
      const okSends = emu.requests({ route: 'POST /robot/send' }).filter((r) => r.code === 0).length;

      console.info(
        `[chaos a] ${N} messages, ${kills} kills (1 during enqueue at ${killDuringEnqueueAt}, then at ${points.join(', ')} recorded), ` +
          `${retriedRequests} API requests retried: ${sent.length} sent, ${parked.length} parked ` +
          `(${parkedButDelivered.length} of them had reached DingTalk: ${parked.join(' ') || '-'}), ` +
          `${acc.duplicates.length} duplicates, ${acc.delivered} distinct at the emulator, ` +
          `${okSends - acc.delivered} repeats dropped by msgUuid`,
      );
      expect(other.map((r) => r.status)).toEqual([]);
      expect(rows.length).toBe(N);
      expect(sent.length + parked.length).toBe(N);
      expect(acc.duplicates).toEqual([]);
      for (const t of sent) expect(recorded.has(t), `sent ${t} recorded`).toBe(true);
      // Webhook sends carry msgUuid, so a send cut off by a kill is retried, never parked.
      expect(parked).toEqual([]);
      // Nothing the emulator recorded is unaccounted for: recorded = sent + parked-but-delivered.
      expect(acc.delivered).toBe(sent.length + parkedButDelivered.length);
    },
    60_000 + 2 * CHAOS.kill.drainMs,
  );
});

describe('the oracle of the kill test', () => {
  it('reports a duplicate and a loss when the recorded messages have them (twin)', () => {
    const acc = account(
      [{ text: '[chaos:a0] x' }, { text: '[chaos:a0] x' }, { text: '[chaos:a2] x' }],
      ['a0', 'a1', 'a2'],
    );
    expect(acc.duplicates).toEqual([['a0', 2]]);
    expect(acc.missing).toEqual(['a1']);
    expect(acc.delivered).toBe(2);
  });
});
