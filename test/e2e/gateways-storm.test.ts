/**
 * An alert storm: 1,000 alerts posted within a few seconds (100 requests of 10), over four Alertmanager groups, routed to two groups
 * served by custom robots under the emulator's real limit on a scaled window (20 per 2 s: DingTalk's 20 a minute,
 * docs/dingtalk.md §2.6, 30x faster). The hub's robot budget is 19 per window and the gateway's share half of it.
 *
 * Every alert must be accounted for in what reached the groups (a single message counts one, a digest its
 * number), none twice; no robot may go over the emulator's limit in any sliding window, and the emulator must
 * never have answered a throttle. Twin: with the gateway's gates opened (no budget share, no in-flight bound)
 * the same storm makes more messages in a window than the robot may send in it, so they pile up behind the
 * limiter: the gates are what turn a storm into digests.
 */

import { describe, expect, it } from 'vitest';
import { maxPerWindow } from '../chaos/hub-chaos-support.js';
import { accounted, amBody, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, OPS, PRODUCT, startTestHub, waitFor } from './hub-helpers.js';

const WINDOW_MS = 2_000;
const EMULATOR_LIMIT = 20;
const ALERTS = 1_000;
const PER_REQUEST = 10;

function config(gates: { budgetShare?: number; maxInFlight?: number } = {}) {
  return gatewayConfig(
    { flushMs: 20, ...gates },
    {
      rules: [
        { match: { severity: 'critical' }, targets: { groups: ['ops'] } },
        { match: { severity: 'warning' }, targets: { groups: ['product'] } },
      ],
    },
  );
}

/**
 * Posts the storm. After each request the test waits for the gateway's flush round, as a hub fast enough to flush
 * between arrivals would: the hardest case for the gates (a slower hub would gather more into each round anyway).
 */
async function storm(post: ReturnType<typeof hookApp>['post'], flush: () => Promise<number>): Promise<void> {
  for (let r = 0; r < ALERTS / PER_REQUEST; r++) {
    const group = r % 4;
    const alerts = Array.from({ length: PER_REQUEST }, (_, k) => {
      const n = r * PER_REQUEST + k;
      return {
        name: `Storm${group}`,
        fp: `storm-${n}`,
        labels: { severity: group < 2 ? 'critical' : 'warning', instance: `node-${n}` },
      };
    });
    const res = await post('/hooks/am', amBody(alerts, `storm-group-${group}`));
    if (res.status !== 202) throw new Error(`request ${r}: ${res.status}`);
    await flush();
  }
}

const emulatorLimits = { robotLimit: EMULATOR_LIMIT, robotWindowMs: WINDOW_MS, robotPenaltyMs: WINDOW_MS };

for (const backend of backends) {
  describe.skipIf(backend.skip)(`an alert storm (${backend.name})`, () => {
    it('1,000 alerts in a burst → digests within each robot’s budget, every alert counted once', async () => {
      const cfg = config();
      cfg.dispatcher.robotBudget = { limit: 19, windowMs: WINDOW_MS };
      const f = await startTestHub(backend, { config: cfg, emulator: { limits: emulatorLimits } });
      try {
        const { post } = hookApp(f.hub);
        const started = Date.now();
        await storm(post, () => f.hub.gateways!.flush());
        const stormMs = Date.now() - started;
        const emu = f.hub.emulator!;
        await waitFor(
          () => accounted(emu, OPS).alerts >= ALERTS / 2 && accounted(emu, PRODUCT).alerts >= ALERTS / 2,
          8 * WINDOW_MS + stormMs,
          'every alert accounted for',
        );
        // Exactly: a few more rounds would show an alert counted twice.
        await f.hub.gateways!.flush();
        const ops = accounted(emu, OPS);
        const product = accounted(emu, PRODUCT);
        expect([ops.alerts, product.alerts]).toEqual([ALERTS / 2, ALERTS / 2]);
        const sends = emu.requests({ route: 'POST /robot/send' });
        expect(sends.filter((r) => r.code !== 0).map((r) => r.code)).toEqual([]);
        for (const [, peak] of maxPerWindow(sends, WINDOW_MS))
          expect(peak).toBeLessThanOrEqual(EMULATOR_LIMIT);
        // The gateway's share of each robot's window (9 of 19), over the windows the storm and its tail took.
        const windows = Math.ceil((Date.now() - started) / WINDOW_MS) + 1;
        for (const g of [ops, product]) expect(g.messages).toBeLessThanOrEqual(9 * windows);
        expect(await f.hub.gateways!.hooks.counts()).toMatchObject({ sent: ALERTS });
        console.info(
          `[gateway storm ${backend.name}] ${ALERTS} alerts posted in ${stormMs} ms → ops ${ops.messages} messages, product ${product.messages}; busiest robot window ${Math.max(...maxPerWindow(sends, WINDOW_MS).values())}`,
        );
      } finally {
        await f.cleanup();
      }
    }, 60_000);

    it('twin: with the gates open, the storm makes more messages in a window than the robot may send', async () => {
      const cfg = config({ budgetShare: 1_000, maxInFlight: 10_000 });
      cfg.dispatcher.robotBudget = { limit: 19, windowMs: WINDOW_MS };
      const f = await startTestHub(backend, { config: cfg, emulator: { limits: emulatorLimits } });
      try {
        const { post } = hookApp(f.hub);
        await storm(post, () => f.hub.gateways!.flush());
        await f.hub.gateways!.flush();
        const made = await f.hub.store.db
          .selectFrom('messages')
          .select('id')
          .where('kind', '=', 'hook')
          .execute();
        // Two robots, each allowed 19 in a window: far more were made in about one window.
        expect(made.length).toBeGreaterThan(2 * EMULATOR_LIMIT);
      } finally {
        await f.cleanup();
      }
    }, 60_000);
  });
}
