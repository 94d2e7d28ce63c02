/**
 * Reconnect delays. The official Node client 2.1.5 retries after a fixed 1 s forever (docs/dingtalk.md §S10), which
 * turns an outage into a steady storm of open calls; the receiver uses capped exponential backoff with
 * jitter instead (1 s → 60 s).
 */

export interface BackoffOptions {
  /**
   * Delay before the first retry after a failure.
   * @default 1_000
   */
  initialMs?: number;
  /**
   * Upper bound of any delay.
   * @default 60_000
   */
  maxMs?: number;
  /**
   * Growth per consecutive failure.
   * @default 2
   */
  factor?: number;
  /**
   * Share of the nominal delay that is randomised away: the delay is drawn from `[nominal × (1 − jitter), nominal]`.
   * `1` is "full jitter"; `0` is none. The default keeps every delay at least half the nominal one, so the
   * intervals still grow visibly while clients that failed together spread out.
   * @default 0.5
   * @example { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 1 }
   */
  jitter?: number;
}

export interface ResolvedBackoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

export function resolveBackoff(o: BackoffOptions = {}): ResolvedBackoff {
  const initialMs = o.initialMs ?? 1_000;
  const maxMs = o.maxMs ?? 60_000;
  const factor = o.factor ?? 2;
  const jitter = o.jitter ?? 0.5;
  if (!(initialMs >= 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError('backoff: need 0 <= initialMs <= maxMs, factor >= 1 and 0 <= jitter <= 1');
  }
  return { initialMs, maxMs, factor, jitter };
}

/** Nominal (un-jittered) delay before retry number `attempt` (0-based), capped. */
export function nominalDelay(b: ResolvedBackoff, attempt: number): number {
  // Cap the exponent too: 2 ** 2000 is Infinity, and Infinity * 0 would be NaN.
  const exp = Math.min(Math.max(attempt, 0), 64);
  return Math.min(b.maxMs, b.initialMs * b.factor ** exp);
}

/** Jittered delay before retry number `attempt`; `random` returns a number in [0, 1). */
export function backoffDelay(b: ResolvedBackoff, attempt: number, random: () => number): number {
  const nominal = nominalDelay(b, attempt);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(nominal * (1 - b.jitter * r));
}
