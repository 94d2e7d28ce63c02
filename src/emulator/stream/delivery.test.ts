import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { type Conn, Delivery, type PushSpec, subKey } from './delivery.js';
import { seededRandom } from './frames.js';

interface FakeWs {
  readyState: number;
  OPEN: number;
  sent: Array<{ headers: Record<string, string> }>;
  send(text: string): void;
}

function fakeConn(id: string, subs: Array<[string, string]> = [['EVENT', '*']]): Conn & { ws: FakeWs } {
  const ws: FakeWs = {
    readyState: 1,
    OPEN: 1,
    sent: [],
    send(text) {
      this.sent.push(JSON.parse(text) as { headers: Record<string, string> });
    },
  };
  return {
    id,
    clientId: 'app',
    ws: ws as unknown as WebSocket & FakeWs,
    subscriptions: new Set(subs.map(([t, p]) => subKey(t, p))),
    draining: false,
    closed: false,
    inflight: new Set(),
    pingTimer: undefined as unknown as NodeJS.Timeout,
    ping: undefined,
    graceTimer: undefined,
    entry: undefined as never,
  };
}

const event = (eventId: string): PushSpec => ({
  clientId: 'app',
  type: 'EVENT',
  topic: '*',
  data: '{}',
  extraHeaders: { eventId },
  eventId,
  redeliver: true,
});

function setup(conns: Conn[]): { d: Delivery; set: Set<Conn> } {
  let n = 0;
  const set = new Set(conns);
  const d = new Delivery({
    now: () => 0,
    random: seededRandom(1),
    nextId: (p) => `${p}_${++n}`,
    connections: () => set,
    redeliverAfterMs: 60_000,
  });
  return { d, set };
}

const ack = (messageId: string, data = '{"status":"SUCCESS"}', code = 200) => ({
  code,
  messageId,
  message: 'OK',
  data,
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Delivery', () => {
  it('re-pushes an unacked EVENT after 60 s by default, and not before', () => {
    const c = fakeConn('c1');
    const { d } = setup([c]);
    const id = d.push(event('e1'));
    vi.advanceTimersByTime(59_999);
    expect(c.ws.sent.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(c.ws.sent.map((f) => f.headers['messageId'])).toEqual([id, id]);
    expect(d.ack(c, ack(id))).toMatchObject({ kind: 'event', consumed: true });
    vi.advanceTimersByTime(600_000);
    expect(c.ws.sent.length).toBe(2);
    expect(d.pendingCount).toBe(0);
    expect(d.ack(c, ack(id))).toMatchObject({ kind: 'late', consumed: false });
    expect(d.ack(c, ack('other'))).toBeUndefined();
    d.close();
  });

  it('a closed connection’s frames go to another at once; fire-and-forget callbacks are dropped', () => {
    const a = fakeConn('a', [
      ['EVENT', '*'],
      ['CALLBACK', '/t'],
    ]);
    const { d, set } = setup([a]);
    const evId = d.push(event('e1'));
    d.push({ ...event('x'), type: 'CALLBACK', topic: '/t', redeliver: false, eventId: undefined });
    expect(d.pendingCount).toBe(2);
    const b = fakeConn('b');
    set.add(b);
    set.delete(a);
    a.ws.readyState = 3;
    d.connectionClosed(a);
    expect(b.ws.sent.map((f) => f.headers['messageId'])).toEqual([evId]);
    expect(b.ws.sent[0]?.headers['connectionId']).toBe('b');
    expect(d.pendingCount).toBe(1);
    expect(d.frames.map((f) => f.reason)).toEqual(['first', 'first', 'connection_closed']);
    expect(d.redeliveries).toBe(1);
    d.close();
  });

  it('parks frames nobody subscribed to and skips draining connections', () => {
    const a = fakeConn('a');
    a.draining = true;
    const { d, set } = setup([a]);
    d.push(event('e1'));
    expect(a.ws.sent.length).toBe(0);
    expect(d.backlogCount).toBe(1);
    const cbOnly = fakeConn('cb', [['CALLBACK', '/t']]);
    set.add(cbOnly);
    d.flush('app');
    expect(d.backlogCount).toBe(1);
    const b = fakeConn('b');
    set.add(b);
    d.flush('app');
    expect(d.backlogCount).toBe(0);
    expect(b.ws.sent.length).toBe(1);
    d.close();
  });

  it('LATER re-arms the timer; repushAckedRate re-sends a consumed frame under a new id', () => {
    const c = fakeConn('c');
    const { d } = setup([c]);
    const id = d.push(event('e1'));
    vi.advanceTimersByTime(30_000);
    expect(d.ack(c, ack(id, '{"status":"LATER"}'))).toMatchObject({ consumed: false });
    vi.advanceTimersByTime(59_999);
    expect(c.ws.sent.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(c.ws.sent.length).toBe(2);
    d.repushAckedRate = 1;
    d.ack(c, ack(id));
    expect(c.ws.sent.length).toBe(3);
    expect(c.ws.sent[2]?.headers['messageId']).not.toBe(id);
    expect(c.ws.sent[2]?.headers['eventId']).toBe('e1');
    expect(d.frames[2]).toMatchObject({ reason: 'acked_repush', originalMessageId: id });
    d.close();
  });
});
