/**
 * Bad input never crashes (ground rule "bad input → typed error"): every public method, called with arbitrary
 * values — whole inputs and each field — either resolves or rejects with a dingkit error; a TypeError from
 * touching a field of the wrong type is a failure.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeTransport, testOptions } from '../../test/support/fake-transport.js';
import { DingTalk } from '../client.js';
import { DingTalkError } from '../core/errors.js';

type Call = (dt: DingTalk, v: Record<string, unknown>) => Promise<unknown>;

/** A field of a drawn value that may itself be anything (positional arguments). */
const field = (v: unknown, k: string): unknown =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : v;

const text = { msgtype: 'text', text: { content: 'k hello' } };
const tpl = { msgKey: 'sampleText', msgParam: { content: 'x' } };
const detailUrl = { appUrl: 'https://a', pcUrl: 'https://p' };

/** Each method with a valid input; the property replaces any subset of its fields by arbitrary values. */
const METHODS: Array<[string, Record<string, unknown>, Call]> = [
  [
    'robot.sendToGroup',
    { openConversationId: 'c', message: tpl, robotCode: 'r' },
    (dt, v) => dt.robot.sendToGroup(v as never),
  ],
  ['robot.sendToUsers', { userIds: ['u'], message: tpl }, (dt, v) => dt.robot.sendToUsers(v as never)],
  [
    'robot.recallGroup',
    { openConversationId: 'c', processQueryKeys: ['k'] },
    (dt, v) => dt.robot.recallGroup(v as never),
  ],
  [
    'robot.groupReadStatus',
    { processQueryKey: 'k', maxResults: 10, nextToken: 'n' },
    (dt, v) => dt.robot.groupReadStatus(v as never),
  ],
  [
    'webhook.text',
    { content: 'k hi', who: { mobiles: ['138'], userIds: ['u'], all: true } },
    (dt, v) =>
      dt
        .webhook({ accessToken: 'a'.repeat(64) })
        .text(field(v, 'content') as never, field(v, 'who') as never),
  ],
  [
    'webhook.send',
    text,
    (dt, v) => dt.webhook({ accessToken: 'a'.repeat(64), keywords: ['k'] }).send(v as never),
  ],
  [
    'notice.send',
    { userIds: ['u'], deptIds: [1], toAllUsers: false, message: text, agentId: 1 },
    (dt, v) => dt.notice.send(v as never),
  ],
  ['notice.result', { taskId: 1 }, (dt, v) => dt.notice.result(field(v, 'taskId') as never)],
  [
    'media.upload',
    { type: 'file', source: Buffer.from('x'), fileName: 'a.pdf' },
    (dt, v) => dt.media.upload(v as never),
  ],
  [
    'users.userIdByMobile',
    { mobile: '13800000000' },
    (dt, v) => dt.users.userIdByMobile(field(v, 'mobile') as never),
  ],
  [
    'todo.create',
    { subject: 's', executorIds: ['u'], detailUrl, priority: 20, sourceId: 'x', dueTime: 1 },
    (dt, v) => dt.todo.create('u', v as never),
  ],
  [
    'todo.update',
    { subject: 's', done: true, executorIds: ['u'] },
    (dt, v) => dt.todo.update('u', 't', v as never),
  ],
  [
    'todo.list',
    { nextToken: 'n', isDone: true, roleTypes: [['executor']] },
    (dt, v) => dt.todo.list('u', v as never),
  ],
  [
    'chat.createSceneGroup',
    { title: 't', templateId: 'x', ownerUserId: 'o', userIds: ['a'], options: { a: 1 }, uuid: 'u' },
    (dt, v) => dt.chat.createSceneGroup(v as never),
  ],
  ['chat.send', { chatId: 'c', message: text }, (dt, v) => dt.chat.send(v as never)],
  [
    'card.createAndDeliver',
    {
      cardTemplateId: 't',
      outTrackId: 'o',
      cardData: { a: 'b' },
      to: { group: 'c' },
      privateData: { u: { a: 'b' } },
      userIdType: 1,
    },
    (dt, v) => dt.card.createAndDeliver(v as never),
  ],
  [
    'card.update',
    { outTrackId: 'o', cardData: { a: 'b' }, privateData: { u: { a: 'b' } } },
    (dt, v) => dt.card.update(v as never),
  ],
  [
    'card.stream',
    { outTrackId: 'o', key: 'k', content: 'c', guid: 'g' },
    (dt, v) => dt.card.stream(v as never),
  ],
  ['auth.userByCode', { code: 'c' }, (dt, v) => dt.auth.userByCode(field(v, 'code') as never)],
  [
    'auth.loginUrl',
    { redirectUri: 'https://h.test/cb', state: 's', scope: 'openid' },
    async (dt, v) => dt.auth.loginUrl(v as never),
  ],
  ['auth.userAccessToken', { code: 'c' }, (dt, v) => dt.auth.userAccessToken(field(v, 'code') as never)],
  [
    'auth.refreshUserAccessToken',
    { refreshToken: 'r' },
    (dt, v) => dt.auth.refreshUserAccessToken(field(v, 'refreshToken') as never),
  ],
  ['auth.me', { token: 't' }, (dt, v) => dt.auth.me(field(v, 'token') as never)],
];

const value = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(
    null,
    undefined,
    0,
    -1,
    1.5,
    Number.NaN,
    '',
    ' ',
    'x',
    [],
    {},
    [null],
    [1],
    ['a'],
    { a: 1 },
    true,
  ),
);

describe('bad input', () => {
  it.each(METHODS)('%s: resolves or rejects with a dingkit error', async (_name, valid, call) => {
    const t = fakeTransport(() => ({
      body: { errcode: 0, processQueryKey: 'k', task_id: 1, media_id: '@m', id: 't' },
    }));
    const dt = new DingTalk({
      ...testOptions,
      robotCode: 'r',
      transport: t.send,
      retry: false,
      rateLimit: false,
    });
    const mutated = fc.record(
      Object.fromEntries(Object.entries(valid).map(([k, good]) => [k, fc.oneof(fc.constant(good), value)])),
    ) as fc.Arbitrary<Record<string, unknown>>;
    const input = fc.oneof(
      mutated,
      value.map((v) => v as Record<string, unknown>),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(input, async (v) => {
        const out = await Promise.resolve()
          .then(() => call(dt, v))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        if (out !== undefined && !(out instanceof DingTalkError)) {
          throw new Error(`untyped failure for ${JSON.stringify(v)?.slice(0, 200)}: ${String(out)}`);
        }
        if (out !== undefined) refused++;
      }),
      { numRuns: 300, seed: 7 },
    );
    // The generator must reach bad inputs, or the property above proves nothing.
    expect(refused).toBeGreaterThan(0);
  });
});

describe('bad input regressions (each once crashed with a TypeError; found by the property above)', () => {
  const t = fakeTransport(() => ({ body: { errcode: 0 } }));
  const dt = new DingTalk({
    ...testOptions,
    robotCode: 'r',
    transport: t.send,
    retry: false,
    rateLimit: false,
  });
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['null input', () => dt.robot.sendToGroup(null as never)],
    ['todo roleTypes null', () => dt.todo.list('u', { roleTypes: null as never })],
    [
      'notice deptIds false',
      () => dt.notice.send({ userIds: ['u'], deptIds: false as never, message: text as never }),
    ],
    ['task id with a broken toString', () => dt.notice.result({ toString: [] } as never)],
    [
      'card privateData null',
      () => dt.card.update({ outTrackId: 'o', cardData: {}, privateData: null as never }),
    ],
    [
      'mention on a non-string text',
      () => dt.webhook({ accessToken: 'a'.repeat(64) }).text(null as never, { mobiles: ['1'] }),
    ],
    [
      'mention list not an array',
      () => dt.webhook({ accessToken: 'a'.repeat(64) }).text('x', { mobiles: 5 as never }),
    ],
    [
      'msgKey object',
      () => dt.robot.sendToUsers({ userIds: ['u'], message: { msgKey: {}, msgParam: {} } as never }),
    ],
  ];
  it.each(cases)('%s → ValidationError', async (_name, call) => {
    const err = (await call().catch((e: unknown) => e)) as Error | undefined;
    expect(err?.name).toBe('ValidationError');
  });
});
