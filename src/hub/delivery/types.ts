/**
 * The dispatcher's public shapes: the sender it drives, the change events, the options.
 */

import type { Budget } from '../../core/rate-limiter.js';
import type { Redactor } from '../../core/redact.js';
import type { EventBus } from '../../observe/events.js';
import type { Registry } from '../../observe/metrics.js';
import type { Store } from '../../store/open-store.js';
import type { DeliveryChannel, DeliveryStatus } from '../../store/schema.js';
import type { Job } from './jobs.js';
import type { DeliveryPolicy } from './policy.js';

/** Which try of which stored delivery a send is (the job itself is the `Job` as enqueued). */
export interface Attempt {
  /** The delivery row's id. */
  deliveryId: number;
  messageId: string;
  /** 1-based number of this attempt. */
  number: number;
}

/** The one sender the dispatcher drives: one job in, one DingTalk call out. */
export interface Sender {
  /** Sends one job. Throws a DingTalkError whose `outcome` says whether DingTalk may have acted. */
  send(job: Job, attempt: Attempt): Promise<{ remoteId?: string | undefined }>;
}

export interface DeliveryChange {
  id: number;
  messageId: string;
  status: DeliveryStatus;
  attempts: number;
  target: string;
  channel: DeliveryChannel;
  lastError?: string | undefined;
  remoteId?: string | undefined;
  runAt?: number | undefined;
}

export interface DispatcherOptions {
  store: Store;
  sender: Sender;
  /** Lease owner id; unique per dispatcher. @default a random UUID */
  owner?: string | undefined;
  /** Sends in flight at most. @default 8 */
  workers?: number | undefined;
  /** How long a claim stays ours; a send must finish well within it. @default 30_000 */
  leaseMs?: number | undefined;
  /** Idle poll interval. @default 200 */
  pollMs?: number | undefined;
  /** @default defaultPolicy of delivery/policy.ts (hold, 8 attempts, 1 s doubling to 5 min, ±20 %) */
  policy?: Partial<DeliveryPolicy> | undefined;
  /**
   * Budget of custom robots (`webhook:*` rate keys). DingTalk allows 20 per minute (docs/dingtalk.md §2.6).
   * @default { limit: 19, windowMs: 60_000 }
   */
  robotBudget?: Budget | undefined;
  /** Budgets by exact rate key, overriding `robotBudget`. */
  budgets?: Record<string, Budget> | undefined;
  /**
   * Longest time between a claim (where the budget is spent) and the start of its send. Each hit occupies
   * `windowMs + guardMs` of the window (limiter.ts), which also absorbs clock skew between processes: it must be
   * at least the largest skew between two hosts plus the claim-to-send delay. A send that starts later than this is
   * counted again at its real start if the window has room then (`restampHit`), else given back unsent.
   * @default `defaultGuardMs(dialect, windowMs)` of dispatcher.ts: PostgreSQL min(5_000, windowMs / 12), which
   *   covers ±2 s between hosts and still uses 92 % of a 60 s budget; SQLite (one host, one
   *   clock) min(1_000, max(25, windowMs / 50)).
   */
  guardMs?: number | undefined;
  /**
   * Move a finished send's budget hit to its completion time (minus the guard on SQLite), so the hit covers the
   * request's arrival at DingTalk however late it came (DingTalk counts arrivals). False keeps the claim stamp
   * (the behaviour before, which a slow network or server can push over DingTalk's limit): for side-by-side
   * comparisons in tests and benches only.
   * @default true
   */
  stampArrival?: boolean | undefined;
  /**
   * Renew the lease of a running send every `leaseMs / 3`, so only a dead worker's sends expire.
   * @default true
   */
  renewLeases?: boolean | undefined;
  /** Expired leases are looked for at most this often. @default pollMs */
  reclaimEveryMs?: number | undefined;
  now?: (() => number) | undefined;
  random?: (() => number) | undefined;
  events?: EventBus | undefined;
  metrics?: Registry | undefined;
  /** Applied to every stored failure reason on top of the errors' own redaction. */
  redactor?: Redactor | undefined;
  /** Store failures of the loop itself (it keeps running). */
  onError?: ((e: unknown) => void) | undefined;
  /** Every status change (also published on `events` as `delivery`). */
  onChange?: ((c: DeliveryChange) => void) | undefined;
}
