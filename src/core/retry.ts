/**
 * Retry as a wrapper around the request path. What may be retried follows the outcome model of errors.ts:
 * - `not_sent`: always (nothing reached DingTalk);
 * - `rejected` and marked retryable (system busy, 5xx with DingTalk's error body, throttles): always, because
 *   DingTalk said it did not act;
 * - `unknown`: only when the request is idempotent (reads, deletes, sends carrying an idempotency key).
 * Throttles wait at least their `retryAfterMs`; a wait longer than `maxWaitMs` is not done here but thrown, so
 * a caller with a durable queue (the hub) can schedule it instead of holding a promise for ten minutes.
 */

import { type DingTalkError, isDingTalkError, RateLimitedError } from './errors.js';
import type { DingTalkRequest, Middleware } from './pipeline.js';

export interface RetryOptions {
  /**
   * Attempts after the first.
   * @default 2
   */
  retries?: number;
  /**
   * First backoff delay.
   * @default 200
   */
  minDelayMs?: number;
  /**
   * Largest backoff delay.
   * @default 5_000
   */
  maxDelayMs?: number;
  /**
   * The longest throttle wait done inside one call; longer ones are thrown.
   * @default 10_000
   */
  maxWaitMs?: number;
  /** @default Math.random */
  random?: () => number;
  /** Injectable sleep (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry (metrics, logs). */
  onRetry?: (info: {
    request: DingTalkRequest;
    error: DingTalkError;
    attempt: number;
    delayMs: number;
  }) => void;
}

/** Whether `error` may be retried for `req`, per the outcome rules above. */
function isRetryable(req: Pick<DingTalkRequest, 'idempotent'>, error: unknown): error is DingTalkError {
  if (!isDingTalkError(error)) return false;
  if (error.outcome === 'not_sent') return error.retryable;
  if (error.outcome === 'rejected') return error.retryable;
  return req.idempotent && error.code !== 'RESPONSE_TOO_LARGE';
}

/** Backoff with "equal jitter": half fixed, half random, so delays are spread but never near zero. */
function backoffDelay(
  attempt: number,
  o: Required<Pick<RetryOptions, 'minDelayMs' | 'maxDelayMs'>>,
  random: () => number,
): number {
  const exp = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export function retryMiddleware(options: RetryOptions = {}): Middleware {
  const retries = options.retries ?? 2;
  const minDelayMs = options.minDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  return async (req, next) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (e) {
        if (attempt > retries || !isRetryable(req, e)) throw e;
        let delay = backoffDelay(attempt, { minDelayMs, maxDelayMs }, random);
        if (e instanceof RateLimitedError) {
          if (e.retryAfterMs > maxWaitMs) throw e;
          delay = Math.max(delay, e.retryAfterMs);
        }
        options.onRetry?.({ request: req, error: e, attempt, delayMs: delay });
        await sleep(delay, req.signal);
      }
    }
  };
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
