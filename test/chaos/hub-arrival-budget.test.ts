/**
 * The robot budget holds at DingTalk's side when requests arrive late. DingTalk
 * counts a message when it arrives, not when the hub claimed it: a send that sits in a socket queue, a slow
 * connect or a slow server reaches the robot's window late. Here the emulator's `latency` fault holds the first
 * wave of sends for most of a (scaled) window before its handler counts them, then the fault is lifted, so the
 * next wave arrives at once. A hub whose budget hits keep their claim stamps frees the next wave one window after
 * the claims, and the emulator sees two waves inside one of its windows; the hub must instead count each hit
 * from when its send completed (limiter.ts, dispatcher.ts). Oracle: the sliding-window check of
 * hub-budget.test.ts over the times the emulator's handler ran (request start + its duration, which holds the
 * injected latency), and the emulator's own throttle answers. On SQLite and PostgreSQL.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { parseConfig } from '../../src/hub/config.js';
import { type RunningHub, startHub } from '../../src/hub/hub.js';
import { backends } from '../conformance/backends.js';
import {
  CHAOS,
  chaosOrg,
  drained,
  maxPerWindow,
  openRetrying,
  pool,
  productionConfig,
} from './hub-chaos-support.js';

const robots = 3;
const perRobot = 60;
/** Ordered lanes per robot: more than the budget, so a whole window's worth of sends can be in flight at once. */
const lanes = 20;
const { windowMs, hubLimit, emulatorLimit } = CHAOS.budget;
/** Most of the window: the first wave's hits would free (claim + window + guard) soon after it arrives. */
const latencyMs = 1_300;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`late arrivals against the robot budget (${backend.name})`, () => {
    let emu: Emulator | undefined;
    let hub: RunningHub | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await hub?.stop();
      await emu?.close();
      await cleanup?.();
      hub = undefined;
      emu = undefined;
      cleanup = undefined;
    });

    /**
     * Starts the emulator with the latency fault and the hub, queues the messages, and lifts the fault once the
     * first wave (a full budget per robot) was held and answered, so the next window's sends arrive the moment
     * they leave.
     */
    async function run(stampArrival: boolean) {
      emu = await startEmulator({
        port: 0,
        seed: CHAOS.seed,
        fixture: chaosOrg(robots),
        limits: { robotLimit: emulatorLimit, robotWindowMs: windowMs, robotPenaltyMs: windowMs },
      });
      const e = emu;
      const fresh = await backend.fresh();
      cleanup = fresh.cleanup;
      const store = await openRetrying(() => fresh.open());
      const config = parseConfig(
        productionConfig(
          e,
          robots,
          {
            workers: robots * lanes,
            leaseMs: 12_000,
            sendTimeoutMs: 10_000,
            robotBudget: { limit: hubLimit, windowMs },
            stampArrival,
          },
          0,
          lanes,
        ),
        {},
      );
      const sends = () => e.requests({ route: 'POST /robot/send' });
      // Every send that reaches the emulator from now until the fault is lifted waits `latencyMs` first.
      e.setFaults({ rules: [{ route: 'POST /robot/send', latencyMs }] });
      hub = await startHub({ config, store, receive: false });
      const h = hub;
      // Message i goes to robot i % robots, lane floor(i / robots) % lanes: the first wave fills distinct lanes.
      const lane = (i: number) => {
        const k = Math.floor(i / robots) % lanes;
        return k === 0 ? `g${i % robots}` : `g${i % robots}l${k}`;
      };
      const jobs = Array.from({ length: robots * perRobot }, (_, i) => i);
      const queued = pool(jobs, 8, async (i) => {
        await h.sendMessage({ group: lane(i), text: `[chaos:late${i}] late arrivals` }, { by: 't' });
      });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && sends().length < robots * hubLimit)
        await new Promise((r) => setTimeout(r, 10));
      e.setFaults({});
      await queued;
      return { e, store, sends };
    }

    /** The busiest window per robot at the times the emulator's handler counted the sends, and what it refused. */
    function oracle(e: Emulator, label: string) {
      const all = e.requests({ route: 'POST /robot/send' });
      const worst = maxPerWindow(
        all.map((r) => ({ robot: r.robot, at: r.at + r.durationMs })),
        windowMs,
      );
      const peak = Math.max(...worst.values());
      const throttled = all.filter((r) => r.code !== 0);
      // (A timer may fire a millisecond before the clock the emulator reads says it is due.)
      const held = all.filter((r) => r.durationMs >= latencyMs - 5).length;
      console.info(
        `[late arrivals ${backend.name}${label}] ${held} sends held ${latencyMs} ms; busiest window ${peak} ` +
          `(hub budget ${hubLimit}, emulator limit ${emulatorLimit} per ${windowMs} ms), ${throttled.length} throttles`,
      );
      return { worst, peak, throttled, held };
    }

    it('a wave held by server latency and the next wave never share one of the emulator windows', async () => {
      const { e, store } = await run(true);
      const rows = await drained(store, robots * perRobot, 60_000);
      const { worst, throttled, held } = oracle(e, '');
      // The scenario happened: a whole first wave per robot was held by the fault.
      expect(held).toBeGreaterThanOrEqual(robots * hubLimit);
      for (const [robot, n] of worst) expect(n, `robot ${robot}`).toBeLessThanOrEqual(emulatorLimit);
      expect(throttled.map((r) => r.code)).toEqual([]);
      expect(rows.filter((r) => r.status !== 'sent').map((r) => r.status)).toEqual([]);
    }, 120_000);

    it('twin: with hits kept at their claim stamps the same check finds the two waves in one window', async () => {
      const { e, sends } = await run(false);
      // Wait for the second wave (it goes out one window and guard after the first claims) and a little more.
      const deadline = Date.now() + 10_000;
      const refused = () => sends().some((r) => r.code !== 0);
      while (Date.now() < deadline && sends().length < 2 * robots * hubLimit && !refused())
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const { peak, throttled, held } = oracle(e, ' twin');
      expect(held).toBeGreaterThanOrEqual(robots * hubLimit);
      expect(peak).toBeGreaterThan(emulatorLimit);
      expect(throttled.length).toBeGreaterThan(0);
    }, 60_000);
  });
}
