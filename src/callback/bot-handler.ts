/**
 * HTTP receiver for robot messages in HTTP mode (dingtalk-api.md §9a): JSON body, `timestamp` + `sign`
 * headers signed with the app's Client Secret. The signature is checked before the body is parsed.
 */

import { ConfigError } from '../core/errors.js';
import type { BotMessage } from '../stream/types.js';
import { verifyBotCallback } from './bot-signature.js';
import type { VerifyWindowOptions } from './header-signature.js';
import type { CallbackHttpHandler } from './http-io.js';
import { jsonResponse } from './http-io.js';
import { createReceiver, jsonObjectBody, type ReceiverOptions, runHandler } from './receiver.js';
import { toClock } from './timestamp-window.js';

export interface BotCallbackMeta {
  /** The `timestamp` header, epoch ms as received. */
  timestamp: string;
  receivedAt: number;
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
  return createReceiver('bot', options, async (request) => {
    const timestamp = request.header('timestamp');
    verifyBotCallback({ timestamp, sign: request.header('sign') }, appSecret, window);
    const body = jsonObjectBody(request);
    const meta: BotCallbackMeta = { timestamp: String(timestamp), receivedAt: clock() };
    const reply = await runHandler(options, 'bot', () => onMessage(body as unknown as BotMessage, meta));
    return jsonResponse(200, isReply(reply) ? reply : NO_REPLY);
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
