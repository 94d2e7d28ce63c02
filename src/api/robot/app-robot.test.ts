import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { ConfigError, HttpError, PlatformError, TimeoutError, ValidationError } from '../../core/errors.js';
import {
  appMessage,
  encodeTemplate,
  type MsgKey,
  TEMPLATE_FIELDS,
  type TemplateMessage,
} from './app-templates.js';

function client(script: (n: number) => Reply = () => ({ body: { processQueryKey: 'pqk-1' } }), extra = {}) {
  const t = fakeTransport((_r, n) => script(n));
  const dt = new DingTalk({ ...testOptions, robotCode: 'dingrobot', transport: t.send, ...extra });
  return { dt, t };
}

const CID = 'cid6KeBB+/==';

describe('group send (docs/dingtalk.md §3.1)', () => {
  it('puts the token in the header, robotCode in the body and msgParam as a JSON string', async () => {
    const { dt, t } = client();
    const r = await dt.robot.sendToGroup({
      openConversationId: CID,
      message: appMessage.markdown('T', '**x**'),
    });
    expect(r).toEqual({ processQueryKey: 'pqk-1' });
    const c = t.calls[0]!;
    expect(c.origin).toBe('https://api.dingtalk.com');
    expect(c.path).toBe('/v1.0/robot/groupMessages/send');
    expect(c.headers['x-acs-dingtalk-access-token']).toBe('app-token-canary-777');
    expect(c.url.searchParams.get('access_token')).toBeNull();
    expect(c.json).toEqual({
      robotCode: 'dingrobot',
      openConversationId: CID,
      msgKey: 'sampleMarkdown',
      msgParam: '{"title":"T","text":"**x**"}',
    });
    expect(typeof (c.json as { msgParam: unknown }).msgParam).toBe('string');
  });

  it('defaults robotCode to the appKey and passes coolAppCode', async () => {
    const t = fakeTransport(() => ({ body: { processQueryKey: 'k' } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    await dt.robot.sendToGroup({
      openConversationId: CID,
      message: appMessage.text('x'),
      coolAppCode: 'COOL',
    });
    expect(t.calls[0]!.json).toMatchObject({ robotCode: 'dingtestappkey', coolAppCode: 'COOL' });
  });

  it('is never retried after an unknown outcome (not idempotent)', async () => {
    const { dt, t } = client(() => new TimeoutError('t', 10, { outcome: 'unknown' }));
    await expect(
      dt.robot.sendToGroup({ openConversationId: CID, message: appMessage.text('x') }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(t.calls).toHaveLength(1);
  });

  it('an answer without processQueryKey is an unknown outcome, not success', async () => {
    const { dt } = client(() => ({ body: {} }));
    const err = await dt.robot
      .sendToGroup({ openConversationId: CID, message: appMessage.text('x') })
      .catch((e) => e);
    expect(err.code).toBe('BAD_RESPONSE');
    expect(err.outcome).toBe('unknown');
  });

  it.each([
    [400, { code: 'invalidParameter.msgParam.invalid', message: 'bad', requestid: 'R' }, 'BAD_MSG_PARAM'],
    [400, { code: 'invalidParameter.robotCode.notExsit', message: 'x', requestid: 'R' }, undefined],
    [
      403,
      { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: 'x', requestid: 'R' },
      undefined,
    ],
  ])('maps HTTP %i %j', async (status, body, code) => {
    const { dt } = client(() => ({ status, body }));
    const err = await dt.robot
      .sendToGroup({ openConversationId: CID, message: appMessage.text('x') })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.platformCode).toBe(body.code);
    expect(err.requestId).toBe('R');
    if (code) expect(err.code).toBe(code);
  });

  it('a 502 gateway page is an HttpError', async () => {
    const { dt } = client(() => ({ status: 502, body: '<html>bad gateway</html>' }));
    const err = await dt.robot
      .sendToGroup({ openConversationId: CID, message: appMessage.text('x') })
      .catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
  });
});

describe('templates (docs/dingtalk.md §3.2)', () => {
  const sample = (key: MsgKey): TemplateMessage =>
    ({
      msgKey: key,
      msgParam: Object.fromEntries(TEMPLATE_FIELDS[key].map((f) => [f, `v-${f}`])),
    }) as TemplateMessage;

  it('knows the 13 documented keys', () => {
    expect(Object.keys(TEMPLATE_FIELDS).sort()).toEqual(
      [
        'sampleText',
        'sampleMarkdown',
        'sampleImageMsg',
        'sampleLink',
        'sampleActionCard',
        'sampleActionCard2',
        'sampleActionCard3',
        'sampleActionCard4',
        'sampleActionCard5',
        'sampleActionCard6',
        'sampleAudio',
        'sampleFile',
        'sampleVideo',
      ].sort(),
    );
  });

  it.each(Object.keys(TEMPLATE_FIELDS) as MsgKey[])(
    '%s encodes every field and refuses a missing one',
    (key) => {
      const m = sample(key);
      const { msgParam } = encodeTemplate(m, 'op');
      expect(JSON.parse(msgParam)).toEqual(m.msgParam);
      for (const f of TEMPLATE_FIELDS[key]) {
        const p = { ...(m.msgParam as Record<string, string>) };
        delete p[f];
        expect(() => encodeTemplate({ msgKey: key, msgParam: p } as never, 'op')).toThrow(`msgParam.${f}`);
      }
    },
  );

  it('uses the documented casing for buttons', () => {
    expect(TEMPLATE_FIELDS.sampleActionCard3).toEqual([
      'title',
      'text',
      'actionTitle1',
      'actionURL1',
      'actionTitle2',
      'actionURL2',
      'actionTitle3',
      'actionURL3',
    ]);
    expect(TEMPLATE_FIELDS.sampleActionCard6).toContain('buttonUrl2');
    const m = appMessage.actionCard('T', 'x', [
      { title: 'a', url: 'https://a' },
      { title: 'b', url: 'https://b' },
    ]);
    expect(m).toEqual({
      msgKey: 'sampleActionCard2',
      msgParam: {
        title: 'T',
        text: 'x',
        actionTitle1: 'a',
        actionURL1: 'https://a',
        actionTitle2: 'b',
        actionURL2: 'https://b',
      },
    });
  });

  it('refuses unknown keys, unknown fields, non-string values and accepts video height/width', () => {
    expect(() => encodeTemplate({ msgKey: 'sampleActionCard1', msgParam: {} } as never, 'op')).toThrow(
      /unknown msgKey/,
    );
    expect(() =>
      encodeTemplate({ msgKey: 'sampleText', msgParam: { content: 'x', contnet: 'y' } } as never, 'op'),
    ).toThrow('msgParam.contnet');
    expect(() =>
      encodeTemplate({ msgKey: 'sampleAudio', msgParam: { mediaId: '@a', duration: 3000 } } as never, 'op'),
    ).toThrow(/string/);
    const v = sample('sampleVideo');
    expect(() =>
      encodeTemplate(
        {
          msgKey: 'sampleVideo',
          msgParam: { ...(v.msgParam as object), height: '10', width: '20' },
        } as never,
        'op',
      ),
    ).not.toThrow();
  });

  it('caps msgParam at 15,000 bytes of JSON', () => {
    const overhead = '{"content":""}'.length;
    expect(() => encodeTemplate(appMessage.text('x'.repeat(15_000 - overhead)), 'op')).not.toThrow();
    expect(() => encodeTemplate(appMessage.text('x'.repeat(15_001 - overhead)), 'op')).toThrow(
      ValidationError,
    );
    expect(() => encodeTemplate(appMessage.text('钉'.repeat(5_000)), 'op')).toThrow(/bytes/);
  });

  it('sampleFile derives fileType from the name', () => {
    expect(appMessage.file('@m', '表格.XLSX')).toEqual({
      msgKey: 'sampleFile',
      msgParam: { mediaId: '@m', fileName: '表格.XLSX', fileType: 'xlsx' },
    });
  });
});

describe('1:1, recall, read status', () => {
  it('batch-sends with lists returned', async () => {
    const { dt, t } = client(() => ({
      body: { processQueryKey: 'k2', invalidStaffIdList: ['ghost'], flowControlledStaffIdList: [] },
    }));
    const r = await dt.robot.sendToUsers({ userIds: ['u1', 'ghost'], message: appMessage.text('hi') });
    expect(r).toEqual({
      processQueryKey: 'k2',
      invalidStaffIdList: ['ghost'],
      flowControlledStaffIdList: [],
    });
    expect(t.calls[0]!.path).toBe('/v1.0/robot/oToMessages/batchSend');
    expect(t.calls[0]!.json).toEqual({
      robotCode: 'dingrobot',
      userIds: ['u1', 'ghost'],
      msgKey: 'sampleText',
      msgParam: '{"content":"hi"}',
    });
  });

  it('sends to each user once, however often they are listed (first order kept)', async () => {
    const { dt, t } = client(() => ({
      body: { processQueryKey: 'k3', invalidStaffIdList: [], flowControlledStaffIdList: [] },
    }));
    await dt.robot.sendToUsers({ userIds: ['u2', 'u1', 'u2', 'u1'], message: appMessage.text('hi') });
    expect((t.calls[0]!.json as { userIds: string[] }).userIds).toEqual(['u2', 'u1']);
  });

  it('refuses more than 20 users by default, configurable', async () => {
    const { dt, t } = client();
    const ids = Array.from({ length: 21 }, (_, i) => `u${i}`);
    await expect(dt.robot.sendToUsers({ userIds: ids, message: appMessage.text('x') })).rejects.toThrow(
      /at most 20/,
    );
    expect(t.calls).toHaveLength(0);
    const wide = client(undefined, { robot: { maxOtoUserIds: 100 } });
    await wide.dt.robot.sendToUsers({ userIds: ids, message: appMessage.text('x') });
    expect(wide.t.calls).toHaveLength(1);
  });

  it('recalls group and 1:1 messages on their two paths (note lower-case oto)', async () => {
    const { dt, t } = client(() => ({ body: { successResult: ['k1'], failedResult: { k2: 'expired' } } }));
    expect(await dt.robot.recallGroup({ openConversationId: CID, processQueryKeys: ['k1', 'k2'] })).toEqual({
      successResult: ['k1'],
      failedResult: { k2: 'expired' },
    });
    await dt.robot.recallUsers({ processQueryKeys: ['k1'] });
    expect(t.calls.map((c) => c.path)).toEqual([
      '/v1.0/robot/groupMessages/recall',
      '/v1.0/robot/otoMessages/batchRecall',
    ]);
    await expect(
      dt.robot.recallUsers({ processQueryKeys: Array.from({ length: 21 }, (_, i) => `k${i}`) }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('reads 1:1 status with a GET and the key URL-encoded', async () => {
    const { dt, t } = client(() => ({
      body: { sendStatus: 'SUCCESS', messageReadInfoList: [{ name: 'A', userId: 'u1', readStatus: 'READ' }] },
    }));
    const r = await dt.robot.usersReadStatus({ processQueryKey: 'a+b/c=' });
    expect(t.calls[0]!.method).toBe('GET');
    expect(t.calls[0]!.path).toBe(
      '/v1.0/robot/oToMessages/readStatus?robotCode=dingrobot&processQueryKey=a%2Bb%2Fc%3D',
    );
    expect(r.messageReadInfoList).toEqual([{ name: 'A', userId: 'u1', readStatus: 'READ' }]);
  });

  it('reads are retried after an unknown outcome', async () => {
    const { dt, t } = client((n) =>
      n === 1
        ? new TimeoutError('t', 10, { outcome: 'unknown' })
        : { body: { sendStatus: 'SUCCESS', readUserIds: ['u'], hasMore: false } },
    );
    const r = await dt.robot.groupReadStatus({ processQueryKey: 'k', maxResults: 200 });
    expect(r).toEqual({ sendStatus: 'SUCCESS', readUserIds: ['u'], nextToken: undefined, hasMore: false });
    expect(t.calls).toHaveLength(2);
    await expect(dt.robot.groupReadStatus({ processQueryKey: 'k', maxResults: 201 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('without robotCode or appKey a send fails as a ConfigError before I/O', async () => {
    const t = fakeTransport(() => ({ body: {} }));
    const dt = new DingTalk({ env: {}, transport: t.send });
    await expect(
      dt.robot.sendToGroup({ openConversationId: CID, message: appMessage.text('x') }),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(t.calls).toHaveLength(0);
  });

  it('gets a download URL for a received file', async () => {
    const { dt, t } = client(() => ({ body: { downloadUrl: 'https://dl.example/f' } }));
    expect(await dt.robot.downloadUrl({ downloadCode: 'dc1' })).toEqual({
      downloadUrl: 'https://dl.example/f',
    });
    expect(t.calls[0]!.path).toBe('/v1.0/robot/messageFiles/download');
    expect(t.calls[0]!.json).toEqual({ downloadCode: 'dc1', robotCode: 'dingrobot' });
  });
});

describe('app limits (docs/dingtalk.md §0.2)', () => {
  it('each app API has its own budget under app:<appKey>:<operation>', async () => {
    const { dt, t } = client(
      () => ({ body: { processQueryKey: 'k', sendStatus: 'SUCCESS', messageReadInfoList: [] } }),
      {
        now: () => 0,
        rateLimit: { app: { limit: 2, windowMs: 1_000 }, mode: 'fail' },
      },
    );
    await dt.robot.sendToGroup({ openConversationId: CID, message: appMessage.text('1') });
    await dt.robot.sendToGroup({ openConversationId: CID, message: appMessage.text('2') });
    const err = await dt.robot
      .sendToGroup({ openConversationId: CID, message: appMessage.text('3') })
      .catch((e) => e);
    expect(err.scope).toBe('local');
    expect(err.message).toContain('app:dingtestappkey:robot.groupSend');
    // Another API of the same app is not affected.
    await dt.robot.usersReadStatus({ processQueryKey: 'k' });
    expect(t.calls).toHaveLength(3);
  });

  it('twin: with the limiter off the third send goes out', async () => {
    const { dt, t } = client(undefined, { rateLimit: false });
    for (let i = 0; i < 3; i++)
      await dt.robot.sendToGroup({ openConversationId: CID, message: appMessage.text(`${i}`) });
    expect(t.calls).toHaveLength(3);
  });
});

describe('app-robot error codes (docs/dingtalk.md §3.3)', () => {
  it.each([
    ['group.disbanded', 'GROUP_DISSOLVED'],
    ['bot.stopped', 'ROBOT_DISABLED'],
    ['template.not.existed', 'TEMPLATE_UNAVAILABLE'],
    ['robot.processQueryKey.expired', 'QUERY_KEY_EXPIRED'],
    ['contain.unsafe.url', 'CONTENT_REJECTED'],
    ['invalid.openConversationId', 'INVALID_PARAMETER'],
    ['miss.param.contentOfText', 'BAD_MSG_PARAM'],
    ['send.too.fast', 'RATE_LIMITED'],
  ])('%s → %s', async (platformCode, code) => {
    const { dt, t } = client(
      () => ({ status: 400, body: { code: platformCode, message: 'm', requestid: 'R' } }),
      {
        retry: false,
      },
    );
    const err = await dt.robot
      .sendToGroup({ openConversationId: CID, message: appMessage.text('x') })
      .catch((e) => e);
    expect(err.code).toBe(code);
    expect(err.platformCode).toBe(platformCode);
    expect(t.calls).toHaveLength(1);
  });
});
