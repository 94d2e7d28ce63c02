/**
 * The dispatcher: workers that take due deliveries from the store's outbox, send them through a
 * sender port, and record what happened according to the delivery policy (delivery/policy.ts).
 *
 * - Several dispatchers (in one or many processes) may share one store: claims are leased and disjoint
 *   (delivery/queue.ts), expired leases are reclaimed, and robot budgets live in the store (limiter.ts).
 * - Each claimed row is read back as its Job once (jobs.ts `readJob`; one that does not read is a dead letter) and
 *   handed to the one `Sender` (types.ts): `send(job, attempt) => Promise<{ remoteId? }>`, throwing a DingTalkError
 *   with an `outcome` on failure; the hub plugs its DingTalk sender in (sender.ts), tests a recording fake.
 * - `stop()` stops claiming at once, waits for in-flight sends up to a deadline, and gives back what was claimed
 *   but not started.
 */

import { randomUUID } from 'node:crypto';
import { DingTalkError } from '../../core/errors.js';
import type { AcquireResult, Budget } from '../../core/rate-limiter.js';
import { redactByName } from '../../core/redact.js';
import type { Store } from '../../store/open-store.js';
import type { DeliveryRow, DeliveryStatus } from '../../store/schema.js';
import { isStoreUnavailable } from '../store-errors.js';
import { type Job, readJob } from './jobs.js';
import { closeHits, restampHit } from './limiter.js';
import { DispatcherMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import { type Decision, type DeliveryPolicy, decide, defaultPolicy } from './policy.js';
import {
  claimDue,
  expiredLeases,
  FinishBatcher,
  finish,
  markStartedMany,
  release,
  renewLease,
  requeueUnstarted,
  withTxRetry,
} from './queue.js';
import type { DeliveryChange, DispatcherOptions } from './types.js';

export type { Attempt, DeliveryChange, DispatcherOptions, Sender } from './types.js';

/**
 * Default guard of a rate key with window `windowMs` (see `DispatcherOptions.guardMs`). PostgreSQL may be shared by
 * hub processes on several hosts, so the guard covers their clock skew (±2 s) plus the claim-to-send
 * delay: min(5 s, window / 12). A SQLite file is shared only by processes on one host, which read one clock, so
 * the guard covers the claim-to-send delay alone: min(1 s, max(25 ms, window / 50)) (40 ms for a 2 s test window,
 * 1 s for DingTalk's 60 s one).
 */
export function defaultGuardMs(dialect: 'sqlite' | 'postgres', windowMs: number): number {
  if (windowMs <= 0) return 0;
  if (dialect === 'postgres') return Math.min(5_000, Math.ceil(windowMs / 12));
  return Math.min(1_000, Math.max(25, Math.ceil(windowMs / 50)));
}

/**
 * Jobs one claim takes at most. A claim is one transaction, and on SQLite every other statement of the process
 * (an API caller's enqueue among them) waits for it: 200 free workers after a burst would otherwise make one claim
 * of 200 jobs (800 candidates read, their keys, their hits) and hold the store that long. The loop claims again at
 * once after a full batch, so the same jobs go out in a few short transactions instead of one long one.
 */
const MAX_CLAIM = 64;

export class Dispatcher {
  readonly owner: string;
  readonly #o: DispatcherOptions;
  readonly #store: Store;
  readonly #workers: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #guardMs: number | undefined;
  readonly #stampArrival: boolean;
  readonly #reclaimEveryMs: number;
  readonly #renewLeases: boolean;
  readonly #policy: DeliveryPolicy;
  readonly #robotBudget: Budget;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #metrics: DispatcherMetrics | undefined;
  readonly #inflight = new Map<number, Promise<void>>();
  /** Claimed, not yet started: what stop() gives back. */
  readonly #pending = new Set<number>();
  #running = false;
  #stopping = false;
  /** stop() has returned: results still waiting for the store are given up (their leases will run out). */
  #closed = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #lastReclaim = 0;
  #lastDepth = 0;
  /**
   * When the keys this dispatcher found full free again (their waiting jobs were moved to that time): the loop
   * wakes at the earliest one instead of at the next poll. Other processes' throttles are found by polling.
   */
  readonly #edges = new Set<number>();
  readonly #finisher: FinishBatcher;

  constructor(o: DispatcherOptions) {
    this.#o = o;
    this.#store = o.store;
    this.owner = o.owner ?? randomUUID();
    this.#workers = Math.max(1, o.workers ?? 8);
    this.#leaseMs = o.leaseMs ?? 30_000;
    this.#pollMs = o.pollMs ?? 200;
    this.#guardMs = o.guardMs;
    this.#stampArrival = o.stampArrival ?? true;
    this.#reclaimEveryMs = o.reclaimEveryMs ?? this.#pollMs;
    this.#renewLeases = o.renewLeases ?? true;
    this.#policy = { ...defaultPolicy, ...(o.policy ?? {}) };
    this.#robotBudget = o.robotBudget ?? { limit: 19, windowMs: 60_000 };
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? Math.random;
    this.#metrics = o.metrics ? new DispatcherMetrics(o.metrics) : undefined;
    this.#finisher = new FinishBatcher(this.#store);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Sends in flight now. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  budgetFor = (key: string): Budget | undefined => {
    const exact = this.#o.budgets?.[key];
    if (exact) return exact;
    return key.startsWith('webhook:') ? this.#robotBudget : undefined;
  };

  /** Guard of a rate key (see `guardMs`). */
  guardFor = (key: string): number => {
    if (this.#guardMs !== undefined) return this.#guardMs;
    const w = this.budgetFor(key)?.windowMs ?? 0;
    return defaultGuardMs(this.#store.dialect, w);
  };

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#closed = false;
    this.#loop = this.#run();
  }

  /** Wakes an idle dispatcher now (after an enqueue in this process). */
  notify(): void {
    this.#wake?.();
  }

  /**
   * Stops claiming at once, waits for in-flight sends up to `deadlineMs`, and gives back claimed jobs that did
   * not start. A send still running at the deadline keeps its lease; if the process then exits, the lease
   * expires and the job is treated as an unknown outcome (never resent blindly).
   */
  async stop(o: { deadlineMs?: number } = {}): Promise<{ released: number; unfinished: number }> {
    if (!this.#running) return { released: 0, unfinished: 0 };
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    const deadline = o.deadlineMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inflight.values()]),
      new Promise<void>((r) => {
        timer = setTimeout(r, deadline);
      }),
    ]);
    clearTimeout(timer);
    const released = await release(this.#store, [...this.#pending], this.owner, this.#now()).catch(() => 0);
    this.#running = false;
    this.#closed = true;
    return { released, unfinished: this.#inflight.size };
  }

  /**
   * One round without the loop: reclaim, claim up to the free worker slots, send, and wait for those sends.
   * Returns how many jobs were claimed. Tests and one-shot tools use it.
   */
  async runOnce(): Promise<number> {
    await this.reclaimExpired();
    const jobs = await this.#claim(this.#workers - this.#inflight.size);
    await Promise.allSettled(await this.#launch(jobs));
    if (this.#metrics) this.#metrics.depth(await new Outbox(this.#store).counts());
    return jobs.length;
  }

  /** Applies the policy to jobs whose lease expired. Returns how many were handled. */
  async reclaimExpired(): Promise<number> {
    const now = this.#now();
    this.#lastReclaim = now;
    // A plain read first: an idle hub then takes no write lock (SQLite) or row locks (PostgreSQL) per poll.
    const any = await this.#store.db
      .selectFrom('deliveries')
      .select('id')
      .where('status', '=', 'sending')
      .where('lease_until', '<', now)
      .limit(1)
      .executeTakeFirst();
    if (!any) return 0;
    const changes: DeliveryChange[] = [];
    const n = await withTxRetry(() =>
      this.#store.transaction(async (tx) => {
        changes.length = 0;
        const rows = await expiredLeases(tx, this.#store, now, 100);
        for (const row of rows) {
          // Our own send whose result waits for the store (#record): its outcome is known, not lost.
          if (row.lease_owner === this.owner && this.#inflight.has(row.id)) continue;
          if (row.started_at === null) {
            await requeueUnstarted(tx, row.id, now);
            changes.push(this.#change(row, 'queued', {}));
            continue;
          }
          // The worker died or hung after it began sending: DingTalk may have the message.
          const lost = new DingTalkError(
            'LEASE_EXPIRED',
            `the worker holding this delivery stopped during a send (lease of ${this.#leaseMs} ms expired); outcome unknown`,
            { outcome: 'unknown' },
          );
          const d = decide(
            lost,
            { attempt: row.attempts, idempotent: row.idempotent === 1, now },
            this.#policy,
            this.#random,
          );
          const decision = this.#redactDecision(d);
          const status = await finish(tx, {
            id: row.id,
            owner: null,
            decision,
            now,
            rateKey: row.rate_key,
            error: lost,
            attempt: row.attempts,
          });
          // Its request, if it left, arrived before now: the budget hit counts from now (`#arrivalStamp`).
          if (status && row.rate_key !== null)
            await closeHits(tx, [{ deliveryId: row.id, at: this.#arrivalStamp(row.rate_key, now) }]);
          if (status) changes.push(this.#change(row, status, { decision }));
        }
        return rows.length;
      }),
    );
    for (const c of changes) this.#emit(c);
    return n;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const free = this.#workers - this.#inflight.size;
      if (free > 0) {
        try {
          if (this.#now() - this.#lastReclaim >= this.#reclaimEveryMs) await this.reclaimExpired();
          if (this.#metrics && this.#now() - this.#lastDepth >= 5_000) {
            this.#lastDepth = this.#now();
            this.#metrics.depth(await new Outbox(this.#store).counts());
          }
          const want = Math.min(free, MAX_CLAIM);
          const jobs = await this.#claim(want);
          await this.#launch(jobs);
          // A full batch: more may be due, claim again as soon as a slot is free.
          if (jobs.length === want) continue;
        } catch (e) {
          this.#o.onError?.(e);
        }
      }
      if (this.#stopping) break;
      // Wait for the poll interval, an explicit notify(), (when workers were all busy) a freed slot, or the moment
      // a full robot's window frees, whichever comes first: a budget-bound backlog resumes at the window's edge.
      const edge = this.#nextEdge() - this.#now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, Math.min(this.#pollMs, edge)));
        let woken = false;
        function done() {
          if (woken) return;
          woken = true;
          clearTimeout(timer);
          // Resume on the next turn of the event loop, not in this microtask: the sends whose results were just
          // recorded together (FinishBatcher) all free their slots first, and one claim takes them all.
          setImmediate(resolve);
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  async #claim(limit: number): Promise<DeliveryRow[]> {
    if (limit <= 0) return [];
    const now = this.#now();
    const r = await claimDue(this.#store, {
      owner: this.owner,
      limit,
      now,
      leaseMs: this.#leaseMs,
      budgetFor: this.budgetFor,
      guardMs: this.guardFor,
      clock: this.#now,
      startIdempotent: true,
    });
    for (const t of r.throttled) {
      this.#metrics?.throttled(t.key, t.penalty);
      if (this.#edges.size < 10_000) this.#edges.add(t.until);
    }
    for (const row of r.claimed) this.#pending.add(row.id);
    return r.claimed;
  }

  /**
   * The earliest window edge, or +Infinity. An edge that passed while the claim that found it was still running
   * (its jobs are due now) is returned once, so the loop claims again at once, and then forgotten.
   */
  #nextEdge(): number {
    const now = this.#now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#edges) {
      if (e <= now) this.#edges.delete(e);
      next = Math.min(next, e);
    }
    return next;
  }

  /**
   * Starts a claimed batch: idempotent jobs were marked started by the claim; the others are marked in one write
   * (one commit, not one per job) first. A stopping dispatcher gives back what has not started and still sends
   * what has (stop() waits for it). Returns the sends' promises.
   */
  async #launch(rows: DeliveryRow[]): Promise<Promise<void>[]> {
    if (rows.length === 0) return [];
    const unstarted = rows.filter((r) => r.started_at === null).map((r) => r.id);
    let started: Set<number>;
    if (this.#stopping) {
      await release(this.#store, unstarted, this.owner, this.#now());
      started = new Set();
    } else {
      started = await markStartedMany(this.#store, unstarted, this.owner, this.#now());
    }
    const sends: Promise<void>[] = [];
    for (const r of rows) {
      this.#pending.delete(r.id);
      // The attempt this send is: the claim already counted it for a job it marked started.
      if (r.started_at !== null) sends.push(this.#startJob(r, r.attempts));
      else if (started.has(r.id)) sends.push(this.#startJob(r, r.attempts + 1));
      else if (this.#stopping) this.#emit(this.#change(r, 'queued', {}));
    }
    return sends;
  }

  #startJob(row: DeliveryRow, attempt: number): Promise<void> {
    const p = this.#send(row, attempt)
      .catch((e) => this.#o.onError?.(e))
      .finally(() => {
        this.#inflight.delete(row.id);
        this.#pending.delete(row.id);
        // A slot freed: the loop may claim again without waiting for the poll timer.
        this.#wake?.();
      });
    this.#inflight.set(row.id, p);
    return p;
  }

  async #send(row: DeliveryRow, attempt: number): Promise<void> {
    // The row is read back as its Job here, once: what follows (sender, DingTalk port) works on the typed job.
    let job: Job;
    try {
      job = readJob(row);
    } catch (e) {
      await this.#unreadable(row, attempt, e);
      return;
    }
    // The claim set updated_at: the moment this job's budget was spent. #launch marked it started.
    const claimedAt = row.updated_at;
    const budgeted = row.rate_key !== null && this.budgetFor(row.rate_key) !== undefined;
    if (budgeted && this.#now() - claimedAt > this.guardFor(row.rate_key!)) {
      // Too late for the window this claim's budget was counted in (limiter.ts): count it again at the present
      // moment if the window has room, else give it back unsent (and its hit with it).
      const key = row.rate_key!;
      const budget = this.budgetFor(key)!;
      let now = this.#now();
      const again = await restampHit(
        this.#store,
        key,
        row.id,
        now,
        budget,
        budget.windowMs + this.guardFor(key),
        this.#leaseMs,
      ).catch((e: unknown): AcquireResult => {
        this.#o.onError?.(e);
        return { ok: false, retryAt: now };
      });
      if (!again.ok) {
        now = this.#now();
        const decision: Decision = {
          action: 'defer',
          at: Math.max(now, again.retryAt),
          reason: 'CLAIM_TOO_OLD: send did not start in time',
        };
        const status = await this.#finisher.finish({
          id: row.id,
          owner: this.owner,
          decision,
          now,
          rateKey: row.rate_key,
          // Given back unsent: the restamp removed its hit, or (if the restamp failed) it is closed as it stands.
          hit: { at: 0 },
        });
        if (status) this.#emit(this.#change({ ...row, attempts: attempt - 1 }, status, { decision }));
        return;
      }
    }
    const idempotent = row.idempotent === 1;
    const t0 = performance.now();
    let error: unknown;
    let remoteId: string | undefined;
    // While the send runs, keep renewing the lease: a slow but live send must not be taken for a dead worker's
    // (that would park it as an unknown outcome). A killed process stops renewing, and its lease runs out.
    const renew =
      this.#renewLeases &&
      setInterval(
        () => {
          renewLease(this.#store, row.id, this.owner, this.#now() + this.#leaseMs).catch((e) =>
            this.#o.onError?.(e),
          );
        },
        Math.max(10, Math.floor(this.#leaseMs / 3)),
      );
    try {
      remoteId = (
        await this.#o.sender.send(job, { deliveryId: row.id, messageId: row.message_id, number: attempt })
      )?.remoteId;
    } catch (e) {
      error = e ?? new Error('sender threw without an error');
    }
    this.#metrics?.latency((performance.now() - t0) / 1000, row.channel);
    const now = this.#now();
    const decision = this.#redactDecision(
      decide(error, { attempt, idempotent, now }, this.#policy, this.#random),
    );
    // The send is done: recording its result must survive a short database outage (failover, a dropped
    // connection), or the job would be parked as an unknown outcome although we know what happened. The update is
    // fenced by our lease, so repeating it is harmless; results that end together share one commit (FinishBatcher).
    let status: DeliveryStatus | undefined;
    try {
      status = await this.#record({
        id: row.id,
        owner: this.owner,
        decision,
        now,
        remoteId,
        error,
        attempt,
        rateKey: row.rate_key,
        ...(budgeted ? { hit: { at: this.#arrivalBound(row.rate_key!, error, now) } } : {}),
      });
    } finally {
      // Renewed until the result is written: a result waiting for the store keeps its delivery ours.
      if (renew) clearInterval(renew);
    }
    if (status === undefined) {
      // Our lease was taken over (the send outlived it); the reclaimer already decided.
      this.#o.onError?.(
        new DingTalkError('LEASE_LOST', `delivery ${row.id}: lease lost before the result was recorded`),
      );
      return;
    }
    this.#emit(
      this.#change({ ...row, attempts: decision.action === 'defer' ? attempt - 1 : attempt }, status, {
        decision,
        remoteId,
      }),
    );
  }

  /**
   * A row that does not read back as a Job (jobs.ts `readJob`): nothing can be sent for it, so it is a dead letter
   * with the reason, counted, and the loop goes on. Its budget hit is closed where it stands (nothing left).
   */
  async #unreadable(row: DeliveryRow, attempt: number, e: unknown): Promise<void> {
    this.#metrics?.unreadable(row.channel);
    const now = this.#now();
    const decision = this.#redactDecision(
      decide(e, { attempt, idempotent: false, now }, this.#policy, this.#random),
    );
    const budgeted = row.rate_key !== null && this.budgetFor(row.rate_key) !== undefined;
    const status = await this.#record({
      id: row.id,
      owner: this.owner,
      decision,
      now,
      error: e,
      attempt,
      rateKey: row.rate_key,
      ...(budgeted ? { hit: { at: 0 } } : {}),
    });
    if (status) this.#emit(this.#change({ ...row, attempts: attempt }, status, { decision }));
  }

  /**
   * Writes a send's result. The outcome is known (DingTalk answered, or did not), so an outage of the store must not
   * turn it into an unknown one: FinishBatcher rides out a brief one; past that, while the store is out (a full
   * disk, a dead database), the result is kept here and written again every second until it goes in. The lease
   * keeps being renewed meanwhile (when the store takes writes again, the lease is still ours or has just run out;
   * `reclaimExpired` leaves this process's waiting results alone). Only a stop gives up: then the lease runs out
   * and the delivery is judged as any dead worker's, an unknown outcome.
   */
  async #record(f: Parameters<FinishBatcher['finish']>[0]): Promise<DeliveryStatus | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#finisher.finish(f);
      } catch (e) {
        if (!isStoreUnavailable(e)) throw e;
        this.#o.onError?.(e);
        await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * attempt)));
        if (this.#closed) {
          throw new DingTalkError(
            'RESULT_NOT_RECORDED',
            `delivery ${f.id}: the dispatcher stopped while the store was out; its result (${f.decision.action}) was not recorded and its lease will run out`,
            { cause: e },
          );
        }
      }
    }
  }

  /**
   * Where a finished send's budget hit moves (limiter.ts `closeHits`). DingTalk counts the request when it arrives,
   * which is before its answer came back (`now`), however long it sat in a socket queue or a slow server. A send
   * that failed before anything left (`not_sent`) keeps its claim stamp (0: no move).
   */
  #arrivalBound(key: string, error: unknown, now: number): number {
    if (error instanceof DingTalkError && error.outcome === 'not_sent') return 0;
    if (!this.#stampArrival) return 0;
    return this.#arrivalStamp(key, now);
  }

  /**
   * The stamp of a hit whose request arrived by `now`. Its span is window + guard. On SQLite (one host, one clock)
   * the guard only covers the claim-to-send delay, which is over: `now - guard`, so the span ends at arrival bound
   * + window. On PostgreSQL the guard also covers clock skew between the hosts that share the budget,
   * which a completion stamped by one host's clock still needs: `now`, the guard kept whole. Either way a hit only
   * moves later (closeHits), so a fast send keeps its claim stamp.
   */
  #arrivalStamp(key: string, now: number): number {
    return this.#store.dialect === 'sqlite' ? now - this.guardFor(key) : now;
  }

  /** DingTalkErrors redact themselves; a plain Error from a sender may not, so every reason passes here. */
  #redactDecision(d: Decision): Decision {
    if (!('reason' in d)) return d;
    const r = this.#o.redactor;
    return { ...d, reason: r ? r.redact(d.reason) : redactByName(d.reason) };
  }

  #change(
    row: DeliveryRow,
    status: DeliveryStatus,
    x: { decision?: Decision; remoteId?: string | undefined },
  ): DeliveryChange {
    const d = x.decision;
    return {
      id: row.id,
      messageId: row.message_id,
      status,
      attempts: row.attempts,
      target: row.target,
      channel: row.channel,
      ...(d && 'reason' in d ? { lastError: d.reason } : {}),
      ...(d && (d.action === 'retry' || d.action === 'defer') ? { runAt: d.at } : {}),
      ...(x.remoteId !== undefined ? { remoteId: x.remoteId } : {}),
    };
  }

  #emit(c: DeliveryChange): void {
    this.#metrics?.record(c);
    this.#o.onChange?.(c);
    this.#o.events?.publish('delivery', { ...c });
  }
}
