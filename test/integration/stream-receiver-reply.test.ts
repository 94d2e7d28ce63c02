/**
 * Session-webhook replies and their fallback (the standalone calls name the fake gateway's origin, which stands in
 * for the emulator; test/security/session-webhook-steering.test.ts shows everything else is refused), open-call failures as typed errors, and the secret canary: neither
 * the client secret, a ticket nor a session id appears in any log line, state reason or error.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { DingTalkError, HttpError, PlatformError } from '../../src/core/errors.js';
import { Redactor } from '../../src/core/redact.js';
import {
  type BotMessage,
  type FallbackReply,
  replyMarkdown,
  replyText,
  type StreamClient,
} from '../../src/stream/index.js';
import { openConnection } from '../../src/stream/open-connection.js';
import { FakeGateway, type FakeGatewayOptions } from '../support/stream/fake-gateway.js';
import { fastClient, TEST_SECRET } from '../support/stream/harness.js';
import { waitFor } from '../support/wait-for.js';

const SESSION = 'sess0a1b2c3d4e5f60718293a4b5c6d7e8f9';
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

function message(g: FakeGateway, extra: Partial<BotMessage> = {}): BotMessage {
  return {
    msgtype: 'text',
    text: { content: ' hello' },
    msgId: 'msg-1',
    conversationId: 'cid-1',
    conversationType: '2',
    senderId: '$:LWCP_v1:$abc',
    senderStaffId: 'staff-1',
    createAt: 1_700_000_000_000,
    sessionWebhook: `${g.base}/robot/sendBySession?session=${SESSION}`,
    sessionWebhookExpiredTime: 1_700_005_400_000,
    ...extra,
  };
}

const fixedNow = () => 1_700_000_001_000;

describe('replies through the session webhook', () => {
  it('posts a text reply with @-mentions written into the text, and no token', async () => {
    const g = await gateway();
    const res = await replyText(message(g), 'done', {
      atUserIds: ['staff-1'],
      now: fixedNow,
      sessionWebhookOrigins: [g.base],
    });
    expect(res.via).toBe('sessionWebhook');
    expect(g.sessionPosts).toEqual([
      {
        session: SESSION,
        body: {
          msgtype: 'text',
          text: { content: 'done\n@staff-1' },
          at: { atUserIds: ['staff-1'], isAtAll: false },
        },
      },
    ]);
  });

  it('posts a markdown reply', async () => {
    const g = await gateway();
    await replyMarkdown(message(g), 'Title', '**bold**', { now: fixedNow, sessionWebhookOrigins: [g.base] });
    expect(g.sessionPosts[0]!.body).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'Title', text: '**bold**' },
    });
  });

  it('turns a non-zero errcode in an HTTP 200 answer into a PlatformError without the session id', async () => {
    const g = await gateway({
      sessionAnswer: () => ({ status: 200, body: { errcode: 400105, errmsg: 'bad type' } }),
    });
    const err = await replyText(message(g), 'x', { now: fixedNow, sessionWebhookOrigins: [g.base] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).errcode).toBe(400105);
    expect(JSON.stringify(err) + String((err as Error).message)).not.toContain(SESSION);
  });

  it('treats a non-JSON 200 as an unknown outcome', async () => {
    const g = await gateway({ sessionAnswer: () => ({ status: 200, body: '<html>gateway</html>' }) });
    const err = await replyText(message(g), 'x', { now: fixedNow, sessionWebhookOrigins: [g.base] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).outcome).toBe('unknown');
  });

  it('uses the fallback, without posting, once sessionWebhookExpiredTime has passed', async () => {
    const g = await gateway();
    const calls: FallbackReply[] = [];
    const res = await replyText(message(g, { sessionWebhookExpiredTime: 1_700_000_000_500 }), 'late', {
      now: fixedNow,
      sessionWebhookOrigins: [g.base],
      replyFallback: async (_m, reply) => {
        calls.push(reply);
      },
    });
    expect(res.via).toBe('fallback');
    expect(calls).toEqual([{ msgKey: 'sampleText', msgParam: { content: 'late' } }]);
    expect(g.sessionPosts).toHaveLength(0);
  });

  it('uses the fallback when the webhook answers that the session expired', async () => {
    const g = await gateway({
      sessionAnswer: () => ({ status: 200, body: { errcode: 300001, errmsg: 'session.expired' } }),
    });
    const calls: FallbackReply[] = [];
    const res = await replyMarkdown(message(g), 'T', 'body', {
      now: fixedNow,
      sessionWebhookOrigins: [g.base],
      replyFallback: async (_m, reply) => {
        calls.push(reply);
      },
    });
    expect(res.via).toBe('fallback');
    expect(calls).toEqual([{ msgKey: 'sampleMarkdown', msgParam: { title: 'T', text: 'body' } }]);
    expect(g.sessionPosts).toHaveLength(1);
  });

  it('fails with SESSION_EXPIRED when expired and no fallback is configured', async () => {
    const g = await gateway({
      sessionAnswer: () => ({ status: 400, body: { code: 'session.notExisted', message: 'gone' } }),
    });
    const err = await replyText(message(g), 'x', { now: fixedNow, sessionWebhookOrigins: [g.base] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DingTalkError);
    expect((err as DingTalkError).code).toBe('SESSION_EXPIRED');
    expect((err as DingTalkError).outcome).toBe('not_sent');
  });

  it('client.replyText plugs in the client-level replyFallback', async () => {
    const g = await gateway();
    const calls: string[] = [];
    client = fastClient(g, {
      now: fixedNow,
      replyFallback: async (m, reply) => {
        calls.push(`${m.msgId} ${reply.msgParam['content']}`);
      },
    });
    const { sessionWebhook: _none, ...noWebhook } = message(g);
    await client.replyText(noWebhook, 'via app robot');
    expect(calls).toEqual(['msg-1 via app robot']);
  });
});

describe('open call failures', () => {
  it('maps a non-200 answer to a typed, redacted error', async () => {
    const g = await gateway({
      openAnswer: () => ({ status: 502, body: `<html>upstream said clientSecret=${TEST_SECRET}</html>` }),
    });
    const err = await openConnection({
      openApiBase: g.base,
      clientId: 'dingtestapp',
      clientSecret: TEST_SECRET,
      subscriptions: [{ type: 'EVENT', topic: '*' }],
      ua: 'test',
      timeoutMs: 1_000,
      maxResponseBytes: 4_096,
      redactor: new Redactor([TEST_SECRET]),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(502);
    expect((err as HttpError).retryable).toBe(true);
    expect(`${(err as Error).message} ${JSON.stringify(err)}`).not.toContain(TEST_SECRET);
  });

  it('rejects an oversized answer and an answer without a ticket', async () => {
    const g = await gateway({
      openAnswer: (n) =>
        n === 0
          ? { status: 200, body: { endpoint: 'x'.repeat(10_000), ticket: 't' } }
          : { status: 200, body: {} },
    });
    const input = {
      openApiBase: g.base,
      clientId: 'dingtestapp',
      clientSecret: TEST_SECRET,
      subscriptions: [],
      ua: 'test',
      timeoutMs: 1_000,
      maxResponseBytes: 1_024,
      redactor: new Redactor([TEST_SECRET]),
    };
    expect(await openConnection(input).catch((e: DingTalkError) => e.code)).toBe('RESPONSE_TOO_LARGE');
    expect(await openConnection(input).catch((e: DingTalkError) => e.code)).toBe('STREAM_OPEN_BAD_ANSWER');
  });
});

describe('secret canary', () => {
  it('no log line, state reason or error carries the client secret, a ticket or a session id', async () => {
    let calls = 0;
    const g = await gateway({
      // Fail twice with bodies that echo the secret, then refuse one handshake, then accept.
      openAnswer: () =>
        ++calls <= 2
          ? { status: 503, body: { code: 'ServiceUnavailable', message: `bad ${TEST_SECRET}` } }
          : undefined,
      refuseHandshake: (n) => n === 0,
    });
    const lines: string[] = [];
    const sink = (obj: Record<string, unknown>, msg?: string) => lines.push(`${msg} ${JSON.stringify(obj)}`);
    client = fastClient(g, {
      logger: { debug: sink, info: sink, warn: sink, error: sink },
      onState: (c) => lines.push(JSON.stringify(c)),
    });
    client.onBotMessage(() => {
      throw new Error(`handler saw ${SESSION} and ${TEST_SECRET}`);
    });
    await client.start();
    const id = g.push('CALLBACK', '/v1.0/im/bot/messages/get', message(g));
    await g.waitForAck(id);
    g.dropAll();
    await waitFor(() => client!.stats().connects === 2, 2_000, 'reconnect');
    const everything = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(everything).not.toContain(TEST_SECRET);
    expect(everything).not.toContain(SESSION);
    for (const t of g.openCalls.map((o) => o.ticket).filter(Boolean)) expect(everything).not.toContain(t);
  });
});
