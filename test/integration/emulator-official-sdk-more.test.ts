/**
 * More of the official `@alicloud/dingtalk` surface against the emulator: robot read status (GET with query),
 * group query and recalls; todo get / update / query / delete; scene group (camelCase `sceneGroups`); card
 * registerCallback and createAndDeliver. The SDK must parse every answer (it casts bodies onto typed models).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';

type Mod = Record<string, unknown>;
type Ctor = new (o?: object) => object;
type Answer = { statusCode: number; body: Record<string, unknown> };
type Method = (...args: unknown[]) => Promise<Answer>;

const require = createRequire(import.meta.url);
const { Config } = require('@alicloud/openapi-client') as { Config: Ctor };
const { RuntimeOptions } = require('@alicloud/tea-util') as { RuntimeOptions: Ctor };
const oauth2 = require('@alicloud/dingtalk/oauth2_1_0') as Mod;
const robot = require('@alicloud/dingtalk/robot_1_0') as Mod;
const todo = require('@alicloud/dingtalk/todo_1_0') as Mod;
const im = require('@alicloud/dingtalk/im_1_0') as Mod;
const card = require('@alicloud/dingtalk/card_1_0') as Mod;

const app = DEMO_ORG.org.apps[0]!;
const eng = DEMO_ORG.org.groups[0]!.openConversationId;
const [zhang, li] = [DEMO_ORG.org.users[0]!, DEMO_ORG.org.users[1]!];
let emu: Emulator;
let config: object;
let token = '';

const mk = (mod: Mod, name: string, o: object = {}): object => new (mod[name] as Ctor)(o);
function invoke(mod: Mod, method: string, ...args: unknown[]): Promise<Answer> {
  const client = new (mod['default'] as Ctor)(config) as unknown as Record<string, Method>;
  const fn = client[method];
  if (!fn) throw new Error(`no ${method}`);
  return fn.apply(client, [...args, new RuntimeOptions({})]);
}
const headers = (mod: Mod, name: string): object => mk(mod, name, { xAcsDingtalkAccessToken: token });

beforeAll(async () => {
  emu = await startEmulator({ seed: 13 });
  config = new Config({ protocol: 'http', endpoint: `127.0.0.1:${emu.port}` });
  const client = new (oauth2['default'] as Ctor)(config) as unknown as {
    getAccessToken(r: object): Promise<Answer>;
  };
  token = String(
    (
      await client.getAccessToken(
        mk(oauth2, 'GetAccessTokenRequest', { appKey: app.appKey, appSecret: app.appSecret }),
      )
    ).body['accessToken'],
  );
});
afterAll(async () => {
  await emu.close();
});

describe('@alicloud/dingtalk: robot read status and recall', () => {
  it('batchOTOQuery (GET + query), orgGroupQuery, orgGroupRecall, batchRecallOTO parse', async () => {
    const oto = await invoke(
      robot,
      'batchSendOTOWithOptions',
      mk(robot, 'BatchSendOTORequest', {
        robotCode: app.robotCode,
        userIds: [li.userId],
        msgKey: 'sampleText',
        msgParam: '{"content":"x"}',
      }),
      headers(robot, 'BatchSendOTOHeaders'),
    );
    const otoKey = String(oto.body['processQueryKey']);
    const q = await invoke(
      robot,
      'batchOTOQueryWithOptions',
      mk(robot, 'BatchOTOQueryRequest', { robotCode: app.robotCode, processQueryKey: otoKey }),
      headers(robot, 'BatchOTOQueryHeaders'),
    );
    expect(q.body).toMatchObject({
      sendStatus: 'SUCCESS',
      messageReadInfoList: [{ userId: li.userId, readStatus: 'UNREAD' }],
    });
    const grp = await invoke(
      robot,
      'orgGroupSendWithOptions',
      mk(robot, 'OrgGroupSendRequest', {
        robotCode: app.robotCode,
        openConversationId: eng,
        msgKey: 'sampleText',
        msgParam: '{"content":"y"}',
      }),
      headers(robot, 'OrgGroupSendHeaders'),
    );
    const grpKey = String(grp.body['processQueryKey']);
    const gq = await invoke(
      robot,
      'orgGroupQueryWithOptions',
      mk(robot, 'OrgGroupQueryRequest', {
        robotCode: app.robotCode,
        openConversationId: eng,
        processQueryKey: grpKey,
        maxResults: 10,
      }),
      headers(robot, 'OrgGroupQueryHeaders'),
    );
    expect(gq.body).toMatchObject({ sendStatus: 'SUCCESS', hasMore: false });
    const gr = await invoke(
      robot,
      'orgGroupRecallWithOptions',
      mk(robot, 'OrgGroupRecallRequest', {
        robotCode: app.robotCode,
        openConversationId: eng,
        processQueryKeys: [grpKey],
      }),
      headers(robot, 'OrgGroupRecallHeaders'),
    );
    expect(gr.body['successResult']).toEqual([grpKey]);
    const or = await invoke(
      robot,
      'batchRecallOTOWithOptions',
      mk(robot, 'BatchRecallOTORequest', { robotCode: app.robotCode, processQueryKeys: [otoKey] }),
      headers(robot, 'BatchRecallOTOHeaders'),
    );
    expect(or.body['successResult']).toEqual([otoKey]);
    expect(emu.messages(eng).find((m) => m.processQueryKey === grpKey)?.recalled).toBe(true);
  });
});

describe('@alicloud/dingtalk: todo lifecycle', () => {
  it('create → get → update → queryOrgTodoTasks → delete parse', async () => {
    const created = await invoke(
      todo,
      'createTodoTaskWithOptions',
      zhang.unionId,
      mk(todo, 'CreateTodoTaskRequest', {
        subject: 'SDK 任务',
        executorIds: [li.unionId],
        detailUrl: mk(todo, 'CreateTodoTaskRequestDetailUrl', {
          appUrl: 'dingtalk://a',
          pcUrl: 'https://e.test',
        }),
      }),
      headers(todo, 'CreateTodoTaskHeaders'),
    );
    const id = String(created.body['id']);
    const got = await invoke(
      todo,
      'getTodoTaskWithOptions',
      zhang.unionId,
      id,
      headers(todo, 'GetTodoTaskHeaders'),
    );
    expect(got.body).toMatchObject({ id, subject: 'SDK 任务', done: false });
    const upd = await invoke(
      todo,
      'updateTodoTaskWithOptions',
      zhang.unionId,
      id,
      mk(todo, 'UpdateTodoTaskRequest', { operatorId: zhang.unionId, done: true }),
      headers(todo, 'UpdateTodoTaskHeaders'),
    );
    expect(upd.body).toEqual({ result: true });
    const list = await invoke(
      todo,
      'queryOrgTodoTasksWithOptions',
      li.unionId,
      mk(todo, 'QueryOrgTodoTasksRequest', { isDone: true }),
      headers(todo, 'QueryOrgTodoTasksHeaders'),
    );
    expect((list.body['todoCards'] as Array<{ taskId: string }>).map((t) => t.taskId)).toEqual([id]);
    const del = await invoke(
      todo,
      'deleteTodoTaskWithOptions',
      zhang.unionId,
      id,
      mk(todo, 'DeleteTodoTaskRequest', { operatorId: zhang.unionId }),
      headers(todo, 'DeleteTodoTaskHeaders'),
    );
    expect(del.body['result']).toBe(true);
  });
});

describe('@alicloud/dingtalk: scene group and cards', () => {
  it('createSceneGroupConversation (camelCase sceneGroups) parses', async () => {
    const r = await invoke(
      im,
      'createSceneGroupConversationWithOptions',
      mk(im, 'CreateSceneGroupConversationRequest', {
        groupName: '新项目',
        groupOwnerId: 'zhangsan',
        templateId: 'tpl',
        userIdList: ['lisi', 'wangwu'],
      }),
      headers(im, 'CreateSceneGroupConversationHeaders'),
    );
    const ocid = String(r.body['openConversationId']);
    expect(emu.state.groups.get(ocid)?.members).toEqual(['zhangsan', 'lisi', 'wangwu']);
  });

  it('registerCallback and createAndDeliver parse; deliverResults come back typed', async () => {
    const reg = await invoke(
      card,
      'registerCallbackWithOptions',
      mk(card, 'RegisterCallbackRequest', {
        callbackRouteKey: 'k',
        callbackUrl: 'http://127.0.0.1:9/cb',
        apiSecret: 's',
      }),
      headers(card, 'RegisterCallbackHeaders'),
    );
    expect(reg.body['success']).toBe(true);
    const r = await invoke(
      card,
      'createAndDeliverWithOptions',
      mk(card, 'CreateAndDeliverRequest', {
        cardTemplateId: 'tpl.schema',
        outTrackId: 'sdk-card-1',
        openSpaceId: `dtv1.card//IM_GROUP.${eng}`,
        cardData: mk(card, 'CreateAndDeliverRequestCardData', { cardParamMap: { title: 'hi' } }),
        imGroupOpenDeliverModel: mk(card, 'CreateAndDeliverRequestImGroupOpenDeliverModel', {
          robotCode: app.robotCode,
        }),
        callbackType: 'STREAM',
      }),
      headers(card, 'CreateAndDeliverHeaders'),
    );
    expect(r.body).toMatchObject({
      success: true,
      result: { outTrackId: 'sdk-card-1', deliverResults: [{ spaceType: 'IM_GROUP', success: true }] },
    });
  });
});
