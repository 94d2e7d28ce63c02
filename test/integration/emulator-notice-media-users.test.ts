/**
 * docs/dingtalk.md §11 "Work notice", "Media" and "Users" rows over real sockets: the async task id, progress and result; the
 * same-content-per-day dedupe (143106) and the daily cap (143105) reported only through `forbidden_user_id_list`
 * while the send still answers errcode 0; multipart upload with `media` + `type`, type/extension/size checks and
 * `@` media ids; the mobile → userId → unionId → userId chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { call, fakeClock } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const clock = fakeClock(Date.UTC(2026, 0, 5, 2, 0, 0)); // 10:00 in China
let emu: Emulator;
let token = '';

const top = (op: string, body: unknown) =>
  call(`${emu.url}/topapi/message/corpconversation/${op}?access_token=${token}`, { body });
const notice = (userid_list: string, content: string) =>
  top('asyncsend_v2', { agent_id: app.agentId, userid_list, msg: { msgtype: 'text', text: { content } } });

beforeAll(async () => {
  emu = await startEmulator({ now: clock.now, seed: 4, limits: { noticeDailyCap: 3 } });
  token = (
    await call<{ access_token: string }>(
      `${emu.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`,
    )
  ).body.access_token;
});
afterAll(async () => {
  await emu.close();
});

describe('work notifications (§5)', () => {
  it('returns a task id at once; progress is done; the result lists delivered users as unread', async () => {
    const r = await notice('zhangsan,lisi', '周报已生成');
    expect(r.body).toMatchObject({ errcode: 0, task_id: expect.any(Number), request_id: expect.any(String) });
    const taskId = r.body['task_id'];
    const p = await top('getsendprogress', { agent_id: app.agentId, task_id: taskId });
    expect(p.body).toMatchObject({ errcode: 0, progress: { progress_in_percent: 100, status: 2 } });
    const res = await top('getsendresult', { agent_id: app.agentId, task_id: taskId });
    expect(res.body['send_result']).toMatchObject({
      unread_user_id_list: ['zhangsan', 'lisi'],
      forbidden_user_id_list: [],
    });
    expect(emu.notices('zhangsan').map((n) => (n.msg as { text: { content: string } }).text.content)).toEqual(
      ['周报已生成'],
    );
  });

  it('a person who opens a notice is listed as read; nobody reads a notice that is not theirs or was held back', async () => {
    const first = await notice('lisi,wangwu', '读了吗');
    const dup = await notice('lisi', '读了吗');
    const read = (taskId: unknown, by: unknown) =>
      call(`${emu.url}/_emulator/notices/${String(taskId)}/read`, { body: { by } });
    // Someone else's notice, a notice §5.2 held back, a made-up id, a stranger, a task id that is not a number.
    expect((await read(first.body['task_id'], 'zhangsan')).status).toBe(404);
    expect((await read(dup.body['task_id'], 'lisi')).status).toBe(404);
    expect((await read(999, 'lisi')).status).toBe(404);
    expect((await read(first.body['task_id'], 'ghost')).status).toBe(400);
    expect((await read('abc', 'lisi')).status).toBe(400);
    expect((await read(first.body['task_id'], 'lisi')).status).toBe(200);
    // Reading twice changes nothing.
    expect((await read(first.body['task_id'], 'lisi')).status).toBe(200);
    const res = await top('getsendresult', { agent_id: app.agentId, task_id: first.body['task_id'] });
    expect(res.body['send_result']).toMatchObject({
      read_user_id_list: ['lisi'],
      unread_user_id_list: ['wangwu'],
    });
  });

  it('same content to the same user the same day: errcode 0, but the user is forbidden with 143106', async () => {
    const r = await notice('zhangsan,wangwu', '周报已生成');
    expect(r.body['errcode']).toBe(0);
    const res = await top('getsendresult', { agent_id: app.agentId, task_id: r.body['task_id'] });
    expect(res.body['send_result']).toMatchObject({
      forbidden_user_id_list: ['zhangsan'],
      forbidden_list: [{ code: '143106', count: 1, userid: 'zhangsan' }],
      unread_user_id_list: ['wangwu'],
    });
  });

  it('daily cap (scaled to 3): the 4th distinct message of the day is forbidden with 143105; a new day resets', async () => {
    const codes: string[] = [];
    for (const c of ['a', 'b', 'c']) {
      const r = await notice('bob', c);
      const res = await top('getsendresult', { agent_id: app.agentId, task_id: r.body['task_id'] });
      codes.push(JSON.stringify((res.body['send_result'] as { forbidden_list: unknown[] }).forbidden_list));
    }
    expect(codes).toEqual(['[]', '[]', '[]']);
    const fourth = await notice('bob', 'd');
    expect(fourth.body['errcode']).toBe(0);
    const res = await top('getsendresult', { agent_id: app.agentId, task_id: fourth.body['task_id'] });
    expect((res.body['send_result'] as { forbidden_list: unknown[] }).forbidden_list).toEqual([
      { code: '143105', count: 1, userid: 'bob' },
    ]);
    clock.advance(24 * 3_600_000);
    token = (
      await call<{ access_token: string }>(
        `${emu.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`,
      )
    ).body.access_token;
    const nextDay = await notice('bob', 'd');
    const res2 = await top('getsendresult', { agent_id: app.agentId, task_id: nextDay.body['task_id'] });
    expect((res2.body['send_result'] as { forbidden_list: unknown[] }).forbidden_list).toEqual([]);
  });

  it('unknown users land in invalid_user_id_list; bad agent_id, missing msg, bad msgtype are errors', async () => {
    const r = await notice('zhangsan,ghost', 'x1');
    const res = await top('getsendresult', { agent_id: app.agentId, task_id: r.body['task_id'] });
    expect((res.body['send_result'] as { invalid_user_id_list: string[] }).invalid_user_id_list).toEqual([
      'ghost',
    ]);
    expect(
      (
        await top('asyncsend_v2', {
          agent_id: 1,
          userid_list: 'bob',
          msg: { msgtype: 'text', text: { content: 'x' } },
        })
      ).body['errcode'],
    ).toBe(400002);
    expect((await top('asyncsend_v2', { agent_id: app.agentId, userid_list: 'bob' })).body['errcode']).toBe(
      40035,
    );
    expect(
      (await top('asyncsend_v2', { agent_id: app.agentId, userid_list: 'bob', msg: { msgtype: 'video' } }))
        .body['errcode'],
    ).toBe(400002);
    expect(
      (await top('asyncsend_v2', { agent_id: app.agentId, msg: { msgtype: 'text', text: { content: 'x' } } }))
        .body['errcode'],
    ).toBe(40035);
    expect((await top('getsendresult', { agent_id: app.agentId, task_id: 1 })).body['errcode']).toBe(400002);
  });

  it('accepts a form-encoded body with msg as JSON text; recall marks the task', async () => {
    const r = await call(`${emu.url}/topapi/message/corpconversation/asyncsend_v2?access_token=${token}`, {
      raw: new URLSearchParams({
        agent_id: String(app.agentId),
        userid_list: 'alice',
        msg: JSON.stringify({ msgtype: 'markdown', markdown: { title: 't', text: 'form' } }),
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.body['errcode']).toBe(0);
    const rc = await top('recall', { agent_id: app.agentId, msg_task_id: r.body['task_id'] });
    expect(rc.body['errcode']).toBe(0);
    expect(emu.notices('alice').at(-1)?.recalled).toBe(true);
  });
});

describe('media upload (§6.1)', () => {
  const upload = (type: string | undefined, filename: string, bytes: Buffer, query = '') => {
    const form = new FormData();
    if (type !== undefined) form.append('type', type);
    form.append('media', new Blob([bytes], { type: 'application/octet-stream' }), filename);
    return fetch(`${emu.url}/media/upload?access_token=${token}${query}`, {
      method: 'POST',
      body: form,
    }).then(async (r) => (await r.json()) as Record<string, unknown>);
  };

  it('answers an @-prefixed media_id and records size and hash', async () => {
    const r = await upload('file', '报告.pdf', Buffer.from('%PDF-1.4 hello'));
    expect(r).toMatchObject({ errcode: 0, errmsg: 'ok', type: 'file', created_at: expect.any(Number) });
    expect(String(r['media_id']).startsWith('@')).toBe(true);
    const rec = [...emu.state.media.values()].find((m) => m.mediaId === r['media_id']);
    expect(rec).toMatchObject({ filename: '报告.pdf', size: 14 });
  });

  it('takes `type` from the query when the field is missing (§6.1 tip)', async () => {
    expect((await upload(undefined, 'a.png', Buffer.from([1, 2, 3]), '&type=image'))['errcode']).toBe(0);
  });

  it('refuses bad type (40004), extension (40005), size (40006), missing media (40035)', async () => {
    expect((await upload('sticker', 'a.png', Buffer.from([1])))['errcode']).toBe(40004);
    expect((await upload('image', 'a.exe', Buffer.from([1])))['errcode']).toBe(40005);
    expect((await upload('voice', 'a.amr', Buffer.alloc(2 * 1024 * 1024 + 1)))['errcode']).toBe(40006);
    const form = new FormData();
    form.append('type', 'file');
    const r = await fetch(`${emu.url}/media/upload?access_token=${token}`, { method: 'POST', body: form });
    expect(((await r.json()) as { errcode: number }).errcode).toBe(40035);
    const notMultipart = await call(`${emu.url}/media/upload?access_token=${token}`, {
      body: { type: 'file' },
    });
    expect(notMultipart.body['errcode']).toBe(43004);
  });
});

describe('users (§7)', () => {
  it('maps mobile → userId → unionId → userId', async () => {
    const u = (path: string, body: unknown) =>
      call(`${emu.url}/topapi/${path}?access_token=${token}`, { body });
    const byMobile = await u('v2/user/getbymobile', { mobile: '13800000004' });
    expect(byMobile.body).toMatchObject({ errcode: 0, result: { userid: 'alice' } });
    const detail = await u('v2/user/get', { userid: 'alice' });
    expect(detail.body['result']).toMatchObject({
      userid: 'alice',
      unionid: 'unionAlice0000004',
      name: 'Alice Chen',
    });
    const back = await u('user/getbyunionid', { unionid: 'unionAlice0000004' });
    expect(back.body['result']).toEqual({ userid: 'alice', contact_type: 0 });
    expect((await u('v2/user/getbymobile', { mobile: '19999999999' })).body['errcode']).toBe(40104);
    expect((await u('v2/user/get', { userid: 'ghost' })).body['errcode']).toBe(60121);
    expect((await u('user/getbyunionid', { unionid: 'ghost' })).body['errcode']).toBe(60121);
    expect((await u('v2/user/get', {})).body['errcode']).toBe(40035);
  });
});
