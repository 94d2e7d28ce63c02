/**
 * Replies to a bot message through its session webhook (docs/dingtalk.md §S12.1; docs/dingtalk.md §9a): no token,
 * no signature, valid until `sessionWebhookExpiredTime`. The webhook answers HTTP 200 with `errcode`, so a 200 is
 * not success (style.md "Errors"). Once the session has expired the reply goes through `replyFallback`, which the
 * main client fills with an app-robot send (§12.2, msgKey `sampleText` / `sampleMarkdown`).
 *
 * The URL comes from the message, so it is checked before anything is sent: only DingTalk's
 * hosts and the origins given in `sessionWebhookOrigins` (a client pointed at the emulator adds its origin), only
 * `/robot/sendBySession`. Anything else is a `SessionWebhookError`, never a fallback: a forged URL is not an
 * expired one.
 */

import type { Dispatcher } from 'undici';
import { DingTalkError, HttpError } from '../core/errors.js';
import { legacyError, resolveErrorMap } from '../core/platform-errors.js';
import { Redactor } from '../core/redact.js';
import { checkSessionWebhook, sessionWebhookOrigins } from '../core/session-webhook.js';
import { postJson } from './http.js';
import type { BotMessage } from './types.js';

/** The same reply as an app-robot template message (§12.2). `msgParam` is an object; the sender JSON-encodes it. */
export interface FallbackReply {
  msgKey: 'sampleText' | 'sampleMarkdown';
  msgParam: Record<string, string>;
}

export type ReplyFallback = (msg: BotMessage, reply: FallbackReply) => Promise<void>;

export interface ReplyOptions {
  /** Staff ids to @. Each missing `@id` is appended to the text, since DingTalk only highlights written ones (§2.5). */
  atUserIds?: string[];
  isAtAll?: boolean;
  /** Used when the session webhook is missing or has expired. Without it, such a reply throws `SESSION_EXPIRED`. */
  replyFallback?: ReplyFallback | undefined;
  /** @default 10_000 */
  timeoutMs?: number;
  /** @default 65_536 */
  maxResponseBytes?: number;
  dispatcher?: Dispatcher | undefined;
  /** @default Date.now */
  now?: () => number;
  redactor?: Redactor;
  /**
   * Origins a session webhook may point at besides DingTalk's (`https://oapi.dingtalk.com`,
   * `https://api.dingtalk.com`). A `StreamClient` adds its `openApiBase` when that is not DingTalk's.
   * @default []
   * @example { sessionWebhookOrigins: dt.sessionWebhookOrigins() } // a DingTalk client pointed at the emulator
   */
  sessionWebhookOrigins?: readonly string[] | undefined;
}

export interface ReplyResult {
  via: 'sessionWebhook' | 'fallback';
}

const OPERATION = 'stream.replyBySession';

/** Replies with a text message; `atUserIds` are @-mentioned. */
export function replyText(msg: BotMessage, text: string, options: ReplyOptions = {}): Promise<ReplyResult> {
  const content = withMentions(text, options);
  const body: Record<string, unknown> = { msgtype: 'text', text: { content } };
  addAt(body, options);
  return reply(msg, body, { msgKey: 'sampleText', msgParam: { content } }, options);
}

/** Replies with a markdown message (`title` shows in the conversation list, §2.4). */
export function replyMarkdown(
  msg: BotMessage,
  title: string,
  text: string,
  options: ReplyOptions = {},
): Promise<ReplyResult> {
  const body: Record<string, unknown> = {
    msgtype: 'markdown',
    markdown: { title, text: withMentions(text, options) },
  };
  addAt(body, options);
  return reply(msg, body, { msgKey: 'sampleMarkdown', msgParam: { title, text } }, options);
}

function withMentions(text: string, o: ReplyOptions): string {
  const missing = (o.atUserIds ?? []).filter((id) => !text.includes(`@${id}`));
  return missing.length === 0 ? text : `${text}\n${missing.map((id) => `@${id}`).join(' ')}`;
}

function addAt(body: Record<string, unknown>, o: ReplyOptions): void {
  if ((o.atUserIds && o.atUserIds.length > 0) || o.isAtAll) {
    body['at'] = { atUserIds: o.atUserIds ?? [], isAtAll: o.isAtAll ?? false };
  }
}

async function reply(
  msg: BotMessage,
  body: Record<string, unknown>,
  fallback: FallbackReply,
  o: ReplyOptions,
): Promise<ReplyResult> {
  const now = (o.now ?? Date.now)();
  const url = msg.sessionWebhook;
  const expired =
    typeof msg.sessionWebhookExpiredTime === 'number' && Number.isFinite(msg.sessionWebhookExpiredTime)
      ? now >= msg.sessionWebhookExpiredTime
      : false;
  if (!url || expired)
    return viaFallback(msg, fallback, o, url ? 'session webhook expired' : 'no session webhook');
  const target = checkSessionWebhook(url, sessionWebhookOrigins(o.sessionWebhookOrigins ?? []));

  const redactor = o.redactor ?? new Redactor();
  const res = await postJson(target.href, body, {
    operation: OPERATION,
    timeoutMs: o.timeoutMs ?? 10_000,
    maxResponseBytes: o.maxResponseBytes ?? 65_536,
    redactor,
    dispatcher: o.dispatcher,
  });
  let parsed: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(res.text);
    if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  // "Expired/unknown session → session.expired / session.notExisted" (docs/dingtalk.md §9a). Whether it comes as an
  // errcode body or a v1.0 `code` is not documented, so both the code text and the message are checked.
  if (parsed && saysSessionGone(parsed)) return viaFallback(msg, fallback, o, 'session webhook rejected');
  if (res.status !== 200 || !parsed) {
    // A 2xx that is not DingTalk's JSON: we cannot tell whether the reply was posted.
    const outcome = res.status >= 200 && res.status < 300 ? 'unknown' : 'rejected';
    throw new HttpError(res.status, redactor.redact(res.text), { operation: OPERATION, outcome });
  }
  const errcode = Number(parsed['errcode'] ?? 0);
  if (Number.isFinite(errcode) && errcode !== 0) {
    const errmsg = typeof parsed['errmsg'] === 'string' ? redactor.redact(parsed['errmsg']) : '';
    throw legacyError(
      resolveErrorMap(),
      {
        operation: OPERATION,
        status: res.status,
        requestId: undefined,
        retryAfterHeader: undefined,
        isWebhook: true,
      },
      errcode,
      errmsg,
    );
  }
  return { via: 'sessionWebhook' };
}

function saysSessionGone(body: Record<string, unknown>): boolean {
  const words = [body['code'], body['errmsg'], body['message']]
    .filter((v): v is string => typeof v === 'string')
    .join(' ')
    .toLowerCase();
  return /session[ ._-]?(expired|notexist|not[ ._-]?exist)/.test(words);
}

async function viaFallback(
  msg: BotMessage,
  reply: FallbackReply,
  o: ReplyOptions,
  why: string,
): Promise<ReplyResult> {
  if (!o.replyFallback) {
    throw new DingTalkError('SESSION_EXPIRED', `${OPERATION}: ${why} and no replyFallback is configured`, {
      operation: OPERATION,
      outcome: 'not_sent',
    });
  }
  await o.replyFallback(msg, reply);
  return { via: 'fallback' };
}
