/**
 * StreamClient options and their defaults. Every timing is injectable so tests can scale windows down to tens
 * of milliseconds (style.md "Tests").
 */

import type { Dispatcher } from 'undici';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { sessionWebhookOrigins } from '../core/session-webhook.js';
import { type BackoffOptions, type ResolvedBackoff, resolveBackoff } from './backoff.js';
import type { ReplyFallback } from './reply.js';
import type { ConnectionState } from './stats.js';
import type { TimerApi } from './timers.js';
import type { Subscription } from './types.js';

export const DEFAULT_OPEN_API_BASE = 'https://api.dingtalk.com';

/** What `onState` listeners receive. */
export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Why, in a few secret-free words (`disconnect`, `closed (1006)`, `no traffic within the ping window` ...). */
  reason?: string;
  /** Delay before the next connect, when `state` is `reconnecting`. */
  delayMs?: number;
  /** Consecutive failed attempts so far, when `state` is `reconnecting`. */
  attempt?: number;
  /** Socket id, when `state` is `connected`. */
  connectionId?: number;
}

/**
 * @example
 * new StreamClient({
 *   clientId: process.env.DINGTALK_CLIENT_ID!,
 *   clientSecret: process.env.DINGTALK_CLIENT_SECRET!,
 *   pingIntervalMs: 10_000,
 *   maxConcurrency: 32,
 * })
 */
export interface StreamClientOptions {
  /** The app's Client ID (AppKey). */
  clientId: string;
  /** The app's Client Secret (AppSecret). Never logged, redacted from every error. */
  clientSecret: string;
  /**
   * OpenAPI host of the open call. Env `DINGTALK_API_BASE` overrides the default (e.g. to point at the emulator).
   * @default 'https://api.dingtalk.com'
   */
  openApiBase?: string;
  /** Environment to read `DINGTALK_API_BASE` from. @default process.env */
  env?: Record<string, string | undefined>;
  /**
   * Base subscriptions. Every topic registered with `on('/...')`, `onBotMessage` or `onCardAction` is added as a
   * CALLBACK subscription at each connect.
   * @default [{ type: 'EVENT', topic: '*' }]
   */
  subscriptions?: Subscription[];
  /** @default 'dingkit-stream/0.1' */
  ua?: string;
  /** Sent as `localIp` in the open call when given (docs/dingtalk.md §S2). */
  localIp?: string;
  /**
   * Handlers running at once. When all slots are busy, EVENTs are answered LATER at once (DingTalk re-pushes them)
   * and CALLBACKs wait in a bounded queue.
   * @default 64
   */
  maxConcurrency?: number;
  /**
   * CALLBACKs waiting for a slot; beyond it they are answered 503. DingTalk may not push a refused robot message
   * again (docs/dingtalk.md §S9), so the queue is deep enough for a burst of chat (a bot message is 1–2 KB); its
   * memory is bounded by `maxQueuedCallbackBytes`.
   * @default 4096
   */
  maxQueuedCallbacks?: number;
  /**
   * Frame bytes the waiting CALLBACKs may hold together; one that would pass it is answered 503.
   * @default 33_554_432 (32 MiB)
   */
  maxQueuedCallbackBytes?: number;
  /**
   * Soft frame cap: a larger text frame is counted (`too_large`) and skipped; the socket stays up.
   * @default 1_048_576
   */
  maxFrameBytes?: number;
  /**
   * Hard cap (ws `maxPayload`): a larger message makes ws close the socket (1009) and we reconnect. Bounds memory.
   * @default 16_777_216
   */
  maxPayloadBytes?: number;
  /**
   * Our WebSocket ping period. A socket with no pong and no frame for a whole period after a ping is terminated
   * and replaced, so a half-open connection is found within 2 × this. 0 disables.
   * @default 10_000
   */
  pingIntervalMs?: number;
  /** @default 10_000 */
  openTimeoutMs?: number;
  /** Largest open-call answer read. @default 65_536 */
  maxOpenResponseBytes?: number;
  /** @default 10_000 */
  handshakeTimeoutMs?: number;
  /** Reconnect backoff (1 s → 60 s, jittered). */
  backoff?: BackoffOptions;
  /**
   * How long a connection must stay up before it counts as healthy and the backoff counter resets. A gateway that
   * accepts and drops at once therefore still sees growing delays.
   * @default 10_000
   */
  healthyAfterMs?: number;
  /**
   * After a SYSTEM `disconnect`, how long the replaced socket may stay open for acks still owed on it. The server
   * closes it about 10 s after the notice (§S1 step 7).
   * @default 8_000
   */
  drainTimeoutMs?: number;
  /** Called when a bot message's session webhook has expired (see `replyText`). */
  replyFallback?: ReplyFallback;
  /**
   * Origins `replyText`/`replyMarkdown` may post a session webhook to besides DingTalk's hosts. The origin of
   * `openApiBase` is added on its own when it is not DingTalk's (a client pointed at the emulator replies there).
   * @default []
   * @example { sessionWebhookOrigins: ['https://dingtalk-proxy.internal'] }
   */
  sessionWebhookOrigins?: readonly string[];
  /** Timeout of session-webhook replies. @default 10_000 */
  replyTimeoutMs?: number;
  /** pino-compatible logger. Lines never hold the secret, the ticket or a session webhook. */
  logger?: Logger;
  /** Called on every connection state change. */
  onState?: (change: StateChange) => void;
  /** undici dispatcher for the open call and replies (a proxy agent, a mock). Default: one Agent per client. */
  dispatcher?: Dispatcher;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
  /** Random source in [0, 1) for backoff jitter. @default Math.random */
  random?: () => number;
  /** Timer functions (fake clocks in tests). @default global setTimeout/clearTimeout */
  timers?: TimerApi;
}

export interface ResolvedOptions {
  clientId: string;
  clientSecret: string;
  openApiBase: string;
  subscriptions: Subscription[];
  ua: string;
  localIp: string | undefined;
  maxConcurrency: number;
  maxQueuedCallbacks: number;
  maxQueuedCallbackBytes: number;
  maxFrameBytes: number;
  maxPayloadBytes: number;
  pingIntervalMs: number;
  openTimeoutMs: number;
  maxOpenResponseBytes: number;
  handshakeTimeoutMs: number;
  backoff: ResolvedBackoff;
  healthyAfterMs: number;
  drainTimeoutMs: number;
  replyTimeoutMs: number;
  /** DingTalk's hosts, `openApiBase`'s origin and the caller's extra origins. */
  sessionWebhookOrigins: string[];
  logger: Logger;
  now: () => number;
  random: () => number;
}

export function resolveOptions(o: StreamClientOptions): ResolvedOptions {
  if (typeof o.clientId !== 'string' || !o.clientId) throw new ConfigError('stream: clientId is required');
  if (typeof o.clientSecret !== 'string' || !o.clientSecret) {
    throw new ConfigError('stream: clientSecret is required');
  }
  const env = o.env ?? process.env;
  const openApiBase = o.openApiBase ?? env['DINGTALK_API_BASE'] ?? DEFAULT_OPEN_API_BASE;
  if (!/^https?:\/\/[^/?#]+/i.test(openApiBase)) {
    throw new ConfigError('stream: openApiBase must be an http(s) URL');
  }
  const r: ResolvedOptions = {
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    openApiBase,
    subscriptions: o.subscriptions ? [...o.subscriptions] : [{ type: 'EVENT', topic: '*' }],
    ua: o.ua ?? 'dingkit-stream/0.1',
    localIp: o.localIp,
    maxConcurrency: o.maxConcurrency ?? 64,
    maxQueuedCallbacks: o.maxQueuedCallbacks ?? 4_096,
    maxQueuedCallbackBytes: o.maxQueuedCallbackBytes ?? 33_554_432,
    maxFrameBytes: o.maxFrameBytes ?? 1_048_576,
    maxPayloadBytes: o.maxPayloadBytes ?? 16_777_216,
    pingIntervalMs: o.pingIntervalMs ?? 10_000,
    openTimeoutMs: o.openTimeoutMs ?? 10_000,
    maxOpenResponseBytes: o.maxOpenResponseBytes ?? 65_536,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 10_000,
    backoff: resolveBackoff(o.backoff),
    healthyAfterMs: o.healthyAfterMs ?? 10_000,
    drainTimeoutMs: o.drainTimeoutMs ?? 8_000,
    replyTimeoutMs: o.replyTimeoutMs ?? 10_000,
    sessionWebhookOrigins: sessionWebhookOrigins([openApiBase, ...(o.sessionWebhookOrigins ?? [])]),
    logger: o.logger ?? silentLogger,
    now: o.now ?? Date.now,
    random: o.random ?? Math.random,
  };
  for (const key of ['maxConcurrency', 'maxFrameBytes', 'maxPayloadBytes'] as const) {
    if (!(Number.isInteger(r[key]) && r[key] > 0))
      throw new ConfigError(`stream: ${key} must be a positive integer`);
  }
  if (r.maxPayloadBytes < r.maxFrameBytes) r.maxPayloadBytes = r.maxFrameBytes;
  return r;
}
