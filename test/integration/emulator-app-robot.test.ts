/**
 * docs/dingtalk.md §11 "App robot" row over real sockets: msgParam must be a JSON string, per-msgKey required fields
 * (`miss.param.*`), processQueryKey generation, read status and recall only within 24 h (fake clock), ≤ 20 keys per
 * recall, robotCode checks, and the §3.3 error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { TEMPLATES } from '../../src/emulator/templates.js';
import { call, fakeClock } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const eng = DEMO_ORG.org.groups[0]!.openConversationId;
const product = DEMO_ORG.org.groups[2]!.openConversationId; // no app robot installed
const clock = fakeClock();
let emu: Emulator;
let token = '';

const api = (path: string, body: unknown, method = 'POST') =>
  call(`${emu.url}${path}`, { method, body, headers: { 'x-acs-dingtalk-access-token': token } });
const groupSend = (extra: Record<string, unknown>) =>
  api('/v1.0/robot/groupMessages/send', {
    robotCode: app.robotCode,
    openConversationId: eng,
    msgKey: 'sampleText',
    msgParam: JSON.stringify({ content: 'hi' }),
    ...extra,
  });

/** A msgParam with every required field of a template filled. */
function fullParam(key: string): Record<string, string> {
  return Object.fromEntries((TEMPLATES[key] ?? []).map((f) => [f, `v-${f}`]));
}

beforeAll(async () => {
  emu = await startEmulator({ now: clock.now, seed: 9 });
  token = (
    await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    })
  ).body.accessToken;
});
afterAll(async () => {
  await emu.close();
});

describe('app robot group send (§3)', () => {
  it('accepts all 13 msgKeys with their fields and refuses each with one required field missing', async () => {
    expect(Object.keys(TEMPLATES)).toHaveLength(13);
    for (const key of Object.keys(TEMPLATES)) {
      const ok = await groupSend({ msgKey: key, msgParam: JSON.stringify(fullParam(key)) });
      expect([key, ok.status]).toEqual([key, 200]);
      expect(typeof ok.body['processQueryKey']).toBe('string');
      for (const field of TEMPLATES[key] ?? []) {
        const p = fullParam(key);
        delete p[field];
        const bad = await groupSend({ msgKey: key, msgParam: JSON.stringify(p) });
        expect([key, field, bad.status, String(bad.body['code']).startsWith('miss.param.')]).toEqual([
          key,
          field,
          400,
          true,
        ]);
      }
    }
    expect((await groupSend({ msgParam: '{}' })).body['code']).toBe('miss.param.contentOfText');
  });

  it('refuses msgParam that is an object or not JSON, too long, unknown msgKey', async () => {
    expect((await groupSend({ msgParam: { content: 'x' } })).body['code']).toBe(
      'invalidParameter.msgParam.invalid',
    );
    expect((await groupSend({ msgParam: '{oops' })).body['code']).toBe('invalidParameter.msgParam.invalid');
    expect(
      (await groupSend({ msgParam: JSON.stringify({ content: 'x'.repeat(15_000) }) })).body['code'],
    ).toBe('invalidParameter.msgParam.tooLong');
    expect((await groupSend({ msgKey: 'sampleActionCard1' })).body['code']).toBe(
      'invalidParameter.msgKey.invalid',
    );
    expect((await groupSend({ msgKey: '' })).body['code']).toBe('invalidParameter.msgKey.empty');
  });

  it('checks robotCode and the group', async () => {
    expect((await groupSend({ robotCode: '' })).body['code']).toBe('invalidParameter.robotCode.empty');
    expect((await groupSend({ robotCode: 'dingnope' })).body['code']).toBe(
      'invalidParameter.robotCode.notExsit',
    );
    expect((await groupSend({ openConversationId: undefined })).body['code']).toBe('miss.openConversationId');
    expect((await groupSend({ openConversationId: 'cidNope' })).body['code']).toBe(
      'invalid.openConversationId',
    );
    expect((await groupSend({ openConversationId: product })).body['code']).toBe('send.forbidden');
  });

  it('records the message with processQueryKey and a stable fingerprint per content', async () => {
    const a = await groupSend({ msgParam: JSON.stringify({ content: 'same' }) });
    const b = await groupSend({ msgParam: JSON.stringify({ content: 'same' }) });
    const msgs = emu.messages(eng);
    const [ma, mb] = [
      msgs.find((m) => m.processQueryKey === a.body['processQueryKey']),
      msgs.find((m) => m.processQueryKey === b.body['processQueryKey']),
    ];
    expect(ma?.text).toBe('same');
    expect(ma?.fingerprint).toBe(mb?.fingerprint);
    expect(a.body['processQueryKey']).not.toBe(b.body['processQueryKey']);
  });
});

describe('1:1 send, read status, recall (§3.1)', () => {
  it('batchSend caps userIds (20 by default), reads status, recalls within 24 h only', async () => {
    const many = Array.from({ length: 21 }, () => 'zhangsan');
    const over = await api('/v1.0/robot/oToMessages/batchSend', {
      robotCode: app.robotCode,
      userIds: many,
      msgKey: 'sampleText',
      msgParam: '{"content":"x"}',
    });
    expect(over.body['code']).toBe('invalidParameter.userIds.overMax');
    expect(
      (
        await api('/v1.0/robot/oToMessages/batchSend', {
          robotCode: app.robotCode,
          userIds: [],
          msgKey: 'sampleText',
          msgParam: '{"content":"x"}',
        })
      ).body['code'],
    ).toBe('invalidParameter.userIds.empty');
    const sent = await api('/v1.0/robot/oToMessages/batchSend', {
      robotCode: app.robotCode,
      userIds: ['zhangsan', 'bob'],
      msgKey: 'sampleText',
      msgParam: '{"content":"read me"}',
    });
    const key = String(sent.body['processQueryKey']);
    const status = await call(
      `${emu.url}/v1.0/robot/oToMessages/readStatus?robotCode=${app.robotCode}&processQueryKey=${encodeURIComponent(key)}`,
      {
        headers: { 'x-acs-dingtalk-access-token': token },
      },
    );
    expect(status.body).toMatchObject({
      sendStatus: 'SUCCESS',
      messageReadInfoList: [
        { userId: 'zhangsan', name: '张三', readStatus: 'UNREAD' },
        { userId: 'bob', readStatus: 'UNREAD' },
      ],
    });
    const recalled = await api('/v1.0/robot/otoMessages/batchRecall', {
      robotCode: app.robotCode,
      processQueryKeys: [key, 'nokey'],
    });
    expect(recalled.body['successResult']).toEqual([key]);
    expect(Object.keys(recalled.body['failedResult'] as object)).toEqual(['nokey']);
    const after = await call(
      `${emu.url}/v1.0/robot/oToMessages/readStatus?robotCode=${app.robotCode}&processQueryKey=${encodeURIComponent(key)}`,
      {
        headers: { 'x-acs-dingtalk-access-token': token },
      },
    );
    expect(after.body['sendStatus']).toBe('RECALLED');
  });

  it('group recall: ≤ 20 keys; a key older than 24 h fails; group read query answers readUserIds', async () => {
    const keys = Array.from({ length: 21 }, (_, i) => `k${i}`);
    const over = await api('/v1.0/robot/groupMessages/recall', {
      robotCode: app.robotCode,
      openConversationId: eng,
      processQueryKeys: keys,
    });
    expect(over.body['code']).toBe('invalidParameter.processQueryKeys.overMax');
    const fresh = String((await groupSend({})).body['processQueryKey']);
    const q = await api('/v1.0/robot/groupMessages/query', {
      processQueryKey: fresh,
      openConversationId: eng,
      robotCode: app.robotCode,
    });
    expect(q.body).toMatchObject({ sendStatus: 'SUCCESS', readUserIds: [], hasMore: false });
    clock.advance(86_400_001);
    // Refresh the token the fake day made stale.
    token = (
      await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
        body: { appKey: app.appKey, appSecret: app.appSecret },
      })
    ).body.accessToken;
    const late = await api('/v1.0/robot/groupMessages/recall', {
      robotCode: app.robotCode,
      openConversationId: eng,
      processQueryKeys: [fresh],
    });
    expect(late.body['failedResult']).toEqual({ [fresh]: 'robot.processQueryKey.expired' });
    const lateQ = await api('/v1.0/robot/groupMessages/query', { processQueryKey: fresh });
    expect(lateQ.body['code']).toBe('robot.processQueryKey.expired');
  });
});
