/**
 * The client shell: resolves configuration, owns the transport, the token manager and the limiter, and composes
 * the one request path:
 *
 *   user middleware → log → retry → rate limit → auth (token) → base handler (host rules) → transport
 *
 * Domain APIs (src/api) are layered on top in client.ts; this file knows nothing of robots or todos.
 */

import { authMiddleware } from './auth-middleware.js';
import { createBaseHandler } from './base-handler.js';
import type { ApiContext, AppIdentity } from './context.js';
import { ConfigError, isDingTalkError } from './errors.js';
import { type Logger, logMiddleware, silentLogger } from './logger.js';
import {
  compose,
  type DingTalkRequest,
  type DingTalkResponse,
  type Handler,
  type Middleware,
} from './pipeline.js';
import { type ErrorMapOptions, resolveErrorMap } from './platform-errors.js';
import { type RateLimitOptions, rateLimitMiddleware } from './rate-limiter.js';
import { Redactor } from './redact.js';
import { type RetryOptions, retryMiddleware } from './retry.js';
import { scrubMiddleware } from './scrub.js';
import { TokenManager, type TokenStore } from './token-manager.js';
import {
  createHttpTransport,
  type HttpTransport,
  type Transport,
  type TransportOptions,
} from './transport.js';

export const DEFAULT_OAPI_BASE = 'https://oapi.dingtalk.com';
export const DEFAULT_API_BASE = 'https://api.dingtalk.com';
export const DEFAULT_LOGIN_BASE = 'https://login.dingtalk.com';

export interface DingTalkOptions extends AppIdentity {
  /** App secret (Client Secret). Needed for every call that uses an app token. */
  appSecret?: string | undefined;
  /**
   * Legacy host. Env `DINGTALK_OAPI_BASE` overrides the default (e.g. to point at the emulator).
   * @default 'https://oapi.dingtalk.com'
   * @example 'http://127.0.0.1:8788'
   */
  oapiBase?: string | undefined;
  /**
   * v1.0 host. Env `DINGTALK_API_BASE` overrides the default.
   * @default 'https://api.dingtalk.com'
   */
  apiBase?: string | undefined;
  /**
   * Login host of the browser sign-in page (docs/dingtalk.md §13.3); only URLs are built on it, nothing is sent
   * there. Env `DINGTALK_LOGIN_BASE` overrides the default (the emulator serves a stand-in page).
   * @default 'https://login.dingtalk.com'
   * @example 'http://127.0.0.1:8788'
   */
  loginBase?: string | undefined;
  /**
   * Per-call timeout (headers and body).
   * @default 10_000
   */
  timeoutMs?: number;
  /**
   * Largest response body read.
   * @default 4_194_304
   */
  maxResponseBytes?: number;
  /** Retry policy, or `false` for none. */
  retry?: RetryOptions | false;
  /** Local rate limits, or `false` for none. */
  rateLimit?: RateLimitOptions | false;
  /** Token endpoint and sharing. */
  token?: {
    endpoint?: 'v1' | 'legacy';
    store?: TokenStore;
    refreshBeforeMs?: number;
    /** Called after every token fetch from DingTalk (metrics: sharing shows as one per lifetime, not one per process). */
    onFetch?: (appKey: string) => void;
  };
  errors?: ErrorMapOptions;
  /** Extra middleware, outermost first (metrics, tracing, test fakes). */
  middleware?: readonly Middleware[];
  transport?: TransportOptions | Transport;
  logger?: Logger;
  now?: () => number;
  /** Environment to read base URLs from. @default process.env */
  env?: Record<string, string | undefined>;
}

export class DingTalkCore {
  readonly app: AppIdentity;
  readonly redactor: Redactor;
  readonly tokens: TokenManager | undefined;
  readonly logger: Logger;
  readonly oapiBase: string;
  readonly apiBase: string;
  readonly loginBase: string;
  readonly #handler: Handler;
  readonly #transport: HttpTransport | undefined;
  readonly #now: () => number;

  constructor(o: DingTalkOptions = {}) {
    const env = o.env ?? process.env;
    this.oapiBase = checkBase(o.oapiBase ?? env['DINGTALK_OAPI_BASE'] ?? DEFAULT_OAPI_BASE, 'oapiBase');
    this.apiBase = checkBase(o.apiBase ?? env['DINGTALK_API_BASE'] ?? DEFAULT_API_BASE, 'apiBase');
    this.loginBase = checkBase(o.loginBase ?? env['DINGTALK_LOGIN_BASE'] ?? DEFAULT_LOGIN_BASE, 'loginBase');
    this.app = { appKey: o.appKey, corpId: o.corpId, agentId: o.agentId, robotCode: o.robotCode ?? o.appKey };
    this.redactor = new Redactor([o.appSecret]);
    this.#now = o.now ?? Date.now;
    this.logger = o.logger ?? silentLogger;

    let send: Transport;
    if (typeof o.transport === 'function') {
      send = o.transport;
    } else {
      this.#transport = createHttpTransport(o.transport);
      send = this.#transport.send;
    }
    const errors = resolveErrorMap(o.errors);
    const base = createBaseHandler({
      transport: send,
      oapiBase: this.oapiBase,
      apiBase: this.apiBase,
      timeoutMs: o.timeoutMs ?? 10_000,
      maxResponseBytes: o.maxResponseBytes ?? 4 * 1024 * 1024,
      errors,
      userAgent: 'dingkit/0.1 (+node)',
    });

    if (o.appKey && o.appSecret) {
      // Token fetches retry only on `not_sent` and busy answers, and never pass through the auth middleware.
      const fetchHandler = compose(
        [retryMiddleware({ retries: 2, ...(o.retry || {}) }), scrubMiddleware(this.redactor)],
        base,
      );
      this.tokens = new TokenManager(fetchHandler, {
        appKey: o.appKey,
        appSecret: o.appSecret,
        endpoint: o.token?.endpoint ?? 'v1',
        ...(o.token?.store ? { store: o.token.store } : {}),
        ...(o.token?.refreshBeforeMs !== undefined ? { refreshBeforeMs: o.token.refreshBeforeMs } : {}),
        ...(o.token?.onFetch ? { onFetch: o.token.onFetch } : {}),
        now: this.#now,
      });
    }

    const chain: Middleware[] = [
      ...(o.middleware ?? []),
      logMiddleware(this.logger, this.redactor, this.#now),
    ];
    if (o.retry !== false) chain.push(retryMiddleware(o.retry ?? {}));
    if (o.rateLimit !== false) chain.push(rateLimitMiddleware({ now: this.#now, ...(o.rateLimit ?? {}) }));
    chain.push(authMiddleware(this.tokens, this.redactor));
    // Innermost, so every layer above sees errors already redacted by value (scrub.ts).
    chain.push(scrubMiddleware(this.redactor));
    this.#handler = compose(chain, base);
  }

  /** Sends one request through the whole pipeline. Domain APIs use this; so can you, for APIs we do not wrap. */
  request<T = unknown>(req: DingTalkRequest): Promise<DingTalkResponse<T>> {
    return this.#handler(req) as Promise<DingTalkResponse<T>>;
  }

  /** The context domain API modules are built on. */
  get context(): ApiContext {
    return { request: this.#handler, app: this.app, redactor: this.redactor, now: this.#now };
  }

  /** Releases sockets. */
  async close(): Promise<void> {
    await this.#transport?.close();
  }
}

function checkBase(value: string, name: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return value.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL`);
  }
}

export { isDingTalkError };
