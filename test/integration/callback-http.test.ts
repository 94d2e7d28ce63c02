/**
 * The callback receivers over real sockets on 127.0.0.1:0: node:http directly (`handler.node`) and Hono on
 * @hono/node-server (`handler.fetch(c.req.raw)`). Bad input to HTTP callbacks: ≥ 2,000 generated
 * malformed requests are all answered 4xx with a JSON `{ error, reason }` and none 5xx, while valid pushes get
 * an encrypted `success` that DingTalk's side can verify and decrypt.
 */

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallbackEvent,
  createBotCallbackHandler,
  createCardCallbackHandler,
  createEventCallbackHandler,
  EventCrypto,
  type ReplyEnvelope,
  signBotCallback,
  signCardCallback,
} from '../../src/callback/index.js';

const TOKEN = 'tokenABC';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';
const OWNER = 'dingappkey0001';
const APP_SECRET = 'botAppSecret-0123456789';
const CARD_SECRET = 'cardApiSecret123';
const MAX_BODY = 64 * 1024;

// DingTalk's side of the conversation: same configuration, its own instance.
const dingtalk = new EventCrypto({ token: TOKEN, aesKey: AES_KEY, ownerKey: OWNER });
const receiverCrypto = new EventCrypto({
  token: TOKEN,
  aesKey: AES_KEY,
  ownerKey: OWNER,
  timestampWindowMs: 60_000,
});

const committed: CallbackEvent[] = [];
let failNext = false;

const events = createEventCallbackHandler({
  crypto: receiverCrypto,
  maxBodyBytes: MAX_BODY,
  onEvent: async (event) => {
    if (failNext) {
      failNext = false;
      throw new Error('store unavailable: token=abc123');
    }
    await new Promise((r) => setImmediate(r));
    committed.push(event);
  },
});
const bot = createBotCallbackHandler({
  appSecret: APP_SECRET,
  maxBodyBytes: MAX_BODY,
  onMessage: () => undefined,
});
const cards = createCardCallbackHandler({
  apiSecret: CARD_SECRET,
  maxBodyBytes: MAX_BODY,
  onAction: () => ({ cardData: { cardParamMap: { ok: '1' } } }),
});

let nodeServer: Server;
let honoServer: ServerType;
let nodeBase: string;
let honoBase: string;
const agent = new Agent({ connections: 16, keepAliveTimeout: 1000 });

beforeAll(async () => {
  nodeServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/events') return void events.node(req, res);
    if (path === '/bot') return void bot.node(req, res);
    if (path === '/card') return void cards.node(req, res);
    if (path === '/express-events') {
      // What express.json() leaves behind: the stream consumed and the parsed object on req.body.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        (req as typeof req & { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        void events.node(req, res);
      });
      return;
    }
    res.writeHead(404).end();
  });
  nodeServer.listen(0, '127.0.0.1');
  await once(nodeServer, 'listening');
  nodeBase = `http://127.0.0.1:${(nodeServer.address() as AddressInfo).port}`;

  const app = new Hono();
  app.all('/events', (c) => events.fetch(c.req.raw));
  app.all('/bot', (c) => bot.fetch(c.req.raw));
  await new Promise<void>((resolve) => {
    honoServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      honoBase = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
});

afterAll(async () => {
  await agent.close();
  await new Promise<void>((r) => nodeServer.close(() => r()));
  await new Promise<void>((r) => honoServer.close(() => r()));
});

interface Sent {
  method?: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

async function send(base: string, s: Sent): Promise<{ status: number; text: string }> {
  const res = await request(`${base}${s.path}${s.query ? `?${s.query}` : ''}`, {
    method: (s.method ?? 'POST') as 'POST',
    headers: { 'content-type': 'application/json', ...s.headers },
    body: s.body ?? null,
    dispatcher: agent,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

function signedQuery(encrypt: string, ts = String(Date.now()), nonce = 'nonceX1'): string {
  return new URLSearchParams({
    msg_signature: dingtalk.sign(ts, nonce, encrypt),
    timestamp: ts,
    nonce,
  }).toString();
}

function expectReplyVerifies(text: string): void {
  const reply = JSON.parse(text) as ReplyEnvelope;
  expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
  expect(dingtalk.verify(reply.msg_signature, reply.timeStamp, reply.nonce, reply.encrypt)).toBe(true);
  expect(dingtalk.decrypt(reply.encrypt)).toBe('success');
}

describe('event receiver on node:http', () => {
  it('answers a valid push with an encrypted success that verifies, after the event was committed', async () => {
    const encrypt = dingtalk.encrypt(JSON.stringify({ EventType: 'user_add_org', UserId: ['u9'] }));
    const before = committed.length;
    const res = await send(nodeBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(res.status).toBe(200);
    expectReplyVerifies(res.text);
    expect(committed.slice(before)).toEqual([{ EventType: 'user_add_org', UserId: ['u9'] }]);
  });

  it('answers check_url as DingTalk requires', async () => {
    const encrypt = dingtalk.encrypt('{"EventType":"check_url"}');
    const res = await send(nodeBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: `{"encrypt":"${encrypt}"}`,
    });
    expect(res.status).toBe(200);
    expectReplyVerifies(res.text);
  });

  it('re-formatting the JSON envelope does not change the verdict; changing one byte of encrypt does', async () => {
    const encrypt = dingtalk.encrypt('{"EventType":"chat_update_title"}');
    const query = signedQuery(encrypt);
    for (const body of [
      `{"encrypt":"${encrypt}"}`,
      `{\r\n\t"encrypt" : "${encrypt}"\r\n}\r\n`,
      `  {"x":null,"encrypt":"${encrypt}","y":{"z":[1,2]}}`,
    ]) {
      const res = await send(nodeBase, { path: '/events', query, body });
      expect(res.status).toBe(200);
    }
    const changed = encrypt.slice(0, 5) + (encrypt[5] === 'A' ? 'B' : 'A') + encrypt.slice(6);
    const tampered = await send(nodeBase, { path: '/events', query, body: `{"encrypt":"${changed}"}` });
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.text)).toEqual({ error: 'signature', reason: 'mismatch' });
  });

  it('works behind a body parser that already consumed the stream (Express express.json())', async () => {
    const encrypt = dingtalk.encrypt('{"EventType":"via-express"}');
    const before = committed.length;
    const res = await send(nodeBase, {
      path: '/express-events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(res.status).toBe(200);
    expectReplyVerifies(res.text);
    expect(committed.slice(before)).toEqual([{ EventType: 'via-express' }]);
    const bad = await send(nodeBase, {
      path: '/express-events',
      query: signedQuery('AAAA'),
      body: '{"encrypt":"AAAB"}',
    });
    expect(bad.status).toBe(401);
  });

  it('a failing handler is answered 500 with no detail, so DingTalk pushes again', async () => {
    failNext = true;
    const encrypt = dingtalk.encrypt('{"EventType":"x"}');
    const res = await send(nodeBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text)).toEqual({ error: 'internal' });
  });

  it('answers oversized bodies 413, declared or chunked, and keeps serving', async () => {
    const big = Buffer.alloc(MAX_BODY + 1, 0x61);
    const declared = await send(nodeBase, { path: '/events', query: 'nonce=1', body: big });
    expect(declared.status).toBe(413);
    async function* chunks() {
      for (let i = 0; i < 8; i++) yield Buffer.alloc(MAX_BODY / 4, 0x62);
    }
    const res = await request(`${nodeBase}/events?nonce=1`, {
      method: 'POST',
      // A stream body has no declared length: undici sends it chunked.
      body: Readable.from(chunks()),
      dispatcher: agent,
    });
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(await res.body.text())).toEqual({
      error: 'payload_too_large',
      reason: 'body_too_large',
    });
    const encrypt = dingtalk.encrypt('{"EventType":"after"}');
    const ok = await send(nodeBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(ok.status).toBe(200);
  });

  it('survives a client that disconnects mid-body', async () => {
    const { connect } = await import('node:net');
    const port = (nodeServer.address() as AddressInfo).port;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /events?nonce=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"encr');
    await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    const encrypt = dingtalk.encrypt('{"EventType":"still-up"}');
    const ok = await send(nodeBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(ok.status).toBe(200);
  });
});

/** mulberry32, so a failing corpus can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A generator of malformed event pushes, one per category in turn. */
function malformedEvents(count: number, seed: number): Sent[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const now = () => String(Date.now());
  const fresh = () => dingtalk.encrypt(JSON.stringify({ EventType: 'x', n: int(1e6) }));
  const categories: Array<() => Sent> = [
    () => ({ method: ['GET', 'PUT', 'DELETE', 'PATCH'][int(4)]!, path: '/events', body: '{}' }),
    () => ({ path: '/events', body: randomBytes(1 + int(300)) }),
    () => {
      const e = fresh();
      const body = JSON.stringify({ encrypt: e });
      return { path: '/events', query: signedQuery(e), body: body.slice(0, int(body.length)) };
    },
    () => ({
      path: '/events',
      query: signedQuery('x'),
      body: ['[]', '1', '"s"', 'null', 'true', '{}', ''][int(7)]!,
    }),
    () => ({ path: '/events', body: `${'['.repeat(1000 + int(20_000))}` }),
    () => ({
      path: '/events',
      body: Buffer.concat([Buffer.from('{"encrypt":"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}')]),
    }),
    () => ({
      path: '/events',
      query: signedQuery('x'),
      body: JSON.stringify({ encrypt: [1, 2][int(2)] === 1 ? 42 : { a: 1 } }),
    }),
    () => {
      const e = fresh();
      const params = new URLSearchParams(signedQuery(e));
      params.delete(['msg_signature', 'timestamp', 'nonce'][int(3)]!);
      return { path: '/events', query: params.toString(), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      const name = ['msg_signature', 'timestamp', 'nonce'][int(3)]!;
      const params = new URLSearchParams(signedQuery(e));
      params.append(name, params.get(name) ?? '');
      return { path: '/events', query: params.toString(), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      const params = new URLSearchParams(signedQuery(e));
      const sig = params.get('msg_signature')!;
      const i = int(sig.length);
      params.set('msg_signature', sig.slice(0, i) + (sig[i] === '0' ? '1' : '0') + sig.slice(i + 1));
      return { path: '/events', query: params.toString(), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      return { path: '/events', query: signedQuery(e).toUpperCase(), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      const ts = String(Date.now() - 61_000 - int(1e9));
      return { path: '/events', query: signedQuery(e, ts), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      return { path: '/events', query: signedQuery(e, `${now()}z`), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const junk = randomBytes(16 * (1 + int(8))).toString('base64');
      return { path: '/events', query: signedQuery(junk), body: JSON.stringify({ encrypt: junk }) };
    },
    () => {
      const e = `${fresh()}${['\n', ' ', '*', '-'][int(4)]}`;
      return { path: '/events', query: signedQuery(e), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const other = new EventCrypto({ token: TOKEN, aesKey: AES_KEY, ownerKey: 'dingsomeoneelse' });
      const e = other.encrypt('{"EventType":"x"}');
      return { path: '/events', query: signedQuery(e), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = dingtalk.encrypt(['success', '[1]', 'nope', ''][int(4)]!);
      return { path: '/events', query: signedQuery(e), body: JSON.stringify({ encrypt: e }) };
    },
    () => {
      const e = fresh();
      return {
        path: '/events',
        query: `msg_signature=%zz&timestamp=${now()}&nonce=%`,
        body: JSON.stringify({ encrypt: e }),
      };
    },
    () => ({ path: '/events', query: `nonce=${'n'.repeat(2000 + int(4000))}`, body: '{"encrypt":"AAAA"}' }),
    () => ({ path: '/events', headers: { 'content-type': 'text/plain' }, body: 'encrypt=abc' }),
    () => ({ path: '/events', body: Buffer.alloc(MAX_BODY + 1 + int(1000), 0x20) }),
  ];
  return Array.from({ length: count }, (_, i) => categories[i % categories.length]!());
}

async function runCorpus(
  base: string,
  corpus: Sent[],
): Promise<{ statuses: Map<number, number>; reasons: Map<string, number>; bad: string[] }> {
  const statuses = new Map<number, number>();
  const reasons = new Map<string, number>();
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < corpus.length) {
      const s = corpus[next++]!;
      const res = await send(base, s);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      let parsed: { error?: unknown; reason?: unknown } | undefined;
      try {
        parsed = JSON.parse(res.text) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      if (
        res.status < 400 ||
        res.status > 499 ||
        typeof parsed?.error !== 'string' ||
        typeof parsed.reason !== 'string'
      ) {
        bad.push(
          `${res.status} ${res.text.slice(0, 80)} ← ${s.method ?? 'POST'} ${s.query?.slice(0, 60) ?? ''}`,
        );
      } else {
        const key = `${res.status} ${parsed.error}/${parsed.reason}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { statuses, reasons, bad };
}

describe('malformed callback corpus', () => {
  it('2,100 malformed event pushes over node:http: all 4xx with a JSON reason, 0 5xx, nothing reaches onEvent', async () => {
    const before = committed.length;
    const { statuses, reasons, bad } = await runCorpus(nodeBase, malformedEvents(2100, 7));
    if (process.env['DINGKIT_F2_REPORT']) console.log(Object.fromEntries(reasons));
    expect(bad).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(committed.length).toBe(before);
    // The corpus exercises every kind of rejection, not one path 2,000 times.
    const kinds = new Set([...reasons.keys()].map((k) => k.split(' ')[0]));
    expect(kinds).toEqual(new Set(['400', '401', '405', '413']));
    expect(reasons.size).toBeGreaterThanOrEqual(12);
  });

  it('the same generator through Hono (fetch adapter): all 4xx with a JSON reason', async () => {
    const { statuses, bad } = await runCorpus(honoBase, malformedEvents(420, 11));
    expect(bad).toEqual([]);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
  });

  it('twin: the generator is not rejecting for a trivial reason — a valid push through Hono is 200', async () => {
    const encrypt = dingtalk.encrypt('{"EventType":"via-hono"}');
    const res = await send(honoBase, {
      path: '/events',
      query: signedQuery(encrypt),
      body: JSON.stringify({ encrypt }),
    });
    expect(res.status).toBe(200);
    expectReplyVerifies(res.text);
  });
});

describe('bot and card receivers on node:http', () => {
  it('bot: a signed message is 200; unsigned, stale or malformed ones are 4xx with a reason', async () => {
    const ts = String(Date.now());
    const body = JSON.stringify({
      msgtype: 'text',
      text: { content: 'hi' },
      msgId: 'm1',
      conversationId: 'c',
    });
    const ok = await send(nodeBase, {
      path: '/bot',
      headers: { timestamp: ts, sign: signBotCallback(APP_SECRET, ts) },
      body,
    });
    expect([ok.status, JSON.parse(ok.text)]).toEqual([200, { msgtype: 'empty' }]);
    const stale = String(Date.now() - 3_700_000);
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{}, body, 401, 'missing'],
      [{ timestamp: ts, sign: signBotCallback('other', ts) }, body, 401, 'mismatch'],
      [{ timestamp: stale, sign: signBotCallback(APP_SECRET, stale) }, body, 401, 'stale_timestamp'],
      [{ timestamp: 'soon', sign: 'x' }, body, 401, 'bad_timestamp'],
      [{ timestamp: ts, sign: signBotCallback(APP_SECRET, ts) }, '{"msgtype":', 400, 'invalid_json'],
    ];
    for (const [headers, b, status, reason] of cases) {
      const res = await send(nodeBase, { path: '/bot', headers, body: b });
      expect([res.status, JSON.parse(res.text).reason]).toEqual([status, reason]);
    }
  });

  it('card: a signed action gets the card update; a wrong signature is 401', async () => {
    const ts = String(Date.now());
    const body = JSON.stringify({ type: 'actionCallback', outTrackId: 'ot', userId: 'u', content: '{}' });
    const headers = {
      'x-ddpaas-signature-timestamp': ts,
      'x-ddpaas-signature': signCardCallback(CARD_SECRET, ts),
    };
    const ok = await send(nodeBase, { path: '/card', headers, body });
    expect([ok.status, JSON.parse(ok.text)]).toEqual([200, { cardData: { cardParamMap: { ok: '1' } } }]);
    const bad = await send(nodeBase, {
      path: '/card',
      headers: { ...headers, 'x-ddpaas-signature': 'AAAA' },
      body,
    });
    expect(bad.status).toBe(401);
  });
});
