/**
 * HTTP receiver for robot messages in HTTP mode (docs/dingtalk.md §9a): JSON body, `timestamp` + `sign`
 * headers signed with the app's Client Secret. The signature is checked before the body is parsed.
 *
 * The signature covers the timestamp only, never the body (§9a), so two more checks stand in for it: the body's `sessionWebhook` must be on the allowlist (a forged body cannot steer the reply), and each
 * accepted `timestamp`+`sign` pair and `msgId` is remembered for the window (replay-guard.ts), so a captured
 * pair replayed with the same or another body is answered `{"msgtype":"empty"}` without running `onMessage`.
 * Known cost: two genuine callbacks signed in the same millisecond share a pair; the second is taken for a replay.
 */

import { ConfigError } from '../core/errors.js';
import { checkSessionWebhook, SessionWebhookError, sessionWebhookOrigins } from '../core/session-webhook.js';
import type { BotMessage } from '../stream/types.js';
import { verifyBotCallback } from './bot-signature.js';
import { DEFAULT_HEADER_WINDOW_MS, type VerifyWindowOptions } from './header-signature.js';
import type { CallbackHttpHandler } from './http-io.js';
import { BadCallbackRequest, jsonResponse } from './http-io.js';
import {
  createReceiver,
  jsonObjectBody,
  onceOnly,
  type ReceiverOptions,
  replayStore,
  runHandler,
} from './receiver.js';
import { digestKey, type ReplayKeys } from './replay-guard.js';
import { toClock } from './timestamp-window.js';

export interface BotCallbackMeta {
  /** The `timestamp` header, epoch ms as received. */
  timestamp: string;
  receivedAt: number;
  /**
   * With `replay: 'handler'` only: the keys this callback is remembered by (the `timestamp`+`sign` pair, the `msgId`), for the handler to claim
   * in its own transaction (`ReplayKeys`). Absent otherwise (the receiver claimed them itself).
   */
  replay?: ReplayKeys;
}

/** An inline reply in the custom-robot message format (§2.4). Prefer `sessionWebhook` for app robots (§9a). */
export type BotInlineReply = Record<string, unknown> & { msgtype: string };

/**
 * @example
 * const bot = createBotCallbackHandler({
 *   appSecret: process.env.DING_APP_SECRET!,
 *   onMessage: async (msg) => { await inbox.commit(msg.msgId, msg); },
 * });
 */
export interface BotCallbackOptions extends ReceiverOptions, VerifyWindowOptions {
  /** The app's Client Secret (AppSecret); required, there is no unsigned mode. */
  appSecret: string;
  /**
   * Awaited before the answer. Return a message to reply inline, or nothing for `{"msgtype":"empty"}`
   * (the documented "no reply" answer, §9a).
   */
  onMessage: (message: BotMessage, meta: BotCallbackMeta) => unknown;
  /**
   * Origins accepted in a body's `sessionWebhook` besides DingTalk's (`https://oapi.dingtalk.com`,
   * `https://api.dingtalk.com`). A body naming any other origin is refused with 400 `session_webhook_not_allowed`.
   * @default []
   * @example { sessionWebhookOrigins: ['http://127.0.0.1:7070'] } // the emulator
   */
  sessionWebhookOrigins?: readonly string[];
}

const NO_REPLY = { msgtype: 'empty' };

export function createBotCallbackHandler(options: BotCallbackOptions): CallbackHttpHandler {
  if (typeof options?.appSecret !== 'string' || options.appSecret === '') {
    throw new ConfigError('createBotCallbackHandler: appSecret is required (fail closed)');
  }
  if (typeof options.onMessage !== 'function') {
    throw new ConfigError('createBotCallbackHandler: onMessage must be a function');
  }
  const { appSecret, onMessage } = options;
  const clock = toClock(options.now);
  const window: VerifyWindowOptions = {
    now: clock,
    ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
  };
  const windowMs = options.windowMs ?? DEFAULT_HEADER_WINDOW_MS;
  const origins = sessionWebhookOrigins(options.sessionWebhookOrigins ?? []);
  const store = replayStore(options.replay, clock);
  return createReceiver('bot', options, async (request) => {
    const timestamp = request.header('timestamp');
    const sign = request.header('sign');
    verifyBotCallback({ timestamp, sign }, appSecret, window);
    const body = jsonObjectBody(request);
    if (body['sessionWebhook'] !== undefined) {
      try {
        checkSessionWebhook(body['sessionWebhook'], origins);
      } catch (e) {
        if (e instanceof SessionWebhookError) {
          throw new BadCallbackRequest(400, 'bad_request', 'session_webhook_not_allowed');
        }
        throw e;
      }
    }
    // Verified above: both headers are single strings and the timestamp is decimal ms.
    const ts = String(timestamp);
    const keys = [digestKey('bot', 'sig', ts, String(sign))];
    if (typeof body['msgId'] === 'string' && body['msgId'] !== '') {
      keys.push(digestKey('bot', 'msg', body['msgId']));
    }
    // Remembered until the timestamp leaves the window; from then on the signature check refuses the pair.
    const expiresAt = Number(ts) + windowMs + 1;
    return onceOnly(
      store,
      options,
      'bot',
      keys,
      expiresAt,
      async () => {
        const meta: BotCallbackMeta = {
          timestamp: ts,
          receivedAt: clock(),
          ...(options.replay === 'handler' ? { replay: { keys, expiresAtMs: expiresAt } } : {}),
        };
        const reply = await runHandler(options, 'bot', () => onMessage(body as unknown as BotMessage, meta));
        return jsonResponse(200, isReply(reply) ? reply : NO_REPLY);
      },
      () => jsonResponse(200, NO_REPLY),
    );
  });
}

function isReply(value: unknown): value is BotInlineReply {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { msgtype?: unknown }).msgtype === 'string'
  );
}
