/**
 * Custom robot webhook `POST /robot/send` (docs/dingtalk.md §2) and the bot session webhook
 * `POST /robot/sendBySession` (§9a). Always HTTP 200 with errcode. The webhook token is the group binding.
 */
import { type Ctx, oapiErr, oapiOk, type Reply } from '../http-io.js';
import { type ParsedRobotMessage, parseRobotMessage } from '../robot-message.js';
import { checkRobotSecurity } from '../robot-security.js';
import type { RouteTable } from '../route-table.js';
import { type EmulatorState, fingerprint } from '../state.js';
import type { GroupDef, MessageRecord, MessageSource } from '../types.js';

export function registerWebhookRoutes(routes: RouteTable): void {
  routes.add('POST', '/robot/send', robotSend);
  routes.add('POST', '/robot/sendBySession', sendBySession);
}

function jsonContentType(ctx: Ctx): boolean {
  const ct = String(ctx.req.headers['content-type'] ?? '').toLowerCase();
  return ct.startsWith('application/json') || ct.startsWith('text/json');
}

function unknownToken(state: EmulatorState): Reply {
  const code = state.limits.unknownRobotErrcode;
  return oapiErr(code, code === 400101 ? 'access_token不存在' : 'token is not exist');
}

function robotSend(ctx: Ctx): Reply {
  const { state } = ctx;
  const token = ctx.query.get('access_token');
  const robot = token ? state.robots.get(token) : undefined;
  if (!robot) return unknownToken(state);
  ctx.robot = robot.name;
  if (robot.disabled) return oapiErr(400102, '机器人已停用');
  const group = state.groups.get(robot.group);
  if (!group || group.dissolved) return oapiErr(400013, '群已被解散');
  if (!jsonContentType(ctx)) return oapiErr(43004, '无效的HTTP HEADER Content-Type');
  // Size cap: unverified errcode and bound (§2 gives none for the webhook), a setting with the msgParam-like default.
  if (ctx.raw.length > state.limits.robotMaxBytes) return oapiErr(460101, 'message too long');
  const parsed = parseRobotMessage(ctx.json());
  if (!parsed.ok) return oapiErr(parsed.errcode, parsed.errmsg);
  const verdict = checkRobotSecurity({
    security: robot.security,
    timestamp: ctx.query.get('timestamp'),
    sign: ctx.query.get('sign'),
    ip: ctx.ip,
    message: parsed.msg.content,
    now: state.now(),
    windowMs: state.limits.robotSignWindowMs,
  });
  if (!verdict.ok) return oapiErr(verdict.errcode, verdict.errmsg);
  // msgUuid is the documented idempotency key (§2.1): a retry with the same value is not delivered twice.
  if (parsed.msg.msgUuid !== undefined && state.msgUuids.has(`${robot.token}|${parsed.msg.msgUuid}`)) {
    return oapiOk();
  }
  const v = state.robotWindow(robot.token).hit(state.now());
  if (!v.ok) return oapiErr(state.limits.robotThrottleErrcode, 'send too fast, exceed 20 times per minute');
  const m = record(ctx, group, parsed.msg, 'custom_robot', robot.name, 'POST /robot/send');
  if (parsed.msg.msgUuid !== undefined) state.msgUuids.set(`${robot.token}|${parsed.msg.msgUuid}`, m.seq);
  return oapiOk();
}

function sendBySession(ctx: Ctx): Reply {
  const { state } = ctx;
  const s = state.sessions.get(ctx.query.get('session') ?? '');
  // §9a doc error names; the numeric errcode for them is unverified.
  if (!s) return oapiErr(300001, 'session.notExisted');
  if (state.now() >= s.expiresAt) return oapiErr(300001, 'session.expired');
  ctx.robot = s.robotCode;
  if (!jsonContentType(ctx)) return oapiErr(43004, '无效的HTTP HEADER Content-Type');
  const parsed = parseRobotMessage(ctx.json());
  if (!parsed.ok) return oapiErr(parsed.errcode, parsed.errmsg);
  const group = state.groups.get(s.conversation);
  if (group?.dissolved) return oapiErr(400013, '群已被解散');
  record(ctx, group, parsed.msg, 'session_webhook', s.robotCode, 'POST /robot/sendBySession', s.conversation);
  return oapiOk();
}

function record(
  ctx: Ctx,
  group: GroupDef | undefined,
  msg: ParsedRobotMessage,
  source: MessageSource,
  robot: string,
  route: string,
  conversation = group?.openConversationId ?? '',
): MessageRecord {
  const { state } = ctx;
  // §2.5: only current members can be @-ed; a mobile maps to its member's userId, others are dropped.
  const members = group ? new Set(group.members) : undefined;
  const atUserIds = msg.atUserIds.filter((u) => !members || members.has(u));
  for (const mobile of msg.atMobiles) {
    const u = state.usersByMobile.get(mobile);
    if (u && (!members || members.has(u.userId)) && !atUserIds.includes(u.userId)) atUserIds.push(u.userId);
  }
  const m = state.addMessage({
    seq: state.nextMessageSeq(),
    at: state.now(),
    conversation,
    source,
    robot,
    type: msg.type,
    content: msg.content,
    text: msg.text,
    atUserIds,
    atMobiles: msg.atMobiles,
    isAtAll: msg.isAtAll,
    readBy: [],
    ...(msg.msgUuid !== undefined ? { msgUuid: msg.msgUuid } : {}),
    ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
    fingerprint: fingerprint(route, robot, conversation, msg.content, msg.msgUuid ?? ''),
  });
  ctx.message = m;
  return m;
}
