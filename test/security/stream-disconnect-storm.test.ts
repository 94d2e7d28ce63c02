/**
 * Issue #9 item 7: a Stream gateway (over loopback) that answers every connect with SYSTEM `disconnect` must not
 * get a reconnect storm. A `disconnect` on a connection that has not yet proved healthy backs off like a close
 * does, and the failure streak rises.
 *
 * Scaled clock: every window is 1/100 of its default (backoff 1 s → 60 s becomes 10 → 600 ms, healthyAfterMs
 * 10 s becomes 100 ms), so one simulated minute is 600 ms of wall time. Real loopback I/O only adds time, which
 * can only lower the count; the twin shows what the same gateway got before (a reconnect per round trip).
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { StateChange, StreamClient } from '../../src/stream/index.js';
import { FakeGateway } from '../../src/stream/testing/fake-gateway.js';
import { fastClient, sleep } from '../../src/stream/testing/harness.js';

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

/** Connects the gateway accepted within the first simulated minute after `start()`. */
async function stormMinute(
  backoff: { initialMs: number; maxMs: number },
  states: StateChange[] = [],
): Promise<{ connects: number; client: StreamClient; g: FakeGateway }> {
  const g = await new FakeGateway({ disconnectAfterOpen: () => true }).listen();
  gw = g;
  const c = fastClient(g, {
    backoff: { ...backoff, jitter: 0 },
    healthyAfterMs: 10_000 / SCALE,
    onState: (s) => states.push(s),
  });
  client = c;
  const t0 = Date.now();
  await c.start();
  // Sleeps in 40 ms steps (house rule: no sleep over 50 ms) until the simulated minute is over.
  while (Date.now() - t0 < MINUTE_MS) await sleep(40);
  const connects = g.conns.filter((x) => x.openedAt - t0 <= MINUTE_MS).length;
  return { connects, client: c, g };
}

describe('a gateway that sends disconnect right after every connect', () => {
  it('gets at most 10 connects per simulated minute, with growing delays and a rising failure streak', async () => {
    const states: StateChange[] = [];
    const {
      connects,
      client: c,
      g,
    } = await stormMinute({ initialMs: 1_000 / SCALE, maxMs: 60_000 / SCALE }, states);
    expect(connects).toBeGreaterThanOrEqual(3);
    expect(connects).toBeLessThanOrEqual(10);
    const stats = c.stats();
    expect(stats.rotations).toBeGreaterThanOrEqual(3);
    expect(stats.failureStreak).toBeGreaterThanOrEqual(3);
    const delays = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs ?? 0);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 80]);
    const attempts = states.filter((s) => s.state === 'reconnecting').map((s) => s.attempt ?? 0);
    expect(attempts.slice(0, 4)).toEqual([1, 2, 3, 4]);
    // One attempt at a time: never more than the live socket and the one being replaced.
    expect(g.maxOpen).toBeLessThanOrEqual(2);
  });

  it('twin: with the backoff at zero the same gateway sees a storm (the bound above is what holds it)', async () => {
    const { connects } = await stormMinute({ initialMs: 0, maxMs: 0 });
    expect(connects).toBeGreaterThan(10);
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
