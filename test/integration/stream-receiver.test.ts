/**
 * StreamClient against a minimal fake gateway over real sockets on 127.0.0.1: the open call, ping echo, ack timing,
 * deferred acks, LATER on failure, routing and 404, back-pressure, malformed frames and stop().
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StreamClient, TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK } from '../../src/stream/index.js';
import { FakeGateway } from '../support/stream/fake-gateway.js';
import { activeHandles, fastClient, gate, sleep, TEST_SECRET } from '../support/stream/harness.js';
import { waitFor } from '../support/wait-for.js';

let gw: FakeGateway;
let client: StreamClient | undefined;

beforeEach(async () => {
  gw = await new FakeGateway().listen();
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await gw.close();
});

const parse = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe('open call and ticket', () => {
  it('posts credentials, subscriptions and ua, then uses the fresh ticket exactly once', async () => {
    client = fastClient(gw, { ua: 'dingkit-test/1' });
    client.onBotMessage(() => undefined);
    await client.start();
    expect(gw.openCalls).toHaveLength(1);
    const body = gw.openCalls[0]!.body;
    expect(body['clientId']).toBe('dingtestapp');
    expect(body['clientSecret']).toBe(TEST_SECRET);
    expect(body['ua']).toBe('dingkit-test/1');
    expect(body['subscriptions']).toEqual([
      { type: 'EVENT', topic: '*' },
      { type: 'CALLBACK', topic: TOPIC_BOT_MESSAGE },
    ]);
    expect(gw.handshakes).toHaveLength(1);
    expect(gw.handshakes[0]).toMatchObject({ ticket: gw.openCalls[0]!.ticket, accepted: true });
    expect(client.state).toBe('connected');
  });

  it('reads the open API base from DINGTALK_API_BASE when no option is given', async () => {
    const { StreamClient } = await import('../../src/stream/index.js');
    client = new StreamClient({
      clientId: 'dingtestapp',
      clientSecret: TEST_SECRET,
      env: { DINGTALK_API_BASE: gw.base },
      pingIntervalMs: 0,
    });
    await client.start();
    expect(gw.openCalls).toHaveLength(1);
  });
});

describe('SYSTEM ping', () => {
  it('echoes code 200, the same messageId and the data unchanged', async () => {
    client = fastClient(gw);
    await client.start();
    const data = '{"opaque": "spaced  out"}';
    const id = gw.push('SYSTEM', 'ping', data);
    const { ack } = await gw.waitForAck(id);
    expect(ack.code).toBe(200);
    expect(ack.headers['messageId']).toBe(id);
    expect(ack.data).toBe(data);
    expect(client.stats().pings).toBe(1);
  });

  it('answers pings promptly while every handler slot is busy', async () => {
    client = fastClient(gw, { maxConcurrency: 2 });
    const g = gate();
    client.onEvent(() => g.promise);
    await client.start();
    gw.pushEvent({ a: 1 });
    gw.pushEvent({ a: 2 });
    await waitFor(() => client!.stats().inFlight === 2, 2_000);
    const sent = Date.now();
    const id = gw.ping();
    const rec = await gw.waitForAck(id);
    expect(rec.at - sent).toBeLessThan(200);
    g.open();
  });
});

describe('ack timing', () => {
  it('acks an EVENT only after the handler promise resolves', async () => {
    client = fastClient(gw);
    const g = gate();
    let started = false;
    client.onEvent(async () => {
      started = true;
      await g.promise;
    });
    await client.start();
    const id = gw.pushEvent({ title: 'x' });
    await waitFor(() => started, 2_000);
    await sleep(40);
    expect(gw.acksFor(id)).toHaveLength(0);
    const releasedAt = Date.now();
    g.open();
    const { ack, at } = await gw.waitForAck(id);
    expect(at).toBeGreaterThanOrEqual(releasedAt);
    expect(ack.code).toBe(200);
    expect(parse(ack.data)).toEqual({ status: 'SUCCESS', message: 'success' });
    expect(client.stats().acks.success).toBe(1);
  });

  it('twin: a handler that acks first is seen by the gateway while it is still pending', async () => {
    client = fastClient(gw);
    const g = gate();
    client.onEvent(async (_e, ctx) => {
      ctx.ack();
      await g.promise;
    });
    await client.start();
    const id = gw.pushEvent({ title: 'x' });
    await gw.waitForAck(id);
    // The same probe as above fails here: an ack exists while the handler has not finished.
    expect(gw.acksFor(id)).toHaveLength(1);
    g.open();
    await sleep(20);
    expect(gw.acksFor(id)).toHaveLength(1);
  });

  it('deferAck() holds the ack until the app calls it, after the handler returned', async () => {
    client = fastClient(gw);
    let ackLater: (() => void) | undefined;
    client.onEvent((_e, ctx) => {
      ackLater = ctx.deferAck();
    });
    await client.start();
    const id = gw.pushEvent({ x: 1 });
    await waitFor(() => ackLater !== undefined, 2_000);
    await sleep(40);
    expect(gw.acksFor(id)).toHaveLength(0);
    expect(client.stats().deferred).toBe(1);
    ackLater!();
    const { ack } = await gw.waitForAck(id);
    expect(parse(ack.data)['status']).toBe('SUCCESS');
    ackLater!();
    await sleep(20);
    expect(gw.acksFor(id)).toHaveLength(1);
    expect(client.stats().deferred).toBe(0);
  });

  it('answers LATER when the handler fails, and on ctx.later()', async () => {
    client = fastClient(gw);
    client.onEvent('boom', async () => {
      throw new Error(`db down ${TEST_SECRET}`);
    });
    client.onEvent('retry', (_e, ctx) => ctx.later());
    await client.start();
    const a = gw.pushEvent({}, { eventType: 'boom' });
    const b = gw.pushEvent({}, { eventType: 'retry' });
    expect(parse((await gw.waitForAck(a)).ack.data)['status']).toBe('LATER');
    expect(parse((await gw.waitForAck(b)).ack.data)['status']).toBe('LATER');
    expect(client.stats().handlerErrors).toBe(1);
    expect(client.stats().acks.later).toBe(2);
  });

  it('answers a CALLBACK with {"response": value} from the handler return value', async () => {
    client = fastClient(gw);
    client.onCardAction((cb) => ({ cardData: { cardParamMap: { pressed: cb.outTrackId } } }));
    await client.start();
    const id = gw.push('CALLBACK', TOPIC_CARD_CALLBACK, { outTrackId: 'card-1', userId: 'u1' });
    const { ack } = await gw.waitForAck(id);
    expect(ack.code).toBe(200);
    expect(parse(ack.data)).toEqual({ response: { cardData: { cardParamMap: { pressed: 'card-1' } } } });
  });

  it('runs middleware in order around the handler and gives it typed bot messages', async () => {
    client = fastClient(gw);
    const order: string[] = [];
    client.use(async (ctx, next) => {
      order.push(`mw1 ${ctx.type}`);
      await next();
      order.push('mw1 after');
    });
    client.use(async (_ctx, next) => {
      order.push('mw2');
      await next();
    });
    client.onBotMessage((msg) => {
      order.push(`bot ${msg.text?.content.trim()}`);
    });
    await client.start();
    const id = gw.push('CALLBACK', TOPIC_BOT_MESSAGE, {
      msgtype: 'text',
      text: { content: ' hi' },
      msgId: 'm1',
    });
    await gw.waitForAck(id);
    expect(order).toEqual(['mw1 CALLBACK', 'mw2', 'bot hi', 'mw1 after']);
  });

  it('answers 404 for a topic nobody handles', async () => {
    client = fastClient(gw);
    await client.start();
    const id = gw.push('CALLBACK', '/v1.0/graph/api/invoke', {});
    const { ack } = await gw.waitForAck(id);
    expect(ack.code).toBe(404);
    expect(client.stats().acks.notFound).toBe(1);
  });
});

describe('back-pressure', () => {
  it('bounds handler concurrency and answers surplus EVENTs LATER instead of dropping them', async () => {
    client = fastClient(gw, { maxConcurrency: 3 });
    const g = gate();
    let running = 0;
    let peak = 0;
    client.onEvent(async () => {
      running++;
      peak = Math.max(peak, running);
      await g.promise;
      running--;
    });
    await client.start();
    const ids = Array.from({ length: 8 }, (_, i) => gw.pushEvent({ i }));
    await waitFor(() => gw.acks.length === 5, 2_000, '5 busy acks');
    expect(peak).toBe(3);
    for (const id of ids.slice(3)) expect(parse(gw.acksFor(id)[0]!.ack.data)['status']).toBe('LATER');
    expect(client.stats().acks.busy).toBe(5);
    g.open();
    await waitFor(() => gw.acks.length === 8, 2_000);
    for (const id of ids.slice(0, 3)) expect(parse(gw.acksFor(id)[0]!.ack.data)['status']).toBe('SUCCESS');
  });

  it('R5: with 200 slow handlers pushed (64 running, the rest answered LATER), pings are echoed within 200 ms', async () => {
    client = fastClient(gw);
    const g = gate();
    client.onEvent(() => g.promise);
    await client.start();
    for (let i = 0; i < 200; i++) gw.pushEvent({ i });
    await waitFor(
      () => client!.stats().inFlight === 64 && client!.stats().acks.busy === 136,
      2_000,
      'saturation',
    );
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const sent = Date.now();
      const rec = await gw.waitForAck(gw.ping());
      latencies.push(rec.at - sent);
    }
    expect(Math.max(...latencies)).toBeLessThan(200);
    g.open();
    await waitFor(() => client!.stats().acks.success === 64, 2_000);
  });

  it('queues CALLBACKs for a free slot rather than refusing them', async () => {
    client = fastClient(gw, { maxConcurrency: 1 });
    const seen: string[] = [];
    const g = gate();
    client.onBotMessage(async (msg) => {
      seen.push(msg.msgId);
      await g.promise;
    });
    await client.start();
    const ids = ['a', 'b', 'c'].map((m) =>
      gw.push('CALLBACK', TOPIC_BOT_MESSAGE, { msgId: m, msgtype: 'text' }),
    );
    await waitFor(() => client!.stats().queued === 2, 2_000);
    expect(seen).toEqual(['a']);
    g.open();
    await waitFor(() => gw.acks.length === 3, 2_000);
    expect(seen).toEqual(['a', 'b', 'c']);
    for (const id of ids) expect(gw.acksFor(id)[0]!.ack.code).toBe(200);
  });

  it('holds a burst of CALLBACKs up to its byte bound, and refuses (503) only past it', async () => {
    client = fastClient(gw, { maxConcurrency: 1, maxQueuedCallbackBytes: 2_500 });
    const g = gate();
    const seen: string[] = [];
    client.onBotMessage(async (msg) => {
      seen.push(msg.msgId);
      await g.promise;
    });
    await client.start();
    // About 1 KB each: one runs, two fit in 2,500 bytes, the fourth and fifth do not.
    const pad = 'x'.repeat(1_000);
    const ids = ['a', 'b', 'c', 'd', 'e'].map((m) =>
      gw.push('CALLBACK', TOPIC_BOT_MESSAGE, { msgId: m, msgtype: 'text', text: { content: pad } }),
    );
    await waitFor(() => gw.acks.length === 2, 2_000, 'two refusals');
    expect(ids.slice(3).map((id) => gw.acksFor(id)[0]!.ack.code)).toEqual([503, 503]);
    expect(client.stats().queued).toBe(2);
    g.open();
    await waitFor(() => gw.acks.length === 5, 2_000);
    expect(seen).toEqual(['a', 'b', 'c']);
    for (const id of ids.slice(0, 3)) expect(gw.acksFor(id)[0]!.ack.code).toBe(200);
  });

  it('does not run a re-pushed messageId twice while the first run is in flight', async () => {
    client = fastClient(gw);
    let runs = 0;
    const g = gate();
    client.onEvent(async () => {
      runs++;
      await g.promise;
    });
    await client.start();
    const id = gw.pushEvent({});
    gw.push('EVENT', '*', {}, { messageId: id });
    await waitFor(() => client!.stats().duplicatesInFlight === 1, 2_000);
    g.open();
    await gw.waitForAck(id);
    expect(runs).toBe(1);
  });
});

describe('malformed frames', () => {
  it('counts and skips each kind, keeps the socket up and still serves good frames', async () => {
    client = fastClient(gw, { maxFrameBytes: 64 * 1024 });
    const got: unknown[] = [];
    client.onEvent((e) => {
      got.push(e.data);
    });
    await client.start();
    const conn = gw.latest()!;
    gw.sendRaw('{not json');
    gw.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
    gw.sendRaw('[1,2]');
    gw.sendRaw(JSON.stringify({ specVersion: '1.0', type: 'EVENT', data: '{}' }));
    gw.sendRaw(JSON.stringify({ specVersion: '1.0', type: 'EVENT', headers: { topic: '*' }, data: '{}' }));
    gw.sendRaw(JSON.stringify({ specVersion: '1.0', type: 'NOPE', headers: { messageId: 'x', topic: '*' } }));
    gw.sendRaw(JSON.stringify({ type: 'EVENT', headers: { messageId: 'y', topic: '*' }, data: '{}' }));
    gw.sendRaw(
      JSON.stringify({ specVersion: '1.0', type: 'EVENT', headers: { messageId: 'z', topic: '*' }, data: 5 }),
    );
    gw.sendRaw(
      JSON.stringify({ specVersion: '1.0', type: 'EVENT', headers: { messageId: 'w', topic: { a: 1 } } }),
    );
    gw.sendRaw(
      `{"specVersion":"1.0","type":"EVENT","headers":{"messageId":"big","topic":"*"},"data":"${'x'.repeat(100_000)}"}`,
    );
    gw.sendRaw(`${'['.repeat(5_000)}${']'.repeat(5_000)}`);
    const badData = gw.push('EVENT', '*', '{oops');
    const good = gw.pushEvent({ ok: true });
    await gw.waitForAck(good);
    expect(got).toEqual([{ ok: true }]);
    expect(gw.acksFor(badData)[0]!.ack.code).toBe(400);
    expect(client.stats().malformed).toEqual({
      bad_json: 1,
      binary: 1,
      not_object: 2,
      bad_headers: 2,
      missing_message_id: 1,
      unknown_type: 1,
      bad_spec_version: 1,
      bad_data: 1,
      too_large: 1,
      bad_data_json: 1,
    });
    expect(conn.closedAt).toBeUndefined();
    expect(gw.conns).toHaveLength(1);
  });

  it('a message over the hard cap closes the socket (ws 1009) and the client reconnects', async () => {
    client = fastClient(gw, { maxFrameBytes: 1_024, maxPayloadBytes: 4_096 });
    await client.start();
    gw.sendRaw('x'.repeat(10_000));
    await waitFor(() => client!.stats().connects === 2, 2_000, 'reconnect');
    expect(client.stats().malformed.too_large).toBe(1);
  });
});

describe('stop()', () => {
  it('closes sockets and leaves no timers or sockets behind, even with a heartbeat and a pending deferral', async () => {
    const before = activeHandles();
    client = fastClient(gw, { pingIntervalMs: 30 });
    client.onEvent((_e, ctx) => {
      ctx.deferAck();
    });
    await client.start();
    gw.pushEvent({});
    await waitFor(() => client!.stats().deferred === 1, 2_000);
    await sleep(70);
    expect(gw.latest()!.pings).toBeGreaterThan(0);
    await client.stop();
    expect(client.state).toBe('stopped');
    await gw.waitFor(() => gw.openCount === 0);
    const after = activeHandles();
    expect(after.timers).toBeLessThanOrEqual(before.timers);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    const calls = gw.openCalls.length;
    await sleep(100);
    expect(gw.openCalls.length).toBe(calls);
  });

  it('holds zero timers of its own after stop(), counted through the injected timer API', async () => {
    const live = new Set<unknown>();
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        const h = setTimeout(() => {
          live.delete(h);
          fn();
        }, ms);
        live.add(h);
        return h;
      },
      clearTimeout: (h: unknown) => {
        live.delete(h);
        clearTimeout(h as ReturnType<typeof setTimeout>);
      },
    };
    client = fastClient(gw, {
      pingIntervalMs: 20,
      healthyAfterMs: 10_000,
      backoff: { initialMs: 5_000, maxMs: 5_000, jitter: 0 },
      timers,
    });
    await client.start();
    expect(live.size).toBe(2); // heartbeat + healthy-connection timer
    gw.dropAll();
    await waitFor(() => client!.state === 'reconnecting', 2_000);
    expect(live.size).toBe(1); // the pending reconnect
    await client.stop();
    expect(live.size).toBe(0);
  });

  it('stop({ graceMs }) stops taking frames but lets an owed ack out before closing', async () => {
    client = fastClient(gw);
    const g = gate();
    let handled = 0;
    client.onEvent(async () => {
      handled++;
      await g.promise;
    });
    await client.start();
    const conn = gw.latest()!;
    const a = gw.pushEvent({});
    await waitFor(() => handled === 1, 2_000);
    const stopping = client.stop({ graceMs: 1_000 });
    gw.pushEvent({}, { conn });
    await sleep(20);
    expect(conn.closedAt).toBeUndefined();
    g.open();
    await stopping;
    expect(gw.acksFor(a)).toHaveLength(1);
    expect(handled).toBe(1);
    await gw.waitFor(() => conn.closedAt !== undefined);
  });

  it('cancels a pending reconnect: no open call after stop()', async () => {
    client = fastClient(gw, { backoff: { initialMs: 60, maxMs: 60, jitter: 0 } });
    await client.start();
    gw.dropAll();
    await waitFor(() => client!.state === 'reconnecting', 2_000);
    await client.stop();
    await sleep(120);
    expect(gw.openCalls).toHaveLength(1);
  });

  it('rejects start() for good when the first open call is refused with bad credentials', async () => {
    await gw.close();
    gw = await new FakeGateway({
      openAnswer: () => ({ status: 400, body: { code: 'invalidClientIdOrSecret', message: 'bad secret' } }),
    }).listen();
    client = fastClient(gw);
    const err = await client.start().then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err?.code).toBe('BAD_CREDENTIALS');
    expect(JSON.stringify(err)).not.toContain(TEST_SECRET);
    expect(client.state).toBe('stopped');
  });
});
