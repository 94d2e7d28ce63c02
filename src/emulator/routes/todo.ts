/**
 * Todo tasks, v1.0 (docs/dingtalk.md §8). Every person id is a unionId: a userId (or unknown id) in the path or in
 * executor/participant lists is refused, which is the mistake the checklist guards against (§11). sourceId is unique
 * per owner ("task exist"), field lengths and the priority enum are checked, `detailUrl` is required on create.
 */
import { apiAuth, apiAuthJson } from '../auth.js';
import { apiErr, apiOk, type Ctx, isObject, nonEmpty, type Reply, strArray, utf8Length } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import type { TodoRecord } from '../types.js';

const P = '/v1.0/todo/users/:unionId';
const PRIORITIES = new Set([10, 20, 30, 40]);
const PAGE = 50;

export function registerTodoRoutes(routes: RouteTable): void {
  routes.add('POST', `${P}/tasks`, create);
  routes.add('PUT', `${P}/tasks/:taskId`, update);
  routes.add('DELETE', `${P}/tasks/:taskId`, remove);
  routes.add('GET', `${P}/tasks/:taskId`, get);
  routes.add('GET', `${P}/tasks/sources/:sourceId`, getBySource);
  routes.add('POST', `${P}/org/tasks/query`, (ctx) => list(ctx, 'orgTaskQuery'));
  routes.add('POST', `${P}/tasks/list`, (ctx) => list(ctx, 'taskList'));
  routes.add('PUT', `${P}/tasks/:taskId/executorStatus`, executorStatus);
}

function view(t: TodoRecord, ctx: Ctx): Record<string, unknown> {
  return {
    id: t.id,
    subject: t.subject,
    description: t.description ?? '',
    startTime: t.createdTime,
    ...(t.dueTime !== undefined ? { dueTime: t.dueTime } : {}),
    ...(t.finishTime !== undefined ? { finishTime: t.finishTime } : {}),
    done: t.done,
    executorIds: t.executorIds,
    participantIds: t.participantIds,
    ...(t.detailUrl ? { detailUrl: t.detailUrl } : {}),
    source: 'isv_dingtalkTodo',
    ...(t.sourceId !== undefined ? { sourceId: t.sourceId } : {}),
    createdTime: t.createdTime,
    modifiedTime: t.modifiedTime,
    creatorId: t.creatorId,
    modifierId: t.modifierId,
    bizTag: t.bizTag,
    requestId: `emu${ctx.seq.toString(16).padStart(8, '0')}`,
    isOnlyShowExecutor: t.isOnlyShowExecutor ?? false,
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    ...(t.contentFieldList ? { contentFieldList: t.contentFieldList } : {}),
    ...(t.notifyConfigs ? { notifyConfigs: t.notifyConfigs } : {}),
  };
}

function card(t: TodoRecord): Record<string, unknown> {
  return {
    taskId: t.id,
    subject: t.subject,
    ...(t.dueTime !== undefined ? { dueTime: t.dueTime } : {}),
    ...(t.detailUrl ? { detailUrl: t.detailUrl } : {}),
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    createdTime: t.createdTime,
    modifiedTime: t.modifiedTime,
    creatorId: t.creatorId,
    ...(t.sourceId !== undefined ? { sourceId: t.sourceId } : {}),
    bizTag: t.bizTag,
    isDone: t.done,
    todoType: 'TODO',
  };
}

/** Checks that ids are known unionIds; returns the first bad one. */
function badUnion(ctx: Ctx, ids: readonly string[]): string | undefined {
  return ids.find((id) => !ctx.state.usersByUnionId.has(id));
}

function fieldErrors(
  ctx: Ctx,
  b: Record<string, unknown>,
  op: 'taskCreate' | 'taskUpdate',
): Reply | undefined {
  const code = `todo.${op}.paramError`;
  if (b['subject'] !== undefined) {
    if (typeof b['subject'] !== 'string' || b['subject'] === '')
      return apiErr(ctx, 400, code, 'subject is empty');
    if (b['subject'].length > 1024) return apiErr(ctx, 400, code, 'subject is oversize');
  }
  if (b['description'] !== undefined) {
    if (typeof b['description'] !== 'string') return apiErr(ctx, 400, code, 'description is invalid');
    if (b['description'].length > 4096) return apiErr(ctx, 400, code, 'description is oversize');
  }
  if (b['dueTime'] !== undefined && b['dueTime'] !== null) {
    const d = b['dueTime'];
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0)
      return apiErr(ctx, 400, code, 'dueTime is invalid');
  }
  for (const [k, name] of [
    ['executorIds', 'executors'],
    ['participantIds', 'participants'],
  ] as const) {
    if (b[k] === undefined) continue;
    const ids = strArray(b[k]);
    if (!ids) return apiErr(ctx, 400, code, `${k} is invalid`);
    if (ids.length > 1000) return apiErr(ctx, 400, code, `${name} is oversize`);
    const bad = badUnion(ctx, ids);
    if (bad !== undefined) return apiErr(ctx, 400, code, `${k} contains ${bad}, which is not a unionId`);
  }
  if (b['priority'] !== undefined && !PRIORITIES.has(b['priority'] as number)) {
    return apiErr(ctx, 400, code, 'priority is invalid');
  }
  if (b['detailUrl'] !== undefined) {
    const d = b['detailUrl'];
    if (!isObject(d)) return apiErr(ctx, 400, code, 'detailUrl is invalid');
    for (const k of ['appUrl', 'pcUrl']) {
      const v = d[k];
      if (v !== undefined && (typeof v !== 'string' || utf8Length(v) > 1024)) {
        return apiErr(ctx, 400, code, `detailUrl.${k} is oversize`);
      }
    }
  }
  if (b['contentFieldList'] !== undefined) {
    const l = b['contentFieldList'];
    if (!Array.isArray(l)) return apiErr(ctx, 400, code, 'contentFieldList is invalid');
    for (const f of l) {
      if (!isObject(f) || typeof f['fieldKey'] !== 'string' || typeof f['fieldValue'] !== 'string') {
        return apiErr(ctx, 400, code, 'contentFieldList is invalid');
      }
      if (utf8Length(f['fieldValue']) > 1024) return apiErr(ctx, 400, code, 'contentFieldList is oversize');
    }
  }
  return undefined;
}

function owner(ctx: Ctx, op: string): { unionId: string } | Reply {
  const unionId = ctx.params['unionId'] ?? '';
  if (!ctx.state.usersByUnionId.has(unionId)) {
    return apiErr(ctx, 400, `todo.${op}.paramError`, `${unionId} is not a unionId of this org`);
  }
  const op2 = ctx.query.get('operatorId');
  if (op2 !== null && op2 !== '' && !ctx.state.usersByUnionId.has(op2)) {
    return apiErr(ctx, 400, `todo.${op}.paramError`, 'operatorId is not a unionId');
  }
  return { unionId };
}

function create(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const o = owner(ctx, 'taskCreate');
  if ('status' in o) return o;
  if (typeof b['subject'] !== 'string' || b['subject'] === '') {
    return apiErr(ctx, 400, 'todo.taskCreate.paramError', 'subject is empty');
  }
  const bad = fieldErrors(ctx, b, 'taskCreate');
  if (bad) return bad;
  // §8.2: since 2024-02-01 creation without detailUrl is rejected on this endpoint.
  if (!isObject(b['detailUrl']))
    return apiErr(ctx, 400, 'todo.taskCreate.paramError', 'detailUrl is required');
  const creatorId = nonEmpty(b['creatorId']) ?? ctx.query.get('operatorId') ?? o.unionId;
  if (badUnion(ctx, [creatorId]) !== undefined) {
    return apiErr(ctx, 400, 'todo.taskCreate.paramError', 'creatorId is not a unionId');
  }
  const { state } = ctx;
  const sourceId = nonEmpty(b['sourceId']);
  if (sourceId !== undefined && state.todoSources.has(`${o.unionId}|${sourceId}`)) {
    return apiErr(ctx, 400, 'todo.taskCreate.paramError', 'task exist');
  }
  const now = state.now();
  const t: TodoRecord = {
    id: `task${state.hex(20)}${ctx.seq.toString(36)}`,
    owner: o.unionId,
    subject: b['subject'],
    ...(typeof b['description'] === 'string' ? { description: b['description'] } : {}),
    ...(typeof b['dueTime'] === 'number' ? { dueTime: b['dueTime'] } : {}),
    done: false,
    executorIds: strArray(b['executorIds']) ?? [],
    participantIds: strArray(b['participantIds']) ?? [],
    detailUrl: b['detailUrl'] as { appUrl?: string; pcUrl?: string },
    ...(sourceId !== undefined ? { sourceId } : {}),
    creatorId,
    modifierId: creatorId,
    createdTime: now,
    modifiedTime: now,
    ...(typeof b['priority'] === 'number' ? { priority: b['priority'] } : {}),
    ...(typeof b['isOnlyShowExecutor'] === 'boolean' ? { isOnlyShowExecutor: b['isOnlyShowExecutor'] } : {}),
    ...(Array.isArray(b['contentFieldList'])
      ? { contentFieldList: b['contentFieldList'] as Array<{ fieldKey: string; fieldValue: string }> }
      : {}),
    ...(isObject(b['notifyConfigs']) ? { notifyConfigs: b['notifyConfigs'] as Record<string, string> } : {}),
    bizTag: 'emulator',
    appKey: a.app.appKey,
  };
  state.todos.set(t.id, t);
  if (sourceId !== undefined) state.todoSources.set(`${o.unionId}|${sourceId}`, t.id);
  return apiOk(view(t, ctx));
}

function find(ctx: Ctx, op: string): TodoRecord | Reply {
  const t = ctx.state.todos.get(ctx.params['taskId'] ?? '');
  const unionId = ctx.params['unionId'];
  if (!t || t.deleted) return apiErr(ctx, 400, `todo.${op}.paramError`, 'task not exist');
  // §8.1: the path unionId is the owner; the FAQ says it must be the creator's for update/delete.
  if (unionId !== t.owner && unionId !== t.creatorId && !t.executorIds.includes(unionId ?? '')) {
    return apiErr(ctx, 400, `todo.${op}.paramError`, 'task not exist');
  }
  return t;
}

function update(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const o = owner(ctx, 'taskUpdate');
  if ('status' in o) return o;
  const t = find(ctx, 'taskUpdate');
  if ('status' in t) return t;
  const b = a.body;
  const bad = fieldErrors(ctx, b, 'taskUpdate');
  if (bad) return bad;
  if (typeof b['subject'] === 'string') t.subject = b['subject'];
  if (typeof b['description'] === 'string') t.description = b['description'];
  if (typeof b['dueTime'] === 'number') t.dueTime = b['dueTime'];
  if (typeof b['done'] === 'boolean') {
    t.done = b['done'];
    if (t.done) t.finishTime = ctx.state.now();
    else delete t.finishTime;
  }
  const ex = strArray(b['executorIds']);
  if (ex) t.executorIds = ex;
  const pa = strArray(b['participantIds']);
  if (pa) t.participantIds = pa;
  // §8.1 lists contentFieldList among the update fields; fieldErrors has checked its shape.
  if (Array.isArray(b['contentFieldList']))
    t.contentFieldList = b['contentFieldList'] as Array<{ fieldKey: string; fieldValue: string }>;
  t.modifiedTime = ctx.state.now();
  t.modifierId = ctx.query.get('operatorId') || o.unionId;
  return apiOk({ result: true });
}

function remove(ctx: Ctx): Reply {
  const a = apiAuth(ctx).reply;
  if (a) return a;
  const o = owner(ctx, 'taskDelete');
  if ('status' in o) return o;
  const t = find(ctx, 'taskDelete');
  if ('status' in t) return t;
  t.deleted = true;
  if (t.sourceId !== undefined) ctx.state.todoSources.delete(`${t.owner}|${t.sourceId}`);
  return apiOk({ result: true, requestId: `emu${ctx.seq.toString(16).padStart(8, '0')}` });
}

function get(ctx: Ctx): Reply {
  const a = apiAuth(ctx).reply;
  if (a) return a;
  const t = find(ctx, 'taskQuery');
  if ('status' in t) return t;
  return apiOk({ ...view(t, ctx), cardTypeId: '', tenantId: ctx.state.org.corpId, tenantType: 'org' });
}

function getBySource(ctx: Ctx): Reply {
  const a = apiAuth(ctx).reply;
  if (a) return a;
  const id = ctx.state.todoSources.get(`${ctx.params['unionId'] ?? ''}|${ctx.params['sourceId'] ?? ''}`);
  const t = id === undefined ? undefined : ctx.state.todos.get(id);
  if (!t || t.deleted) return apiErr(ctx, 400, 'todo.taskQuery.paramError', 'task not exist');
  return apiOk(view(t, ctx));
}

function list(ctx: Ctx, op: 'orgTaskQuery' | 'taskList'): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const o = owner(ctx, op);
  if ('status' in o) return o;
  const b = a.body;
  const tokenText = nonEmpty(b['nextToken']);
  const start = tokenText === undefined ? 0 : Number(tokenText);
  if (!Number.isInteger(start) || start < 0)
    return apiErr(ctx, 400, `todo.${op}.paramError`, 'nextToken is invalid');
  const roles = Array.isArray(b['roleTypes']) ? (b['roleTypes'] as unknown[]) : undefined;
  const has = (t: TodoRecord, role: unknown): boolean =>
    role === 'executor'
      ? t.executorIds.includes(o.unionId)
      : role === 'creator'
        ? t.creatorId === o.unionId
        : role === 'participant'
          ? t.participantIds.includes(o.unionId)
          : false;
  const all = [...ctx.state.todos.values()].filter((t) => {
    if (t.deleted) return false;
    if (typeof b['isDone'] === 'boolean' && t.done !== b['isDone']) return false;
    if (roles && roles.length > 0) {
      // Outer array = OR, inner array = AND (§8.1).
      return roles.some((group) => Array.isArray(group) && group.every((r) => has(t, r)));
    }
    return t.owner === o.unionId || has(t, 'executor') || has(t, 'creator') || has(t, 'participant');
  });
  const page = all.slice(start, start + PAGE);
  const next = start + PAGE < all.length ? String(start + PAGE) : undefined;
  return apiOk({
    todoCards: page.map(card),
    ...(next !== undefined ? { nextToken: next } : {}),
    ...(op === 'taskList' ? { totalCount: all.length } : {}),
  });
}

function executorStatus(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const t = find(ctx, 'taskUpdate');
  if ('status' in t) return t;
  const l = a.body['executorStatusList'];
  if (!Array.isArray(l))
    return apiErr(ctx, 400, 'todo.taskUpdate.paramError', 'executorStatusList is invalid');
  const done = new Set<string>();
  for (const e of l) {
    if (!isObject(e) || typeof e['id'] !== 'string' || typeof e['isDone'] !== 'boolean') {
      return apiErr(ctx, 400, 'todo.taskUpdate.paramError', 'executorStatusList is invalid');
    }
    if (!t.executorIds.includes(e['id']))
      return apiErr(ctx, 400, 'todo.taskUpdate.paramError', `${e['id']} is not an executor`);
    if (e['isDone']) done.add(e['id']);
  }
  if (t.executorIds.length > 0 && t.executorIds.every((id) => done.has(id))) {
    t.done = true;
    t.finishTime = ctx.state.now();
  }
  t.modifiedTime = ctx.state.now();
  return apiOk({ result: true });
}
