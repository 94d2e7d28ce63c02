/**
 * Bad input never crashes the emulator ("wrong input gets DingTalk's error, not a crash"): every registered route gets seeded garbage (wrong types for every known field name, bad JSON, form
 * bodies, odd path params) with a valid token, and must answer below 500. A handler that throws would answer 500
 * (server.ts maps a throw to `system.error` / errcode -1), so a single bug fails this test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { seededRandom } from '../../src/emulator/stream/frames.js';
import { call } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const FIELDS = [
  'robotCode',
  'openConversationId',
  'msgKey',
  'msgParam',
  'userIds',
  'processQueryKey',
  'processQueryKeys',
  'maxResults',
  'nextToken',
  'agent_id',
  'userid_list',
  'dept_id_list',
  'to_all_user',
  'msg',
  'task_id',
  'msg_task_id',
  'mobile',
  'userid',
  'unionid',
  'subject',
  'description',
  'dueTime',
  'done',
  'executorIds',
  'participantIds',
  'detailUrl',
  'sourceId',
  'priority',
  'contentFieldList',
  'notifyConfigs',
  'roleTypes',
  'isDone',
  'executorStatusList',
  'name',
  'owner',
  'useridlist',
  'chatid',
  'title',
  'template_id',
  'owner_user_id',
  'user_ids',
  'groupName',
  'groupOwnerId',
  'templateId',
  'userIdList',
  'cardTemplateId',
  'outTrackId',
  'cardData',
  'openSpaceId',
  'imGroupOpenDeliverModel',
  'privateData',
  'cardUpdateOptions',
  'userIdType',
  'key',
  'content',
  'isFull',
  'callbackRouteKey',
  'callbackUrl',
  'apiSecret',
  'forceUpdate',
  'appKey',
  'appSecret',
  'client_id',
  'client_secret',
  'grant_type',
  'clientId',
  'clientSecret',
  'subscriptions',
  'msgtype',
  'text',
  'markdown',
  'link',
  'actionCard',
  'feedCard',
  'at',
  'msgUuid',
  'from',
  'atBot',
  'atUserIds',
  'by',
  'actionIds',
  'params',
  'eventType',
  'data',
  'via',
  'url',
  'token',
  'aesKey',
  'rules',
  'seed',
  'stream',
  'count',
  'topic',
];

let emu: Emulator;
let token = '';
const random = seededRandom(20260101);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

function weird(depth = 0): unknown {
  const options: Array<() => unknown> = [
    () => null,
    () => -1,
    () => 1e308,
    () => Number.MAX_SAFE_INTEGER,
    () => '',
    () => ' ',
    () => 'x'.repeat(Math.floor(random() * 3000)),
    () => '{"a":1}',
    () => '@lADPnope',
    () => 'dtv1.card//IM_GROUP.cidDemoEngineering0001==',
    () => 'zhangsan',
    () => 'unionLiSi00000002',
    () => true,
    () => [],
    () => [null, 1, 'a'],
    () => ({}),
    () => (depth < 3 ? { [pick(FIELDS)]: weird(depth + 1), cardParamMap: weird(depth + 1) } : {}),
    () => (depth < 3 ? [weird(depth + 1), weird(depth + 1)] : []),
  ];
  return pick(options)();
}

function body(): string {
  const kind = random();
  if (kind < 0.05) return '{"broken":';
  if (kind < 0.1) return JSON.stringify(weird());
  const o: Record<string, unknown> = {};
  const n = 1 + Math.floor(random() * 8);
  for (let i = 0; i < n; i++) o[pick(FIELDS)] = weird();
  if (random() < 0.5)
    o['msgtype'] = pick(['text', 'markdown', 'link', 'actionCard', 'feedCard', 'oa', 'image']);
  return JSON.stringify(o);
}

beforeAll(async () => {
  emu = await startEmulator({ seed: 77 });
  token = (
    await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    })
  ).body.accessToken;
});
afterAll(async () => {
  await emu.close();
});

describe('fuzzing every route', () => {
  it('answers < 500 to 3,000 garbage requests spread over all routes', async () => {
    const routes = emu.routes
      .routes()
      .filter(
        (r) =>
          !r.includes('/_emulator/save') && !r.includes('/_emulator/reset') && !r.includes('/stream/burst'),
      );
    const fill = (p: string) =>
      p.replace(/:[a-zA-Z]+/g, () =>
        encodeURIComponent(
          String(
            pick(['zhangsan', 'unionZhangSan0001', 'cidDemoEngineering0001==', '%', '1', 'x'.repeat(300)]),
          ),
        ),
      );
    const failures: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const id = routes[i % routes.length] ?? '';
      const [method, pattern] = id.split(' ') as [string, string];
      const path = fill(pattern);
      const q =
        method === 'GET' || random() < 0.5
          ? `?access_token=${token}&processQueryKey=${encodeURIComponent(String(weird()))}&type=image`
          : `?access_token=${token}`;
      const form = random() < 0.1;
      const r = await call(`${emu.url}${path}${q}`, {
        method,
        ...(method === 'GET' ? {} : { raw: form ? 'a=1&msg=%7B' : body() }),
        headers: {
          'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
          'x-acs-dingtalk-access-token': token,
        },
      });
      if (r.status >= 500) failures.push(`${id} → ${r.status} ${r.text.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
    // oapi answers a crash as HTTP 200 errcode -1 (DingTalk's "system busy"), so count thrown handlers directly.
    expect(emu.state.handlerErrors).toBe(0);
    expect((await call(`${emu.url}/_emulator/health`)).body['ok']).toBe(true);
  });

  it('twin: a handler that throws is answered 500 in the host shape, so the check above can fail', async () => {
    emu.routes.add('POST', '/v1.0/_test/throw', () => {
      throw new Error('boom');
    });
    emu.routes.add('POST', '/_test_throw', () => {
      throw new Error('boom');
    });
    const api = await call(`${emu.url}/v1.0/_test/throw`, { body: {} });
    expect([api.status, api.body['code']]).toEqual([500, 'system.error']);
    const oapi = await call(`${emu.url}/_test_throw`, { body: {} });
    expect([oapi.status, oapi.body['errcode']]).toEqual([200, -1]);
    expect(emu.state.handlerErrors).toBe(2);
  });
});
