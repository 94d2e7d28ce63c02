/**
 * `dingkit/callback`: DingTalk's inbound HTTP callbacks, verified before they are believed.
 *
 * - Encrypted event subscription (docs/dingtalk.md §9b): `EventCrypto` and `createEventCallbackHandler`.
 * - Robot messages in HTTP mode (§9a): `signBotCallback`, `verifyBotCallback`, `createBotCallbackHandler`.
 * - Interactive-card actions (§10): `signCardCallback`, `verifyCardCallback`, `createCardCallbackHandler`.
 *
 * Each receiver remembers the callbacks it accepted for the timestamp window (`replay`, a pluggable `SeenStore`):
 * a replay is answered like the original without running the handler again. A robot message's `sessionWebhook`
 * must be on DingTalk's hosts (or `sessionWebhookOrigins`), or the body is refused.
 *
 * Every failure is a typed `SignatureError` or `DecryptError` with a `reason`; every receiver answers bad
 * input with a 4xx and a JSON `{ error, reason }`, and only answers success after the application's handler
 * has returned.
 *
 * @example
 * import { createEventCallbackHandler, EventCrypto } from 'dingkit/callback';
 * const events = createEventCallbackHandler({
 *   crypto: new EventCrypto({ token, aesKey, ownerKey: appKey }),
 *   onEvent: async (event) => { await inbox.commit(event); },
 * });
 * http.createServer(events.node).listen(8080);
 */

export { DecryptError, type DecryptReason, SignatureError, type SignatureReason } from '../core/errors.js';
export {
  checkSessionWebhook,
  DINGTALK_SESSION_WEBHOOK_ORIGINS,
  isSessionWebhookError,
  SessionWebhookError,
  type SessionWebhookReason,
  sessionWebhookOrigins,
} from '../core/session-webhook.js';
export type { BotMessage, CardCallback, CardCallbackResponse } from '../stream/types.js';
export {
  type BotCallbackMeta,
  type BotCallbackOptions,
  type BotInlineReply,
  createBotCallbackHandler,
} from './bot-handler.js';
export { type BotCallbackHeaders, signBotCallback, verifyBotCallback } from './bot-signature.js';
export type { CallbackBody, CallbackQuery } from './callback-params.js';
export {
  type CardCallbackMeta,
  type CardCallbackOptions,
  createCardCallbackHandler,
} from './card-handler.js';
export {
  CARD_SIGNATURE_HEADER,
  CARD_TIMESTAMP_HEADER,
  type CardCallbackHeaders,
  signCardCallback,
  verifyCardCallback,
} from './card-signature.js';
export {
  type CallbackEvent,
  EventCrypto,
  type EventCryptoOptions,
  type OpenedEvent,
  type ReplyEnvelope,
  type ReplyOptions,
} from './event-crypto.js';
export {
  createEventCallbackHandler,
  type EventCallbackMeta,
  type EventCallbackOptions,
} from './event-handler.js';
export type { HeaderValue, VerifyWindowOptions } from './header-signature.js';
export {
  type CallbackHttpHandler,
  type CallbackHttpRequest,
  type CallbackHttpResponse,
  DEFAULT_MAX_BODY_BYTES,
} from './http-io.js';
export type { ReceiverOptions } from './receiver.js';
export {
  MemorySeenStore,
  type MemorySeenStoreOptions,
  type ReplayKeys,
  type ReplayOption,
  type SeenStore,
} from './replay-guard.js';
