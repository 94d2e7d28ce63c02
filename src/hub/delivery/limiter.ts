/**
 * The per-key sliding-window limiter kept in the store, so every hub process sharing the database spends one
 * budget (no robot over its cap across all processes).
 *
 * The window check and the hit insert happen in one transaction, serialised per key: on PostgreSQL by
 * `SELECT ... FOR UPDATE` on the key's row in `limiter_keys` (created on first use), on SQLite by the
 * single-writer transaction. Callers that take several keys in one transaction must lock them in sorted order
 * (`lockKeys` does) so two processes never wait on each other in a cycle.
 *
 * `guardMs` widens the window each hit occupies: a hit is recorded when a job is claimed, the send starts a
 * moment later, and the dispatcher never starts a send more than `guardMs` after its claim; so the sends of any
 * `windowMs` span come from hits of a `windowMs + guardMs` span, which holds at most `limit`.
 *
 * DingTalk counts a request when it *arrives*, and a started send can take a good part of a window to get there (a
 * socket queue, a slow connect, an event-loop stall, a slow server). So a dispatcher's hit is *open* while its send
 * may be in flight (it names the delivery, `delivery_id`): an open hit counts as live whatever its age (up to
 * `openMs`, see `lockKeys`). When the result is recorded the hit is closed and moved to the completion time (minus
 * the guard where one clock is shared; the dispatcher picks, dispatcher.ts `#arrivalStamp`) in the result's own
 * transaction (`closeHits`): the request arrived before it completed, so the hit's span, window + guard, ends no
 * earlier than arrival + window. A move only makes a hit later, which only makes later claims more conservative,
 * so it takes no key lock.
 */

import { sql } from 'kysely';
import type { AcquireResult, Budget, LimiterStore } from '../../core/rate-limiter.js';
import type { StoreDialect } from '../../store/dialect.js';
import type { Store, Tx } from '../../store/open-store.js';

export interface KeyState {
  key: string;
  penaltyUntil: number | null;
  /** Hit times inside the (guarded) window, oldest first. */
  hits: number[];
}

/**
 * Locks the keys' rows and reads their windows: three statements however many keys, because a claim looks at the
 * keys of dozens of candidates and a round trip per key made claiming the dispatcher's bottleneck (bench/hub).
 * Locks are taken in one global order (byte order of the key, `COLLATE "C"`, the same as sorting in JS for
 * these ASCII keys), so two processes never wait on each other in a cycle.
 */
export async function lockKeys(
  tx: Tx,
  dialect: StoreDialect,
  keys: Iterable<string>,
  now: number,
  spanMs: (key: string) => number,
  openMs = Number.POSITIVE_INFINITY,
): Promise<Map<string, KeyState>> {
  const out = new Map<string, KeyState>();
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return out;
  await tx
    .insertInto('limiter_keys')
    .values(sorted.map((key) => ({ key, penalty_until: null })))
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  let q = tx.selectFrom('limiter_keys').select(['key', 'penalty_until']).where('key', 'in', sorted);
  // PostgreSQL locks the rows as the sorted scan returns them.
  if (dialect === 'postgres') q = q.orderBy(sql`key collate "C"`).forUpdate();
  const rows = await q.execute();
  const floors = new Map(sorted.map((k) => [k, now - spanMs(k)]));
  const hits = await tx
    .selectFrom('limiter_hits')
    .select(['key', 'at', 'delivery_id'])
    .where('key', 'in', sorted)
    .where((eb) => eb.or([eb('at', '>', Math.min(...floors.values())), eb('delivery_id', 'is not', null)]))
    .orderBy('at')
    .execute();
  for (const key of sorted) out.set(key, { key, penaltyUntil: null, hits: [] });
  for (const r of rows) out.get(r.key)!.penaltyUntil = r.penalty_until ?? null;
  let reordered = false;
  for (const h of hits) {
    const t = liveStamp(h, floors.get(h.key)!, now, openMs);
    if (t === undefined) continue;
    out.get(h.key)!.hits.push(t);
    reordered ||= t !== h.at;
  }
  if (reordered) for (const s of out.values()) s.hits.sort((a, b) => a - b);
  return out;
}

/**
 * The time a hit counts from at `now`, or undefined if it is out of the window (its stamp at or below `floor`).
 * An open hit older than the window counts as taken now: its send may still be in flight, so it frees no earlier
 * than a span from now (a claim that finds its key full comes back then and looks again). `openMs` bounds how long
 * a hit can stay open beyond its window: a send ends by its timeout, which the hub keeps below the lease, and a
 * dead worker's hit is closed when its lease is reclaimed; an open hit older than that was left behind.
 */
function liveStamp(
  h: { at: number; delivery_id: number | null },
  floor: number,
  now: number,
  openMs: number,
): number | undefined {
  if (h.at > floor) return h.at;
  if (h.delivery_id !== null && h.at > floor - openMs) return now;
  return undefined;
}

/**
 * Whether `state` has room at `now`; if not, when it will. `spanMs` = windowMs + guardMs.
 * A hit at time t occupies the window until t + spanMs.
 */
export function check(state: KeyState, budget: Budget, spanMs: number, now: number): AcquireResult {
  if (state.penaltyUntil !== null && state.penaltyUntil > now)
    return { ok: false, retryAt: state.penaltyUntil };
  const live = state.hits.filter((t) => t > now - spanMs);
  if (live.length < budget.limit) return { ok: true };
  // The slot frees when the oldest hit that keeps us at the limit leaves the window.
  return { ok: false, retryAt: live[live.length - budget.limit]! + spanMs + 1 };
}

export async function recordHit(tx: Tx, state: KeyState, now: number, spanMs: number): Promise<void> {
  state.hits.push(now);
  await recordHits(tx, [{ state, spanMs }], now);
}

/**
 * Writes one hit per entry at `now` (a claim's hits, in one insert; the caller has counted them in its states),
 * open for the entry's delivery if it names one, and prunes the keys' old closed hits while they are locked, so
 * the table stays at about `limit` rows per key.
 */
export async function recordHits(
  tx: Tx,
  hits: ReadonlyArray<{ state: KeyState; spanMs: number; deliveryId?: number | undefined }>,
  now: number,
): Promise<void> {
  if (hits.length === 0) return;
  await tx
    .insertInto('limiter_hits')
    .values(hits.map((h) => ({ key: h.state.key, at: now, delivery_id: h.deliveryId ?? null })))
    .execute();
  const bySpan = new Map<number, Set<string>>();
  for (const h of hits) {
    bySpan.set(h.spanMs, (bySpan.get(h.spanMs) ?? new Set()).add(h.state.key));
  }
  for (const [span, keys] of bySpan) {
    await tx
      .deleteFrom('limiter_hits')
      .where('key', 'in', [...keys])
      .where('at', '<=', now - span)
      .where('delivery_id', 'is', null)
      .execute();
  }
}

/**
 * Closes the open hits of these deliveries (their results are being recorded, or they were given back unsent)
 * and moves each to its `at` if that is later than its stamp: one statement for the lot. Pass the completion time
 * (less the guard on one clock) for a request that may have left, so the hit's span covers its arrival (see the
 * file comment); pass 0 to close without moving.
 */
export async function closeHits(
  tx: Tx | Store['db'],
  hits: ReadonlyArray<{ deliveryId: number; at: number }>,
): Promise<void> {
  if (hits.length === 0) return;
  const moves = hits.filter((h) => h.at > 0);
  const at =
    moves.length === 0
      ? sql<number>`at`
      : sql<number>`case ${sql.join(
          moves.map((h) => sql`when delivery_id = ${h.deliveryId} and at < ${h.at} then ${h.at}`),
          sql` `,
        )} else at end`;
  await tx
    .updateTable('limiter_hits')
    .set({ at, delivery_id: null })
    .where(
      'delivery_id',
      'in',
      hits.map((h) => h.deliveryId),
    )
    .execute();
}

/**
 * For a claim whose send could not start within the guard (a stalled event loop, a slow commit): moves the
 * delivery's open hit to `now` if the window, without that hit, still has room at `now`, so the send may start now
 * (the hit stays open). If it has not, the hit is given back (nothing will be sent for it) and the result says
 * when the key frees.
 */
export async function restampHit(
  store: Store,
  key: string,
  deliveryId: number,
  now: number,
  budget: Budget,
  spanMs: number,
  openMs = Number.POSITIVE_INFINITY,
): Promise<AcquireResult> {
  return store.transaction(async (tx) => {
    const state = (await lockKeys(tx, store.dialect, [key], now, () => spanMs, openMs)).get(key)!;
    const own = await tx
      .selectFrom('limiter_hits')
      .select(['id', 'at', 'delivery_id'])
      .where('delivery_id', '=', deliveryId)
      .where('key', '=', key)
      .limit(1)
      .executeTakeFirst();
    if (own) {
      const counted = liveStamp(own, now - spanMs, now, openMs);
      const i = counted === undefined ? -1 : state.hits.indexOf(counted);
      if (i >= 0) state.hits.splice(i, 1);
    }
    const r = check(state, budget, spanMs, now);
    if (own && r.ok) await tx.updateTable('limiter_hits').set({ at: now }).where('id', '=', own.id).execute();
    else if (own) await tx.deleteFrom('limiter_hits').where('id', '=', own.id).execute();
    else if (r.ok) {
      state.hits.push(now);
      await recordHits(tx, [{ state, spanMs, deliveryId }], now);
    }
    return r;
  });
}

/** Extends the key's penalty to `until` (never shortens it). */
export async function penalize(tx: Tx | Store['db'], key: string, until: number): Promise<void> {
  await tx
    .insertInto('limiter_keys')
    .values({ key, penalty_until: until })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        penalty_until: eb
          .case()
          .when('limiter_keys.penalty_until', 'is', null)
          .then(until)
          .when('limiter_keys.penalty_until', '<', until)
          .then(until)
          .else(eb.ref('limiter_keys.penalty_until'))
          .end(),
      })),
    )
    .execute();
}

/**
 * The core limiter's `LimiterStore` over the store (src/core/rate-limiter.ts), for clients that call DingTalk
 * directly from several processes (the dispatcher uses the same functions inside its claim transaction).
 */
export class StoreLimiterStore implements LimiterStore {
  readonly #store: Store;
  readonly #guardMs: number;

  /** @param o.guardMs extra span each hit occupies (see the file comment). @default 0 */
  constructor(store: Store, o: { guardMs?: number } = {}) {
    this.#store = store;
    this.#guardMs = o.guardMs ?? 0;
  }

  acquire(key: string, budget: Budget, now: number): Promise<AcquireResult> {
    const span = budget.windowMs + this.#guardMs;
    return this.#store.transaction(async (tx) => {
      const state = (await lockKeys(tx, this.#store.dialect, [key], now, () => span)).get(key)!;
      const r = check(state, budget, span, now);
      if (r.ok) await recordHit(tx, state, now, span);
      return r;
    });
  }

  async penalize(key: string, until: number): Promise<void> {
    await penalize(this.#store.db, key, until);
  }
}
