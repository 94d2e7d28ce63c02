/**
 * The emulator's Stream gateway over real sockets (docs/dingtalk.md §S13 checklist): an http.Server
 * on 127.0.0.1:0 routes the open call and the upgrade to the gateway, and a plain `ws` client plays the app.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { StreamGateway, type StreamGatewayOptions } from '../../src/emulator/stream/index.js';
import { waitFor } from '../support/wait-for.js';

interface Frame {
  specVersion: string;
  type: string;
  headers: Record<string, unknown>;
  data: string;
}

interface Harness {
  gw: StreamGateway;
  base: string;
  clock: { t: number };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: Partial<StreamGatewayOptions> = {}): Promise<Harness> {
  let port = 0;
  const clock = { t: 1_700_000_000_000 };
  const gw = new StreamGateway({
    authenticate: (id, secret) => id === 'app1' && secret === 'secret-canary-1',
    wsBase: () => `ws://127.0.0.1:${port}`,
    now: () => clock.t,
    ...opts,
  });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1.0/gateway/connections/open') {
        res.writeHead(404).end();
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const out = gw.handleOpen(body);
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gw.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await gw.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { gw, base: `http://127.0.0.1:${port}`, clock };
}

const ALL = [{ type: 'EVENT', topic: '*' }];

async function open(
  h: Harness,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await request(`${h.base}/v1.0/gateway/connections/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, string> };
}

class Client {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  #waiters: Array<() => void> = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ws.on('error', () => {});
  }

  async waitFor(pred: (frames: Frame[]) => boolean, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.frames)) {
      if (Date.now() > deadline)
        throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map((f) => f.headers))}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  ack(frame: Frame, data: unknown = { status: 'SUCCESS' }, code = 200): void {
    const messageId = frame.headers['messageId'];
    this.ws.send(
      JSON.stringify({
        code,
        headers: { contentType: 'application/json', messageId },
        message: 'OK',
        data: JSON.stringify(data),
      }),
    );
  }
}

async function connect(h: Harness, subscriptions: unknown[] = ALL): Promise<Client> {
  const o = await open(h, { clientId: 'app1', clientSecret: 'secret-canary-1', subscriptions, ua: 'test' });
  expect(o.status).toBe(200);
  const c = new Client(`${o.body['endpoint']}?ticket=${o.body['ticket']}`);
  await once(c.ws, 'open');
  cleanups.push(async () => {
    c.ws.terminate();
  });
  return c;
}

describe('open call', () => {
  it('answers 200 {endpoint, ticket} with a ws /connect endpoint and a URL-safe ticket, ignoring extras', async () => {
    const h = await start();
    const o = await open(h, {
      clientId: 'app1',
      clientSecret: 'secret-canary-1',
      subscriptions: [
        ...ALL,
        { type: 'SYSTEM', topic: 'ping' },
        { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
      ],
      ua: 'dingtalk-sdk-go/v0.9.2',
      localIp: '10.0.0.1,10.0.0.2',
      extras: { a: 'b' },
    });
    expect(o.status).toBe(200);
    expect(Object.keys(o.body).sort()).toEqual(['endpoint', 'ticket']);
    expect(o.body['endpoint']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/connect$/);
    expect(o.body['ticket']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  });

  it('refuses wrong credentials and bad subscriptions with a v1.0 error body that never echoes the secret', async () => {
    const h = await start();
    const bad = await open(h, { clientId: 'app1', clientSecret: 'wrong-canary', subscriptions: ALL });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body).sort()).toEqual(['code', 'message', 'requestid']);
    expect(JSON.stringify(bad.body)).not.toContain('wrong-canary');
    const noSubs = await open(h, { clientId: 'app1', clientSecret: 'secret-canary-1' });
    expect(noSubs.status).toBe(400);
    const badType = await open(h, {
      clientId: 'app1',
      clientSecret: 'secret-canary-1',
      subscriptions: [{ type: 'X', topic: '*' }],
    });
    expect(badType.status).toBe(400);
    expect(h.gw.log().opens.map((o) => o.status)).toEqual([400, 400, 400]);
  });
});

describe('tickets', () => {
  it('are single use', async () => {
    const h = await start();
    const o = await open(h, { clientId: 'app1', clientSecret: 'secret-canary-1', subscriptions: ALL });
    const url = `${o.body['endpoint']}?ticket=${o.body['ticket']}`;
    const first = new WebSocket(url);
    await once(first, 'open');
    const second = new WebSocket(url);
    const [, res] = (await once(second, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(401);
    first.terminate();
    expect(h.gw.log().faults.map((f) => f.detail)).toEqual(['unknown or used ticket']);
  });

  it('expire after ticketTtlMs on the injected clock', async () => {
    const h = await start({ ticketTtlMs: 90_000 });
    const o = await open(h, { clientId: 'app1', clientSecret: 'secret-canary-1', subscriptions: ALL });
    h.clock.t += 90_001;
    const ws = new WebSocket(`${o.body['endpoint']}?ticket=${o.body['ticket']}`);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(401);
    expect(h.gw.log().faults[0]?.detail).toBe('expired ticket');
  });

  it('leave other paths to the host server', async () => {
    const h = await start();
    const ws = new WebSocket(`${h.base.replace('http', 'ws')}/elsewhere`);
    const err = await once(ws, 'error');
    expect(String(err[0])).toMatch(/socket hang up|ECONNRESET/);
    expect(h.gw.log().faults).toEqual([]);
  });
});

describe('frames', () => {
  it('EVENT and CALLBACK frames are text JSON with string headers and a JSON-string data', async () => {
    const h = await start();
    const c = await connect(h, [...ALL, { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }]);
    const eventMsgId = h.gw.pushEvent('app1', {
      eventType: 'user_add_org',
      eventId: 'ev-1',
      corpId: 'ding1',
      data: { userId: ['u1'] },
    });
    const cbMsgId = h.gw.pushCallback('app1', '/v1.0/im/bot/messages/get', {
      msgtype: 'text',
      text: { content: 'hi' },
    });
    await c.waitFor((f) => f.length >= 2);
    const [ev, cb] = c.frames;
    for (const f of [ev, cb]) {
      expect(f?.specVersion).toBe('1.0');
      expect(typeof f?.data).toBe('string');
      for (const v of Object.values(f?.headers ?? { x: 1 })) expect(typeof v).toBe('string');
      expect(f?.headers['contentType']).toBe('application/json');
      expect(f?.headers['time']).toBe(String(h.clock.t));
      expect(f?.headers['connectionId']).toBe(h.gw.log().connections[0]?.connectionId);
    }
    expect(ev?.type).toBe('EVENT');
    expect(ev?.headers).toMatchObject({
      messageId: eventMsgId,
      topic: '*',
      eventType: 'user_add_org',
      eventId: 'ev-1',
      eventCorpId: 'ding1',
    });
    expect(ev?.headers['eventBornTime']).toBe(String(h.clock.t));
    expect(ev?.headers['eventUnifiedAppId']).toBe('app1');
    expect(JSON.parse(ev?.data ?? '')).toEqual({ userId: ['u1'] });
    expect(cb?.type).toBe('CALLBACK');
    expect(cb?.headers).toMatchObject({
      messageId: cbMsgId,
      topic: '/v1.0/im/bot/messages/get',
      appId: 'app1',
    });
    expect(JSON.parse(cb?.data ?? '')).toEqual({ msgtype: 'text', text: { content: 'hi' } });
  });

  it('only subscribed topics are pushed; others wait until a subscriber connects', async () => {
    const h = await start();
    const c = await connect(h, [{ type: 'CALLBACK', topic: '/v1.0/card/instances/callback' }]);
    h.gw.pushEvent('app1', { eventType: 'x', data: {} });
    h.gw.pushCallback('app1', '/v1.0/card/instances/callback', { outTrackId: 't' });
    await c.waitFor((f) => f.length >= 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(c.frames.map((f) => f.type)).toEqual(['CALLBACK']);
    expect(h.gw.stats().backlog).toBe(1);
    const e = await connect(h);
    await e.waitFor((f) => f.some((x) => x.type === 'EVENT'));
    expect(h.gw.stats().backlog).toBe(0);
  });
});

describe('SYSTEM ping', () => {
  it('echoes keep a connection alive (parsed opaque compared), silence terminates it', async () => {
    const h = await start({ pingIntervalMs: 25, pingTimeoutMs: 300 });
    const echoing = await connect(h);
    echoing.ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (f.type === 'SYSTEM' && f.headers['topic'] === 'ping') {
        // Python style: data re-serialised with different spacing must still match (§5).
        const data = JSON.stringify(JSON.parse(f.data), null, 1);
        echoing.ws.send(
          JSON.stringify({ code: 200, headers: { messageId: f.headers['messageId'] }, message: 'OK', data }),
        );
      }
    });
    const silent = await connect(h);
    const [code] = (await once(silent.ws, 'close')) as [number];
    expect(code).toBe(1006);
    const ping = silent.frames.find((f) => f.headers['topic'] === 'ping');
    expect(Object.keys(JSON.parse(ping?.data ?? '{}') as object)).toEqual(['opaque']);
    await waitFor(() => h.gw.log().acks.filter((a) => a.kind === 'ping').length >= 4, 2_000);
    expect(echoing.ws.readyState).toBe(WebSocket.OPEN);
    const faults = h.gw.log().faults.filter((f) => f.kind === 'ping_timeout');
    expect(faults.map((f) => f.connectionId)).toEqual([h.gw.log().connections[1]?.connectionId]);
  });

  it('a wrong opaque is not an echo', async () => {
    const h = await start({ pingIntervalMs: 20, pingTimeoutMs: 80 });
    const c = await connect(h);
    c.ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (f.headers['topic'] === 'ping') {
        c.ws.send(
          JSON.stringify({
            code: 200,
            headers: { messageId: f.headers['messageId'] },
            data: '{"opaque":"nope"}',
          }),
        );
      }
    });
    await once(c.ws, 'close');
    expect(h.gw.stats().malformed.bad_ping_echo).toBeGreaterThanOrEqual(1);
  });
});

describe('EVENT delivery', () => {
  it('is pushed again, same messageId, when unacked, and stops once acked', async () => {
    const h = await start({ redeliverAfterMs: 40 });
    const c = await connect(h);
    const id = h.gw.pushEvent('app1', { eventType: 't', eventId: 'e1', data: {} });
    await c.waitFor((f) => f.length >= 2);
    expect(c.frames.map((f) => f.headers['messageId'])).toEqual([id, id]);
    c.ack(c.frames[1] as Frame);
    await waitFor(() => h.gw.stats().pendingFrames === 0, 2_000);
    const n = c.frames.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(c.frames.length).toBe(n);
    expect(
      h.gw
        .log()
        .frames.map((f) => f.reason)
        .slice(0, 2),
    ).toEqual(['first', 'unacked']);
  });

  it('LATER or a non-200 code asks for redelivery', async () => {
    // Each answer must reach the gateway before its redelivery timer: 40 ms was not always enough on a loaded
    // machine (the frame went out again as `unacked` first).
    const h = await start({ redeliverAfterMs: 300 });
    const c = await connect(h);
    h.gw.pushEvent('app1', { eventType: 't', data: {} });
    await c.waitFor((f) => f.length >= 1);
    c.ack(c.frames[0] as Frame, { status: 'LATER' });
    await c.waitFor((f) => f.length >= 2);
    c.ack(c.frames[1] as Frame, { status: 'LATER', message: 'later' }, 500);
    await c.waitFor((f) => f.length >= 3);
    c.ack(c.frames[2] as Frame);
    await waitFor(() => h.gw.stats().pendingFrames === 0, 2_000);
    expect(h.gw.log().acks.map((a) => a.consumed)).toEqual([false, false, true]);
    expect(h.gw.log().frames.map((f) => f.reason)).toEqual(['first', 'not_consumed', 'not_consumed']);
  });

  it('acked frames are re-pushed under a fresh messageId at repushAckedRate', async () => {
    const h = await start({ redeliverAfterMs: 10_000 });
    h.gw.setFaults({ repushAckedRate: 1, seed: 7 });
    const c = await connect(h);
    const id = h.gw.pushEvent('app1', { eventType: 't', eventId: 'dup', data: {} });
    await c.waitFor((f) => f.length >= 1);
    c.ack(c.frames[0] as Frame);
    await c.waitFor((f) => f.length >= 2);
    h.gw.setFaults({ repushAckedRate: 0 });
    c.ack(c.frames[1] as Frame);
    await waitFor(() => h.gw.stats().pendingFrames === 0, 2_000);
    const second = h.gw.log().frames[1];
    expect(second?.reason).toBe('acked_repush');
    expect(second?.originalMessageId).toBe(id);
    expect(second?.messageId).not.toBe(id);
    expect(c.frames[1]?.headers['eventId']).toBe('dup');
  });

  it('each push goes to exactly one of several connections', async () => {
    const h = await start({ redeliverAfterMs: 10_000 });
    h.gw.setFaults({ seed: 42 });
    const clients = [await connect(h), await connect(h), await connect(h)];
    const ids = Array.from({ length: 60 }, (_, i) =>
      h.gw.pushEvent('app1', { eventType: 't', eventId: `e${i}`, data: { i } }),
    );
    await waitFor(() => clients.reduce((n, c) => n + c.frames.length, 0) >= 60, 2_000);
    await new Promise((r) => setTimeout(r, 30));
    const seen = clients.flatMap((c) => c.frames.map((f) => f.headers['messageId']));
    expect(seen.sort()).toEqual([...ids].sort());
    for (const c of clients) expect(c.frames.length).toBeGreaterThan(5);
  });

  it('unacked frames of a dropped socket go out again on the other connection', async () => {
    const h = await start({ redeliverAfterMs: 10_000 });
    const a = await connect(h);
    h.gw.pushEvent('app1', { eventType: 't', eventId: 'x', data: {} });
    await a.waitFor((f) => f.length >= 1);
    const b = await connect(h);
    expect(h.gw.dropAll(undefined)).toBe(2);
    await once(a.ws, 'close');
    const c = await connect(h);
    await c.waitFor((f) => f.length >= 1);
    expect(c.frames[0]?.headers['eventId']).toBe('x');
    expect(b.ws.readyState).not.toBe(WebSocket.OPEN);
    expect(h.gw.log().frames.map((f) => f.reason)).toEqual(['first', 'connection_closed']);
  });
});

describe('faults', () => {
  it('disconnect sends SYSTEM disconnect, routes new pushes elsewhere and closes after the grace period', async () => {
    const h = await start({ disconnectGraceMs: 60, redeliverAfterMs: 10_000 });
    const a = await connect(h);
    expect(h.gw.disconnectAll('app1', 'rotate')).toBe(1);
    await a.waitFor((f) => f.some((x) => x.headers['topic'] === 'disconnect'));
    const d = a.frames.find((x) => x.headers['topic'] === 'disconnect');
    expect(d?.type).toBe('SYSTEM');
    expect(JSON.parse(d?.data ?? '')).toEqual({ reason: 'rotate' });
    const b = await connect(h);
    h.gw.pushEvent('app1', { eventType: 't', data: {} });
    await b.waitFor((f) => f.length >= 1);
    const started = Date.now();
    await once(a.ws, 'close');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.of('EVENT')).toEqual([]);
    expect(h.gw.log().faults.map((f) => f.kind)).toEqual(['disconnect', 'close_after_disconnect']);
  });

  it('refuseUpgrades spends the ticket and answers 503; closeAfterOpen terminates right after the handshake', async () => {
    const h = await start();
    h.gw.setFaults({ refuseUpgrades: true });
    const o = await open(h, { clientId: 'app1', clientSecret: 'secret-canary-1', subscriptions: ALL });
    const refused = new WebSocket(`${o.body['endpoint']}?ticket=${o.body['ticket']}`);
    const [, res] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(503);
    expect(h.gw.log().opens[0]?.ticketUsedAt).toBeDefined();
    h.gw.setFaults({ closeAfterOpen: true });
    const c = await connect(h);
    const [code] = (await once(c.ws, 'close')) as [number];
    expect(code).toBe(1006);
    expect(h.gw.log().faults.map((f) => f.kind)).toEqual(['upgrade_refused', 'close_after_open']);
    expect(h.gw.log().connections).toEqual([]);
    h.gw.setFaults({});
    await connect(h);
    await waitFor(() => h.gw.stats().openConnections === 1, 2_000);
  });

  it('dropEveryMs terminates sockets on a schedule', async () => {
    const h = await start();
    const a = await connect(h);
    h.gw.setFaults({ dropEveryMs: 30 });
    const [code] = (await once(a.ws, 'close')) as [number];
    h.gw.setFaults({});
    expect(code).toBe(1006);
    expect(h.gw.log().faults[0]?.kind).toBe('drop');
  });

  it('bot-message callbacks are not redelivered by default, but are with redeliverCallbacks', async () => {
    const topic = '/v1.0/im/bot/messages/get';
    const off = await start({ redeliverAfterMs: 30 });
    const c1 = await connect(off, [{ type: 'CALLBACK', topic }]);
    off.gw.pushCallback('app1', topic, { msgId: 'm' });
    await new Promise((r) => setTimeout(r, 100));
    expect(c1.frames.length).toBe(1);
    const on = await start({ redeliverAfterMs: 30, redeliverCallbacks: true });
    const c2 = await connect(on, [{ type: 'CALLBACK', topic }]);
    on.gw.pushCallback('app1', topic, { msgId: 'm' });
    await c2.waitFor((f) => f.length >= 2);
    c2.ack(c2.frames[1] as Frame, { response: {} });
    await waitFor(() => on.gw.stats().pendingFrames === 0, 2_000);
  });
});

describe('malformed client frames', () => {
  it('are counted by reason and the connection stays up', async () => {
    const h = await start();
    const c = await connect(h);
    c.ws.send('{not json');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send('[1,2]');
    c.ws.send('{"type":"EVENT"}');
    c.ws.send('{"code":200,"headers":{}}');
    c.ws.send('{"code":200,"headers":{"messageId":"nope"},"data":"{}"}');
    h.gw.pushEvent('app1', { eventType: 't', data: {} });
    await c.waitFor((f) => f.length >= 1);
    c.ack(c.frames[0] as Frame);
    await waitFor(() => h.gw.stats().pendingFrames === 0, 2_000);
    expect(h.gw.stats().malformed).toMatchObject({
      bad_json: 1,
      binary: 1,
      not_object: 1,
      not_ack: 1,
      no_message_id: 1,
      unknown_message_id: 1,
    });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a frame over maxClientFrameBytes closes only that connection', async () => {
    const h = await start({ maxClientFrameBytes: 1024 });
    const c = await connect(h);
    c.ws.send('x'.repeat(4096));
    const [code] = (await once(c.ws, 'close')) as [number];
    expect(code).toBe(1009);
  });
});

describe('close()', () => {
  it('terminates sockets and refuses further pushes', async () => {
    const h = await start({ pingIntervalMs: 10 });
    const c = await connect(h);
    h.gw.setFaults({ dropEveryMs: 1000 });
    const closed = once(c.ws, 'close');
    await h.gw.close();
    await closed;
    expect(() => h.gw.pushEvent('app1', { eventType: 't', data: {} })).toThrow(/closed/);
    expect(h.gw.stats().openConnections).toBe(0);
  });
});
