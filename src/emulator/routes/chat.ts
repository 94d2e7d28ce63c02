/**
 * Group chats (docs/dingtalk.md §4): chatid ↔ openConversationId, legacy `chat/create` + `chat/send`, scene groups
 * (snake_case `sceneGroup/create`, camelCase `sceneGroups`, legacy topapi), v1.0 `group/create`.
 */
import { apiAuth, apiAuthJson, oapiAuth } from '../auth.js';
import {
  apiErr,
  apiOk,
  type Ctx,
  isObject,
  nonEmpty,
  oapiErr,
  oapiOk,
  type Reply,
  str,
  strArray,
  topapiErr,
  topapiOk,
} from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import { canonicalJson, fingerprint } from '../state.js';
import type { AppDef, GroupDef } from '../types.js';
import { checkNoticeMsg } from './notices.js';

export function registerChatRoutes(routes: RouteTable): void {
  routes.add('POST', '/v1.0/im/chat/:chatId/convertToOpenConversationId', convert);
  routes.add('POST', '/chat/create', legacyCreate);
  routes.add('POST', '/chat/send', legacySend);
  routes.add('GET', '/chat/get', legacyGet);
  routes.add('POST', '/v1.0/im/group/create', (ctx) => v1Create(ctx, 'camel'));
  routes.add('POST', '/v1.0/im/sceneGroup/create', (ctx) => v1Create(ctx, 'snake'));
  routes.add('POST', '/v1.0/im/sceneGroups', (ctx) => v1Create(ctx, 'scene'));
  routes.add('POST', '/topapi/im/chat/scenegroup/create', topapiScene);
}

function convert(ctx: Ctx): Reply {
  const a = apiAuth(ctx);
  if (a.reply) return a.reply;
  const g = ctx.state.groupsByChatid.get(ctx.params['chatId'] ?? '');
  // (sic) "invalideChatId" is the documented spelling (§4).
  if (!g) return apiErr(ctx, 400, 'invalideChatId', 'chatId is invalid');
  return apiOk({ openConversationId: g.openConversationId });
}

function newGroup(ctx: Ctx, app: AppDef, name: string, owner: string, members: string[]): GroupDef {
  const { state } = ctx;
  const g: GroupDef = {
    openConversationId: `cid${state.hex(22)}${ctx.seq.toString(36)}==`,
    chatid: `chat${state.hex(28)}${ctx.seq.toString(36)}`,
    name,
    ownerUserId: owner,
    members: [...new Set([owner, ...members])],
    // The creating app's robot is in the groups it creates, so it can post there at once.
    robotCodes: [app.robotCode],
  };
  state.org.groups.push(g);
  state.groups.set(g.openConversationId, g);
  state.groupsByChatid.set(g.chatid, g);
  return g;
}

function legacyCreate(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, false);
  if (a.reply) return a.reply;
  if (!isObject(ctx.json())) return oapiErr(43009, 'post请求body必须为json格式');
  const name = str(ctx.field('name'));
  const owner = str(ctx.field('owner'));
  const members = strArray(ctx.field('useridlist'));
  if (!name || name.length > 20) return oapiErr(40035, '缺少参数 name');
  if (!owner) return oapiErr(49013, '缺少群主');
  if (!members || members.length === 0) return oapiErr(49010, '缺少群成员');
  if (members.length > 40 || members.some((m) => !ctx.state.users.has(m)) || !ctx.state.users.has(owner)) {
    return oapiErr(40031, '不合法的UserID列表');
  }
  if (!members.includes(owner)) return oapiErr(40031, '群主必须在群成员列表中');
  const g = newGroup(ctx, a.app, name, owner, members);
  return oapiOk({ chatid: g.chatid, openConversationId: g.openConversationId, conversationTag: 2 });
}

function legacyGet(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, false);
  if (a.reply) return a.reply;
  const g = ctx.state.groupsByChatid.get(ctx.query.get('chatid') ?? '');
  if (!g) return oapiErr(34001, '无效的会话id');
  return oapiOk({
    chat_info: {
      name: g.name,
      owner: g.ownerUserId,
      useridlist: g.members,
      chatid: g.chatid,
      conversationTag: 2,
    },
  });
}

function legacySend(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, false);
  if (a.reply) return a.reply;
  if (!isObject(ctx.json())) return oapiErr(43009, 'post请求body必须为json格式');
  const chatid = str(ctx.field('chatid'));
  const g = chatid ? ctx.state.groupsByChatid.get(chatid) : undefined;
  if (!g) return oapiErr(34001, '无效的会话id');
  const msg = ctx.field('msg');
  const missing = checkNoticeMsg(msg);
  if (missing) return oapiErr(isObject(msg) ? 34004 : 34014, `无效的消息: ${missing}`);
  if (Buffer.byteLength(canonicalJson(msg), 'utf8') > 2048) return oapiErr(34016, '消息内容过长');
  const { state } = ctx;
  const m = msg as Record<string, unknown>;
  const type = String(m['msgtype']);
  const body = m[type];
  const text = isObject(body)
    ? String(body['content'] ?? body['text'] ?? body['markdown'] ?? body['title'] ?? '')
    : '';
  const rec = state.addMessage({
    seq: state.nextMessageSeq(),
    at: state.now(),
    conversation: g.openConversationId,
    source: 'chat_send',
    robot: a.app.appKey,
    type,
    content: msg,
    text,
    atUserIds: [],
    atMobiles: [],
    isAtAll: false,
    readBy: [],
    ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
    fingerprint: fingerprint('chat_send', a.app.appKey, g.openConversationId, msg),
  });
  ctx.message = rec;
  return oapiOk({ messageId: `msg${state.hex(24)}${rec.seq.toString(36)}` });
}

function v1Create(ctx: Ctx, style: 'camel' | 'snake' | 'scene'): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const name = nonEmpty(style === 'snake' ? b['title'] : style === 'scene' ? b['groupName'] : b['name']);
  const owner = nonEmpty(
    style === 'snake' ? b['owner_user_id'] : style === 'scene' ? b['groupOwnerId'] : b['owner'],
  );
  const template = style === 'snake' ? b['template_id'] : style === 'scene' ? b['templateId'] : 'none';
  const rawMembers =
    style === 'snake' ? b['user_ids'] : style === 'scene' ? b['userIdList'] : b['useridlist'];
  // The snake_case doc shows user_ids as an array, the topapi one as a comma string: accept both.
  const members =
    typeof rawMembers === 'string' ? rawMembers.split(',').filter(Boolean) : (strArray(rawMembers) ?? []);
  if (!name) return apiErr(ctx, 400, 'invalidParameter.title.empty', 'title is mandatory');
  if (!owner) return apiErr(ctx, 400, 'invalidParameter.owner.empty', 'owner is mandatory');
  if (typeof template !== 'string' || template === '') {
    return apiErr(ctx, 400, 'invalidParameter.templateId.empty', 'template_id is mandatory');
  }
  if (members.length > 999) return apiErr(ctx, 400, '665033', 'too many members');
  const unknown = [owner, ...members].find((u) => !ctx.state.users.has(u));
  if (unknown !== undefined) return apiErr(ctx, 400, '660041', `no such employee: ${unknown}`);
  const g = newGroup(ctx, a.app, name, owner, members);
  if (style === 'snake') return apiOk({ open_conversation_id: g.openConversationId, chat_id: g.chatid });
  if (style === 'scene') return apiOk({ openConversationId: g.openConversationId });
  return apiOk({ openConversationId: g.openConversationId, chatid: g.chatid, conversationTag: 2 });
}

function topapiScene(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const title = str(ctx.field('title'));
  const template = str(ctx.field('template_id'));
  const owner = str(ctx.field('owner_user_id'));
  if (!title || !template || !owner) return topapiErr(ctx, 40035, '缺少参数 title/template_id/owner_user_id');
  const members = (str(ctx.field('user_ids')) ?? '').split(',').filter(Boolean);
  const unknown = [owner, ...members].find((u) => !ctx.state.users.has(u));
  if (unknown !== undefined) return topapiErr(ctx, 660041, `员工不存在: ${unknown}`);
  const g = newGroup(ctx, a.app, title, owner, members);
  return topapiOk(ctx, { open_conversation_id: g.openConversationId, chat_id: g.chatid }, { success: true });
}
