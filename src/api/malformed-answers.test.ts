/**
 * Malformed DingTalk answers (domain side): every domain method, fed arbitrary JSON or
 * text bodies with arbitrary statuses, either resolves or rejects with a dingkit error — never a TypeError from
 * reading a field that is not there.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeTransport, testOptions } from '../../test/support/fake-transport.js';
import { DingTalk } from '../client.js';
import { DingTalkError } from '../core/errors.js';
import { appMessage } from './robot/app-templates.js';

const detailUrl = { appUrl: 'https://a', pcUrl: 'https://p' };

const CALLS: Array<[string, (dt: DingTalk) => Promise<unknown>]> = [
  [
    'robot.sendToGroup',
    (dt) => dt.robot.sendToGroup({ openConversationId: 'c', message: appMessage.text('x') }),
  ],
  ['robot.sendToUsers', (dt) => dt.robot.sendToUsers({ userIds: ['u'], message: appMessage.text('x') })],
  ['robot.recallGroup', (dt) => dt.robot.recallGroup({ openConversationId: 'c', processQueryKeys: ['k'] })],
  ['robot.usersReadStatus', (dt) => dt.robot.usersReadStatus({ processQueryKey: 'k' })],
  ['robot.groupReadStatus', (dt) => dt.robot.groupReadStatus({ processQueryKey: 'k' })],
  ['webhook.send', (dt) => dt.webhook({ accessToken: 'a'.repeat(64) }).text('x')],
  [
    'notice.send',
    (dt) => dt.notice.send({ userIds: ['u'], message: { msgtype: 'text', text: { content: 'x' } } }),
  ],
  ['notice.progress', (dt) => dt.notice.progress(1)],
  ['notice.result', (dt) => dt.notice.result(1)],
  ['media.upload', (dt) => dt.media.upload({ type: 'file', source: Buffer.from('x'), fileName: 'a.pdf' })],
  ['users.get', (dt) => dt.users.get('u')],
  ['users.byUnionId', (dt) => dt.users.byUnionId('u')],
  ['todo.create', (dt) => dt.todo.create('u', { subject: 's', detailUrl })],
  ['todo.list', (dt) => dt.todo.list('u')],
  [
    'chat.createSceneGroup',
    (dt) => dt.chat.createSceneGroup({ title: 't', templateId: 'x', ownerUserId: 'o' }),
  ],
  [
    'card.createAndDeliver',
    (dt) =>
      dt.card.createAndDeliver({ cardTemplateId: 't', outTrackId: 'o', cardData: {}, to: { user: 'u' } }),
  ],
];

const bodies = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      errcode: fc.oneof(fc.constant(0), fc.integer(), fc.string()),
      result: fc.jsonValue({ maxDepth: 2 }),
      send_result: fc.jsonValue({ maxDepth: 2 }),
      processQueryKey: fc.jsonValue({ maxDepth: 1 }),
      todoCards: fc.jsonValue({ maxDepth: 2 }),
      messageReadInfoList: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.string(),
);

describe('malformed answers', () => {
  it.each(CALLS)('%s: resolves or throws a DingTalkError', async (_name, call) => {
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom(200, 204, 400, 403, 500, 502), async (body, status) => {
        const t = fakeTransport(() => ({
          status,
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }));
        const dt = new DingTalk({
          ...testOptions,
          robotCode: 'r',
          transport: t.send,
          retry: false,
          rateLimit: false,
        });
        const out = await call(dt).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (out !== undefined) expect(out).toBeInstanceOf(DingTalkError);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});

describe('twin', () => {
  it('the generator breaks a naive reader (so the property above has teeth)', async () => {
    const naive = (b: unknown) => (b as { result: { userid: string } }).result.userid.length;
    const r = await fc.check(
      fc.property(bodies, (b) => {
        naive(typeof b === 'string' ? b : JSON.parse(JSON.stringify(b)));
      }),
      { numRuns: 150, seed: 42 },
    );
    expect(r.failed).toBe(true);
  });
});
