/**
 * Retries under faults, with a real hub process: the emulator fails 30 % of the send calls
 * with 5xx, throttles, TCP resets before and after reading the request, and hangs past the client timeout (for
 * hangs and late resets it applies the message first on a seeded half). Every message must end delivered or
 * parked, and reach the emulator at most once — exactly once when delivered. The emulator's fault log accounts
 * for each message: recorded messages = sends answered ok + faults whose effect was applied.
 *
 * Channels: custom robots (webhook with `msgUuid`: ambiguous failures are retried, DingTalk drops the repeat)
 * and the app robot (`groupMessages/send`, no key: ambiguous failures are parked). Webhook throttles are left
 * out of the plan: DingTalk's answer is a 10-minute block of the robot (docs/dingtalk.md §2.6), which the hub honours
 * and a bounded test cannot wait for; the app robot's QPS throttle is in.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { backends } from '../conformance/backends.js';
import {
  account,
  apiPost,
  CHAOS,
  chaosOrg,
  drained,
  type HubProcess,
  hubStandby,
  kill9,
  pool,
  productionConfig,
  spawnHub,
  tagOf,
} from './hub-chaos-support.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

describe('a hub process against an emulator failing 30 % of the calls (SQLite, real process)', () => {
  let hub: HubProcess | undefined;
  let emu: Emulator | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let stopStandby: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stopStandby?.();
    if (hub) await kill9(hub);
    await emu?.close();
    await cleanup?.();
  });

  it(
    'every message ends delivered or parked, exactly once at the emulator, each fault accounted for',
    async () => {
      const { webhookMessages: W, appMessages: A, robots } = CHAOS.faults;
      const standby = hubStandby();
      standby.warm(1); // loads its modules while the emulator and the store are set up
      stopStandby = () => standby.close();
      emu = await startEmulator({
        port: 0,
        seed: CHAOS.seed,
        fixture: chaosOrg(robots, A),
        limits: { robotLimit: 1_000_000, robotWindowMs: 1_000 },
      });
      emu.setFaults({
        seed: CHAOS.seed,
        rules: [
          {
            route: 'POST /robot/send',
            resetBefore: 0.05,
            error5xx: 0.15,
            hang: 0.04,
            resetAfter: 0.06,
            acceptFirst: 0.5,
          },
          {
            route: 'POST /v1.0/robot/groupMessages/send',
            resetBefore: 0.04,
            error5xx: 0.12,
            throttle: 0.06,
            hang: 0.03,
            resetAfter: 0.05,
            acceptFirst: 0.5,
          },
        ],
      });
      const fresh = await sqlite.fresh();
      const store = await fresh.open();
      cleanup = fresh.cleanup;
      const { token } = await createApiToken(new StoreApiTokens(store), 'chaos', ['send']);
      hub = await spawnHub(
        {
          // A hang costs one send timeout: 4 s instead of the production 10 s, still far above the emulator's
          // answer time on a loaded machine (a timeout without a fault would show in the accounting below). The
          // lease stays above it (the config refuses otherwise), so a hanging send is never taken over in flight.
          // Retries start at 250 ms instead of 1 s: the schedule is scaled, the number of attempts is not.
          config: productionConfig(
            emu,
            robots,
            {
              leaseMs: 8_000,
              sendTimeoutMs: 4_000,
              retryBaseMs: 250,
              maxAttempts: 12,
              robotBudget: { limit: 100_000, windowMs: 1_000 },
            },
            A,
          ),
          databaseUrl: fresh.url,
          receive: false,
        },
        { standby },
      );
      const h = hub;
      const tags = [
        ...Array.from({ length: W }, (_, i) => `w${i}`),
        ...Array.from({ length: A }, (_, i) => `p${i}`),
      ];
      await pool(tags, 8, async (tag) => {
        const i = Number(tag.slice(1));
        const group = tag.startsWith('w') ? `g${i % robots}` : `p${i}`;
        const r = await apiPost(h.url, token, '/v1/messages', {
          group,
          text: `[chaos:${tag}] fault run ${tag}`,
        });
        expect(r.status, JSON.stringify(r.body)).toBe(202);
      });
      const rows = await drained(store, W + A, CHAOS.faults.drainMs);

      const byStatus = (s: string) => rows.filter((r) => r.status === s).map((r) => tagOf(r.payload));
      const sent = byStatus('sent');
      const parked = byStatus('parked');
      const acc = account(emu.messages(), tags);
      const recorded = new Set(tags.filter((t) => !acc.missing.includes(t)));
      const log = emu.faultLog();
      const kinds: Record<string, number> = {};
      for (const f of log) {
        const k = `${f.kind}${f.accepted ? '+applied' : ''}`;
        kinds[k] = (kinds[k] ?? 0) + 1;
      }
      const requests = emu.requests().filter((r) => r.route.endsWith('/send'));
      console.info(
        `[chaos b] ${W} webhook + ${A} app-robot messages, ${requests.length} send calls, ${log.length} faults ` +
          `(${JSON.stringify(kinds)}): ${sent.length} sent, ${parked.length} parked ` +
          `(${parked.filter((t) => recorded.has(t)).length} of them had reached DingTalk: ${parked.join(' ') || '-'}), ` +
          `${acc.duplicates.length} duplicates`,
      );

      // Every message ends delivered or parked; nothing dead, nothing stuck.
      expect(rows.filter((r) => r.status !== 'sent' && r.status !== 'parked').map((r) => r.status)).toEqual(
        [],
      );
      expect(sent.length + parked.length).toBe(W + A);
      // Exactly once at the emulator when delivered, at most once when parked.
      expect(acc.duplicates).toEqual([]);
      for (const t of sent) expect(recorded.has(t), `sent ${t} recorded`).toBe(true);
      // Only the app robot's ambiguous failures park (webhook sends are retried under msgUuid)...
      expect(parked.every((t) => t.startsWith('p'))).toBe(true);
      // Fault log accounting. To the client every fault that cuts a written request off is ambiguous: a hang, a
      // reset after reading, and also a reset before reading, since the request bytes were already written when
      // the socket died (the library says `unknown`; only a refused connection is `not_sent`). An app send cut
      // off so is parked at once and never retried, so the parked sends are exactly those faults, one each...
      const ambiguous = (route: string) =>
        log.filter(
          (f) =>
            f.route === route && (f.kind === 'hang' || f.kind === 'reset_after' || f.kind === 'reset_before'),
        );
      const ambiguousApp = ambiguous('POST /v1.0/robot/groupMessages/send');
      const bySeq = new Map(emu.messages().map((m) => [m.seq, m]));
      const tagOfFault = (f: (typeof log)[number]) =>
        f.message === undefined ? undefined : tagOf(bySeq.get(f.message)?.text ?? '');
      expect(parked.length).toBe(ambiguousApp.length);
      // ...a parked send reached DingTalk exactly when its fault was applied first...
      const appliedApp = ambiguousApp.filter((f) => f.accepted).map(tagOfFault);
      expect(new Set(appliedApp)).toEqual(new Set(parked.filter((t) => recorded.has(t))));
      // ...and a webhook send whose fault was applied first was retried and dropped by DingTalk under its msgUuid:
      // it ends sent, recorded once (no duplicates, checked above). An applied fault without a message is a retry
      // DingTalk had already taken under the same msgUuid.
      for (const f of ambiguous('POST /robot/send').filter((x) => x.accepted && x.message !== undefined)) {
        expect(sent).toContain(tagOfFault(f));
      }
      // The plan really fired every kind it names.
      for (const k of ['error_5xx', 'reset_before', 'hang', 'reset_after', 'throttle']) {
        expect(
          log.some((f) => f.kind === k),
          `fault ${k} fired`,
        ).toBe(true);
      }
    },
    60_000 + CHAOS.faults.drainMs,
  );
});
