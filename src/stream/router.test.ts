import { describe, expect, it } from 'vitest';
import { type AckKind, PushContext } from './context.js';
import { composeChain, TopicRouter } from './router.js';
import type { AckFrame } from './types.js';

function ctx(type: 'EVENT' | 'CALLBACK', topic: string, headers: Record<string, string> = {}) {
  const sent: Array<{ ack: AckFrame; kind: AckKind }> = [];
  const c = new PushContext(
    {
      specVersion: '1.0',
      type,
      topic,
      messageId: 'm1',
      headers: { messageId: 'm1', topic, ...headers },
      data: '{}',
    },
    {},
    { connectionId: 1, receivedAt: 0 },
    (ack, kind) => sent.push({ ack, kind }),
    () => {},
  );
  return { c, sent };
}

describe('TopicRouter', () => {
  it('prefers topic, then eventType, then type, then *', async () => {
    const r = new TopicRouter();
    const hits: string[] = [];
    r.add('/v1.0/card/instances/callback', () => hits.push('topic'));
    r.add('chat_update_title', () => hits.push('eventType'));
    r.add('EVENT', () => hits.push('type'));
    r.add('*', () => hits.push('star'));
    await r.terminal(ctx('CALLBACK', '/v1.0/card/instances/callback').c);
    await r.terminal(ctx('EVENT', '*', { eventType: 'chat_update_title' }).c);
    await r.terminal(ctx('EVENT', '*', { eventType: 'other' }).c);
    await r.terminal(ctx('CALLBACK', '/v1.0/graph/api/invoke').c);
    expect(hits).toEqual(['topic', 'eventType', 'type', 'star']);
    expect(r.callbackTopics()).toEqual(['/v1.0/card/instances/callback']);
  });

  it('refuses a second handler for the same key', () => {
    const r = new TopicRouter();
    r.add('EVENT', () => {});
    expect(() => r.add('EVENT', () => {})).toThrow(TypeError);
  });

  it('marks unrouted pushes so the auto ack is a 404', async () => {
    const { c, sent } = ctx('CALLBACK', '/nobody');
    await new TopicRouter().terminal(c);
    c.autoAck();
    expect(sent.map((s) => [s.kind, s.ack.code])).toEqual([['notFound', 404]]);
  });
});

describe('composeChain', () => {
  it('rejects next() called twice', async () => {
    const chain = composeChain(
      [
        async (_c, next) => {
          await next();
          await next();
        },
      ],
      async () => {},
    );
    await expect(chain(ctx('EVENT', '*').c)).rejects.toThrow(/more than once/);
  });

  it('a middleware that does not call next() stops the chain; the push is still acked once', async () => {
    const r = new TopicRouter();
    let reached = false;
    r.add('EVENT', () => {
      reached = true;
    });
    const { c, sent } = ctx('EVENT', '*');
    await composeChain([() => {}], r.terminal)(c);
    c.autoAck();
    c.autoAck();
    expect(reached).toBe(false);
    expect(sent.map((s) => s.kind)).toEqual(['success']);
  });
});

describe('PushContext', () => {
  it('sends exactly one ack whatever is called', () => {
    const { c, sent } = ctx('EVENT', '*');
    const ack = c.deferAck();
    c.autoAck();
    expect(sent).toHaveLength(0);
    ack.later();
    ack();
    c.failAck();
    expect(sent.map((s) => s.kind)).toEqual(['later']);
  });

  it('failure wins over a deferral that was not sent yet', () => {
    const { c, sent } = ctx('CALLBACK', '/t');
    c.deferAck();
    c.failAck();
    expect(sent.map((s) => [s.kind, s.ack.code])).toEqual([['error', 500]]);
  });

  it('answers 500 when a callback response cannot be serialised', () => {
    const { c, sent } = ctx('CALLBACK', '/t');
    c.ack({ big: 1n });
    expect(sent.map((s) => [s.kind, s.ack.code])).toEqual([['error', 500]]);
  });
});
