/**
 * `dingkit/stream`: the client side of DingTalk Stream mode (docs/dingtalk.md §S1–§S13).
 *
 * @example
 * const client = new StreamClient({ clientId, clientSecret, replyFallback: sendWithAppRobot });
 * client.onBotMessage(async (msg) => {
 *   await client.replyText(msg, `echo: ${msg.text?.content.trim() ?? ''}`);
 * });
 * client.onEvent(async (event, ctx) => {
 *   const ack = ctx.deferAck();
 *   await inbox.commit(event.eventId, event); // durable first
 *   ack();                                    // then tell DingTalk it is consumed
 * });
 * await client.start();
 *
 * The surface: the client and its options, the push and context types, the card and reply helpers, and the
 * session-webhook errors. Wire internals (the open call, frame codecs, backoff arithmetic) stay in their files.
 */

export {
  checkSessionWebhook,
  DINGTALK_SESSION_WEBHOOK_ORIGINS,
  isSessionWebhookError,
  SessionWebhookError,
  type SessionWebhookReason,
  sessionWebhookOrigins,
} from '../core/session-webhook.js';
export type { BackoffOptions } from './backoff.js';
export { parseCardAction } from './card.js';
export { StreamClient } from './client.js';
export type { DeferredAck, StreamContext } from './context.js';
export type { MalformedReason } from './frame.js';
export { DEFAULT_OPEN_API_BASE, type StateChange, type StreamClientOptions } from './options.js';
export {
  type FallbackReply,
  type ReplyFallback,
  type ReplyOptions,
  type ReplyResult,
  replyMarkdown,
  replyText,
} from './reply.js';
export type { StreamHandler, StreamMiddleware } from './router.js';
export type { ConnectionState, StreamStats } from './stats.js';
export type { TimerApi } from './timers.js';
export {
  type AtUser,
  type BotMessage,
  type BotMessageContent,
  type CardCallback,
  type CardCallbackResponse,
  type CardPrivateData,
  type RichTextItem,
  type StreamEvent,
  type Subscription,
  TOPIC_BOT_DELEGATE,
  TOPIC_BOT_MESSAGE,
  TOPIC_CARD_CALLBACK,
  TOPIC_CARD_DYNAMIC_DATA,
  TOPIC_GRAPH_API,
} from './types.js';
