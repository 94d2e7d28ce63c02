/**
 * Per-robot send limit of the custom robot webhook (docs/dingtalk.md §2.6): at most `limit` accepted sends in any
 * sliding `windowMs`; the send that exceeds it is refused and blocks the robot for `penaltyMs`, during which every
 * send is refused. Pure and clock-injected so unit tests drive it without sleeping.
 */
export interface WindowSettings {
  windowMs: number;
  limit: number;
  penaltyMs: number;
}

export type WindowVerdict =
  | { ok: true }
  | { ok: false; blockedUntil: number; reason: 'exceeded' | 'blocked' };

export class SlidingWindow {
  readonly #s: WindowSettings;
  /** Accepted send times, oldest first; trimmed on each call so memory stays ≤ limit entries. */
  readonly #times: number[] = [];
  #head = 0;
  #blockedUntil = 0;

  constructor(settings: WindowSettings) {
    this.#s = settings;
  }

  get blockedUntil(): number {
    return this.#blockedUntil;
  }

  /** Blocks the robot until `until` (an injected throttle arms the same penalty a real one would). */
  block(until: number): void {
    this.#blockedUntil = Math.max(this.#blockedUntil, until);
  }

  /** Counts one attempt at `now`; returns whether it is accepted. */
  hit(now: number): WindowVerdict {
    if (now < this.#blockedUntil) return { ok: false, blockedUntil: this.#blockedUntil, reason: 'blocked' };
    const from = now - this.#s.windowMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? 0) <= from) this.#head++;
    if (this.#head > 1024) {
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#times.length - this.#head >= this.#s.limit) {
      this.#blockedUntil = now + this.#s.penaltyMs;
      return { ok: false, blockedUntil: this.#blockedUntil, reason: 'exceeded' };
    }
    this.#times.push(now);
    return { ok: true };
  }
}
