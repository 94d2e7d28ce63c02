import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { ConfigError, PlatformError, RateLimitedError, ValidationError } from '../../core/errors.js';
import { noticeMessage } from './notice-messages.js';

function client(
  script: (n: number) => Reply = () => ({ body: { errcode: 0, task_id: 256271667526, request_id: 'r' } }),
  extra = {},
) {
  const t = fakeTransport((_r, n) => script(n));
  return { dt: new DingTalk({ ...testOptions, transport: t.send, ...extra }), t };
}

describe('work notification send (docs/dingtalk.md §5)', () => {
  it('sends a snake_case body with comma lists and the token in the query', async () => {
    const { dt, t } = client();
    const r = await dt.notice.send({
      userIds: ['u1', 'u2'],
      deptIds: [7],
      message: noticeMessage.text('hi'),
    });
    expect(r).toEqual({ taskId: '256271667526' });
    const c = t.calls[0]!;
    expect(c.origin).toBe('https://oapi.dingtalk.com');
    expect(c.path).toBe('/topapi/message/corpconversation/asyncsend_v2?access_token=app-token-canary-777');
    expect(c.json).toEqual({
      agent_id: 123456,
      msg: { msgtype: 'text', text: { content: 'hi' } },
      userid_list: 'u1,u2',
      dept_id_list: '7',
    });
  });

  it.each([
    [noticeMessage.image('@m'), { msgtype: 'image', image: { media_id: '@m' } }],
    [noticeMessage.voice('@v', 12), { msgtype: 'voice', voice: { media_id: '@v', duration: '12' } }],
    [noticeMessage.file('@f'), { msgtype: 'file', file: { media_id: '@f' } }],
    [
      noticeMessage.link({ messageUrl: 'https://m', picUrl: '@p', title: 't', text: 'x' }),
      { msgtype: 'link', link: { messageUrl: 'https://m', picUrl: '@p', title: 't', text: 'x' } },
    ],
    [noticeMessage.markdown('T', '# x'), { msgtype: 'markdown', markdown: { title: 'T', text: '# x' } }],
    [
      noticeMessage.actionCard('T', 'md', { title: 'Open', url: 'https://o' }),
      {
        msgtype: 'action_card',
        action_card: { title: 'T', markdown: 'md', single_title: 'Open', single_url: 'https://o' },
      },
    ],
    [
      {
        msgtype: 'oa',
        oa: { message_url: 'https://m', head: { bgcolor: 'FFBBBBBB', text: 'h' }, body: { title: 'b' } },
      },
      {
        msgtype: 'oa',
        oa: { message_url: 'https://m', head: { bgcolor: 'FFBBBBBB', text: 'h' }, body: { title: 'b' } },
      },
    ],
  ])('message %#', async (message, wire) => {
    const { dt, t } = client();
    await dt.notice.send({ toAllUsers: true, message: message as never });
    expect((t.calls[0]!.json as { msg: unknown }).msg).toEqual(wire);
    expect((t.calls[0]!.json as { to_all_user: boolean }).to_all_user).toBe(true);
  });

  it.each([
    [{ userIds: ['u'], message: { msgtype: 'actionCard', actionCard: {} } }, 'msgtype'],
    [{ message: noticeMessage.text('x') }, 'userIds'],
    [
      { userIds: Array.from({ length: 101 }, (_, i) => `u${i}`), message: noticeMessage.text('x') },
      'userIds',
    ],
    [{ userIds: ['u'], message: noticeMessage.voice('@v', 60) }, 'voice.duration'],
    [
      {
        userIds: ['u'],
        message: { msgtype: 'oa', oa: { message_url: 'https://m', head: { bgcolor: '#fff' }, body: {} } },
      },
      'oa.head.bgcolor',
    ],
    [{ userIds: ['u'], message: noticeMessage.text('x'.repeat(2048)) }, 'message'],
    [{ userIds: ['a,b'], message: noticeMessage.text('x') }, 'userIds'],
  ])('refuses bad input %# locally', async (input, field) => {
    const { dt, t } = client();
    const err = await dt.notice.send(input as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe(field);
    expect(t.calls).toHaveLength(0);
  });

  it('needs an agentId', async () => {
    const t = fakeTransport(() => ({ body: {} }));
    const dt = new DingTalk({ ...testOptions, agentId: undefined, transport: t.send });
    await expect(dt.notice.send({ userIds: ['u'], message: noticeMessage.text('x') })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await dt.notice.send({ userIds: ['u'], message: noticeMessage.text('x'), agentId: '99' }).catch(() => {});
    expect((t.calls[0]!.json as { agent_id: number }).agent_id).toBe(99);
  });

  it('maps the per-minute throttle 143103 to a rate limit', async () => {
    const { dt } = client(() => ({ body: { errcode: 143103, errmsg: 'qpm' } }), { retry: false });
    const err = await dt.notice.send({ userIds: ['u'], message: noticeMessage.text('x') }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
  });

  it('an errcode answer is a failure even with HTTP 200', async () => {
    const { dt } = client(() => ({ body: { errcode: 400002, errmsg: 'bad agent' } }));
    const err = await dt.notice.send({ userIds: ['u'], message: noticeMessage.text('x') }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.errcode).toBe(400002);
  });
});

describe('progress, result, recall', () => {
  it('reads progress', async () => {
    const { dt, t } = client(() => ({
      body: { errcode: 0, progress: { progress_in_percent: 100, status: 2 } },
    }));
    expect(await dt.notice.progress('256271667526')).toEqual({ percent: 100, status: 2, done: true });
    expect(t.calls[0]!.json).toEqual({ agent_id: 123456, task_id: 256271667526 });
  });

  it('surfaces silent drops as typed warnings with the codes explained', async () => {
    const { dt, t } = client(() => ({
      body: {
        errcode: 0,
        send_result: {
          invalid_user_id_list: ['ghost'],
          forbidden_user_id_list: ['u1', 'u2', 'u3'],
          failed_user_id_list: [],
          read_user_id_list: ['u4'],
          unread_user_id_list: ['u5'],
          invalid_dept_id_list: [42],
          forbidden_list: [
            { code: '143106', count: 1, userid: 'u1' },
            { code: 143105, count: 500, userid: 'u2' },
          ],
        },
      },
    }));
    const r = await dt.notice.result(1);
    expect(t.calls[0]!.path.startsWith('/topapi/message/corpconversation/getsendresult?')).toBe(true);
    expect(r.invalidUserIds).toEqual(['ghost']);
    expect(r.invalidDeptIds).toEqual(['42']);
    expect(r.readUserIds).toEqual(['u4']);
    expect(r.warnings).toHaveLength(3);
    expect(r.warnings[0]).toMatchObject({ kind: 'forbidden', userId: 'u1', code: 143106, count: 1 });
    expect(r.warnings[0]!.reason).toMatch(/same content/);
    expect(r.warnings[1]).toMatchObject({ userId: 'u2', code: 143105 });
    expect(r.warnings[1]!.reason).toMatch(/daily cap/);
    expect(r.warnings[2]).toMatchObject({ userId: 'u3', code: undefined });
  });

  it('an all-clear result has no warnings', async () => {
    const { dt } = client(() => ({ body: { errcode: 0, send_result: { read_user_id_list: ['a'] } } }));
    expect((await dt.notice.result(5)).warnings).toEqual([]);
  });

  it('recalls with msg_task_id and refuses a non-numeric task id', async () => {
    const { dt, t } = client(() => ({ body: { errcode: 0 } }));
    await dt.notice.recall('77');
    expect(t.calls[0]!.json).toEqual({ agent_id: 123456, msg_task_id: 77 });
    expect(t.calls[0]!.path.startsWith('/topapi/message/corpconversation/recall?')).toBe(true);
    await expect(dt.notice.recall('abc')).rejects.toBeInstanceOf(ValidationError);
  });
});
