/** Shared pieces of the store conformance suite: a settable clock, a recording sender, window counting. */

import type { Attempt, Sender } from '../../src/hub/delivery/dispatcher.js';
import type { Job, JobPayload } from '../../src/hub/delivery/jobs.js';

export class FakeClock {
  constructor(public t = 1_764_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface SendRecord {
  id: number;
  messageId: string;
  target: string;
  rateKey: string | null;
  orderKey: string | null;
  attempt: number;
  at: number;
  payload: JobPayload;
}

/**
 * Records every call. `script(call)` gets the call's record and may return an error to throw (or a promise to wait
 * on first), so a test can fail chosen attempts.
 */
export class RecordingSender implements Sender {
  readonly calls: SendRecord[] = [];
  constructor(
    readonly clock: () => number = Date.now,
    readonly script: (call: SendRecord) => unknown | Promise<unknown> = () => undefined,
  ) {}

  async send(job: Job, attempt: Attempt): Promise<{ remoteId?: string }> {
    const call: SendRecord = {
      id: attempt.deliveryId,
      messageId: attempt.messageId,
      target: job.target,
      rateKey: job.rateKey ?? null,
      orderKey: job.orderKey ?? null,
      attempt: attempt.number,
      at: this.clock(),
      payload: job.payload,
    };
    this.calls.push(call);
    const r = await this.script(call);
    if (r instanceof Error) throw r;
    return { remoteId: `remote-${call.id}-${call.attempt}` };
  }

  countById(): Map<number, number> {
    const m = new Map<number, number>();
    for (const c of this.calls) m.set(c.id, (m.get(c.id) ?? 0) + 1);
    return m;
  }
}

/** Largest number of `times` inside any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi]! - s[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
