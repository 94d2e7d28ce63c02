/** The three receivers in-process, through their fetch and framework-neutral shapes. Sockets: test/integration. */

import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type BotCallbackMeta, createBotCallbackHandler } from './bot-handler.js';
import { signBotCallback } from './bot-signature.js';
import { createCardCallbackHandler } from './card-handler.js';
import { signCardCallback } from './card-signature.js';
import { EventCrypto, type ReplyEnvelope } from './event-crypto.js';
import { createEventCallbackHandler } from './event-handler.js';
import { digestKey, MemorySeenStore } from './replay-guard.js';

const NOW = 1_700_000_000_000;
const crypto = new EventCrypto({
  token: 'tokenABC',
  aesKey: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
  ownerKey: 'dingappkey0001',
  now: () => NOW,
});

function pushRequest(event: unknown, init: { method?: string; nonce?: string } = {}): Request {
  const encrypt = crypto.encrypt(JSON.stringify(event));
  const ts = String(NOW);
  const nonce = init.nonce ?? 'nonce123';
  const qs = new URLSearchParams({ msg_signature: crypto.sign(ts, nonce, encrypt), timestamp: ts, nonce });
  return new Request(`http://127.0.0.1/dingtalk/events?${qs}`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json' },
    ...(init.method === 'GET' ? {} : { body: JSON.stringify({ encrypt }) }),
  });
}

async function expectSuccessReply(res: Response): Promise<void> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as ReplyEnvelope;
  expect(crypto.verify(body.msg_signature, body.timeStamp, body.nonce, body.encrypt)).toBe(true);
  expect(crypto.decrypt(body.encrypt)).toBe('success');
}

describe('createEventCallbackHandler', () => {
  it('fails closed without an EventCrypto or a handler', () => {
    expect(() => createEventCallbackHandler({ crypto: {} as EventCrypto, onEvent: () => {} })).toThrow(
      ConfigError,
    );
    expect(() => createEventCallbackHandler({ crypto, onEvent: undefined as never })).toThrow(ConfigError);
  });

  it('hands the decrypted event to onEvent and answers with an encrypted success that verifies', async () => {
    const seen: unknown[] = [];
    const h = createEventCallbackHandler({
      crypto,
      now: () => NOW + 5,
      onEvent: (e, meta) => void seen.push(e, meta),
    });
    await expectSuccessReply(await h.fetch(pushRequest({ EventType: 'user_add_org', UserId: ['u1'] })));
    expect(seen).toEqual([
      { EventType: 'user_add_org', UserId: ['u1'] },
      { eventType: 'user_add_org', timestamp: String(NOW), nonce: 'nonce123', receivedAt: NOW + 5 },
    ]);
  });

  it('answers check_url itself without calling onEvent', async () => {
    const onEvent = vi.fn();
    const h = createEventCallbackHandler({ crypto, onEvent });
    await expectSuccessReply(await h.fetch(pushRequest({ EventType: 'check_url' })));
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('does not answer before onEvent has finished (commit before ack)', async () => {
    let release!: () => void;
    let started!: () => void;
    const committed = new Promise<void>((r) => {
      release = r;
    });
    const onEventStarted = new Promise<void>((r) => {
      started = r;
    });
    let answered = false;
    const h = createEventCallbackHandler({
      crypto,
      onEvent: () => {
        started();
        return committed;
      },
    });
    const pending = h.fetch(pushRequest({ EventType: 'x' })).then((r) => {
      answered = true;
      return r;
    });
    await onEventStarted;
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    await expectSuccessReply(await pending);
    expect(answered).toBe(true);
  });

  it('a failing onEvent is a 500 without details; the error goes to onError and a redacted log line', async () => {
    const onError = vi.fn();
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (o) => void lines.push(o),
    };
    const failure = new Error('db down: password=hunter2');
    const h = createEventCallbackHandler({ crypto, onError, logger, onEvent: () => Promise.reject(failure) });
    const res = await h.fetch(pushRequest({ EventType: 'x' }));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal' });
    expect(text).not.toContain('hunter2');
    expect(onError).toHaveBeenCalledWith(failure);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(lines).toHaveLength(1);
  });

  it('maps bad input to 4xx JSON reasons', async () => {
    const h = createEventCallbackHandler({ crypto, onEvent: () => {}, maxBodyBytes: 2048 });
    const call = async (req: Request) => {
      const res = await h.fetch(req);
      return { status: res.status, body: await res.json() };
    };
    const get = await call(pushRequest({ EventType: 'x' }, { method: 'GET' }));
    expect(get).toEqual({ status: 405, body: { error: 'method_not_allowed', reason: 'use_post' } });
    const big = new Request('http://h/cb?nonce=1', { method: 'POST', body: 'x'.repeat(4096) });
    expect(await call(big)).toEqual({
      status: 413,
      body: { error: 'payload_too_large', reason: 'body_too_large' },
    });
    const notJson = new Request('http://h/cb', { method: 'POST', body: '{' });
    expect(await call(notJson)).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: 'invalid_json' },
    });
    const empty = new Request('http://h/cb', { method: 'POST' });
    expect(await call(empty)).toEqual({ status: 400, body: { error: 'bad_request', reason: 'empty_body' } });
    const unsigned = new Request('http://h/cb', { method: 'POST', body: '{"encrypt":"abcd"}' });
    expect(await call(unsigned)).toEqual({ status: 401, body: { error: 'signature', reason: 'missing' } });
    const ts = String(NOW);
    const qs = new URLSearchParams({
      msg_signature: crypto.sign(ts, 'n1', 'abcd'),
      timestamp: ts,
      nonce: 'n1',
    });
    const undecryptable = new Request(`http://h/cb?${qs}`, { method: 'POST', body: '{"encrypt":"abcd"}' });
    expect(await call(undecryptable)).toEqual({
      status: 400,
      body: { error: 'decrypt', reason: 'bad_block_size' },
    });
  });

  it('accepts a body a framework already parsed (Express express.json())', async () => {
    const onEvent = vi.fn();
    const h = createEventCallbackHandler({ crypto, onEvent });
    const req = pushRequest({ EventType: 'y' });
    const parsedBody = await req.json();
    const res = await h.handle({ method: 'POST', url: req.url, headers: {}, parsedBody });
    expect(res.status).toBe(200);
    expect(onEvent).toHaveBeenCalledOnce();
  });
});

function botRequest(body: string, ts = String(NOW), sign = signBotCallback('botSecret', ts)): Request {
  return new Request('http://h/bot', { method: 'POST', headers: { timestamp: ts, sign }, body });
}

describe('createBotCallbackHandler', () => {
  const message = {
    msgtype: 'text',
    text: { content: ' hi' },
    msgId: 'm1',
    conversationId: 'cid1',
    senderId: 's',
  };

  it('fails closed without an appSecret', () => {
    expect(() => createBotCallbackHandler({ appSecret: '', onMessage: () => {} })).toThrow(ConfigError);
  });

  it('verifies the headers, passes the message, answers "empty" or the returned inline reply', async () => {
    const got: unknown[] = [];
    const h = createBotCallbackHandler({
      appSecret: 'botSecret',
      now: NOW,
      onMessage: (m) => void got.push(m),
    });
    const res = await h.fetch(botRequest(JSON.stringify(message)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ msgtype: 'empty' });
    expect(got).toEqual([message]);
    const replying = createBotCallbackHandler({
      appSecret: 'botSecret',
      now: () => NOW,
      onMessage: () => ({ msgtype: 'text', text: { content: 'pong' } }),
    });
    const r2 = await replying.fetch(botRequest(JSON.stringify(message)));
    expect(await r2.json()).toEqual({ msgtype: 'text', text: { content: 'pong' } });
  });

  it('on an injected clock, the default replay store keeps keys by that clock (a replay of a 2023 callback runs once)', async () => {
    const onMessage = vi.fn();
    const h = createBotCallbackHandler({ appSecret: 'botSecret', now: NOW, onMessage });
    for (let i = 0; i < 3; i++) expect((await h.fetch(botRequest(JSON.stringify(message)))).status).toBe(200);
    expect(onMessage).toHaveBeenCalledOnce();
  });

  it("replay: 'handler' claims nothing itself and hands the keys to onMessage, which decides", async () => {
    // The handler's own memory stands in for a database: claim and effect in one step, or neither.
    const claimed = new Set<string>();
    const applied: string[] = [];
    const metas: BotCallbackMeta[] = [];
    let crash = true;
    const h = createBotCallbackHandler({
      appSecret: 'botSecret',
      now: () => NOW,
      replay: 'handler',
      onMessage: (m, meta) => {
        metas.push(meta);
        if (crash) {
          crash = false;
          throw new Error('died before its commit');
        }
        const keys = meta.replay!.keys;
        if (keys.some((k) => claimed.has(k))) return undefined;
        for (const k of keys) claimed.add(k);
        applied.push(String(m.msgId));
        return undefined;
      },
    });
    const send = async () => (await h.fetch(botRequest(JSON.stringify(message)))).status;
    // The first delivery fails inside the handler: 500, and the receiver itself kept nothing...
    expect(await send()).toBe(500);
    // ...so the very same request is taken, then answered as a replay by the handler's own claim.
    expect([await send(), await send()]).toEqual([200, 200]);
    expect(applied).toEqual(['m1']);
    const sig = signBotCallback('botSecret', NOW);
    expect(metas[0]!.replay).toEqual({
      keys: [digestKey('bot', 'sig', String(NOW), sig), digestKey('bot', 'msg', 'm1')],
      expiresAtMs: NOW + 3_600_000 + 1,
    });
    // Without the mode, the receiver claims and the handler sees no keys (the default is unchanged).
    const plain: BotCallbackMeta[] = [];
    const d = createBotCallbackHandler({
      appSecret: 'botSecret',
      now: () => NOW,
      replay: new MemorySeenStore({ now: () => NOW }),
      onMessage: (_m, meta) => void plain.push(meta),
    });
    await d.fetch(botRequest(JSON.stringify(message)));
    await d.fetch(botRequest(JSON.stringify(message)));
    expect(plain).toEqual([{ timestamp: String(NOW), receivedAt: NOW }]);
  });

  it('rejects bad signatures, stale timestamps and bad bodies with 4xx reasons', async () => {
    const onMessage = vi.fn();
    const h = createBotCallbackHandler({ appSecret: 'botSecret', now: NOW, windowMs: 60_000, onMessage });
    const status = async (req: Request) => {
      const res = await h.fetch(req);
      return [res.status, ((await res.json()) as { reason: string }).reason];
    };
    expect(await status(botRequest('{}', String(NOW), 'bad'))).toEqual([401, 'mismatch']);
    expect(await status(botRequest('{}', String(NOW - 61_000)))).toEqual([401, 'stale_timestamp']);
    expect(await status(new Request('http://h/bot', { method: 'POST', body: '{}' }))).toEqual([
      401,
      'missing',
    ]);
    expect(await status(botRequest('not json'))).toEqual([400, 'invalid_json']);
    expect(await status(botRequest('"string"'))).toEqual([400, 'not_a_json_object']);
    expect(onMessage).not.toHaveBeenCalled();
  });
});

function cardRequest(body: unknown, secret = 'cardSecret', ts = String(NOW)): Request {
  return new Request('http://h/card', {
    method: 'POST',
    headers: { 'x-ddpaas-signature-timestamp': ts, 'x-ddpaas-signature': signCardCallback(secret, ts) },
    body: JSON.stringify(body),
  });
}

describe('createCardCallbackHandler', () => {
  const action = {
    type: 'actionCallback',
    outTrackId: 'ot1',
    userId: 'u1',
    content: '{"cardPrivateData":{}}',
  };

  it('requires an apiSecret unless unsigned callbacks are explicitly allowed', () => {
    expect(() => createCardCallbackHandler({ onAction: () => {} })).toThrow(ConfigError);
    expect(() => createCardCallbackHandler({ apiSecret: '', onAction: () => {} })).toThrow(ConfigError);
    expect(() => createCardCallbackHandler({ allowUnsigned: true, onAction: () => {} })).not.toThrow();
  });

  it('verifies, passes the action and returns the card update', async () => {
    const h = createCardCallbackHandler({
      apiSecret: 'cardSecret',
      now: NOW,
      onAction: (cb) => ({ cardData: { cardParamMap: { pressed: cb.outTrackId } } }),
    });
    const res = await h.fetch(cardRequest(action));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cardData: { cardParamMap: { pressed: 'ot1' } } });
  });

  it('rejects a wrong secret and a body without outTrackId; unsigned mode skips the check only when allowed', async () => {
    const onAction = vi.fn(() => undefined);
    const h = createCardCallbackHandler({ apiSecret: 'cardSecret', now: NOW, onAction });
    expect((await h.fetch(cardRequest(action, 'otherSecret'))).status).toBe(401);
    const noId = await h.fetch(cardRequest({ userId: 'u1' }));
    expect([noId.status, await noId.json()]).toEqual([
      400,
      { error: 'bad_request', reason: 'missing_out_track_id' },
    ]);
    expect(onAction).not.toHaveBeenCalled();
    const open = createCardCallbackHandler({ allowUnsigned: true, onAction });
    const res = await open.fetch(
      new Request('http://h/card', { method: 'POST', body: JSON.stringify(action) }),
    );
    expect([res.status, await res.json()]).toEqual([200, {}]);
    expect(onAction).toHaveBeenCalledOnce();
  });
});

describe('secrets stay out of answers and logs (canary)', () => {
  it('no token, AES key, app secret or api secret appears in any answer or log line', async () => {
    const canary = {
      token: 'CanaryTok3n9',
      aesKey: 'CanaryAesKey0123456789abcdefghijklmnopqrstu',
      appSecret: 'CanaryAppSecret-42',
      apiSecret: 'CanaryApiSecret-43',
    };
    const lines: string[] = [];
    const capture = (level: string) => (o: Record<string, unknown>, m?: string) =>
      void lines.push(`${level} ${m} ${JSON.stringify(o)}`);
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const c = new EventCrypto({
      token: canary.token,
      aesKey: canary.aesKey,
      ownerKey: 'dingowner',
      now: () => NOW,
    });
    const answers: string[] = [];
    const record = async (res: Response) => void answers.push(`${res.status} ${await res.text()}`);
    const events = createEventCallbackHandler({
      crypto: c,
      logger,
      onEvent: () => Promise.reject(new Error('x')),
    });
    const bot = createBotCallbackHandler({
      appSecret: canary.appSecret,
      logger,
      now: NOW,
      onMessage: () => {},
    });
    const cards = createCardCallbackHandler({
      apiSecret: canary.apiSecret,
      logger,
      now: NOW,
      onAction: () => {},
    });
    const encrypt = c.encrypt('{"EventType":"x"}');
    const qs = new URLSearchParams({
      msg_signature: c.sign(String(NOW), 'n', encrypt),
      timestamp: String(NOW),
      nonce: 'n',
    });
    await record(
      await events.fetch(
        new Request(`http://h/e?${qs}`, { method: 'POST', body: JSON.stringify({ encrypt }) }),
      ),
    );
    await record(
      await events.fetch(
        new Request(`http://h/e?${qs}x`, { method: 'POST', body: JSON.stringify({ encrypt }) }),
      ),
    );
    const check = c.encrypt('{"EventType":"check_url"}');
    const qs2 = new URLSearchParams({
      msg_signature: c.sign(String(NOW), 'n', check),
      timestamp: String(NOW),
      nonce: 'n',
    });
    await record(
      await events.fetch(
        new Request(`http://h/e?${qs2}`, { method: 'POST', body: JSON.stringify({ encrypt: check }) }),
      ),
    );
    await record(
      await bot.fetch(
        new Request('http://h/b', {
          method: 'POST',
          headers: { timestamp: String(NOW), sign: 'x' },
          body: '{}',
        }),
      ),
    );
    await record(
      await cards.fetch(new Request('http://h/c', { method: 'POST', body: '{"outTrackId":"o"}' })),
    );
    expect(answers).toHaveLength(5);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const everything = [...answers, ...lines].join('\n');
    for (const secret of Object.values(canary)) {
      for (const form of [
        secret,
        encodeURIComponent(secret),
        Buffer.from(secret).toString('base64').replace(/=+$/, ''),
      ]) {
        expect(everything).not.toContain(form);
      }
    }
  });
});
