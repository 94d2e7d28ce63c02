/**
 * Work notifications (工作通知, docs/dingtalk.md §5): `topapi/message/corpconversation/*` on oapi, snake_case bodies,
 * `agent_id` of the app. A send is asynchronous: DingTalk answers with a `task_id` and delivers later.
 *
 * DingTalk's silent drops (§5.2): a recipient over the daily caps (same content to the same user twice a day,
 * more than 500 messages per user per day) does not receive the message, yet the send still answers errcode 0.
 * The only trace is the send result's `forbidden_user_id_list` / `forbidden_list`; `result()` surfaces it as
 * typed `NoticeWarning`s with the codes explained.
 */

import type { ApiContext } from '../../core/context.js';
import { ConfigError, ValidationError } from '../../core/errors.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  needString,
  objectAt,
  optNumber,
  stringList,
} from '../shared/response.js';
import { requireList, requireObject } from '../shared/validate.js';
import { NOTICE_MAX_BYTES, type NoticeMessage, validateNoticeMessage } from './notice-messages.js';

export interface NoticeOptions {
  /**
   * Most userIds per send (doc 100; the TOP SDK allows 5000, docs/dingtalk.md §12).
   * @default 100
   */
  maxUserIds?: number;
  /**
   * Most department ids per send.
   * @default 20
   */
  maxDeptIds?: number;
  /** @default 2048 */
  maxMsgBytes?: number;
}

export interface NoticeSendInput extends CallOptions {
  /** Recipients by userId. */
  userIds?: readonly string[] | undefined;
  /** Departments (sub-departments included). */
  deptIds?: readonly (string | number)[] | undefined;
  /** Everyone in the org (at most 3 a day). */
  toAllUsers?: boolean | undefined;
  message: NoticeMessage;
  /** @default the client's agentId */
  agentId?: number | string | undefined;
}

export interface NoticeProgress {
  /** 0–100. */
  percent: number;
  /** 0 not started, 1 processing, 2 done. */
  status: 0 | 1 | 2 | number;
  done: boolean;
}

/** Why DingTalk silently skipped a recipient (docs/dingtalk.md §5.2). */
export interface NoticeWarning {
  kind: 'forbidden';
  userId: string;
  /** DingTalk's code, e.g. 143106. */
  code: number | undefined;
  /** How many messages the code counts (from `forbidden_list`). */
  count: number | undefined;
  /** What the code means. */
  reason: string;
}

export interface NoticeResult {
  invalidUserIds: string[];
  forbiddenUserIds: string[];
  failedUserIds: string[];
  readUserIds: string[];
  unreadUserIds: string[];
  invalidDeptIds: string[];
  /** One entry per silently dropped recipient; empty when everyone was served. */
  warnings: NoticeWarning[];
}

/** Explanations of the forbidden codes (docs/dingtalk.md §5.2). */
export const FORBIDDEN_CODES: Readonly<Record<number, string>> = {
  143105: 'daily cap reached: the app already sent this user the maximum number of messages today (500)',
  143106: 'duplicate: the app already sent this user the same content today',
  143205: 'daily cap reached (third-party app): maximum messages per user per day',
  143206: 'duplicate (third-party app): same content to the same user today',
};

const BASE = '/topapi/message/corpconversation';

export class Notice {
  readonly #ctx: ApiContext;
  readonly #maxUsers: number;
  readonly #maxDepts: number;
  readonly #maxBytes: number;

  constructor(ctx: ApiContext, options: NoticeOptions = {}) {
    this.#ctx = ctx;
    this.#maxUsers = options.maxUserIds ?? 100;
    this.#maxDepts = options.maxDeptIds ?? 20;
    this.#maxBytes = options.maxMsgBytes ?? NOTICE_MAX_BYTES;
  }

  /**
   * Sends a work notification; returns DingTalk's task id. Delivery is asynchronous: check `result(taskId)` for
   * recipients DingTalk dropped.
   * @example
   * const { taskId } = await dt.notice.send({ userIds: ['manager4220'], message: noticeMessage.text('hi') });
   */
  async send(input: NoticeSendInput): Promise<{ taskId: string }> {
    const op = 'notice.send';
    requireObject(input, 'input', op);
    const message = validateNoticeMessage(input.message, op, this.#maxBytes);
    const body: Json = { agent_id: this.#agentId(input.agentId, op), msg: message };
    const users =
      input.userIds === undefined
        ? []
        : requireList(input.userIds, 'userIds', op, { min: 0, max: this.#maxUsers });
    if (input.deptIds !== undefined && !Array.isArray(input.deptIds)) {
      throw new ValidationError('must be an array of department ids', 'deptIds', { operation: op });
    }
    const depts =
      input.deptIds === undefined
        ? []
        : requireList(
            input.deptIds.map((d) => (typeof d === 'number' ? String(d) : d)),
            'deptIds',
            op,
            { min: 0, max: this.#maxDepts },
          );
    // Each person once: a repeated userId must not mean a repeated notification.
    if (users.length > 0) body['userid_list'] = [...new Set(users)].join(',');
    if (depts.length > 0) body['dept_id_list'] = depts.join(',');
    if (input.toAllUsers === true) body['to_all_user'] = true;
    if (users.length === 0 && depts.length === 0 && input.toAllUsers !== true) {
      throw new ValidationError('give userIds, deptIds or toAllUsers', 'userIds', { operation: op });
    }
    for (const u of users) {
      if (u.includes(','))
        throw new ValidationError('a userId cannot contain ","', 'userIds', { operation: op });
    }
    const data = await this.#post(op, 'asyncsend_v2', body, false, input);
    return { taskId: needString(data, 'task_id', op) };
  }

  /**
   * Delivery progress of a send (task at most 24 h old).
   * @example
   * const p = await dt.notice.progress(taskId); // { percent: 100, status: 2, done: true }
   */
  async progress(taskId: string | number, options: NoticeCallOptions = {}): Promise<NoticeProgress> {
    const op = 'notice.progress';
    const data = await this.#post(
      op,
      'getsendprogress',
      { agent_id: this.#agentId(options.agentId, op), task_id: taskIdValue(taskId, op) },
      true,
      options,
    );
    const p = objectAt(data, 'progress');
    const status = optNumber(p, 'status') ?? 0;
    return { percent: optNumber(p, 'progress_in_percent') ?? 0, status, done: status === 2 };
  }

  /**
   * Who received, read, or was silently skipped.
   * @example
   * const r = await dt.notice.result(taskId);
   * for (const w of r.warnings) log.warn(`${w.userId} skipped: ${w.reason}`);
   */
  async result(taskId: string | number, options: NoticeCallOptions = {}): Promise<NoticeResult> {
    const op = 'notice.result';
    const data = await this.#post(
      op,
      'getsendresult',
      { agent_id: this.#agentId(options.agentId, op), task_id: taskIdValue(taskId, op) },
      true,
      options,
    );
    const r = objectAt(data, 'send_result');
    const forbidden = stringList(r, 'forbidden_user_id_list');
    const detail = Array.isArray(r['forbidden_list']) ? (r['forbidden_list'] as Json[]) : [];
    const warnings: NoticeWarning[] = [];
    const seen = new Set<string>();
    for (const f of detail) {
      if (typeof f !== 'object' || f === null) continue;
      const userId = typeof f['userid'] === 'string' ? f['userid'] : undefined;
      if (!userId) continue;
      seen.add(userId);
      const code = optNumber(f, 'code');
      warnings.push({ kind: 'forbidden', userId, code, count: optNumber(f, 'count'), reason: explain(code) });
    }
    for (const userId of forbidden) {
      if (!seen.has(userId)) {
        warnings.push({
          kind: 'forbidden',
          userId,
          code: undefined,
          count: undefined,
          reason: explain(undefined),
        });
      }
    }
    return {
      invalidUserIds: stringList(r, 'invalid_user_id_list'),
      forbiddenUserIds: forbidden,
      failedUserIds: stringList(r, 'failed_user_id_list'),
      readUserIds: stringList(r, 'read_user_id_list'),
      unreadUserIds: stringList(r, 'unread_user_id_list'),
      invalidDeptIds: idList(r, 'invalid_dept_id_list'),
      warnings,
    };
  }

  /**
   * Recalls a send (task at most 24 h old). Recalling twice has no further effect, so it is retried.
   * @example
   * await dt.notice.recall(taskId);
   */
  async recall(taskId: string | number, options: NoticeCallOptions = {}): Promise<void> {
    const op = 'notice.recall';
    await this.#post(
      op,
      'recall',
      { agent_id: this.#agentId(options.agentId, op), msg_task_id: taskIdValue(taskId, op) },
      true,
      options,
    );
  }

  #agentId(given: number | string | undefined, op: string): number {
    const raw = given ?? this.#ctx.app.agentId;
    if (raw === undefined)
      throw new ConfigError(`${op}: no agentId: pass one or configure the client's agentId`);
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new ValidationError('must be a positive integer (the app AgentId)', 'agentId', { operation: op });
    }
    return n;
  }

  async #post(op: string, path: string, body: Json, idempotent: boolean, o: CallOptions): Promise<Json> {
    const res = await this.#ctx.request({
      operation: op,
      host: 'oapi',
      method: 'POST',
      path: `${BASE}/${path}`,
      body,
      auth: 'app',
      idempotent,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(o),
    });
    return res.data as Json;
  }
}

export interface NoticeCallOptions extends CallOptions {
  agentId?: number | string | undefined;
}

function explain(code: number | undefined): string {
  if (code === undefined)
    return 'DingTalk skipped this recipient (daily cap or duplicate content; no code given)';
  return FORBIDDEN_CODES[code] ?? `DingTalk skipped this recipient (code ${code})`;
}

/** task ids are numbers on the wire; accept the string form `send` returns. */
function taskIdValue(taskId: string | number, op: string): number {
  const n =
    typeof taskId === 'number'
      ? taskId
      : typeof taskId === 'string' && /^\d+$/.test(taskId)
        ? Number(taskId)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new ValidationError('must be a positive integer task id', 'taskId', { operation: op });
  }
  return n;
}

/** Department ids come as numbers or strings. */
function idList(data: Json, key: string): string[] {
  const v = data[key];
  if (!Array.isArray(v)) return [];
  return v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
}
