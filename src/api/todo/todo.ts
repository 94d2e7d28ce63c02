/**
 * Todo tasks (待办, docs/dingtalk.md §8) on `api.dingtalk.com/v1.0/todo`. Every person id is a **unionId** (use
 * `dt.users.unionIdOf(userId)`); times are epoch milliseconds. Since 2024-02-01 a task created here needs a
 * `detailUrl` (§8.2), so `create` requires one.
 *
 * The list endpoint differs between the doc (`/org/tasks/query`) and the SDK (`/tasks/list`, §12): `listEndpoint`
 * picks one, the doc's by default.
 */

import type { ApiContext } from '../../core/context.js';
import { ValidationError } from '../../core/errors.js';
import type { HttpMethod, QueryValue } from '../../core/pipeline.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  needString,
  objectAt,
  optBool,
  optNumber,
  optString,
  stringList,
} from '../shared/response.js';
import {
  byteLength,
  optionalText,
  requireInt,
  requireList,
  requireObject,
  requireText,
  requireUrl,
} from '../shared/validate.js';

export type TodoPriority = 10 | 20 | 30 | 40;

export interface TodoDetailUrl {
  appUrl: string;
  pcUrl: string;
}

export interface TodoCreateInput extends CallOptions {
  /** ≤ 1024 characters. */
  subject: string;
  /** ≤ 4096 characters. */
  description?: string | undefined;
  /** Epoch ms. */
  dueTime?: number | undefined;
  /** unionIds. */
  executorIds?: readonly string[] | undefined;
  participantIds?: readonly string[] | undefined;
  /** Links opened from the task (each ≤ 1024 bytes). Required by DingTalk since 2024-02-01. */
  detailUrl: TodoDetailUrl;
  /** Your own id for the task; must be unique (a duplicate is refused with "task exist"). */
  sourceId?: string | undefined;
  creatorId?: string | undefined;
  /** 10 low, 20 normal, 30 high, 40 urgent. */
  priority?: TodoPriority | undefined;
  isOnlyShowExecutor?: boolean | undefined;
  notifyConfigs?: { dingNotify?: '0' | '1' } | undefined;
  /** The acting user's unionId (query `operatorId`). */
  operatorId?: string | undefined;
}

export interface TodoTask {
  id: string;
  subject: string;
  description: string | undefined;
  dueTime: number | undefined;
  done: boolean;
  executorIds: string[];
  participantIds: string[];
  detailUrl: { appUrl: string | undefined; pcUrl: string | undefined };
  sourceId: string | undefined;
  creatorId: string | undefined;
  priority: number | undefined;
  createdTime: number | undefined;
  modifiedTime: number | undefined;
}

export interface TodoUpdateInput extends CallOptions {
  subject?: string | undefined;
  /** `''` clears it. */
  description?: string | undefined;
  dueTime?: number | undefined;
  done?: boolean | undefined;
  executorIds?: readonly string[] | undefined;
  participantIds?: readonly string[] | undefined;
  /** Card content fields (docs/dingtalk.md §8.1 update, §8.2: each value ≤ 1024 bytes). */
  contentFieldList?: ReadonlyArray<{ fieldKey: string; fieldValue: string }> | undefined;
  operatorId?: string | undefined;
}

export type TodoRole = 'executor' | 'creator' | 'participant';

export interface TodoListInput extends CallOptions {
  nextToken?: string | undefined;
  isDone?: boolean | undefined;
  /** Outer array = OR, inner = AND, e.g. `[['executor'], ['creator']]`. */
  roleTypes?: ReadonlyArray<readonly TodoRole[]> | undefined;
}

export interface TodoCard {
  taskId: string;
  subject: string;
  dueTime: number | undefined;
  isDone: boolean;
  priority: number | undefined;
  creatorId: string | undefined;
  sourceId: string | undefined;
  detailUrl: { appUrl: string | undefined; pcUrl: string | undefined };
  createdTime: number | undefined;
  modifiedTime: number | undefined;
}

export interface TodoPage {
  todoCards: TodoCard[];
  nextToken: string | undefined;
}

export interface TodoOptions {
  /**
   * `org`: `POST /users/{unionId}/org/tasks/query` (doc); `list`: `POST /users/{unionId}/tasks/list` (SDK).
   * @default 'org'
   */
  listEndpoint?: 'org' | 'list';
}

const PRIORITIES = new Set([10, 20, 30, 40]);
const ROLES = new Set(['executor', 'creator', 'participant']);

export class Todo {
  readonly #ctx: ApiContext;
  readonly #listPath: string;

  constructor(ctx: ApiContext, options: TodoOptions = {}) {
    this.#ctx = ctx;
    this.#listPath = options.listEndpoint === 'list' ? 'tasks/list' : 'org/tasks/query';
  }

  /**
   * Creates a task owned by `unionId` (the creator; DingTalk wants it to match the operator later).
   * @example
   * const task = await dt.todo.create(creatorUnionId, {
   *   subject: 'Review PR #12', executorIds: [reviewerUnionId], dueTime: Date.now() + 86_400_000,
   *   detailUrl: { appUrl: 'https://git/pr/12', pcUrl: 'https://git/pr/12' },
   * });
   */
  async create(unionId: string, input: TodoCreateInput): Promise<TodoTask> {
    const op = 'todo.create';
    requireObject(input, 'input', op);
    const owner = requireText(unionId, 'unionId', op);
    const body: Json = { subject: requireText(input.subject, 'subject', op, 1024) };
    const description = optionalText(input.description, 'description', op, 4096);
    if (description !== undefined) body['description'] = description;
    if (input.dueTime !== undefined) body['dueTime'] = requireInt(input.dueTime, 'dueTime', op, 0);
    if (input.executorIds !== undefined)
      body['executorIds'] = [
        ...new Set(requireList(input.executorIds, 'executorIds', op, { min: 0, max: 1000 })),
      ];
    if (input.participantIds !== undefined)
      body['participantIds'] = [
        ...new Set(requireList(input.participantIds, 'participantIds', op, { min: 0, max: 1000 })),
      ];
    body['detailUrl'] = detailUrl(input.detailUrl, op);
    const sourceId = optionalText(input.sourceId, 'sourceId', op);
    if (sourceId !== undefined) body['sourceId'] = sourceId;
    const creatorId = optionalText(input.creatorId, 'creatorId', op);
    if (creatorId !== undefined) body['creatorId'] = creatorId;
    if (input.priority !== undefined) {
      if (!PRIORITIES.has(input.priority)) {
        throw new ValidationError('must be 10, 20, 30 or 40', 'priority', { operation: op });
      }
      body['priority'] = input.priority;
    }
    if (input.isOnlyShowExecutor !== undefined)
      body['isOnlyShowExecutor'] = input.isOnlyShowExecutor === true;
    if (input.notifyConfigs !== undefined) body['notifyConfigs'] = { ...input.notifyConfigs };
    const data = await this.#call(op, 'POST', `/v1.0/todo/users/${seg(owner)}/tasks`, {
      body,
      query: operator(input.operatorId, op),
      // With a sourceId DingTalk refuses a second task ("task exist"), so a replay cannot create a duplicate.
      idempotent: sourceId !== undefined,
      o: input,
    });
    return taskOf(data, op);
  }

  /**
   * A task by id.
   * @example
   * const task = await dt.todo.get(ownerUnionId, taskId);
   */
  async get(unionId: string, taskId: string, options: CallOptions = {}): Promise<TodoTask> {
    const op = 'todo.get';
    const path = `/v1.0/todo/users/${seg(requireText(unionId, 'unionId', op))}/tasks/${seg(requireText(taskId, 'taskId', op))}`;
    const data = await this.#call(op, 'GET', path, { idempotent: true, o: options });
    return taskOf(data, op);
  }

  /**
   * Updates a task; `done: true` completes it.
   * @example
   * await dt.todo.update(ownerUnionId, taskId, { done: true });
   */
  async update(unionId: string, taskId: string, input: TodoUpdateInput): Promise<void> {
    const op = 'todo.update';
    requireObject(input, 'input', op);
    const path = `/v1.0/todo/users/${seg(requireText(unionId, 'unionId', op))}/tasks/${seg(requireText(taskId, 'taskId', op))}`;
    const body: Json = {};
    const subject = optionalText(input.subject, 'subject', op, 1024);
    if (subject !== undefined) body['subject'] = subject;
    if (input.description !== undefined) {
      // Unlike create, an empty string is meaningful here: it clears the description.
      if (typeof input.description !== 'string' || input.description.length > 4096) {
        throw new ValidationError('must be a string of at most 4096 characters', 'description', {
          operation: op,
        });
      }
      body['description'] = input.description;
    }
    if (input.dueTime !== undefined) body['dueTime'] = requireInt(input.dueTime, 'dueTime', op, 0);
    if (input.done !== undefined) {
      if (typeof input.done !== 'boolean')
        throw new ValidationError('must be a boolean', 'done', { operation: op });
      body['done'] = input.done;
    }
    if (input.executorIds !== undefined)
      body['executorIds'] = [
        ...new Set(requireList(input.executorIds, 'executorIds', op, { min: 0, max: 1000 })),
      ];
    if (input.participantIds !== undefined)
      body['participantIds'] = [
        ...new Set(requireList(input.participantIds, 'participantIds', op, { min: 0, max: 1000 })),
      ];
    if (input.contentFieldList !== undefined)
      body['contentFieldList'] = contentFields(input.contentFieldList, op);
    if (Object.keys(body).length === 0)
      throw new ValidationError('nothing to update', 'input', { operation: op });
    // Setting fields to given values twice leaves the same task: safe to replay.
    await this.#call(op, 'PUT', path, {
      body,
      query: operator(input.operatorId, op),
      idempotent: true,
      o: input,
    });
  }

  /**
   * Deletes a task.
   * @example
   * await dt.todo.delete(ownerUnionId, taskId);
   */
  async delete(
    unionId: string,
    taskId: string,
    options: CallOptions & { operatorId?: string | undefined } = {},
  ): Promise<void> {
    const op = 'todo.delete';
    const path = `/v1.0/todo/users/${seg(requireText(unionId, 'unionId', op))}/tasks/${seg(requireText(taskId, 'taskId', op))}`;
    await this.#call(op, 'DELETE', path, {
      query: operator(options.operatorId, op),
      idempotent: true,
      o: options,
    });
  }

  /**
   * One page of a user's todos (only tasks created by API with a detailUrl; done ones for 180 days).
   * @example
   * let page = await dt.todo.list(unionId, { isDone: false });
   * while (page.nextToken) page = await dt.todo.list(unionId, { isDone: false, nextToken: page.nextToken });
   */
  async list(unionId: string, input: TodoListInput = {}): Promise<TodoPage> {
    const op = 'todo.list';
    requireObject(input, 'input', op);
    const path = `/v1.0/todo/users/${seg(requireText(unionId, 'unionId', op))}/${this.#listPath}`;
    const body: Json = {};
    const next = optionalText(input.nextToken, 'nextToken', op);
    if (next !== undefined) body['nextToken'] = next;
    if (input.isDone !== undefined) body['isDone'] = input.isDone === true;
    if (input.roleTypes !== undefined) {
      if (!Array.isArray(input.roleTypes)) {
        throw new ValidationError('must be an array of role arrays', 'roleTypes', { operation: op });
      }
      for (const [i, group] of input.roleTypes.entries()) {
        if (!Array.isArray(group) || group.some((r) => !ROLES.has(r))) {
          throw new ValidationError('roles are executor, creator or participant', `roleTypes[${i}]`, {
            operation: op,
          });
        }
      }
      body['roleTypes'] = input.roleTypes.map((g) => [...g]);
    }
    const data = await this.#call(op, 'POST', path, { body, idempotent: true, o: input });
    const cards = Array.isArray(data['todoCards']) ? (data['todoCards'] as Json[]) : [];
    return {
      todoCards: cards
        .filter((c) => typeof c === 'object' && c !== null && optString(c, 'taskId'))
        .map(cardOf),
      nextToken: optString(data, 'nextToken') || undefined,
    };
  }

  async #call(
    op: string,
    method: HttpMethod,
    path: string,
    a: {
      body?: Json | undefined;
      query?: Record<string, QueryValue> | undefined;
      idempotent: boolean;
      o: CallOptions;
    },
  ): Promise<Json> {
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method,
      path,
      ...(a.body !== undefined ? { body: a.body } : {}),
      ...(a.query !== undefined ? { query: a.query } : {}),
      auth: 'app',
      idempotent: a.idempotent,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(a.o),
    });
    return res.data as Json;
  }
}

function seg(id: string): string {
  return encodeURIComponent(id);
}

function operator(id: string | undefined, op: string): Record<string, QueryValue> | undefined {
  const v = optionalText(id, 'operatorId', op);
  return v === undefined ? undefined : { operatorId: v };
}

function detailUrl(d: TodoDetailUrl | undefined, op: string): TodoDetailUrl {
  if (typeof d !== 'object' || d === null) {
    throw new ValidationError('is required by DingTalk since 2024-02-01 ({ appUrl, pcUrl })', 'detailUrl', {
      operation: op,
    });
  }
  const appUrl = requireUrl(d.appUrl, 'detailUrl.appUrl', op);
  const pcUrl = requireUrl(d.pcUrl, 'detailUrl.pcUrl', op);
  for (const [k, v] of [
    ['appUrl', appUrl],
    ['pcUrl', pcUrl],
  ] as const) {
    if (byteLength(v) > 1024)
      throw new ValidationError('must be at most 1024 bytes', `detailUrl.${k}`, { operation: op });
  }
  return { appUrl, pcUrl };
}

function contentFields(
  list: ReadonlyArray<{ fieldKey: string; fieldValue: string }>,
  op: string,
): Array<{ fieldKey: string; fieldValue: string }> {
  if (!Array.isArray(list))
    throw new ValidationError('must be an array', 'contentFieldList', { operation: op });
  return list.map((f, i) => {
    const at = `contentFieldList[${i}]`;
    if (typeof f !== 'object' || f === null)
      throw new ValidationError('must be an object', at, { operation: op });
    const fieldKey = requireText(f.fieldKey, `${at}.fieldKey`, op);
    if (typeof f.fieldValue !== 'string' || byteLength(f.fieldValue) > 1024) {
      throw new ValidationError('must be a string of at most 1024 bytes', `${at}.fieldValue`, {
        operation: op,
      });
    }
    return { fieldKey, fieldValue: f.fieldValue };
  });
}

function urls(data: Json): { appUrl: string | undefined; pcUrl: string | undefined } {
  const d = objectAt(data, 'detailUrl');
  return { appUrl: optString(d, 'appUrl'), pcUrl: optString(d, 'pcUrl') };
}

function taskOf(data: Json, op: string): TodoTask {
  return {
    id: needString(data, 'id', op),
    subject: optString(data, 'subject') ?? '',
    description: optString(data, 'description'),
    dueTime: optNumber(data, 'dueTime'),
    done: optBool(data, 'done') ?? false,
    executorIds: stringList(data, 'executorIds'),
    participantIds: stringList(data, 'participantIds'),
    detailUrl: urls(data),
    sourceId: optString(data, 'sourceId'),
    creatorId: optString(data, 'creatorId'),
    priority: optNumber(data, 'priority'),
    createdTime: optNumber(data, 'createdTime'),
    modifiedTime: optNumber(data, 'modifiedTime'),
  };
}

function cardOf(c: Json): TodoCard {
  return {
    taskId: optString(c, 'taskId') ?? '',
    subject: optString(c, 'subject') ?? '',
    dueTime: optNumber(c, 'dueTime'),
    isDone: optBool(c, 'isDone') ?? false,
    priority: optNumber(c, 'priority'),
    creatorId: optString(c, 'creatorId'),
    sourceId: optString(c, 'sourceId'),
    detailUrl: urls(c),
    createdTime: optNumber(c, 'createdTime'),
    modifiedTime: optNumber(c, 'modifiedTime'),
  };
}
