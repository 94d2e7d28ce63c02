/**
 * Per-key rate limiting as a wrapper around the request path. A key is a robot (`webhook:<name>`) or an app and
 * API (`app:<appKey>:<operation>`); each key has its own sliding window and its own penalty, so a throttled robot
 * never pauses another (unlike clients that keep one global pause). The state lives in an injectable
 * `LimiterStore`: memory by default, the hub's shared store when several processes send for one robot.
 *
 * Budgets (docs/dingtalk.md §2.6 and §0.2): a custom robot may send 20 messages per minute, then it is blocked for 10
 * minutes; an app may call each API 20 times per second on a standard-edition org.
 */

import { RateLimitedError } from './errors.js';
import type { Middleware } from './pipeline.js';

export interface Budget {
  limit: number;
  windowMs: number;
}

export type AcquireResult = { ok: true } | { ok: false; retryAt: number };

export interface LimiterStore {
  /** Takes one slot of `key` at `now` if the window has room and no penalty runs; else says when to retry. */
  acquire(key: string, budget: Budget, now: number): Promise<AcquireResult> | AcquireResult;
  /** Blocks `key` until `until` (epoch ms), e.g. after DingTalk's robot throttle. */
  penalize(key: string, until: number): Promise<void> | void;
}

/** Sliding log per key, in memory. One instance per client (or shared by clients of one process). */
export class MemoryLimiterStore implements LimiterStore {
  readonly #log = new Map<string, number[]>();
  readonly #penalty = new Map<string, number>();

  acquire(key: string, budget: Budget, now: number): AcquireResult {
    const until = this.#penalty.get(key);
    if (until !== undefined) {
      if (until > now) return { ok: false, retryAt: until };
      this.#penalty.delete(key);
    }
    let log = this.#log.get(key);
    if (!log) {
      log = [];
      this.#log.set(key, log);
    }
    const floor = now - budget.windowMs;
    let drop = 0;
    while (drop < log.length && log[drop]! <= floor) drop++;
    if (drop > 0) log.splice(0, drop);
    if (log.length < budget.limit) {
      log.push(now);
      return { ok: true };
    }
    return { ok: false, retryAt: log[0]! + budget.windowMs };
  }

  penalize(key: string, until: number): void {
    const cur = this.#penalty.get(key) ?? 0;
    if (until > cur) this.#penalty.set(key, until);
  }
}

export interface RateLimitOptions {
  /**
   * Budget of a custom robot webhook (`webhook:*` keys). DingTalk allows 20 per minute, counted when requests
   * *arrive*; the window is one second longer than DingTalk's so that a burst whose first requests arrived late
   * (connection setup) cannot put 21 arrivals in one server-side minute (seen against the emulator).
   * @default { limit: 20, windowMs: 61_000 }
   */
  robot?: Budget;
  /**
   * Budget per app and API (`app:*` keys).
   * @default { limit: 20, windowMs: 1_000 }
   */
  app?: Budget;
  /** Budgets by exact key, overriding the two above. */
  overrides?: Record<string, Budget>;
  /**
   * `wait`: hold the call until a slot opens (up to `maxWaitMs`); `fail`: throw at once.
   * @default 'wait'
   */
  mode?: 'wait' | 'fail';
  /**
   * Longest wait for a slot before failing with a local `RateLimitedError` (outcome `not_sent`).
   * @default 65_000
   */
  maxWaitMs?: number;
  store?: LimiterStore;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

function budgetFor(key: string, o: RateLimitOptions): Budget | undefined {
  const exact = o.overrides?.[key];
  if (exact) return exact;
  if (key.startsWith('webhook:')) return o.robot ?? { limit: 20, windowMs: 61_000 };
  if (key.startsWith('app:')) return o.app ?? { limit: 20, windowMs: 1_000 };
  return undefined;
}

export function rateLimitMiddleware(o: RateLimitOptions = {}): Middleware {
  const store = o.store ?? new MemoryLimiterStore();
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWaitMs = o.maxWaitMs ?? 65_000;
  const mode = o.mode ?? 'wait';
  return async (req, next) => {
    const key = req.rateKey;
    const budget =
      key === undefined ? undefined : (o.overrides?.[key] ?? req.rateBudget ?? budgetFor(key, o));
    if (key === undefined || budget === undefined) return next(req);
    const started = now();
    for (;;) {
      const r = await store.acquire(key, budget, now());
      if (r.ok) break;
      const t = now();
      const wait = r.retryAt - t;
      if (mode === 'fail' || r.retryAt - started > maxWaitMs) {
        throw new RateLimitedError(
          'local',
          Math.max(0, wait),
          `${req.operation}: local limit for ${key} reached (${budget.limit} per ${budget.windowMs} ms)`,
          { status: 0 },
          { operation: req.operation, outcome: 'not_sent' },
        );
      }
      await sleep(Math.max(1, wait));
    }
    try {
      return await next(req);
    } catch (e) {
      if (e instanceof RateLimitedError && e.scope !== 'local' && e.scope !== 'ip') {
        await store.penalize(key, now() + e.retryAfterMs);
      }
      throw e;
    }
  };
}
