/**
 * The queue operations the dispatcher runs on `deliveries`: claim with a lease, mark started, finish with the
 * delivery policy's decision, release, and reclaim expired leases. Kept apart from the dispatcher's loop so the
 * SQL can be read (and tested) on its own.
 *
 * Claiming is one transaction that also spends the robots' budgets (limiter.ts): a job is claimed only if its
 * rate key has room now; the other queued jobs of a full or penalised key are moved to the time the key frees,
 * so no worker polls them in vain. PostgreSQL picks candidates with `FOR UPDATE SKIP LOCKED`, so several hub
 * processes claim disjoint jobs without waiting on each other; SQLite's claim is a single-writer transaction.
 *
 * Lease states: `sending` + `started_at` null = claimed, not yet sent: safe to hand to someone else. `sending` +
 * `started_at` set = the request may have reached DingTalk: when such a lease expires (the worker died), the
 * outcome is unknown, and the policy decides (park in `hold` mode: no duplicate; retry in `retry` mode or for
 * idempotent endpoints).
 */

import { sql } from 'kysely';
import { type DingTalkError, isDingTalkError, isRateLimitedError } from '../../core/errors.js';
import type { Budget } from '../../core/rate-limiter.js';
import type { Store, Tx } from '../../store/open-store.js';
import type { DeliveryRow, DeliveryStatus } from '../../store/schema.js';
import { check, closeHits, type KeyState, lockKeys, penalize, recordHits } from './limiter.js';
import type { Decision } from './policy.js';

/** Statuses that hold back later jobs of the same order key (a parked head blocks its key until redriven). */
const ORDER_BLOCKING: DeliveryStatus[] = ['queued', 'sending', 'parked'];

export interface ClaimOptions {
  owner: string;
  limit: number;
  now: number;
  /**
   * Read once more when the claim is about to be written: the claim and its budget hits are stamped then, not
   * at `now`, so a slow claim transaction does not eat into the time its sends have to start (`guardMs`). A
   * window that had room at `now` still has room later. @default () => now
   */
  clock?: (() => number) | undefined;
  leaseMs: number;
  /** Budget of a rate key, or undefined for none. */
  budgetFor: (rateKey: string) => Budget | undefined;
  /** Extra span per hit of a key (limiter.ts), or one value for all keys. */
  guardMs: number | ((rateKey: string) => number);
  /** Candidates read per claimed slot, to look past jobs whose key has no budget. @default 4 */
  overfetch?: number;
  /**
   * Mark idempotent jobs started (attempt counted) in the claim itself, for a caller that starts their sends at
   * once. @default false
   */
  startIdempotent?: boolean;
}

export interface ClaimResult {
  claimed: DeliveryRow[];
  /** Keys found full or penalised, with the time they free (metrics: throttles). */
  throttled: Array<{ key: string; until: number; penalty: boolean }>;
}

/** PostgreSQL deadlock / serialization failures: the transaction did nothing and can run again. */
function isRetryableTxError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Runs `fn` again when PostgreSQL reports a deadlock or serialization failure (the transaction did nothing), up to
 * `attempts` times; with `any`, after any error (for idempotent writes that must outlive a brief outage), with
 * a doubling pause from 50 ms.
 */
export async function withTxRetry<T>(
  fn: () => Promise<T>,
  o: { attempts?: number; any?: boolean } | number = {},
): Promise<T> {
  const opts = typeof o === 'number' ? { attempts: o } : o;
  const attempts = opts.attempts ?? 5;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !(opts.any || isRetryableTxError(e))) throw e;
      const pause = opts.any ? 50 * 2 ** (i - 1) : Math.random() * 10 * i;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

export function claimDue(store: Store, o: ClaimOptions): Promise<ClaimResult> {
  return withTxRetry(() => store.transaction((tx) => claimIn(tx, store, o)));
}

async function claimIn(tx: Tx, store: Store, o: ClaimOptions): Promise<ClaimResult> {
  const { now } = o;
  if (store.dialect === 'postgres') {
    // The candidate query must walk `deliveries_claim_idx` (status, run_at) in order and stop at `limit` heads.
    // When the statistics say few rows are queued (a fresh table, or a burst on a table of mostly sent history,
    // until autovacuum re-analyses it), the planner prefers a bitmap scan of every queued row and a sort, which
    // runs the order-key check once per queued row: O(backlog) per claim, 7-13 ms at 3,000 queued on the bench
    // machine and the dispatcher's bottleneck (bench/hub; 0.3 ms with the index walk). For this transaction only;
    // the ORDER BY below matches the index for the same reason.
    await sql`set local enable_bitmapscan = off`.execute(tx);
  }
  let q = tx
    .selectFrom('deliveries as d')
    .selectAll('d')
    .where('d.status', '=', 'queued')
    .where('d.run_at', '<=', now)
    .where((eb) =>
      eb.or([
        eb('d.order_key', 'is', null),
        eb.not(
          eb.exists(
            eb
              .selectFrom('deliveries as e')
              .select('e.id')
              .whereRef('e.order_key', '=', 'd.order_key')
              .whereRef('e.id', '<', 'd.id')
              .where('e.status', 'in', ORDER_BLOCKING),
          ),
        ),
      ]),
    )
    .orderBy('d.run_at')
    .limit(o.limit * (o.overfetch ?? 4));
  // Ties of run_at by id on SQLite; PostgreSQL's index walk returns them in insertion (heap) order, close to id
  // order, and a sort on id would make it read every queued row first. Either way, the order within one order
  // key is enforced by the check above, not by this sort.
  if (store.dialect === 'postgres') q = q.forUpdate('d').skipLocked();
  else q = q.orderBy('d.id');
  const candidates = await q.execute();
  if (candidates.length === 0) return { claimed: [], throttled: [] };

  const guard = typeof o.guardMs === 'number' ? () => o.guardMs as number : o.guardMs;
  const span = (key: string) => (o.budgetFor(key)?.windowMs ?? 0) + guard(key);
  // PostgreSQL: every candidate key is locked up front, in sorted order, so two processes never wait on each other
  // in a cycle. SQLite's claim is a single-writer transaction with no row locks: keys are read as the walk below
  // reaches them, a few at a time (the next ones it can take, see `ahead`), so a claim of a few jobs reads a few
  // keys, not every key among the candidates, and a claim of many reads them in a few statements, not three each.
  const limited = candidates
    .map((c) => c.rate_key)
    .filter((k): k is string => k !== null && o.budgetFor(k) !== undefined);
  const states =
    store.dialect === 'postgres'
      ? await lockKeys(tx, store.dialect, limited, now, span, o.leaseMs)
      : new Map<string, KeyState>();

  const take: DeliveryRow[] = [];
  const hits: Array<{ state: KeyState; spanMs: number; deliveryId: number }> = [];
  const blocked = new Map<string, { until: number; penalty: boolean }>();
  for (const [i, c] of candidates.entries()) {
    if (take.length >= o.limit) break;
    const key = c.rate_key;
    const budget = key === null ? undefined : o.budgetFor(key);
    if (key === null || budget === undefined) {
      take.push(c);
      continue;
    }
    if (blocked.has(key)) continue;
    let state = states.get(key);
    if (!state) {
      const keys = ahead(candidates, i, o.limit - take.length, states, o.budgetFor);
      for (const [k, s] of await lockKeys(tx, store.dialect, keys, now, span, o.leaseMs)) states.set(k, s);
      state = states.get(key)!;
    }
    const r = check(state, budget, span(key), now);
    if (r.ok) {
      // Counted now, so the next candidate of this key sees it; written below with the others in one insert, at
      // the claim's stamp, open until the job's result is recorded (limiter.ts).
      state.hits.push(now);
      hits.push({ state, spanMs: span(key), deliveryId: c.id });
      take.push(c);
    } else {
      blocked.set(key, {
        until: r.retryAt,
        penalty: state.penaltyUntil !== null && state.penaltyUntil >= r.retryAt,
      });
    }
  }

  const at = Math.max(now, o.clock?.() ?? now);
  await recordHits(tx, hits, at);
  // A key filled by this very claim frees that much later: its new hits are stamped `at`, not `now`.
  const filled = new Set(hits.map((h) => h.state.key));
  for (const [key, b] of blocked) if (filled.has(key) && !b.penalty) b.until += at - now;

  // Move the blocked keys' waiting jobs to when the key frees: they are not looked at again before then.
  for (const [key, b] of blocked) {
    let sub = tx
      .selectFrom('deliveries')
      .select('id')
      .where('rate_key', '=', key)
      .where('status', '=', 'queued')
      .where('run_at', '<', b.until);
    if (store.dialect === 'postgres') sub = sub.forUpdate().skipLocked();
    const ids = (await sub.execute()).map((r) => r.id);
    if (ids.length > 0) {
      await tx.updateTable('deliveries').set({ run_at: b.until }).where('id', 'in', ids).execute();
    }
  }

  if (take.length === 0) {
    return { claimed: [], throttled: [...blocked].map(([key, b]) => ({ key, ...b })) };
  }
  // An idempotent job (the endpoint dedupes on our key) is marked started by its claim: if the process dies before
  // the request leaves, its unknown outcome is retried, which is what a requeue would do, so it saves the
  // separate "started" commit. Any other job is marked started just before its send (`markStartedMany`).
  const claimed = await tx
    .updateTable('deliveries')
    .set((eb) => ({
      status: 'sending',
      lease_owner: o.owner,
      lease_until: at + o.leaseMs,
      updated_at: at,
      ...(o.startIdempotent
        ? {
            started_at: eb.case().when('idempotent', '=', 1).then(at).else(null).end(),
            attempts: eb
              .case()
              .when('idempotent', '=', 1)
              .then(eb('attempts', '+', 1))
              .else(eb.ref('attempts'))
              .end(),
          }
        : { started_at: null }),
    }))
    .where(
      'id',
      'in',
      take.map((t) => t.id),
    )
    .returningAll()
    .execute();
  claimed.sort((a, b) => a.run_at - b.run_at || a.id - b.id);
  return { claimed, throttled: [...blocked].map(([key, b]) => ({ key, ...b })) };
}

/**
 * The budgeted keys not read yet among the candidates from `from` on, in walk order, at most `slots` of them (the
 * jobs the claim can still take): the key at `from` first.
 */
function ahead(
  candidates: readonly DeliveryRow[],
  from: number,
  slots: number,
  known: ReadonlyMap<string, KeyState>,
  budgetFor: (rateKey: string) => Budget | undefined,
): string[] {
  const keys = new Set<string>();
  for (let j = from; j < candidates.length && keys.size < Math.max(1, slots); j++) {
    const k = candidates[j]!.rate_key;
    if (k !== null && !known.has(k) && budgetFor(k) !== undefined) keys.add(k);
  }
  return [...keys];
}

/** Marks a claimed job as talking to DingTalk now and counts the attempt. False if the lease was lost. */
export async function markStarted(store: Store, id: number, owner: string, now: number): Promise<boolean> {
  const r = await store.db
    .updateTable('deliveries')
    .set((eb) => ({ started_at: now, attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sending')
    .where('started_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * `markStarted` for a claimed batch in one statement (one commit instead of one per job): the dispatcher marks the
 * jobs it is about to send together. Returns the ids that were still ours.
 */
export async function markStartedMany(
  store: Store,
  ids: readonly number[],
  owner: string,
  now: number,
): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await store.db
    .updateTable('deliveries')
    .set((eb) => ({ started_at: now, attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('id', 'in', [...ids])
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sending')
    .where('started_at', 'is', null)
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Extends a held lease (a long send); false if it is no longer ours. */
export async function renewLease(store: Store, id: number, owner: string, until: number): Promise<boolean> {
  const r = await store.db
    .updateTable('deliveries')
    .set({ lease_until: until })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Gives back claimed jobs that were not started (graceful stop). Returns how many. */
export async function release(
  store: Store,
  ids: readonly number[],
  owner: string,
  now: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  return store.transaction(async (tx) => {
    const rows = await tx
      .updateTable('deliveries')
      .set({ status: 'queued', lease_owner: null, lease_until: null, updated_at: now })
      .where('id', 'in', [...ids])
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .where('started_at', 'is', null)
      .returning('id')
      .execute();
    // Nothing was sent for them: their budget hits are closed where they stand.
    await closeHits(
      tx,
      rows.map((r) => ({ deliveryId: r.id, at: 0 })),
    );
    return rows.length;
  });
}

export interface FinishInput {
  id: number;
  /** Fence: the update applies only while this owner still holds the lease. Null for reclaims. */
  owner: string | null;
  decision: Decision;
  now: number;
  remoteId?: string | undefined;
  /** The failure, for throttle penalties and the attempt's evidence (its code and outcome). */
  error?: unknown;
  /**
   * The attempt this result is (1-based). With a failure that is retried, parked or dead-lettered, one
   * `delivery_attempts` row records it (the evidence operators read, evidence.ts). @default the row's count
   */
  attempt?: number | undefined;
  rateKey: string | null;
  /**
   * Close the job's open budget hit (limiter.ts `closeHits`), moving it to `at` if that is later: the completion
   * time (less the guard on one clock) when the request may have left, 0 when it did not. FinishBatcher writes it in the
   * result's transaction; `finish` alone does not touch hits.
   */
  hit?: { at: number } | undefined;
}

/** Applies a policy decision to a job. Returns the new status, or undefined if the lease was lost. */
export async function finish(tx: Tx | Store['db'], f: FinishInput): Promise<DeliveryStatus | undefined> {
  const { decision: d, now } = f;
  let q = tx
    .updateTable('deliveries')
    .set({ lease_owner: null, lease_until: null, started_at: null, updated_at: now })
    .where('id', '=', f.id)
    .where('status', '=', 'sending');
  if (f.owner !== null) q = q.where('lease_owner', '=', f.owner);
  let status: DeliveryStatus;
  switch (d.action) {
    case 'complete':
      status = 'sent';
      q = q.set({ status, remote_id: f.remoteId ?? null, finished_at: now });
      break;
    case 'defer':
      // A throttle is a refusal: nothing was sent, so it does not count as an attempt.
      status = 'queued';
      q = q.set((eb) => ({ status, run_at: d.at, last_error: d.reason, attempts: eb('attempts', '-', 1) }));
      break;
    case 'retry':
      status = 'queued';
      q = q.set({ status, run_at: d.at, last_error: d.reason });
      break;
    case 'park':
      status = 'parked';
      q = q.set({ status, last_error: d.reason });
      break;
    case 'dead':
      status = 'dead';
      q = q.set({ status, last_error: d.reason, finished_at: now });
      break;
  }
  const r = await q.executeTakeFirst();
  if (r.numUpdatedRows === 0n) return undefined;
  if (recordsAttempt(d)) await recordAttempt(tx, f, d);
  // DingTalk's throttle (e.g. robot 130101: blocked 10 minutes, docs/dingtalk.md §2.6) blocks this key only.
  if (d.action === 'defer' && f.rateKey !== null && isRateLimitedError(f.error)) {
    const e = f.error as DingTalkError & { scope: string };
    if (e.scope !== 'local' && e.scope !== 'ip') await penalize(tx, f.rateKey, d.at);
  }
  return status;
}

/**
 * Whether a decision leaves evidence in `delivery_attempts`: an attempt that was made and failed. A success writes
 * nothing (the send path pays nothing for the evidence); neither does a throttle's deferral, which is not an attempt
 * (nothing was done, policy.ts).
 */
export function recordsAttempt(d: Decision): d is Extract<Decision, { action: 'retry' | 'park' | 'dead' }> {
  return d.action === 'retry' || d.action === 'park' || d.action === 'dead';
}

async function recordAttempt(
  tx: Tx | Store['db'],
  f: FinishInput,
  d: Extract<Decision, { action: 'retry' | 'park' | 'dead' }>,
): Promise<void> {
  const e = f.error as { code?: unknown; outcome?: unknown } | null | undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 64) : null);
  await tx
    .insertInto('delivery_attempts')
    .values((eb) => ({
      delivery_id: f.id,
      // The row's own count unless told: the update above does not change it.
      attempt: f.attempt ?? eb.selectFrom('deliveries').select('attempts').where('id', '=', f.id).limit(1),
      at: f.now,
      action: d.action,
      code: isDingTalkError(f.error) ? text(e?.code) : null,
      outcome: isDingTalkError(f.error) ? text(e?.outcome) : null,
      // Already redacted by the dispatcher (`#redactDecision`).
      reason: d.reason,
    }))
    .execute();
}

/**
 * `finish` for sends that completed (decision `complete`), all under one lease owner, in one statement: the common
 * case of a batch of results, one UPDATE instead of one per job. Each row keeps its own completion time and remote
 * id, and is fenced by the lease exactly as `finish` fences it. Returns the ids that were still ours.
 */
async function completeMany(tx: Tx, owner: string, fs: readonly FinishInput[]): Promise<Set<number>> {
  const stamp = sql<number>`case ${sql.ref('id')} ${sql.join(
    fs.map((f) => sql`when ${f.id} then cast(${f.now} as bigint)`),
    sql` `,
  )} end`;
  const remote = sql<string | null>`case ${sql.ref('id')} ${sql.join(
    fs.map((f) => sql`when ${f.id} then ${f.remoteId ?? null}`),
    sql` `,
  )} end`;
  const rows = await tx
    .updateTable('deliveries')
    .set({
      status: 'sent',
      lease_owner: null,
      lease_until: null,
      started_at: null,
      updated_at: stamp,
      finished_at: stamp,
      remote_id: remote,
    })
    .where(
      'id',
      'in',
      fs.map((f) => f.id),
    )
    .where('status', '=', 'sending')
    .where('lease_owner', '=', owner)
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * Group commit for `finish`: results that come in during one turn of the event loop, or while a commit is running,
 * go together in one transaction, so sends that end together cost one commit (one fsync on SQLite, one round of locks on
 * PostgreSQL) instead of one each. Every update stays fenced by its own lease, exactly as `finish` alone; a batch
 * that fails is retried whole through a brief outage (`withTxRetry` with `any`: repeating a fenced update is
 * harmless), and its callers see the error only if that fails too.
 */
export class FinishBatcher {
  readonly #store: Store;
  readonly #maxBatch: number;
  readonly #queue: Array<{
    f: FinishInput;
    resolve: (s: DeliveryStatus | undefined) => void;
    reject: (e: unknown) => void;
  }> = [];
  #flushing = false;
  #batches = 0;

  constructor(store: Store, o: { maxBatch?: number } = {}) {
    this.#store = store;
    this.#maxBatch = Math.max(1, o.maxBatch ?? 64);
  }

  /** Batches written so far (each one statement or one transaction). */
  get batches(): number {
    return this.#batches;
  }

  finish(f: FinishInput): Promise<DeliveryStatus | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ f, resolve, reject });
      if (this.#flushing) return;
      this.#flushing = true;
      // Flush on the next turn of the event loop: the results of every send answered in this turn go together.
      // (better-sqlite3 blocks while it commits, so nothing could queue up during a commit itself.)
      setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        this.#batches++;
        try {
          // One result alone is one autocommit statement; several share a transaction (`db.transaction()`, the
          // same `BEGIN IMMEDIATE` section as `store.transaction` on SQLite).
          // A budgeted job's open hit is closed in the same transaction, after the results, for those whose lease
          // still held (a lost lease's hit was closed by the reclaim that took it over): one more statement.
          // A failure that leaves evidence is two statements (the result and its attempt row): a transaction too.
          const several = batch.some((b) => b.f.hit !== undefined || recordsAttempt(b.f.decision));
          const out = await withTxRetry(
            async () =>
              batch.length === 1 && !several
                ? [await finish(this.#store.db, batch[0]!.f)]
                : this.#store.db.transaction().execute(async (tx) => {
                    const statuses: Array<DeliveryStatus | undefined> = [];
                    // Completed sends under one owner (nearly all of a healthy batch) go in one statement.
                    const owner = batch[0]!.f.owner;
                    const done = batch.filter(
                      (b) => b.f.decision.action === 'complete' && b.f.owner === owner,
                    );
                    const ours =
                      owner !== null && done.length > 1
                        ? await completeMany(
                            tx,
                            owner,
                            done.map((b) => b.f),
                          )
                        : undefined;
                    for (const b of batch) {
                      if (ours && b.f.decision.action === 'complete' && b.f.owner === owner) {
                        statuses.push(ours.has(b.f.id) ? 'sent' : undefined);
                      } else statuses.push(await finish(tx, b.f));
                    }
                    await closeHits(
                      tx,
                      batch.flatMap((b, i) =>
                        b.f.hit && statuses[i] !== undefined ? [{ deliveryId: b.f.id, at: b.f.hit.at }] : [],
                      ),
                    );
                    return statuses;
                  }),
            { attempts: 6, any: true },
          );
          for (const [i, b] of batch.entries()) b.resolve(out[i]);
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/** Jobs whose lease ran out (their worker died or hung), oldest first, locked for this transaction. */
export async function expiredLeases(
  tx: Tx,
  store: Store,
  now: number,
  limit: number,
): Promise<DeliveryRow[]> {
  let q = tx
    .selectFrom('deliveries')
    .selectAll()
    .where('status', '=', 'sending')
    .where('lease_until', '<', now)
    .orderBy('lease_until')
    .limit(limit);
  if (store.dialect === 'postgres') q = q.forUpdate().skipLocked();
  return q.execute();
}

/** Hands a claimed-but-not-started job back to the queue (no attempt was made) and closes its budget hit. */
export async function requeueUnstarted(tx: Tx, id: number, now: number): Promise<void> {
  const r = await tx
    .updateTable('deliveries')
    .set({ status: 'queued', lease_owner: null, lease_until: null, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .where('started_at', 'is', null)
    .executeTakeFirst();
  if (r.numUpdatedRows > 0n) await closeHits(tx, [{ deliveryId: id, at: 0 }]);
}
