/**
 * Enterprise-internal app robot, v1.0 (docs/dingtalk.md §3): group send, 1:1 batch send, read status, recall.
 * Header token, JSON body, `{code, message, requestid}` errors. A processQueryKey is usable for 24 h (§3.1).
 */
import { apiAuth, apiAuthJson } from '../auth.js';
import { apiErr, apiOk, type Ctx, nonEmpty, type Reply, strArray } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import { SlidingWindow } from '../sliding-window.js';
import { fingerprint } from '../state.js';
import { checkTemplate } from '../templates.js';
import type { AppDef, MessageRecord } from '../types.js';

const MAX_RECALL = 20;

export function registerAppRobotRoutes(routes: RouteTable): void {
  routes.add('POST', '/v1.0/robot/groupMessages/send', groupSend);
  routes.add('POST', '/v1.0/robot/oToMessages/batchSend', otoSend);
  routes.add('GET', '/v1.0/robot/oToMessages/readStatus', otoReadStatus);
  routes.add('POST', '/v1.0/robot/groupMessages/query', groupQuery);
  routes.add('POST', '/v1.0/robot/groupMessages/recall', (ctx) => recall(ctx, true));
  routes.add('POST', '/v1.0/robot/otoMessages/batchRecall', (ctx) => recall(ctx, false));
  routes.add('POST', '/v1.0/robot/messageFiles/download', download);
}

/** §3.1: a downloadCode from a received message → a temporary URL (served by the emulator). */
function download(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const rc = checkRobotCode(ctx, a.app, a.body['robotCode']);
  if (!rc.ok) return rc.reply;
  const code = nonEmpty(a.body['downloadCode']);
  if (code === undefined)
    return apiErr(ctx, 400, 'invalidParameter.downloadCode.empty', 'downloadCode is empty');
  const d = ctx.state.downloads.get(code);
  // The production code for an unknown or foreign downloadCode is not in the sheet (unverified).
  if (!d || d.robotCode !== rc.robotCode) {
    return apiErr(ctx, 400, 'invalidParameter.downloadCode.invalid', 'downloadCode is invalid');
  }
  return apiOk({
    downloadUrl: `${ctx.origin}/_emulator/files/${code}?Expires=${ctx.state.now() + 3_600_000}`,
  });
}

type RobotCheck = { ok: true; robotCode: string } | { ok: false; reply: Reply };

function checkRobotCode(ctx: Ctx, app: AppDef, value: unknown): RobotCheck {
  const robotCode = nonEmpty(value);
  if (robotCode === undefined) {
    return { ok: false, reply: apiErr(ctx, 400, 'invalidParameter.robotCode.empty', 'robotCode is empty') };
  }
  ctx.robot = robotCode;
  if (!ctx.state.appsByRobotCode.has(robotCode)) {
    // (sic) "notExsit" is the documented spelling (§3.3).
    return {
      ok: false,
      reply: apiErr(ctx, 400, 'invalidParameter.robotCode.notExsit', 'robotCode does not exist'),
    };
  }
  if (app.robotCode !== robotCode) {
    return {
      ok: false,
      reply: apiErr(ctx, 400, 'invalidParameter.robotCode.auth', 'robotCode does not belong to the app'),
    };
  }
  return { ok: true, robotCode };
}

function groupSend(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const { app, body } = a;
  const rc = checkRobotCode(ctx, app, body['robotCode']);
  if (!rc.ok) return rc.reply;
  const ocid = nonEmpty(body['openConversationId']);
  if (ocid === undefined) return apiErr(ctx, 400, 'miss.openConversationId', 'openConversationId is missing');
  const group = ctx.state.groups.get(ocid);
  if (!group) return apiErr(ctx, 400, 'invalid.openConversationId', 'openConversationId is invalid');
  if (group.dissolved) return apiErr(ctx, 400, 'group.disbanded', 'the group has been disbanded');
  if (!group.robotCodes.includes(rc.robotCode)) {
    return apiErr(ctx, 400, 'send.forbidden', 'the robot is not installed in this group');
  }
  const t = checkTemplate(body['msgKey'], body['msgParam']);
  if (!t.ok) return apiErr(ctx, 400, t.code, t.message);
  const processQueryKey = queryKey(ctx);
  const m = record(ctx, ocid, rc.robotCode, String(body['msgKey']), t.param, t.text, processQueryKey);
  ctx.message = m;
  return apiOk({ processQueryKey });
}

function otoSend(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const { app, body } = a;
  const rc = checkRobotCode(ctx, app, body['robotCode']);
  if (!rc.ok) return rc.reply;
  const userIds = strArray(body['userIds']);
  if (!userIds || userIds.length === 0)
    return apiErr(ctx, 400, 'invalidParameter.userIds.empty', 'userIds is empty');
  if (userIds.length > ctx.state.limits.otoMaxUsers) {
    return apiErr(
      ctx,
      400,
      'invalidParameter.userIds.overMax',
      `userIds exceeds ${ctx.state.limits.otoMaxUsers}`,
    );
  }
  const t = checkTemplate(body['msgKey'], body['msgParam']);
  if (!t.ok) return apiErr(ctx, 400, t.code, t.message);
  const processQueryKey = queryKey(ctx);
  const invalid: string[] = [];
  const flowControlled: string[] = [];
  const { otoFlowLimit, otoFlowWindowMs } = ctx.state.limits;
  for (const u of userIds) {
    if (!ctx.state.users.has(u)) {
      invalid.push(u);
      continue;
    }
    if (otoFlowLimit > 0) {
      // Accepted, not delivered: DingTalk names the person and says nothing else (§3.1).
      const key = `oto:${app.appKey}:${u}`;
      let w = ctx.state.windows.get(key);
      if (!w) {
        w = new SlidingWindow({ windowMs: otoFlowWindowMs, limit: otoFlowLimit, penaltyMs: 0 });
        ctx.state.windows.set(key, w);
      }
      if (!w.hit(ctx.state.now()).ok) {
        flowControlled.push(u);
        continue;
      }
    }
    const m = record(ctx, `oto:${u}`, rc.robotCode, String(body['msgKey']), t.param, t.text, processQueryKey);
    ctx.message ??= m;
  }
  return apiOk({ processQueryKey, invalidStaffIdList: invalid, flowControlledStaffIdList: flowControlled });
}

function otoReadStatus(ctx: Ctx): Reply {
  const a = apiAuth(ctx).reply;
  if (a) return a;
  const key = ctx.query.get('processQueryKey') ?? '';
  const robotCode = ctx.query.get('robotCode') ?? '';
  if (robotCode === '') return apiErr(ctx, 400, 'invalidParameter.robotCode.empty', 'robotCode is empty');
  const found = live(ctx, key);
  if (!found.ok) return found.reply;
  const recalled = found.list.every((m) => m.recalled);
  return apiOk({
    sendStatus: recalled ? 'RECALLED' : 'SUCCESS',
    messageReadInfoList: found.list.map((m) => {
      const userId = m.conversation.slice(4);
      return {
        name: ctx.state.users.get(userId)?.name ?? '',
        userId,
        readStatus: m.readBy.includes(userId) ? 'READ' : 'UNREAD',
        readTimestamp: 0,
      };
    }),
  });
}

function groupQuery(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const key = nonEmpty(a.body['processQueryKey']);
  if (key === undefined)
    return apiErr(ctx, 400, 'invalidParameter.processQueryKey.empty', 'processQueryKey is empty');
  const found = live(ctx, key);
  if (!found.ok) return found.reply;
  const m = found.list[0] as MessageRecord;
  const max =
    typeof a.body['maxResults'] === 'number' ? Math.min(200, Math.max(1, a.body['maxResults'])) : 200;
  const start = Number(nonEmpty(a.body['nextToken']) ?? '0') || 0;
  const page = m.readBy.slice(start, start + max);
  const hasMore = start + max < m.readBy.length;
  return apiOk({
    sendStatus: m.recalled ? 'RECALLED' : 'SUCCESS',
    readUserIds: page,
    ...(hasMore ? { nextToken: String(start + max) } : {}),
    hasMore,
  });
}

function recall(ctx: Ctx, group: boolean): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const rc = checkRobotCode(ctx, a.app, a.body['robotCode']);
  if (!rc.ok) return rc.reply;
  const ocid = nonEmpty(a.body['openConversationId']);
  if (group && ocid === undefined)
    return apiErr(ctx, 400, 'miss.openConversationId', 'openConversationId is missing');
  const keys = strArray(a.body['processQueryKeys']);
  if (!keys || keys.length === 0) {
    return apiErr(ctx, 400, 'invalidParameter.processQueryKeys.empty', 'processQueryKeys is empty');
  }
  if (keys.length > MAX_RECALL) {
    return apiErr(
      ctx,
      400,
      'invalidParameter.processQueryKeys.overMax',
      `at most ${MAX_RECALL} processQueryKeys`,
    );
  }
  const successResult: string[] = [];
  const failedResult: Record<string, string> = {};
  for (const k of keys) {
    const list = ctx.state.messagesByQueryKey
      .get(k)
      ?.filter((m) => (group ? m.conversation === ocid : m.conversation.startsWith('oto:')));
    if (!list || list.length === 0) failedResult[k] = 'processQueryKey not found';
    else if (ctx.state.now() - (list[0]?.at ?? 0) > ctx.state.limits.queryKeyTtlMs)
      failedResult[k] = 'robot.processQueryKey.expired';
    else {
      for (const m of list) m.recalled = true;
      successResult.push(k);
    }
  }
  return apiOk({ successResult, failedResult });
}

function live(ctx: Ctx, key: string): { ok: true; list: MessageRecord[] } | { ok: false; reply: Reply } {
  const list = ctx.state.messagesByQueryKey.get(key);
  if (!list || list.length === 0 || ctx.state.now() - (list[0]?.at ?? 0) > ctx.state.limits.queryKeyTtlMs) {
    return {
      ok: false,
      reply: apiErr(ctx, 400, 'robot.processQueryKey.expired', 'processQueryKey is expired or unknown'),
    };
  }
  return { ok: true, list };
}

function queryKey(ctx: Ctx): string {
  // Real keys are opaque base64-ish text with `=`/`+` (hence "URL-encode the key", §3.1); keep that shape.
  return `${ctx.state.hex(20)}+pqk/${ctx.seq.toString(36)}=`;
}

function record(
  ctx: Ctx,
  conversation: string,
  robotCode: string,
  msgKey: string,
  param: Record<string, unknown>,
  text: string,
  processQueryKey: string,
): MessageRecord {
  const { state } = ctx;
  return state.addMessage({
    seq: state.nextMessageSeq(),
    at: state.now(),
    conversation,
    source: 'app_robot',
    robot: robotCode,
    type: msgKey,
    content: param,
    text,
    atUserIds: [],
    atMobiles: [],
    isAtAll: false,
    processQueryKey,
    readBy: [],
    ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
    fingerprint: fingerprint('app_robot', robotCode, conversation, msgKey, param),
  });
}
