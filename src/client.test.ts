import { describe, expect, it } from 'vitest';
import { fakeTransport, testOptions } from '../test/support/fake-transport.js';
import { DingTalk } from './client.js';
import { ValidationError } from './core/errors.js';
import { replyText } from './stream/reply.js';
import type { BotMessage } from './stream/types.js';

const expired = (over: Partial<BotMessage>): BotMessage =>
  ({
    msgId: 'm1',
    conversationId: 'cidGroup==',
    conversationType: '2',
    senderStaffId: 'manager4220',
    robotCode: 'dingbot',
    sessionWebhook: 'http://127.0.0.1:9/robot/sendBySession?session=x',
    sessionWebhookExpiredTime: 1,
    text: { content: 'hi' },
    msgtype: 'text',
    ...over,
  }) as BotMessage;

describe('DingTalk facade', () => {
  it('exposes one module per domain and shares the pipeline', () => {
    const dt = new DingTalk({ ...testOptions });
    for (const k of ['robot', 'notice', 'media', 'users', 'todo', 'chat', 'card'] as const) {
      expect(dt[k]).toBeDefined();
    }
    expect(typeof dt.webhook({ accessToken: 'a'.repeat(64) }).send).toBe('function');
  });

  it('replyFallback sends an expired group reply as an app-robot group message', async () => {
    const t = fakeTransport(() => ({ body: { processQueryKey: 'k' } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const r = await replyText(expired({}), 'done', { replyFallback: dt.replyFallback(), now: () => 10 });
    expect(r.via).toBe('fallback');
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]!.path).toBe('/v1.0/robot/groupMessages/send');
    expect(t.calls[0]!.json).toEqual({
      robotCode: 'dingbot',
      openConversationId: 'cidGroup==',
      msgKey: 'sampleText',
      msgParam: '{"content":"done"}',
    });
  });

  it('replyFallback answers a 1:1 message in the sender’s robot chat, and refuses an external sender', async () => {
    const t = fakeTransport(() => ({ body: { processQueryKey: 'k' } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    await replyText(expired({ conversationType: '1' }), 'ok', {
      replyFallback: dt.replyFallback(),
      now: () => 10,
    });
    expect(t.calls[0]!.path).toBe('/v1.0/robot/oToMessages/batchSend');
    expect(t.calls[0]!.json).toMatchObject({ robotCode: 'dingbot', userIds: ['manager4220'] });
    const err = await replyText(expired({ conversationType: '1', senderStaffId: '' }), 'x', {
      replyFallback: dt.replyFallback(),
      now: () => 10,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(t.calls).toHaveLength(1);
  });
});
