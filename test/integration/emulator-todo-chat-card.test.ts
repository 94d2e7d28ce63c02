/**
 * docs/dingtalk.md §11 "Todo" row and the chat / card endpoints over real sockets: unionId-only ids, sourceId uniqueness, subject /
 * description length, priority enum, detailUrl required, `result:true` answers; chatid ↔ openConversationId, scene
 * groups (both v1.0 spellings), legacy chat/send; card create-and-deliver (outTrackId reuse changes nothing), update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { call } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const [zhang, li] = [DEMO_ORG.org.users[0]!, DEMO_ORG.org.users[1]!];
const eng = DEMO_ORG.org.groups[0]!;
let emu: Emulator;
let token = '';

const api = (method: string, path: string, body?: unknown) =>
  call(`${emu.url}${path}`, {
    method,
    ...(body !== undefined ? { body } : {}),
    headers: { 'x-acs-dingtalk-access-token': token },
  });
const task = (extra: Record<string, unknown> = {}) => ({
  subject: '准备发布',
  detailUrl: { appUrl: 'dingtalk://x', pcUrl: 'https://e.test/t' },
  executorIds: [li.unionId],
  ...extra,
});

beforeAll(async () => {
  emu = await startEmulator({ seed: 21 });
  token = (
    await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    })
  ).body.accessToken;
});
afterAll(async () => {
  await emu.close();
});

describe('todo (§8)', () => {
  const base = `/v1.0/todo/users/${zhang.unionId}/tasks`;

  it('creates, gets, lists, updates (result:true), marks done, deletes (result:true)', async () => {
    const c = await api(
      'POST',
      `${base}?operatorId=${zhang.unionId}`,
      task({ sourceId: 's-1', priority: 20, dueTime: 1_900_000_000_000 }),
    );
    expect(c.status).toBe(200);
    const id = String(c.body['id']);
    expect(c.body).toMatchObject({
      subject: '准备发布',
      done: false,
      creatorId: zhang.unionId,
      priority: 20,
      sourceId: 's-1',
    });
    expect((await api('GET', `${base}/${id}`)).body['id']).toBe(id);
    expect((await api('GET', `${base}/sources/s-1`)).body['id']).toBe(id);
    const list = await api('POST', `/v1.0/todo/users/${li.unionId}/org/tasks/query`, {
      isDone: false,
      roleTypes: [['executor']],
    });
    expect((list.body['todoCards'] as Array<{ taskId: string }>).map((t) => t.taskId)).toEqual([id]);
    expect((await api('PUT', `${base}/${id}`, { subject: '发布 v2', done: true })).body).toEqual({
      result: true,
    });
    expect(emu.todos().find((t) => t.id === id)).toMatchObject({ subject: '发布 v2', done: true });
    const fields = [{ fieldKey: 'owner', fieldValue: '张三' }];
    await api('PUT', `${base}/${id}`, {
      description: '',
      dueTime: 1_900_000_100_000,
      contentFieldList: fields,
    });
    expect(emu.todos().find((t) => t.id === id)).toMatchObject({
      description: '',
      dueTime: 1_900_000_100_000,
      contentFieldList: fields,
    });
    const del = await api('DELETE', `${base}/${id}`);
    expect(del.body).toMatchObject({ result: true, requestId: expect.any(String) });
    expect((await api('GET', `${base}/${id}`)).body['code']).toBe('todo.taskQuery.paramError');
    expect((await api('PUT', `${base}/${id}`, { done: true })).body).toMatchObject({
      code: 'todo.taskUpdate.paramError',
      message: 'task not exist',
    });
    expect((await api('DELETE', `${base}/${id}`)).body['code']).toBe('todo.taskDelete.paramError');
  });

  it('refuses userIds where unionIds are required (path, executors, participants, operator)', async () => {
    const asUserId = await api('POST', `/v1.0/todo/users/${zhang.userId}/tasks`, task());
    expect(asUserId.status).toBe(400);
    expect(asUserId.body['code']).toBe('todo.taskCreate.paramError');
    expect((await api('POST', base, task({ executorIds: [li.userId] }))).body['code']).toBe(
      'todo.taskCreate.paramError',
    );
    expect((await api('POST', base, task({ participantIds: ['wangwu'] }))).body['code']).toBe(
      'todo.taskCreate.paramError',
    );
    expect((await api('POST', `${base}?operatorId=zhangsan`, task())).body['code']).toBe(
      'todo.taskCreate.paramError',
    );
  });

  it('sourceId unique per owner ("task exist"), field limits, priority enum, detailUrl required', async () => {
    expect((await api('POST', base, task({ sourceId: 'dup' }))).status).toBe(200);
    const msg = async (b: Record<string, unknown>) => (await api('POST', base, b)).body['message'];
    expect(await msg(task({ sourceId: 'dup' }))).toBe('task exist');
    expect(await msg(task({ subject: 'x'.repeat(1025) }))).toBe('subject is oversize');
    expect(await msg(task({ description: 'x'.repeat(4097) }))).toBe('description is oversize');
    expect(await msg(task({ priority: 25 }))).toBe('priority is invalid');
    expect(await msg(task({ dueTime: -5 }))).toBe('dueTime is invalid');
    expect(await msg(task({ subject: '' }))).toBe('subject is empty');
    expect(await msg({ subject: 'no detail' })).toBe('detailUrl is required');
    expect((await api('POST', base, task({ subject: 'x'.repeat(1024) }))).status).toBe(200);
  });
});

describe('chats (§4)', () => {
  it('converts chatid → openConversationId; invalideChatId otherwise', async () => {
    const r = await api('POST', `/v1.0/im/chat/${eng.chatid}/convertToOpenConversationId`, {});
    expect(r.body).toEqual({ openConversationId: eng.openConversationId });
    expect((await api('POST', '/v1.0/im/chat/chatnope/convertToOpenConversationId', {})).body['code']).toBe(
      'invalideChatId',
    );
  });

  it('creates scene groups with both v1.0 spellings; the app robot can post there', async () => {
    const snake = await api('POST', '/v1.0/im/sceneGroup/create', {
      title: '项目群',
      template_id: 'tpl1',
      owner_user_id: 'zhangsan',
      user_ids: ['lisi'],
    });
    expect(Object.keys(snake.body).sort()).toEqual(['chat_id', 'open_conversation_id']);
    const camel = await api('POST', '/v1.0/im/sceneGroups', {
      groupName: 'G',
      templateId: 'tpl1',
      groupOwnerId: 'alice',
      userIdList: 'bob,lisi',
    });
    expect(Object.keys(camel.body)).toEqual(['openConversationId']);
    const ocid = String(snake.body['open_conversation_id']);
    const sent = await api('POST', '/v1.0/robot/groupMessages/send', {
      robotCode: app.robotCode,
      openConversationId: ocid,
      msgKey: 'sampleText',
      msgParam: '{"content":"欢迎"}',
    });
    expect(sent.status).toBe(200);
    expect(emu.messages(ocid)[0]?.text).toBe('欢迎');
    expect(
      (
        await api('POST', '/v1.0/im/sceneGroup/create', {
          title: 'x',
          template_id: 't',
          owner_user_id: 'ghost',
        })
      ).status,
    ).toBe(400);
    const conv = await api(
      'POST',
      `/v1.0/im/chat/${String(snake.body['chat_id'])}/convertToOpenConversationId`,
      {},
    );
    expect(conv.body['openConversationId']).toBe(ocid);
  });

  it('legacy chat/create + chat/send (errcode answers, messageId)', async () => {
    const create = await call(`${emu.url}/chat/create?access_token=${token}`, {
      body: { name: '老群', owner: 'lisi', useridlist: ['lisi', 'wangwu'] },
    });
    expect(create.body).toMatchObject({
      errcode: 0,
      chatid: expect.any(String),
      openConversationId: expect.any(String),
    });
    const send = await call(`${emu.url}/chat/send?access_token=${token}`, {
      body: { chatid: create.body['chatid'], msg: { msgtype: 'text', text: { content: 'legacy' } } },
    });
    expect(send.body).toMatchObject({ errcode: 0, messageId: expect.any(String) });
    expect(emu.messages(String(create.body['openConversationId']))[0]).toMatchObject({
      source: 'chat_send',
      text: 'legacy',
    });
    expect(
      (await call(`${emu.url}/chat/send?access_token=${token}`, { body: { chatid: 'nope', msg: {} } })).body[
        'errcode'
      ],
    ).toBe(34001);
    expect(
      (
        await call(`${emu.url}/chat/create?access_token=${token}`, {
          body: { name: 'x', owner: 'bob', useridlist: ['lisi'] },
        })
      ).body['errcode'],
    ).toBe(40031);
  });
});

describe('cards (§10)', () => {
  const deliver = (outTrackId: string, extra: Record<string, unknown> = {}) =>
    api('POST', '/v1.0/card/instances/createAndDeliver', {
      cardTemplateId: 'tpl.schema',
      outTrackId,
      cardData: { cardParamMap: { title: '审批', status: '待处理' } },
      openSpaceId: `dtv1.card//IM_GROUP.${eng.openConversationId};dtv1.card//IM_ROBOT.bob`,
      imGroupOpenDeliverModel: { robotCode: app.robotCode },
      callbackType: 'STREAM',
      ...extra,
    });

  it('delivers into a group and a 1:1 space; reuse of outTrackId changes nothing; update merges by key', async () => {
    const r = await deliver('card-1');
    expect(r.body).toMatchObject({
      success: true,
      result: {
        outTrackId: 'card-1',
        deliverResults: [
          {
            spaceType: 'IM_GROUP',
            spaceId: eng.openConversationId,
            success: true,
            carrierId: expect.any(String),
          },
          { spaceType: 'IM_ROBOT', spaceId: 'bob', success: true },
        ],
      },
    });
    expect(emu.messages(eng.openConversationId).at(-1)).toMatchObject({ source: 'card', type: 'tpl.schema' });
    const again = await deliver('card-1', { cardData: { cardParamMap: { title: 'changed' } } });
    expect(again.body['success']).toBe(true);
    expect(emu.state.cards.get('card-1')?.cardParamMap['title']).toBe('审批');
    const upd = await api('PUT', '/v1.0/card/instances', {
      outTrackId: 'card-1',
      cardData: { cardParamMap: { status: '已同意' } },
      cardUpdateOptions: { updateCardDataByKey: true },
    });
    expect(upd.body).toEqual({ success: true, result: true });
    expect(emu.state.cards.get('card-1')?.cardParamMap).toEqual({ title: '审批', status: '已同意' });
  });

  it('refuses missing fields, bad spaces, non-string params, unknown card on update', async () => {
    expect((await deliver('c2', { cardTemplateId: '' })).body['code']).toBe(
      'invalidParameter.cardTemplateId.empty',
    );
    expect((await deliver('c3', { openSpaceId: 'IM_GROUP.x' })).body['code']).toBe(
      'invalidParameter.openSpaceId.invalid',
    );
    expect((await deliver('c4', { cardData: { cardParamMap: { n: 1 } } })).body['code']).toBe(
      'invalidParameter.cardData.invalid',
    );
    const noRobot = await deliver('c5', { imGroupOpenDeliverModel: {} });
    expect(
      (noRobot.body['result'] as { deliverResults: Array<{ success: boolean }> }).deliverResults[0]?.success,
    ).toBe(false);
    expect(
      (await api('PUT', '/v1.0/card/instances', { outTrackId: 'nope', cardData: { cardParamMap: {} } })).body[
        'code'
      ],
    ).toBe('invalidParameter.outTrackId.notExist');
  });
});
