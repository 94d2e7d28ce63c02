/**
 * Group chats (docs/dingtalk.md §4). DingTalk has two group ids: the legacy `chatid` (used by `chat/*`) and the current
 * `openConversationId` (`cid...`, used by every v1.0 robot, card and IM API and by bot callbacks).
 *
 * - `createSceneGroup`: `POST api /v1.0/im/sceneGroup/create` (snake_case body, doc + Python SDK).
 * - `toOpenConversationId`: `POST api /v1.0/im/chat/{chatId}/convertToOpenConversationId`.
 * - `chatIdOf`: DingTalk documents no call for this direction, so it answers from pairs this instance has
 *   seen (scene-group creation returns both ids; conversions record theirs) and is `undefined` otherwise.
 * - `send`: legacy `POST oapi /chat/send` (closed to new apps; `msg` uses the work-notification formats, ≤ 2048
 *   bytes).
 */

import type { ApiContext } from '../../core/context.js';
import { ValidationError } from '../../core/errors.js';
import { NOTICE_MAX_BYTES, type NoticeMessage, validateNoticeMessage } from '../notice/notice-messages.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  needString,
  optString,
} from '../shared/response.js';
import { TtlCache } from '../shared/ttl-cache.js';
import { optionalText, requireList, requireObject, requireText } from '../shared/validate.js';

export interface SceneGroupInput extends CallOptions {
  title: string;
  /** Scene-group template id from the developer console. */
  templateId: string;
  /** Owner's userId. */
  ownerUserId: string;
  /** Members' userIds (≤ 999). */
  userIds?: readonly string[] | undefined;
  subadminIds?: readonly string[] | undefined;
  /** Dedupe key: creating twice with one uuid yields one group, so the call is retried safely. */
  uuid?: string | undefined;
  /** media_id of the group icon. */
  icon?: string | undefined;
  /** Extra snake_case switches passed as they are (e.g. `{ searchable: 1, validation_type: 0 }`). */
  options?: Record<string, string | number | boolean> | undefined;
}

export interface GroupIds {
  openConversationId: string;
  chatId: string | undefined;
}

export interface ChatOptions {
  /** @default 2048 */
  maxMsgBytes?: number;
  /**
   * Most id pairs remembered for `chatIdOf`.
   * @default 1_000
   */
  knownPairs?: number;
}

export class Chat {
  readonly #ctx: ApiContext;
  readonly #maxBytes: number;
  readonly #pairs: TtlCache<string>;

  constructor(ctx: ApiContext, options: ChatOptions = {}) {
    this.#ctx = ctx;
    this.#maxBytes = options.maxMsgBytes ?? NOTICE_MAX_BYTES;
    // Ids do not change while the group exists; the TTL only bounds staleness after a group is dissolved.
    this.#pairs = new TtlCache({
      maxEntries: options.knownPairs ?? 1_000,
      ttlMs: 7 * 86_400_000,
      now: ctx.now,
    });
  }

  /**
   * Creates a scene group from a template.
   * @example
   * const { openConversationId } = await dt.chat.createSceneGroup({
   *   title: 'Incident 42', templateId: 'tpl-1', ownerUserId: 'manager4220', userIds: ['a', 'b'], uuid: 'inc-42',
   * });
   */
  async createSceneGroup(input: SceneGroupInput): Promise<GroupIds> {
    const op = 'chat.createSceneGroup';
    requireObject(input, 'input', op);
    const body: Json = {
      title: requireText(input.title, 'title', op),
      template_id: requireText(input.templateId, 'templateId', op),
      owner_user_id: requireText(input.ownerUserId, 'ownerUserId', op),
    };
    if (input.userIds !== undefined)
      body['user_ids'] = [...requireList(input.userIds, 'userIds', op, { min: 0, max: 999 })];
    if (input.subadminIds !== undefined)
      body['subadmin_ids'] = [...requireList(input.subadminIds, 'subadminIds', op, { min: 0 })];
    const uuid = optionalText(input.uuid, 'uuid', op);
    if (uuid !== undefined) body['uuid'] = uuid;
    const icon = optionalText(input.icon, 'icon', op);
    if (icon !== undefined) body['icon'] = icon;
    for (const [k, v] of Object.entries(input.options ?? {})) {
      if (!/^[a-z][a-z0-9_]*$/.test(k) || k in body) {
        throw new ValidationError('must be an extra snake_case switch', `options.${k}`, { operation: op });
      }
      body[k] = v;
    }
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'POST',
      path: '/v1.0/im/sceneGroup/create',
      body,
      auth: 'app',
      idempotent: uuid !== undefined,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
    const data = res.data as Json;
    const openConversationId =
      optString(data, 'open_conversation_id') ?? needString(data, 'openConversationId', op);
    const chatId = optString(data, 'chat_id') ?? optString(data, 'chatId');
    if (chatId) this.#pairs.set(openConversationId, chatId);
    return { openConversationId, chatId };
  }

  /**
   * The `openConversationId` of a legacy `chatid`.
   * @example
   * const cid = await dt.chat.toOpenConversationId('chate39f5...');
   */
  async toOpenConversationId(chatId: string, options: CallOptions = {}): Promise<string> {
    const op = 'chat.toOpenConversationId';
    requireText(chatId, 'chatId', op);
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'POST',
      path: `/v1.0/im/chat/${encodeURIComponent(chatId)}/convertToOpenConversationId`,
      body: {},
      auth: 'app',
      idempotent: true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(options),
    });
    const cid = needString(res.data as Json, 'openConversationId', op);
    this.#pairs.set(cid, chatId);
    return cid;
  }

  /** The legacy `chatid` of a group, when this instance has seen the pair (see the file comment). */
  chatIdOf(openConversationId: string): string | undefined {
    return this.#pairs.get(openConversationId);
  }

  /**
   * Sends to a group by legacy `chatid` (legacy apps only; same formats as work notifications).
   * @example
   * await dt.chat.send({ chatId: 'chate39f5...', message: noticeMessage.text('hello') });
   */
  async send(
    input: { chatId: string; message: NoticeMessage } & CallOptions,
  ): Promise<{ messageId: string }> {
    const op = 'chat.send';
    requireObject(input, 'input', op);
    const chatid = requireText(input.chatId, 'chatId', op);
    const msg = validateNoticeMessage(input.message, op, this.#maxBytes);
    const res = await this.#ctx.request({
      operation: op,
      host: 'oapi',
      method: 'POST',
      path: '/chat/send',
      body: { chatid, msg },
      auth: 'app',
      idempotent: false,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
    return { messageId: needString(res.data as Json, 'messageId', op) };
  }
}
