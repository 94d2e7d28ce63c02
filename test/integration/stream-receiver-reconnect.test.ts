/**
 * Connection lifecycle of StreamClient against the fake gateway: reconnect after a drop with a fresh ticket and
 * no lost pushes, backoff bounds with a refusing gateway, rotation on SYSTEM disconnect with one live
 * socket, and half-open detection. Time windows are scaled to tens of milliseconds.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { StateChange, StreamClient } from '../../src/stream/index.js';
import { FakeGateway, type FakeGatewayOptions } from '../support/stream/fake-gateway.js';
import { fastClient, gate, sleep } from '../support/stream/harness.js';
import { waitFor } from '../support/wait-for.js';

let gw: FakeGateway | undefined;
let client: StreamClient | undefined;

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await gw?.close();
  gw = undefined;
});

async function gateway(o: FakeGatewayOptions = {}): Promise<FakeGateway> {
  gw = await new FakeGateway(o).listen();
  return gw;
}

const status = (data: string) => (JSON.parse(data) as { status?: string }).status;

describe('dropped socket', () => {
  it('reconnects with a new ticket; pushes made during the gap and unacked ones arrive afterwards, each run once', async () => {
    const g = await gateway();
    client = fastClient(g);
    const runs = new Map<string, number>();
    const slow = gate();
    client.onEvent(async (e) => {
      const key = String(e.data['k']);
      runs.set(key, (runs.get(key) ?? 0) + 1);
      if (key === 'A') await slow.promise;
    });
    await client.start();
    const a = g.pushEvent({ k: 'A' });
    await waitFor(() => runs.get('A') === 1, 2_000);
    g.dropAll();
    await waitFor(() => client!.state !== 'connected', 2_000);
    const b = g.pushEvent({ k: 'B' });
    const c = g.pushEvent({ k: 'C' });
    await waitFor(() => client!.state === 'connected' && g.conns.length === 2, 2_000, 'reconnect');
    await g.waitForAck(b);
    await g.waitForAck(c);
    // A was re-pushed on the new socket while its first run was still going: not run again, and its ack moves
    // to the socket the gateway now expects it on.
    await waitFor(() => client!.stats().duplicatesInFlight === 1, 2_000);
    slow.open();
    const ackA = await g.waitForAck(a);
    expect(ackA.connId).toBe(2);
    expect(status(ackA.ack.data)).toBe('SUCCESS');
    expect(Object.fromEntries(runs)).toEqual({ A: 1, B: 1, C: 1 });
    expect(g.openCalls).toHaveLength(2);
    expect(g.openCalls[0]!.ticket).not.toBe(g.openCalls[1]!.ticket);
    expect(g.handshakes.map((h) => h.ticket)).toEqual(g.openCalls.map((o) => o.ticket));
    expect(client.stats().reconnects).toBe(1);
  });
});

describe('backoff', () => {
  /** Gaps between consecutive open calls. */
  const gaps = (g: FakeGateway) => g.openCalls.slice(1).map((o, i) => o.at - g.openCalls[i]!.at);
  /**
   * The client's waits: from each refused handshake to the next open call. Open-to-open gaps also hold the attempt
   * itself (an open call and a WebSocket upgrade), which a loaded machine stretched past the bound in CI.
   */
  const waits = (g: FakeGateway) => g.openCalls.slice(1).map((o, i) => o.at - g.handshakes[i]!.at);

  it('with refused handshakes: one attempt at a time, growing gaps capped at maxMs, each ticket used once', async () => {
    const g = await gateway({ refuseHandshake: () => true });
    client = fastClient(g, { backoff: { initialMs: 20, maxMs: 160, jitter: 0 } });
    void client.start().catch(() => {});
    await waitFor(() => g.openCalls.length >= 7, 3_000, '7 open calls');
    await client.stop();
    const d = waits(g).slice(0, 6);
    const nominal = [20, 40, 80, 160, 160, 160];
    for (let i = 0; i < d.length; i++) {
      expect(d[i]).toBeGreaterThanOrEqual(nominal[i]! - 2);
      // Capped: an uncapped wait would be 320 ms by the fifth; 150 ms of slack for a loaded event loop.
      expect(d[i]).toBeLessThan(nominal[i]! + 150);
    }
    expect(g.maxOpen).toBe(0);
    const tickets = g.handshakes.map((h) => h.ticket);
    expect(new Set(tickets).size).toBe(tickets.length);
    expect(client.stats().connectFailures).toBeGreaterThanOrEqual(6);
  });

  it('twin: without backoff (initialMs 0) the same gateway sees a storm of open calls', async () => {
    const g = await gateway({ refuseHandshake: () => true });
    client = fastClient(g, { backoff: { initialMs: 0, maxMs: 0, jitter: 0 } });
    void client.start().catch(() => {});
    await waitFor(() => g.openCalls.length >= 12, 3_000, '12 open calls');
    await client.stop();
    // The bounded schedule above needs at least 20 + 40 + 80 + 8 × 160 = 1,420 ms for 12 calls.
    expect(g.openCalls[11]!.at - g.openCalls[0]!.at).toBeLessThan(1_000);
  });

  it('with a gateway that closes right after open: ≤ 1 socket open, gaps still grow (no reset on open)', async () => {
    const g = await gateway({ closeAfterOpen: () => true });
    client = fastClient(g, { backoff: { initialMs: 20, maxMs: 160, jitter: 0 }, healthyAfterMs: 1_000 });
    await client.start();
    await waitFor(() => g.openCalls.length >= 5, 3_000, '5 open calls');
    await client.stop();
    const d = gaps(g).slice(0, 4);
    const nominal = [20, 40, 80, 160];
    for (let i = 0; i < d.length; i++) expect(d[i]).toBeGreaterThanOrEqual(nominal[i]! - 2);
    expect(g.maxOpen).toBe(1);
  });

  it('jitter keeps each delay within [nominal × (1 − jitter), nominal]', async () => {
    const g = await gateway({
      openAnswer: () => ({ status: 503, body: { code: 'ServiceUnavailable', message: '' } }),
    });
    const states: StateChange[] = [];
    client = fastClient(g, {
      backoff: { initialMs: 20, maxMs: 80, jitter: 0.5 },
      random: () => 0.999,
      onState: (c) => states.push(c),
    });
    void client.start().catch(() => {});
    await waitFor(() => g.openCalls.length >= 5, 3_000, '5 open calls');
    await client.stop();
    const delays = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs);
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 40]);
  });

  it('resets the counter once a connection has stayed up for healthyAfterMs', async () => {
    let refuse = false;
    const g = await gateway({ refuseHandshake: () => refuse });
    const states: StateChange[] = [];
    client = fastClient(g, { healthyAfterMs: 40, onState: (c) => states.push(c) });
    await client.start();
    refuse = true;
    g.dropAll();
    await waitFor(() => g.openCalls.length >= 4, 2_000, 'failures');
    refuse = false;
    await waitFor(() => client!.state === 'connected', 2_000, 'reconnected');
    await sleep(80);
    states.length = 0;
    g.dropAll();
    await waitFor(() => states.some((s) => s.state === 'reconnecting'), 2_000);
    expect(states.find((s) => s.state === 'reconnecting')?.delayMs).toBe(20);
  });
});

describe('SYSTEM disconnect (rotation)', () => {
  it('opens a fresh connection at once, takes no frames on the old one, and closes it after its owed ack', async () => {
    const g = await gateway();
    client = fastClient(g, { drainTimeoutMs: 2_000 });
    const handledOn: Array<{ k: string; conn: number }> = [];
    const slow = gate();
    client.onEvent(async (e, ctx) => {
      handledOn.push({ k: String(e.data['k']), conn: ctx.connectionId });
      if (e.data['k'] === 'A') await slow.promise;
    });
    await client.start();
    const conn1 = g.latest()!;
    const a = g.pushEvent({ k: 'A' });
    await waitFor(() => handledOn.length === 1, 2_000);
    g.disconnect(conn1);
    await waitFor(() => g.conns.length === 2 && client!.state === 'connected', 2_000, 'replacement');
    const conn2 = g.conns[1]!;
    expect(g.openCalls).toHaveLength(2);
    // The old socket is still open: it owes A's ack.
    expect(conn1.closedAt).toBeUndefined();
    g.pushEvent({ k: 'B-on-old' }, { conn: conn1 });
    const c = g.pushEvent({ k: 'C' }, { conn: conn2 });
    await g.waitForAck(c);
    expect(handledOn.map((h) => h.k)).toEqual(['A', 'C']);
    expect(client.stats().droppedWhileDraining).toBe(1);
    slow.open();
    const ackA = await g.waitForAck(a);
    expect(ackA.connId).toBe(conn1.id);
    await g.waitFor(() => conn1.closedAt !== undefined, 1_000, 'old socket closed');
    expect(conn1.closeCode).toBe(1000);
    expect(conn2.closedAt).toBeUndefined();
    expect(g.maxOpen).toBe(2);
    expect(client.stats().rotations).toBe(1);
    // Only one socket ever delivered frames at a time: every handled push after the rotation came from conn 2.
    expect(handledOn[1]!.conn).toBe(2);
  });

  it('closes the replaced socket immediately when it owes nothing', async () => {
    const g = await gateway();
    client = fastClient(g);
    await client.start();
    const conn1 = g.latest()!;
    g.disconnect(conn1);
    await g.waitFor(() => conn1.closedAt !== undefined, 1_000, 'old socket closed');
    await waitFor(() => client!.state === 'connected' && g.conns.length === 2, 2_000);
    expect(conn1.closeCode).toBe(1000);
    expect(g.openCount).toBe(1);
  });
});

describe('half-open socket', () => {
  const interval = 50;

  it('terminates a silent socket within 2 × the ping interval and reconnects; held pushes arrive after', async () => {
    const g = await gateway();
    const states: Array<StateChange & { at: number }> = [];
    client = fastClient(g, {
      pingIntervalMs: interval,
      onState: (c) => states.push({ ...c, at: Date.now() }),
    });
    const seen: string[] = [];
    client.onEvent((e) => {
      seen.push(String(e.data['k']));
    });
    await client.start();
    await sleep(interval * 2);
    expect(g.latest()!.pings).toBeGreaterThan(0);
    const t0 = Date.now();
    g.blackhole();
    const held = g.pushEvent({ k: 'held' });
    await waitFor(() => states.some((s) => s.state === 'disconnected'), 2_000, 'detection');
    const detectedAt = states.find((s) => s.state === 'disconnected')!.at;
    expect(detectedAt - t0).toBeLessThanOrEqual(2 * interval + 25);
    expect(client.stats().halfOpenDetected).toBe(1);
    await g.waitForAck(held);
    expect(seen).toEqual(['held']);
    expect(g.openCalls).toHaveLength(2);
  });

  it('twin: with the heartbeat off, the same silent socket goes unnoticed', async () => {
    const g = await gateway();
    client = fastClient(g, { pingIntervalMs: 0 });
    await client.start();
    g.blackhole();
    await sleep(interval * 4);
    expect(client.state).toBe('connected');
    expect(client.stats().halfOpenDetected).toBe(0);
  });
});
