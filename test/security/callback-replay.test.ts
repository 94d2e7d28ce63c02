/**
 * Replay: captured callbacks sent again to a real HTTP receiver over loopback.
 *
 * - Robot callbacks (docs/dingtalk.md §9a) sign only the timestamp, so one captured `timestamp`/`sign` pair is good
 *   for an hour with ANY body. Accepted pairs and msgIds are remembered for the whole window: a replay is answered
 *   like the original but the handler does not run again, and a body swapped under the pair is not believed.
 * - Encrypted event pushes (§9b): the same signed push three times runs `onEvent` once; DingTalk's own re-push of
 *   an event (new nonce and signature, same event id) is answered and not run again.
 * - Card callbacks (§10), signed like robot callbacks (timestamp only).
 *
 * Each attack has a twin with the guard off (`replay: false`), which shows the attack lands without it.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CallbackEvent,
  createBotCallbackHandler,
  createCardCallbackHandler,
  createEventCallbackHandler,
  EventCrypto,
  MemorySeenStore,
  type ReplyEnvelope,
  type SeenStore,
  signBotCallback,
  signCardCallback,
} from '../../src/callback/index.js';
import type { BotMessage, CardCallback } from '../../src/stream/types.js';

const APP_SECRET = 'replay-test-app-secret-0123456789';
const API_SECRET = 'replay-test-card-api-secret';
const crypto = new EventCrypto({
  token: 'tokenReplay1',
  aesKey: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
  ownerKey: 'dingreplayapp',
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<string> {
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function post(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function botMessage(msgId: string, text: string, extra: Partial<BotMessage> = {}): BotMessage {
  const now = Date.now();
  return {
    msgtype: 'text',
    text: { content: text },
    msgId,
    conversationId: 'cidReplay',
    conversationType: '2',
    senderId: '$:LWCP_v1:$x',
    senderStaffId: 'staff-9',
    createAt: now,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=0123abcd',
    sessionWebhookExpiredTime: now + 5_400_000,
    ...extra,
  };
}

function botHeaders(ts: number): Record<string, string> {
  return { timestamp: String(ts), sign: signBotCallback(APP_SECRET, ts) };
}

describe('robot callbacks (§9a)', () => {
  it('a captured callback replayed 3 times, and with a swapped body, runs the handler once', async () => {
    const runs: string[] = [];
    const bot = createBotCallbackHandler({
      appSecret: APP_SECRET,
      onMessage: (m) => void runs.push(`${m.msgId}:${m.text?.content}`),
    });
    const url = await serve(bot.node);
    const captured = botHeaders(Date.now());
    const body = JSON.stringify(botMessage('m1', 'deploy v2'));
    for (let i = 0; i < 4; i++) {
      // The original and three replays all get the normal answer: a replay learns nothing.
      expect(await post(url, captured, body)).toEqual({ status: 200, body: { msgtype: 'empty' } });
    }
    const swapped = JSON.stringify(botMessage('m2', 'cancel 42'));
    expect(await post(url, captured, swapped)).toEqual({ status: 200, body: { msgtype: 'empty' } });
    expect(runs).toEqual(['m1:deploy v2']);
    // Genuine traffic still flows: a new signature with a new message runs ...
    const later = Date.now() + 1;
    expect((await post(url, botHeaders(later), JSON.stringify(botMessage('m3', 'tasks')))).status).toBe(200);
    // ... and DingTalk sending m3 again under a fresh signature does not run it twice.
    await post(url, botHeaders(later + 1), JSON.stringify(botMessage('m3', 'tasks')));
    expect(runs).toEqual(['m1:deploy v2', 'm3:tasks']);
  });

  it('a forged body whose sessionWebhook steers the reply to loopback is refused (400), not run', async () => {
    const runs: string[] = [];
    const bot = createBotCallbackHandler({
      appSecret: APP_SECRET,
      onMessage: (m) => void runs.push(m.msgId),
    });
    const url = await serve(bot.node);
    const forged = botMessage('m9', 'hi', {
      sessionWebhook: 'http://127.0.0.1:9/robot/sendBySession?session=trap',
    });
    const res = await post(url, botHeaders(Date.now()), JSON.stringify(forged));
    expect(res).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: 'session_webhook_not_allowed' },
    });
    expect(runs).toEqual([]);
  });

  it('a handler failure forgets the keys, so DingTalk retrying the message runs it', async () => {
    let calls = 0;
    const bot = createBotCallbackHandler({
      appSecret: APP_SECRET,
      onMessage: () => {
        calls++;
        if (calls === 1) throw new Error('database down');
      },
    });
    const url = await serve(bot.node);
    const headers = botHeaders(Date.now());
    const body = JSON.stringify(botMessage('m1', 'x'));
    expect((await post(url, headers, body)).status).toBe(500);
    expect((await post(url, headers, body)).status).toBe(200);
    expect(calls).toBe(2);
    expect((await post(url, headers, body)).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('twin: with the guard off the same replays run the handler every time', async () => {
    const runs: string[] = [];
    const bot = createBotCallbackHandler({
      appSecret: APP_SECRET,
      replay: false,
      onMessage: (m) => void runs.push(m.msgId),
    });
    const url = await serve(bot.node);
    const captured = botHeaders(Date.now());
    for (let i = 0; i < 3; i++) await post(url, captured, JSON.stringify(botMessage('m1', 'x')));
    await post(url, captured, JSON.stringify(botMessage('m2', 'swapped')));
    expect(runs).toEqual(['m1', 'm1', 'm1', 'm2']);
  });
});

function signedPush(event: CallbackEvent, nonce = 'nonceReplay01') {
  const encrypt = crypto.encrypt(JSON.stringify(event));
  const timestamp = String(Date.now());
  const qs = new URLSearchParams({ msg_signature: crypto.sign(timestamp, nonce, encrypt), timestamp, nonce });
  return { query: `?${qs}`, body: JSON.stringify({ encrypt }) };
}

function expectEncryptedSuccess(r: { status: number; body: Record<string, unknown> }): void {
  expect(r.status).toBe(200);
  const e = r.body as unknown as ReplyEnvelope;
  expect(crypto.verify(e.msg_signature, e.timeStamp, e.nonce, e.encrypt)).toBe(true);
  expect(crypto.decrypt(e.encrypt)).toBe('success');
}

describe('encrypted event pushes (§9b)', () => {
  it('the same push sent 3 times runs onEvent once; every answer is the encrypted success', async () => {
    const runs: CallbackEvent[] = [];
    const events = createEventCallbackHandler({ crypto, onEvent: (e) => void runs.push(e) });
    const url = await serve(events.node);
    const push = signedPush({ EventType: 'user_add_org', UserId: ['u1'] });
    for (let i = 0; i < 3; i++) expectEncryptedSuccess(await post(`${url}${push.query}`, {}, push.body));
    expect(runs).toHaveLength(1);
  });

  it('a re-push of the same event id under a new nonce is answered and not run again; other events run', async () => {
    const runs: string[] = [];
    const events = createEventCallbackHandler({
      crypto,
      onEvent: (e) => void runs.push(String(e['EventId'])),
    });
    const url = await serve(events.node);
    const a1 = signedPush({ EventType: 'user_add_org', EventId: 'ev-1' }, 'nonceA1');
    const a2 = signedPush({ EventType: 'user_add_org', EventId: 'ev-1' }, 'nonceA2');
    const b = signedPush({ EventType: 'user_add_org', EventId: 'ev-2' }, 'nonceB1');
    for (const p of [a1, a2, b]) expectEncryptedSuccess(await post(`${url}${p.query}`, {}, p.body));
    expect(runs).toEqual(['ev-1', 'ev-2']);
  });

  it('twin: with the guard off the same push runs onEvent 3 times', async () => {
    let runs = 0;
    const events = createEventCallbackHandler({
      crypto,
      replay: false,
      onEvent: () => {
        runs++;
      },
    });
    const url = await serve(events.node);
    const push = signedPush({ EventType: 'user_add_org' });
    for (let i = 0; i < 3; i++) await post(`${url}${push.query}`, {}, push.body);
    expect(runs).toBe(3);
  });
});

function cardHeaders(ts: number): Record<string, string> {
  return {
    'x-ddpaas-signature-timestamp': String(ts),
    'x-ddpaas-signature': signCardCallback(API_SECRET, ts),
  };
}

const click = (outTrackId: string, userId = 'u1'): CardCallback =>
  ({ type: 'actionCallback', outTrackId, userId, corpId: 'dingcorp', content: '{}' }) as CardCallback;

describe('card callbacks (§10)', () => {
  it('a captured click replayed 3 times, and with a swapped body, runs onAction once', async () => {
    const runs: string[] = [];
    const cards = createCardCallbackHandler({
      apiSecret: API_SECRET,
      onAction: (cb) => {
        runs.push(`${cb.outTrackId}:${cb.userId}`);
        return { cardData: { cardParamMap: { status: 'done' } } };
      },
    });
    const url = await serve(cards.node);
    const captured = cardHeaders(Date.now());
    const first = await post(url, captured, JSON.stringify(click('card-1')));
    expect(first).toEqual({ status: 200, body: { cardData: { cardParamMap: { status: 'done' } } } });
    for (let i = 0; i < 3; i++) {
      expect(await post(url, captured, JSON.stringify(click('card-1')))).toEqual({ status: 200, body: {} });
    }
    await post(url, captured, JSON.stringify(click('card-2', 'boss')));
    expect(runs).toEqual(['card-1:u1']);
  });

  it('twin: with the guard off the replays run onAction every time', async () => {
    let runs = 0;
    const cards = createCardCallbackHandler({
      apiSecret: API_SECRET,
      replay: false,
      onAction: () => {
        runs++;
      },
    });
    const url = await serve(cards.node);
    const captured = cardHeaders(Date.now());
    for (let i = 0; i < 3; i++) await post(url, captured, JSON.stringify(click('card-1')));
    expect(runs).toBe(3);
  });
});

describe('a pluggable store', () => {
  it('a store that fails answers 500 (DingTalk retries) and never runs the handler unguarded', async () => {
    const runs: string[] = [];
    const down: SeenStore = {
      firstSeen: () => Promise.reject(new Error('database unreachable')),
      forget: () => {},
    };
    const bot = createBotCallbackHandler({
      appSecret: APP_SECRET,
      replay: down,
      onMessage: (m) => void runs.push(m.msgId),
    });
    const res = await post(
      await serve(bot.node),
      botHeaders(Date.now()),
      JSON.stringify(botMessage('m1', 'x')),
    );
    expect(res).toEqual({ status: 500, body: { error: 'internal' } });
    expect(runs).toEqual([]);
  });

  it('shared by two receivers (two processes behind one URL), a replay to the other one is not run', async () => {
    const shared = new MemorySeenStore();
    const seenKeys: string[] = [];
    const store: SeenStore = {
      firstSeen: (key, expiresAtMs) => {
        seenKeys.push(key);
        return shared.firstSeen(key, expiresAtMs);
      },
      forget: (key) => shared.forget(key),
    };
    const runs: string[] = [];
    const make = () =>
      createBotCallbackHandler({
        appSecret: APP_SECRET,
        replay: store,
        onMessage: (m) => void runs.push(m.msgId),
      });
    const [a, b] = [await serve(make().node), await serve(make().node)];
    const captured = botHeaders(Date.now());
    const body = JSON.stringify(botMessage('m1', 'x'));
    await post(a, captured, body);
    await post(b, captured, body);
    expect(runs).toEqual(['m1']);
    // Keys are digests: the store never holds a signature or a message id in clear.
    expect(seenKeys.length).toBeGreaterThanOrEqual(2);
    for (const k of seenKeys) {
      expect(k).toMatch(/^bot:(sig|msg):[0-9a-f]{64}$/);
      expect(k).not.toContain(captured['sign']!);
    }
  });
});
