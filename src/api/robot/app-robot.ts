/**
 * The enterprise-internal app robot (应用机器人, docs/dingtalk.md §3): group sends, 1:1 batch sends, recalls and read
 * status on `api.dingtalk.com` with the app token in the header. Sends return DingTalk's `processQueryKey`, the
 * handle for recall and read status within 24 h.
 *
 * Sends are not idempotent (DingTalk takes no idempotency key here), so a send whose outcome is unknown is
 * never retried by the client; reads are. Every call is limited under `app:<appKey>:<operation>` (§0.2).
 */

import type { ApiContext } from '../../core/context.js';
import { ConfigError } from '../../core/errors.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  needString,
  objectAt,
  optBool,
  optString,
  stringList,
} from '../shared/response.js';
import { optionalText, requireInt, requireList, requireObject, requireText } from '../shared/validate.js';
import { encodeTemplate, MSG_PARAM_MAX_BYTES, type TemplateMessage } from './app-templates.js';

export interface AppRobotOptions {
  /**
   * Most userIds per 1:1 batch send: the parameter table says 20, the error text 100 (docs/dingtalk.md §12).
   * @default 20
   */
  maxOtoUserIds?: number;
  /** @default 15_000 */
  maxMsgParamBytes?: number;
}

export interface GroupSendInput extends CallOptions {
  /** Group id (`cid...`), e.g. a bot callback's `conversationId`. */
  openConversationId: string;
  message: TemplateMessage;
  /** @default the client's robotCode (for internal apps, the appKey) */
  robotCode?: string | undefined;
  /** Needed when the robot was installed through a group cool-app. */
  coolAppCode?: string | undefined;
}

export interface RobotSendResult {
  /** Handle for recall and read status (valid 24 h). */
  processQueryKey: string;
}

export interface UsersSendInput extends CallOptions {
  /** userIds (staff ids, not unionIds). */
  userIds: readonly string[];
  message: TemplateMessage;
  robotCode?: string | undefined;
}

export interface UsersSendResult extends RobotSendResult {
  /** userIds DingTalk did not recognise. */
  invalidStaffIdList: string[];
  /** userIds that were throttled and did not receive the message. */
  flowControlledStaffIdList: string[];
}

export interface RecallResult {
  /** processQueryKeys recalled. */
  successResult: string[];
  /** processQueryKey → DingTalk's reason. */
  failedResult: Record<string, string>;
}

export type SendStatus = 'SUCCESS' | 'RECALLED' | 'PROCESSING' | (string & {});

export interface UsersReadStatus {
  sendStatus: SendStatus | undefined;
  messageReadInfoList: Array<{
    name: string | undefined;
    userId: string;
    readStatus: 'READ' | 'UNREAD' | string;
  }>;
}

export interface GroupReadStatus {
  sendStatus: SendStatus | undefined;
  readUserIds: string[];
  nextToken: string | undefined;
  hasMore: boolean;
}

/** Most processQueryKeys per recall (§3.1). */
const MAX_RECALL_KEYS = 20;

export class AppRobot {
  readonly #ctx: ApiContext;
  readonly #maxOto: number;
  readonly #maxParam: number;

  constructor(ctx: ApiContext, options: AppRobotOptions = {}) {
    this.#ctx = ctx;
    this.#maxOto = options.maxOtoUserIds ?? 20;
    this.#maxParam = options.maxMsgParamBytes ?? MSG_PARAM_MAX_BYTES;
  }

  /**
   * Sends a template message to a group the robot is in.
   * @example
   * const { processQueryKey } = await dt.robot.sendToGroup({
   *   openConversationId: 'cid6KeBB...==',
   *   message: { msgKey: 'sampleMarkdown', msgParam: { title: 'Deploy', text: '**v2** is live' } },
   * });
   */
  async sendToGroup(input: GroupSendInput): Promise<RobotSendResult> {
    const op = 'robot.groupSend';
    requireObject(input, 'input', op);
    const openConversationId = requireText(input.openConversationId, 'openConversationId', op);
    const robotCode = this.#robotCode(input.robotCode, op);
    const coolAppCode = optionalText(input.coolAppCode, 'coolAppCode', op);
    const { msgKey, msgParam } = encodeTemplate(input.message, op, this.#maxParam);
    const body: Json = { robotCode, openConversationId, msgKey, msgParam };
    if (coolAppCode !== undefined) body['coolAppCode'] = coolAppCode;
    const res = await this.#post<Json>(op, '/v1.0/robot/groupMessages/send', body, false, input);
    return { processQueryKey: needString(res, 'processQueryKey', op) };
  }

  /**
   * Sends a template message to people in their 1:1 chat with the robot.
   * @example
   * const r = await dt.robot.sendToUsers({ userIds: ['manager4220'], message: appMessage.text('hi') });
   * if (r.invalidStaffIdList.length) console.warn('unknown users', r.invalidStaffIdList);
   */
  async sendToUsers(input: UsersSendInput): Promise<UsersSendResult> {
    const op = 'robot.usersSend';
    requireObject(input, 'input', op);
    const userIds = requireList(input.userIds, 'userIds', op, { max: this.#maxOto });
    const robotCode = this.#robotCode(input.robotCode, op);
    const { msgKey, msgParam } = encodeTemplate(input.message, op, this.#maxParam);
    const res = await this.#post<Json>(
      op,
      '/v1.0/robot/oToMessages/batchSend',
      // One message per person however often they are listed (a duplicate would be sent twice or refused).
      { robotCode, userIds: [...new Set(userIds)], msgKey, msgParam },
      false,
      input,
    );
    return {
      processQueryKey: needString(res, 'processQueryKey', op),
      invalidStaffIdList: stringList(res, 'invalidStaffIdList'),
      flowControlledStaffIdList: stringList(res, 'flowControlledStaffIdList'),
    };
  }

  /**
   * Recalls group messages (at most 20 keys, sent within 24 h). Recalling twice is harmless, so it is retried.
   * @example
   * const r = await dt.robot.recallGroup({ openConversationId, processQueryKeys: [key] });
   */
  async recallGroup(
    input: {
      openConversationId: string;
      processQueryKeys: readonly string[];
      robotCode?: string | undefined;
    } & CallOptions,
  ): Promise<RecallResult> {
    const op = 'robot.groupRecall';
    requireObject(input, 'input', op);
    const openConversationId = requireText(input.openConversationId, 'openConversationId', op);
    const keys = requireList(input.processQueryKeys, 'processQueryKeys', op, { max: MAX_RECALL_KEYS });
    const robotCode = this.#robotCode(input.robotCode, op);
    const res = await this.#post<Json>(
      op,
      '/v1.0/robot/groupMessages/recall',
      { openConversationId, robotCode, processQueryKeys: [...keys] },
      true,
      input,
    );
    return recallResult(res);
  }

  /**
   * Recalls 1:1 messages (at most 20 keys). Note DingTalk's lower-case `oto` in this path.
   * @example
   * await dt.robot.recallUsers({ processQueryKeys: [key] });
   */
  async recallUsers(
    input: { processQueryKeys: readonly string[]; robotCode?: string | undefined } & CallOptions,
  ): Promise<RecallResult> {
    const op = 'robot.usersRecall';
    requireObject(input, 'input', op);
    const keys = requireList(input.processQueryKeys, 'processQueryKeys', op, { max: MAX_RECALL_KEYS });
    const robotCode = this.#robotCode(input.robotCode, op);
    const res = await this.#post<Json>(
      op,
      '/v1.0/robot/otoMessages/batchRecall',
      { robotCode, processQueryKeys: [...keys] },
      true,
      input,
    );
    return recallResult(res);
  }

  /**
   * Who read a 1:1 message.
   * @example
   * const { messageReadInfoList } = await dt.robot.usersReadStatus({ processQueryKey: key });
   */
  async usersReadStatus(
    input: { processQueryKey: string; robotCode?: string | undefined } & CallOptions,
  ): Promise<UsersReadStatus> {
    const op = 'robot.usersReadStatus';
    requireObject(input, 'input', op);
    const processQueryKey = requireText(input.processQueryKey, 'processQueryKey', op);
    const robotCode = this.#robotCode(input.robotCode, op);
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'GET',
      path: '/v1.0/robot/oToMessages/readStatus',
      query: { robotCode, processQueryKey },
      auth: 'app',
      idempotent: true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
    const data = res.data as Json;
    const list = Array.isArray(data['messageReadInfoList']) ? (data['messageReadInfoList'] as Json[]) : [];
    return {
      sendStatus: optString(data, 'sendStatus'),
      messageReadInfoList: list
        .filter((x) => typeof x === 'object' && x !== null && typeof x['userId'] === 'string')
        .map((x) => ({
          name: optString(x, 'name'),
          userId: x['userId'] as string,
          readStatus: optString(x, 'readStatus') ?? 'UNREAD',
        })),
    };
  }

  /**
   * Who read a group message, paged (`maxResults` ≤ 200).
   * @example
   * let page = await dt.robot.groupReadStatus({ processQueryKey: key, openConversationId });
   */
  async groupReadStatus(
    input: {
      processQueryKey: string;
      openConversationId?: string | undefined;
      robotCode?: string | undefined;
      maxResults?: number | undefined;
      nextToken?: string | undefined;
    } & CallOptions,
  ): Promise<GroupReadStatus> {
    const op = 'robot.groupReadStatus';
    requireObject(input, 'input', op);
    const body: Json = {
      processQueryKey: requireText(input.processQueryKey, 'processQueryKey', op),
      robotCode: this.#robotCode(input.robotCode, op),
    };
    const cid = optionalText(input.openConversationId, 'openConversationId', op);
    if (cid !== undefined) body['openConversationId'] = cid;
    if (input.maxResults !== undefined)
      body['maxResults'] = requireInt(input.maxResults, 'maxResults', op, 1, 200);
    const next = optionalText(input.nextToken, 'nextToken', op);
    if (next !== undefined) body['nextToken'] = next;
    const res = await this.#post<Json>(op, '/v1.0/robot/groupMessages/query', body, true, input);
    return {
      sendStatus: optString(res, 'sendStatus'),
      readUserIds: stringList(res, 'readUserIds'),
      nextToken: optString(res, 'nextToken') || undefined,
      hasMore: optBool(res, 'hasMore') ?? false,
    };
  }

  /**
   * A temporary download URL for a file a user sent the robot (`downloadCode` from the bot callback).
   * @example
   * const { downloadUrl } = await dt.robot.downloadUrl({ downloadCode: msg.content.downloadCode });
   */
  async downloadUrl(
    input: { downloadCode: string; robotCode?: string | undefined } & CallOptions,
  ): Promise<{ downloadUrl: string }> {
    const op = 'robot.fileDownload';
    requireObject(input, 'input', op);
    const downloadCode = requireText(input.downloadCode, 'downloadCode', op);
    const robotCode = this.#robotCode(input.robotCode, op);
    const res = await this.#post<Json>(
      op,
      '/v1.0/robot/messageFiles/download',
      { downloadCode, robotCode },
      true,
      input,
    );
    return { downloadUrl: needString(res, 'downloadUrl', op) };
  }

  #robotCode(given: string | undefined, op: string): string {
    const code = given ?? this.#ctx.app.robotCode;
    if (code === undefined)
      throw new ConfigError(`${op}: no robotCode: pass one or configure robotCode/appKey`);
    return requireText(code, 'robotCode', op);
  }

  async #post<T>(op: string, path: string, body: Json, idempotent: boolean, o: CallOptions): Promise<T> {
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'POST',
      path,
      body,
      auth: 'app',
      idempotent,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(o),
    });
    return res.data as T;
  }
}

function recallResult(res: Json): RecallResult {
  const failed: Record<string, string> = {};
  for (const [k, v] of Object.entries(objectAt(res, 'failedResult'))) failed[k] = String(v);
  return { successResult: stringList(res, 'successResult'), failedResult: failed };
}
