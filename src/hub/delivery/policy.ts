/**
 * What the dispatcher does with the result of one send attempt. Pure, so the whole decision table is tested
 * without I/O:
 *
 * | result                                   | action                                                     |
 * |------------------------------------------|------------------------------------------------------------|
 * | success                                  | complete                                                   |
 * | rate limited (local or DingTalk)         | defer to `retryAfter` (not an attempt: nothing was done)   |
 * | `not_sent`, or retryable rejection       | retry on the jittered schedule, dead after maxAttempts     |
 * | `unknown` on an idempotent channel       | retry (DingTalk dedupes the key: no duplicate possible)    |
 * | `unknown` otherwise, mode `hold`         | park as unknown_outcome for an operator (no duplicate)     |
 * | `unknown` otherwise, mode `retry`        | retry (may duplicate; counted by the chaos tests)          |
 * | rejection that is not retryable          | dead letter with the redacted reason                       |
 */

import { type DingTalkError, isDingTalkError, RateLimitedError } from '../../core/errors.js';

export type Decision =
  | { action: 'complete' }
  | { action: 'defer'; at: number; reason: string }
  | { action: 'retry'; at: number; reason: string }
  | { action: 'park'; reason: string }
  | { action: 'dead'; reason: string };

export interface DeliveryPolicy {
  /** Attempts before a retryable failure becomes a dead letter. */
  maxAttempts: number;
  ambiguous: 'hold' | 'retry';
  /** Backoff of attempt n (1-based), before jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** ±share of random spread around the delay (±20 %). */
  jitter: number;
}

export const defaultPolicy: DeliveryPolicy = {
  maxAttempts: 8,
  ambiguous: 'hold',
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  jitter: 0.2,
};

export function retryDelay(attempt: number, p: DeliveryPolicy, random: () => number): number {
  const base = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * p.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** A short reason for operators: the stable code and the (already redacted) message. */
export function reasonOf(e: unknown): string {
  if (isDingTalkError(e)) return `${e.code}: ${e.message}`.slice(0, 500);
  return e instanceof Error ? `ERROR: ${e.message}`.slice(0, 500) : 'ERROR';
}

export function decide(
  error: unknown | undefined,
  ctx: { attempt: number; idempotent: boolean; now: number },
  p: DeliveryPolicy,
  random: () => number = Math.random,
): Decision {
  if (error === undefined) return { action: 'complete' };
  const reason = reasonOf(error);
  if (error instanceof RateLimitedError) {
    // Nothing was done (a throttle is a refusal), so the attempt does not count against maxAttempts.
    return { action: 'defer', at: ctx.now + Math.max(1, error.retryAfterMs), reason };
  }
  if (!isDingTalkError(error)) return { action: 'dead', reason };
  const retryAt = (): Decision =>
    ctx.attempt >= p.maxAttempts
      ? { action: 'dead', reason: `gave up after ${ctx.attempt} attempts: ${reason}` }
      : { action: 'retry', at: ctx.now + retryDelay(ctx.attempt, p, random), reason };
  const e = error as DingTalkError;
  if (e.outcome === 'unknown') {
    if (ctx.idempotent || p.ambiguous === 'retry') return retryAt();
    return { action: 'park', reason };
  }
  if (e.retryable) return retryAt();
  return { action: 'dead', reason };
}
