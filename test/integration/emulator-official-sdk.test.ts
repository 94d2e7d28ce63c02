/**
 * Fidelity against the official OpenAPI client `@alicloud/dingtalk`: oauth2 accessToken, robot
 * orgGroupSend and batchSendOTO, todo createTodoTask, pointed at the emulator with
 * `new Config({ protocol: 'http', endpoint: '127.0.0.1:PORT' })`. Every answer must parse without error, and the
 * v1.0 error body must surface as the SDK's `code` (the SDK reads `code`/`message`/`requestid`, docs/dingtalk.md §0.1).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';

interface SdkError {
  code?: string;
  statusCode?: number;
  data?: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const { Config } = require('@alicloud/openapi-client') as { Config: new (o: object) => object };
const oauth2 = require('@alicloud/dingtalk/oauth2_1_0') as Record<string, new (o?: object) => never>;
const robot = require('@alicloud/dingtalk/robot_1_0') as Record<string, new (o?: object) => never>;
const todo = require('@alicloud/dingtalk/todo_1_0') as Record<string, new (o?: object) => never>;
const { RuntimeOptions } = require('@alicloud/tea-util') as { RuntimeOptions: new (o?: object) => object };

const app = DEMO_ORG.org.apps[0]!;
const group = DEMO_ORG.org.groups[0]!;
const zhang = DEMO_ORG.org.users[0]!;
const li = DEMO_ORG.org.users[1]!;

let emu: Emulator;
let config: object;

async function token(): Promise<string> {
  const Client = oauth2['default'] as unknown as new (
    c: object,
  ) => {
    getAccessToken(
      r: object,
    ): Promise<{ statusCode: number; body: { accessToken: string; expireIn: number } }>;
  };
  const Req = oauth2['GetAccessTokenRequest'] as unknown as new (o: object) => object;
  const res = await new Client(config).getAccessToken(
    new Req({ appKey: app.appKey, appSecret: app.appSecret }),
  );
  return res.body.accessToken;
}

beforeAll(async () => {
  emu = await startEmulator({ seed: 7 });
  config = new Config({ protocol: 'http', endpoint: `127.0.0.1:${emu.port}` });
});

afterAll(async () => {
  await emu.close();
});

describe('@alicloud/dingtalk against the emulator', () => {
  it('oauth2 getAccessToken parses, and the same token comes back while valid (§1.2)', async () => {
    const Client = oauth2['default'] as unknown as new (
      c: object,
    ) => {
      getAccessToken(
        r: object,
      ): Promise<{ statusCode: number; body: { accessToken: string; expireIn: number } }>;
    };
    const Req = oauth2['GetAccessTokenRequest'] as unknown as new (o: object) => object;
    const a = await new Client(config).getAccessToken(
      new Req({ appKey: app.appKey, appSecret: app.appSecret }),
    );
    expect(a.statusCode).toBe(200);
    expect(a.body.accessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(a.body.expireIn).toBe(7200);
    expect(await token()).toBe(a.body.accessToken);
  });

  it('oauth2 with a wrong secret surfaces invalidClientIdOrSecret as the SDK error code', async () => {
    const Client = oauth2['default'] as unknown as new (
      c: object,
    ) => { getAccessToken(r: object): Promise<unknown> };
    const Req = oauth2['GetAccessTokenRequest'] as unknown as new (o: object) => object;
    const err = (await new Client(config)
      .getAccessToken(new Req({ appKey: app.appKey, appSecret: 'wrong' }))
      .catch((e: unknown) => e)) as SdkError;
    expect(err.code).toBe('invalidClientIdOrSecret');
    expect(err.statusCode).toBe(400);
  });

  it('robot orgGroupSend parses and the message is recorded in the group', async () => {
    const t = await token();
    const Client = robot['default'] as unknown as new (
      c: object,
    ) => {
      orgGroupSendWithOptions(
        r: object,
        h: object,
        rt: object,
      ): Promise<{ statusCode: number; body: { processQueryKey: string } }>;
    };
    const Req = robot['OrgGroupSendRequest'] as unknown as new (o: object) => object;
    const Headers = robot['OrgGroupSendHeaders'] as unknown as new (o: object) => object;
    const res = await new Client(config).orgGroupSendWithOptions(
      new Req({
        robotCode: app.robotCode,
        openConversationId: group.openConversationId,
        msgKey: 'sampleMarkdown',
        msgParam: JSON.stringify({ title: '日报', text: '## 今日完成\n- 发布 v1' }),
      }),
      new Headers({ xAcsDingtalkAccessToken: t }),
      new RuntimeOptions({}),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body.processQueryKey).toBeTruthy();
    const msgs = emu.messages(group.openConversationId);
    expect(msgs.at(-1)).toMatchObject({
      source: 'app_robot',
      type: 'sampleMarkdown',
      processQueryKey: res.body.processQueryKey,
    });
  });

  it('robot orgGroupSend with a missing template field surfaces miss.param.* (§3.3)', async () => {
    const t = await token();
    const Client = robot['default'] as unknown as new (
      c: object,
    ) => {
      orgGroupSendWithOptions(r: object, h: object, rt: object): Promise<unknown>;
    };
    const Req = robot['OrgGroupSendRequest'] as unknown as new (o: object) => object;
    const Headers = robot['OrgGroupSendHeaders'] as unknown as new (o: object) => object;
    const err = (await new Client(config)
      .orgGroupSendWithOptions(
        new Req({
          robotCode: app.robotCode,
          openConversationId: group.openConversationId,
          msgKey: 'sampleText',
          msgParam: '{}',
        }),
        new Headers({ xAcsDingtalkAccessToken: t }),
        new RuntimeOptions({}),
      )
      .catch((e: unknown) => e)) as SdkError;
    expect(err.code).toBe('miss.param.contentOfText');
  });

  it('robot batchSendOTO parses, with unknown userIds in invalidStaffIdList', async () => {
    const t = await token();
    const Client = robot['default'] as unknown as new (
      c: object,
    ) => {
      batchSendOTOWithOptions(
        r: object,
        h: object,
        rt: object,
      ): Promise<{
        statusCode: number;
        body: { processQueryKey: string; invalidStaffIdList: string[]; flowControlledStaffIdList: string[] };
      }>;
    };
    const Req = robot['BatchSendOTORequest'] as unknown as new (o: object) => object;
    const Headers = robot['BatchSendOTOHeaders'] as unknown as new (o: object) => object;
    const res = await new Client(config).batchSendOTOWithOptions(
      new Req({
        robotCode: app.robotCode,
        userIds: [zhang.userId, li.userId, 'nobody'],
        msgKey: 'sampleText',
        msgParam: JSON.stringify({ content: '你好' }),
      }),
      new Headers({ xAcsDingtalkAccessToken: t }),
      new RuntimeOptions({}),
    );
    expect(res.body.invalidStaffIdList).toEqual(['nobody']);
    expect(res.body.flowControlledStaffIdList).toEqual([]);
    expect(emu.messages(`oto:${zhang.userId}`)).toHaveLength(1);
    expect(emu.messages(`oto:${li.userId}`)[0]?.text).toBe('你好');
  });

  it('todo createTodoTask parses the full task object; a duplicate sourceId is refused', async () => {
    const t = await token();
    const Client = todo['default'] as unknown as new (
      c: object,
    ) => {
      createTodoTaskWithOptions(
        unionId: string,
        r: object,
        h: object,
        rt: object,
      ): Promise<{
        statusCode: number;
        body: {
          id: string;
          subject: string;
          executorIds: string[];
          done: boolean;
          createdTime: number;
          detailUrl: { pcUrl: string };
        };
      }>;
    };
    const Req = todo['CreateTodoTaskRequest'] as unknown as new (o: object) => object;
    const DetailUrl = todo['CreateTodoTaskRequestDetailUrl'] as unknown as new (o: object) => object;
    const Headers = todo['CreateTodoTaskHeaders'] as unknown as new (o: object) => object;
    const mk = (): object =>
      new Req({
        operatorId: zhang.unionId,
        sourceId: 'hub-task-1',
        subject: '评审设计稿',
        description: '周五前完成',
        dueTime: 1_900_000_000_000,
        executorIds: [li.unionId],
        participantIds: [zhang.unionId],
        detailUrl: new DetailUrl({ appUrl: 'https://example.test/a', pcUrl: 'https://example.test/p' }),
        priority: 30,
      });
    const client = new Client(config);
    const res = await client.createTodoTaskWithOptions(
      zhang.unionId,
      mk(),
      new Headers({ xAcsDingtalkAccessToken: t }),
      new RuntimeOptions({}),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ subject: '评审设计稿', executorIds: [li.unionId], done: false });
    expect(res.body.detailUrl.pcUrl).toBe('https://example.test/p');
    expect(typeof res.body.createdTime).toBe('number');
    expect(emu.todos().map((x) => x.id)).toContain(res.body.id);
    const err = (await client
      .createTodoTaskWithOptions(
        zhang.unionId,
        mk(),
        new Headers({ xAcsDingtalkAccessToken: t }),
        new RuntimeOptions({}),
      )
      .catch((e: unknown) => e)) as SdkError;
    expect(err.code).toBe('todo.taskCreate.paramError');
    expect(String(err.data?.['message'])).toBe('task exist');
  });
});
