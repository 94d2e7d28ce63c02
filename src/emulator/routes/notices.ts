/**
 * Work notifications, `topapi/message/corpconversation/*` (docs/dingtalk.md §5). The send is asynchronous: it
 * returns a task id at once; the per-day rules (same content per user per day, daily cap) never fail the call:
 * affected users only show up in `forbidden_user_id_list` / `forbidden_list` of the send result (§5.2).
 */
import { oapiAuth } from '../auth.js';
import { type Ctx, isObject, type Reply, str, topapiErr, topapiOk } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import { canonicalJson, fingerprint } from '../state.js';
import type { AppDef, NoticeRecord } from '../types.js';

const BASE = '/topapi/message/corpconversation';
const MAX_USERS = 100;
const MAX_MSG_BYTES = 2048;
const TASK_BASE = 256_271_667_500;

export function registerNoticeRoutes(routes: RouteTable): void {
  routes.add('POST', `${BASE}/asyncsend_v2`, asyncSend);
  routes.add('POST', `${BASE}/getsendprogress`, progress);
  routes.add('POST', `${BASE}/getsendresult`, result);
  routes.add('POST', `${BASE}/recall`, recall);
}

/** DingTalk's day is China's (UTC+8). */
function dayOf(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
}

function agentOf(ctx: Ctx, app: AppDef): Reply | undefined {
  const raw = str(ctx.field('agent_id'));
  if (raw === undefined || raw === '') return topapiErr(ctx, 40035, '缺少参数 agent_id');
  if (Number(raw) !== app.agentId) return topapiErr(ctx, 400002, '不合法的agentId');
  return undefined;
}

/** §5.3 formats (snake_case, except inside `link`). Returns the missing field, if any. */
export function checkNoticeMsg(msg: unknown): string | undefined {
  if (!isObject(msg) || typeof msg['msgtype'] !== 'string') return 'msg.msgtype';
  const t = msg['msgtype'];
  const o = msg[t];
  const has = (f: string): boolean =>
    isObject(o) && (typeof o[f] === 'string' || typeof o[f] === 'number') && o[f] !== '';
  const need: Record<string, string[]> = {
    text: ['content'],
    image: ['media_id'],
    voice: ['media_id', 'duration'],
    file: ['media_id'],
    link: ['messageUrl', 'picUrl', 'title', 'text'],
    oa: ['message_url'],
    markdown: ['title', 'text'],
    action_card: ['markdown'],
  };
  const fields = need[t];
  if (!fields) return `msg.msgtype(${t})`;
  for (const f of fields) if (!has(f)) return `msg.${t}.${f}`;
  if (t === 'oa' && isObject(o) && (!isObject(o['head']) || !isObject(o['body']))) return 'msg.oa.head/body';
  if (t === 'action_card' && isObject(o)) {
    const single = typeof o['single_title'] === 'string' && typeof o['single_url'] === 'string';
    if (!single && !Array.isArray(o['btn_json_list'])) return 'msg.action_card.single_title/btn_json_list';
  }
  return undefined;
}

function asyncSend(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const { app } = a;
  const bad = agentOf(ctx, app);
  if (bad) return bad;
  let msg = ctx.field('msg');
  if (typeof msg === 'string') {
    // A form-encoded body carries msg as JSON text.
    try {
      msg = JSON.parse(msg);
    } catch {
      return topapiErr(ctx, 40035, '缺少参数 msg');
    }
  }
  if (msg === undefined) return topapiErr(ctx, 40035, '缺少参数 msg');
  const missing = checkNoticeMsg(msg);
  if (missing) return topapiErr(ctx, 400002, `参数错误: ${missing}`);
  if (Buffer.byteLength(canonicalJson(msg), 'utf8') > MAX_MSG_BYTES)
    return topapiErr(ctx, 400002, '消息体超过2048字节');
  const { state } = ctx;
  const toAll = ctx.field('to_all_user') === true || ctx.field('to_all_user') === 'true';
  const list = (str(ctx.field('userid_list')) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const depts = (str(ctx.field('dept_id_list')) ?? '').split(',').filter((s) => s.trim() !== '');
  if (!toAll && list.length === 0 && depts.length === 0) {
    return topapiErr(ctx, 40035, '缺少参数 userid_list/dept_id_list/to_all_user');
  }
  if (list.length > MAX_USERS) return topapiErr(ctx, 400002, `userid_list 最多 ${MAX_USERS} 个`);
  // Departments are not modelled: a dept list (or to_all_user) reaches every user of the org.
  const targets = toAll || depts.length > 0 ? state.org.users.map((u) => u.userId) : list;
  const taskId = TASK_BASE + ctx.seq;
  const now = state.now();
  const hash = fingerprint(canonicalJson(msg));
  const records: NoticeRecord[] = [];
  for (const userId of [...new Set(targets)]) {
    const known = state.users.has(userId);
    const key = `${app.appKey}|${userId}|${dayOf(now)}`;
    let day = state.noticeDay.get(key);
    if (!day) {
      day = { count: 0, hashes: new Set() };
      state.noticeDay.set(key, day);
    }
    let forbiddenCode: number | undefined;
    if (known) {
      if (day.hashes.has(hash)) forbiddenCode = 143106;
      else if (day.count >= state.limits.noticeDailyCap) forbiddenCode = 143105;
      else {
        day.hashes.add(hash);
        day.count++;
      }
    }
    const rec: NoticeRecord = {
      taskId,
      at: now,
      agentId: app.agentId,
      appKey: app.appKey,
      userId,
      msg,
      ...(forbiddenCode !== undefined ? { forbiddenCode } : {}),
      ...(!known ? { forbiddenCode: -1 } : {}),
      ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
      fingerprint: fingerprint('notice', app.appKey, userId, msg),
    };
    records.push(rec);
    state.notices.push(rec);
  }
  state.noticeTasks.set(taskId, { appKey: app.appKey, at: now, records });
  return topapiOk(ctx, undefined, { task_id: taskId });
}

function task(
  ctx: Ctx,
  field: string,
): { app: AppDef; t: { appKey: string; at: number; records: NoticeRecord[] } } | Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const bad = agentOf(ctx, a.app);
  if (bad) return bad;
  const id = Number(str(ctx.field(field)) ?? Number.NaN);
  const t = ctx.state.noticeTasks.get(id);
  if (!t || t.appKey !== a.app.appKey || ctx.state.now() - t.at > 86_400_000) {
    return topapiErr(ctx, 400002, `不合法的${field}`);
  }
  return { app: a.app, t };
}

function progress(ctx: Ctx): Reply {
  const r = task(ctx, 'task_id');
  if ('status' in r) return r;
  return topapiOk(ctx, undefined, { progress: { progress_in_percent: 100, status: 2 } });
}

function result(ctx: Ctx): Reply {
  const r = task(ctx, 'task_id');
  if ('status' in r) return r;
  const recs = r.t.records;
  const invalid = recs.filter((x) => x.forbiddenCode === -1).map((x) => x.userId);
  const forbidden = recs.filter((x) => x.forbiddenCode !== undefined && x.forbiddenCode > 0);
  const delivered = recs.filter((x) => x.forbiddenCode === undefined && !x.recalled);
  return topapiOk(ctx, undefined, {
    send_result: {
      invalid_user_id_list: invalid,
      forbidden_user_id_list: forbidden.map((x) => x.userId),
      failed_user_id_list: [],
      // Read once the person opened it in the emulated client (`readNotice`); unread until then.
      read_user_id_list: delivered.filter((x) => x.readAt !== undefined).map((x) => x.userId),
      unread_user_id_list: delivered.filter((x) => x.readAt === undefined).map((x) => x.userId),
      invalid_dept_id_list: [],
      forbidden_list: forbidden.map((x) => ({ code: String(x.forbiddenCode), count: 1, userid: x.userId })),
    },
  });
}

function recall(ctx: Ctx): Reply {
  const r = task(ctx, 'msg_task_id');
  if ('status' in r) return r;
  for (const x of r.t.records) x.recalled = true;
  return {
    status: 200,
    body: { errcode: 0, errmsg: 'ok', request_id: `emu${ctx.seq.toString(16).padStart(8, '0')}` },
    code: 0,
  };
}
