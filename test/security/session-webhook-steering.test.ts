/**
 * Steering: a bot message names its own reply URL (`sessionWebhook`), and over HTTP that body is
 * not signed (docs/dingtalk.md §9a). A forged body pointing it at a loopback trap must not make any reply path post
 * there: the Stream replies (standalone and the client's), with or without a fallback, and the HTTP bot receiver.
 * A client configured for the emulator (here the fake gateway, which serves /robot/sendBySession) may still reply
 * to the emulator's origin.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBotCallbackHandler, signBotCallback } from '../../src/callback/index.js';
import { DingTalk } from '../../src/client.js';
import { SessionWebhookError } from '../../src/core/session-webhook.js';
import { type BotMessage, replyMarkdown, replyText, type StreamClient } from '../../src/stream/index.js';
import { expectThrows } from '../support/expect-throws.js';
import { FakeGateway } from '../support/stream/fake-gateway.js';
import { fastClient } from '../support/stream/harness.js';

let trap: { server: Server; hits: string[]; base: string } | undefined;
let gw: FakeGateway | undefined;
let client: StreamClient | undefined;

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await gw?.close();
  gw = undefined;
  if (trap) await new Promise((r) => trap!.server.close(r));
  trap = undefined;
});

/** A loopback server that records every request it gets: the place a forged body wants replies to go. */
async function trapServer(): Promise<{ hits: string[]; base: string }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"errcode":0,"errmsg":"ok"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  trap = { server, hits, base };
  return trap;
}

const NOW = 1_700_000_001_000;
const now = () => NOW;

function message(sessionWebhook: string): BotMessage {
  return {
    msgtype: 'text',
    text: { content: ' status?' },
    msgId: 'msg-steer',
    conversationId: 'cid-1',
    conversationType: '2',
    senderId: '$:LWCP_v1:$abc',
    senderStaffId: 'staff-1',
    createAt: NOW - 1_000,
    sessionWebhook,
    sessionWebhookExpiredTime: NOW + 5_400_000,
  };
}

describe('Stream replies', () => {
  it('a forged sessionWebhook on loopback: replyText and replyMarkdown throw a typed error, the trap gets nothing', async () => {
    const t = await trapServer();
    const forged = message(`${t.base}/robot/sendBySession?session=stolen`);
    const e1 = await expectThrows(() => replyText(forged, 'secret plans', { now }), SessionWebhookError);
    expect(e1.reason).toBe('origin_not_allowed');
    expect(e1.outcome).toBe('not_sent');
    await expectThrows(() => replyMarkdown(forged, 'T', 'secret plans', { now }), SessionWebhookError);
    // Any path on the trap, and the trap's origin dressed up as DingTalk's.
    for (const url of [
      `${t.base}/anything`,
      `https://oapi.dingtalk.com@${t.base.slice('http://'.length)}/robot/sendBySession?session=x`,
    ]) {
      await expectThrows(() => replyText(message(url), 'x', { now }), SessionWebhookError);
    }
    expect(t.hits).toEqual([]);
  });

  it('a forged sessionWebhook is not an expired one: the reply fallback is not used either', async () => {
    const t = await trapServer();
    const fallbacks: string[] = [];
    await expectThrows(
      () =>
        replyText(message(`${t.base}/robot/sendBySession?session=s`), 'x', {
          now,
          replyFallback: async (m) => void fallbacks.push(m.msgId),
        }),
      SessionWebhookError,
    );
    expect([t.hits, fallbacks]).toEqual([[], []]);
  });

  it("a client pointed at the emulator replies to the emulator's origin, and still not to the trap", async () => {
    const t = await trapServer();
    gw = await new FakeGateway().listen();
    client = fastClient(gw, { now });
    const ok = await client.replyText(message(`${gw.base}/robot/sendBySession?session=good`), 'done');
    expect(ok.via).toBe('sessionWebhook');
    expect(gw.sessionPosts).toHaveLength(1);
    await expectThrows(
      () => client!.replyText(message(`${t.base}/robot/sendBySession?session=bad`), 'x'),
      SessionWebhookError,
    );
    expect(t.hits).toEqual([]);
  });

  it('standalone replies take extra origins explicitly, e.g. from a DingTalk client configured for the emulator', async () => {
    gw = await new FakeGateway().listen();
    const dt = new DingTalk({ appKey: 'k', appSecret: 's', oapiBase: gw.base, apiBase: gw.base });
    const msg = message(`${gw.base}/robot/sendBySession?session=good`);
    await expectThrows(() => replyText(msg, 'x', { now }), SessionWebhookError);
    const r = await replyText(msg, 'x', { now, sessionWebhookOrigins: dt.sessionWebhookOrigins() });
    expect(r.via).toBe('sessionWebhook');
    expect(new DingTalk({ appKey: 'k', appSecret: 's' }).sessionWebhookOrigins()).toEqual([
      'https://oapi.dingtalk.com',
      'https://api.dingtalk.com',
    ]);
  });
});

describe('HTTP bot receiver', () => {
  it('a signed body whose sessionWebhook points at the trap is refused before the handler runs', async () => {
    const t = await trapServer();
    const runs: string[] = [];
    const bot = createBotCallbackHandler({
      appSecret: 'steer-secret',
      onMessage: (m) => void runs.push(m.msgId),
    });
    const ts = String(Date.now());
    const res = await bot.fetch(
      new Request('http://127.0.0.1/bot', {
        method: 'POST',
        headers: { timestamp: ts, sign: signBotCallback('steer-secret', ts) },
        body: JSON.stringify(message(`${t.base}/robot/sendBySession?session=s`)),
      }),
    );
    expect([res.status, await res.json()]).toEqual([
      400,
      { error: 'bad_request', reason: 'session_webhook_not_allowed' },
    ]);
    expect([runs, t.hits]).toEqual([[], []]);
  });
});
