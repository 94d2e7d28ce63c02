/**
 * dingkit: one typed client for both DingTalk API hosts. The root export stays small: the client, the error
 * classes and their guards, and the types. Stream mode, callbacks and the emulator have their own subpaths.
 */

export type * from './api/index.js';
export {
  appMessage,
  CustomRobot,
  mention,
  noticeMessage,
  readLoginCallback,
  signWebhook,
  webhookMessage,
} from './api/index.js';
export { DingTalk, type DingTalkClientOptions } from './client.js';
export {
  DEFAULT_API_BASE,
  DEFAULT_LOGIN_BASE,
  DEFAULT_OAPI_BASE,
  DingTalkCore,
  type DingTalkOptions,
} from './core/client-core.js';
export type { ApiContext, AppIdentity } from './core/context.js';
export * from './core/errors.js';
export type { Logger } from './core/logger.js';
export type {
  DingTalkRequest,
  DingTalkResponse,
  Handler,
  Host,
  HttpMethod,
  Middleware,
} from './core/pipeline.js';
export {
  type Budget,
  type LimiterStore,
  MemoryLimiterStore,
  type RateLimitOptions,
} from './core/rate-limiter.js';
export type { RetryOptions } from './core/retry.js';
export {
  DINGTALK_SESSION_WEBHOOK_ORIGINS,
  isSessionWebhookError,
  SessionWebhookError,
  type SessionWebhookReason,
} from './core/session-webhook.js';
export { type CachedToken, MemoryTokenStore, type TokenStore } from './core/token-manager.js';
