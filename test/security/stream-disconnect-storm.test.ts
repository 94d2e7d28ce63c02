/**
 * Disconnect storm: a Stream gateway (over loopback) that answers every connect with SYSTEM `disconnect` must not
 * get a reconnect storm. A `disconnect` on a connection that has not yet proved healthy backs off like a close
 * does, and the failure streak rises.
 *
 * Scaled clock: every window is 1/100 of its default (backoff 1 s → 60 s becomes 10 → 600 ms, healthyAfterMs
 * 10 s becomes 100 ms), so one simulated minute is 600 ms of wall time. Two counts: the connects the gateway saw
 * within that wall-clock window (real loopback I/O only adds time, so a busy machine can only lower it), and the
 * connects that fit in one minute by the client's own schedule (the reconnect delays it announced), which does not
 * depend on the machine at all. The twin shows the count the same gateway gets without the backoff.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { StateChange, StreamClient } from '../../src/stream/index.js';
import { FakeGateway } from '../support/stream/fake-gateway.js';
import { fastClient, sleep } from '../support/stream/harness.js';
import { waitFor } from '../support/wait-for.js';

const SCALE = 100;
const MINUTE_MS = 60_000 / SCALE;

let gw: FakeGateway | undefined;
let client: StreamClient | undefined;

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await gw?.close();
  gw = undefined;
});

/** How many connects fit in one simulated minute if each waits the delay the client announced before it. */
function scheduledPerMinute(states: StateChange[], connects: number): number {
  const delays = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs ?? 0);
  let at = 0;
  let n = 1; // the first connect, at 0
  for (const d of delays.slice(0, connects - 1)) {
    at += d;
    if (at > MINUTE_MS) break;
    n++;
  }
  return n;
}

async function stormGateway(backoff: { initialMs: number; maxMs: number }, states: StateChange[]) {
  const g = await new FakeGateway({ disconnectAfterOpen: () => true }).listen();
  gw = g;
  const c = fastClient(g, {
    backoff: { ...backoff, jitter: 0 },
    healthyAfterMs: 10_000 / SCALE,
    onState: (s) => states.push(s),
  });
  client = c;
  return { g, c };
}

describe('a gateway that sends disconnect right after every connect', () => {
  it('gets at most 10 connects per simulated minute, with growing delays and a rising failure streak', async () => {
    const states: StateChange[] = [];
    const { g, c } = await stormGateway({ initialMs: 1_000 / SCALE, maxMs: 60_000 / SCALE }, states);
    await c.start();
    // The minute starts at the first connect; 40 ms steps (house rule: no sleep over 50 ms) until it is over.
    const t0 = g.conns[0]!.openedAt;
    while (Date.now() - t0 < MINUTE_MS) await sleep(40);
    const seen = g.conns.filter((x) => x.openedAt - t0 <= MINUTE_MS).length;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThanOrEqual(10);
    // On a slow machine fewer steps fit in the window; the streak is then awaited rather than assumed.
    await waitFor(() => c.stats().failureStreak >= 4, 3_000, 'a failure streak of 4');
    expect(scheduledPerMinute(states, g.conns.length)).toBeLessThanOrEqual(10);
    expect(c.stats().rotations).toBeGreaterThanOrEqual(4);
    const reconnecting = states.filter((s) => s.state === 'reconnecting');
    expect(reconnecting.slice(0, 4).map((s) => s.delayMs)).toEqual([10, 20, 40, 80]);
    expect(reconnecting.slice(0, 4).map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
    // One attempt at a time: never more than the live socket and the one being replaced.
    expect(g.maxOpen).toBeLessThanOrEqual(2);
  });

  it('twin: with the backoff at zero the same gateway gets more than 10 connects per simulated minute', async () => {
    const states: StateChange[] = [];
    const { g, c } = await stormGateway({ initialMs: 0, maxMs: 0 }, states);
    await c.start();
    await g.waitFor(() => g.conns.length >= 12, 5_000, '12 connects');
    await c.stop();
    expect(scheduledPerMinute(states, g.conns.length)).toBeGreaterThan(10);
  });

  it('a rotation after the connection proved healthy still reconnects at once (no backoff for a planned one)', async () => {
    const g = await new FakeGateway().listen();
    gw = g;
    const states: StateChange[] = [];
    client = fastClient(g, {
      backoff: { initialMs: 400, maxMs: 400, jitter: 0 },
      healthyAfterMs: 30,
      onState: (s) => states.push(s),
    });
    await client.start();
    await sleep(45);
    const t0 = Date.now();
    g.disconnect();
    await g.waitFor(() => g.conns.length === 2, 1_000, 'replacement');
    expect(Date.now() - t0).toBeLessThan(300);
    expect(states.some((s) => s.state === 'reconnecting')).toBe(false);
    expect(client.stats().failureStreak).toBe(0);
  });
});
