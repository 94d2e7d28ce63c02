/**
 * The store side of send results: enrolling sent deliveries for questions, claiming due questions under a lease
 * (so of several hub processes only one asks about a delivery at a time), and reading the recorded outcomes.
 * The checker (checker.ts) drives these; the API reads through `recipientsOf` / `recipientSummaries`.
 */

import type { Store, Tx } from '../../store/open-store.js';
import type { RecipientOutcome, SendChecksTable } from '../../store/schema.js';
import { parseJobPayload } from '../delivery/jobs.js';

export type CheckKind = 'notice' | 'oto' | 'group' | 'none';

export type CheckRow = SendChecksTable;

export interface Candidate {
  deliveryId: number;
  kind: CheckKind;
  app: string;
  handle: string;
  conversation: string | null;
  userIds: string[];
  sentAt: number;
}

/** What a sent delivery's payload says about its result: which question, to whom (jobs.ts payloads). */
export function candidateOf(row: {
  id: number;
  payload: string;
  remote_id: string | null;
  finished_at: number | null;
}): Candidate {
  const base = { deliveryId: row.id, handle: row.remote_id ?? '', sentAt: Number(row.finished_at ?? 0) };
  let p: ReturnType<typeof parseJobPayload>;
  try {
    p = parseJobPayload(row.payload);
  } catch {
    return { ...base, kind: 'none', app: '', conversation: null, userIds: [] };
  }
  switch (p.t) {
    case 'notice':
      return { ...base, kind: 'notice', app: p.app, conversation: null, userIds: p.userIds };
    case 'oto':
      return { ...base, kind: 'oto', app: p.app, conversation: null, userIds: p.userIds };
    case 'group':
      return { ...base, kind: 'group', app: p.app, conversation: p.openConversationId, userIds: [] };
    default:
      // A Todo's id is a handle too, but there is no send result to ask for: enrolled as done.
      return { ...base, kind: 'none', app: 'app' in p ? p.app : '', conversation: null, userIds: [] };
  }
}

/**
 * Sent deliveries finished since `since` that carry a handle and have no check yet (the partial index of migration
 * 007). Each becomes one `send_checks` row (`none` ones born done, so they are not found again) and, for the
 * kinds with named recipients, one `pending` recipient row each. Idempotent: several processes may enrol the same
 * delivery, the first insert wins.
 */
export async function enroll(
  store: Store,
  o: { since: number; now: number; limit: number; dueAt: (c: Candidate) => number; groupReads: boolean },
): Promise<Candidate[]> {
  const rows = await store.db
    .selectFrom('deliveries')
    .leftJoin('send_checks', 'send_checks.delivery_id', 'deliveries.id')
    .select(['deliveries.id', 'deliveries.payload', 'deliveries.remote_id', 'deliveries.finished_at'])
    .where('deliveries.status', '=', 'sent')
    .where('deliveries.remote_id', 'is not', null)
    .where('deliveries.channel', 'in', ['notice', 'app'])
    .where('deliveries.finished_at', '>=', o.since)
    .where('send_checks.delivery_id', 'is', null)
    .orderBy('deliveries.finished_at')
    .limit(o.limit)
    .execute();
  if (rows.length === 0) return [];
  const found = rows.map(candidateOf);
  await store.transaction(async (tx) => {
    await tx
      .insertInto('send_checks')
      .values(
        found.map((c) => {
          const none = c.kind === 'none' || (c.kind === 'group' && !o.groupReads);
          return {
            delivery_id: c.deliveryId,
            kind: c.kind,
            app: c.app,
            handle: c.handle,
            conversation: c.conversation,
            sent_at: c.sentAt,
            due_at: none ? o.now : o.dueAt(c),
            checks: 0,
            done_at: none ? o.now : null,
          };
        }),
      )
      .onConflict((oc) => oc.column('delivery_id').doNothing())
      .execute();
    const people = found.flatMap((c) =>
      c.kind === 'notice' || c.kind === 'oto'
        ? [...new Set(c.userIds)].map((user_id) => ({
            delivery_id: c.deliveryId,
            user_id,
            outcome: 'pending' as const,
            updated_at: o.now,
          }))
        : [],
    );
    if (people.length > 0) {
      await tx
        .insertInto('delivery_recipients')
        .values(people)
        .onConflict((oc) => oc.columns(['delivery_id', 'user_id']).doNothing())
        .execute();
    }
  });
  return found;
}

/**
 * Takes up to `limit` due questions for `owner` until `now + leaseMs`. One statement: the outer conditions are
 * checked again on each row as it is updated (PostgreSQL re-reads a row another transaction just changed; SQLite
 * has one writer), so two processes never both take a row whose lease is live.
 */
export async function claimDue(
  store: Store,
  o: { owner: string; now: number; leaseMs: number; limit: number },
): Promise<CheckRow[]> {
  const free = (q: typeof base) =>
    q
      .where('done_at', 'is', null)
      .where('due_at', '<=', o.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', o.now)]));
  const base = store.db.selectFrom('send_checks');
  let due = free(base).select('delivery_id').orderBy('due_at').limit(o.limit);
  if (store.dialect === 'postgres') due = due.forUpdate().skipLocked();
  return store.db
    .updateTable('send_checks')
    .set({ lease_owner: o.owner, lease_until: o.now + o.leaseMs })
    .where('delivery_id', 'in', due)
    .where('done_at', 'is', null)
    .where('due_at', '<=', o.now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', o.now)]))
    .returningAll()
    .execute();
}

/** Recorded outcomes of a delivery, keyed by userId. */
export async function currentOutcomes(
  tx: Tx | Store['db'],
  deliveryId: number,
): Promise<Map<string, { outcome: RecipientOutcome; fallbackAt: number | null }>> {
  const rows = await tx
    .selectFrom('delivery_recipients')
    .select(['user_id', 'outcome', 'fallback_at'])
    .where('delivery_id', '=', deliveryId)
    .execute();
  return new Map(rows.map((r) => [r.user_id, { outcome: r.outcome, fallbackAt: r.fallback_at }]));
}

/** Ends this owner's lease with the next question at `dueAt` (or none: `done`). False if the lease was lost. */
export async function settleCheck(
  tx: Tx | Store['db'],
  o: {
    deliveryId: number;
    owner: string;
    now: number;
    next: number | undefined;
    asked: boolean;
    error?: string | undefined;
  },
): Promise<boolean> {
  const r = await tx
    .updateTable('send_checks')
    .set((eb) => ({
      lease_owner: null,
      lease_until: null,
      checks: o.asked ? eb('checks', '+', 1) : eb.ref('checks'),
      due_at: o.next ?? o.now,
      done_at: o.next === undefined ? o.now : null,
      last_error: o.error ?? null,
    }))
    .where('delivery_id', '=', o.deliveryId)
    .where('lease_owner', '=', o.owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface RecipientView {
  userId: string;
  outcome: RecipientOutcome;
  reasonCode?: string | undefined;
  reason?: string | undefined;
  updatedAt: number;
  /** The delivery that carried the fallback for this drop. */
  fallbackDeliveryId?: number | undefined;
}

export async function recipientsOf(db: Store['db'], deliveryId: number): Promise<RecipientView[]> {
  const rows = await db
    .selectFrom('delivery_recipients')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('user_id')
    .execute();
  return rows.map((r) => ({
    userId: r.user_id,
    outcome: r.outcome,
    ...(r.reason_code !== null ? { reasonCode: r.reason_code } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    updatedAt: Number(r.updated_at),
    ...(r.fallback_delivery_id !== null ? { fallbackDeliveryId: Number(r.fallback_delivery_id) } : {}),
  }));
}

export type OutcomeCounts = Record<RecipientOutcome, number>;

/** Outcome counts per delivery, for a page of deliveries (one query). */
export async function recipientSummaries(
  db: Store['db'],
  ids: readonly number[],
): Promise<Map<number, OutcomeCounts>> {
  const out = new Map<number, OutcomeCounts>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('delivery_recipients')
    .select((eb) => ['delivery_id', 'outcome', eb.fn.countAll<number>().as('n')])
    .where('delivery_id', 'in', [...ids])
    .groupBy(['delivery_id', 'outcome'])
    .execute();
  for (const r of rows) {
    const id = Number(r.delivery_id);
    const c = out.get(id) ?? { pending: 0, delivered: 0, read: 0, dropped: 0 };
    c[r.outcome] = Number(r.n);
    out.set(id, c);
  }
  return out;
}

/** Ids of the most recent deliveries with at least one dropped recipient. */
export async function deliveriesWithDrops(db: Store['db'], limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('delivery_recipients')
    .select('delivery_id')
    .where('outcome', '=', 'dropped')
    .groupBy('delivery_id')
    .orderBy('delivery_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.delivery_id));
}

/** The check of a delivery, if it has one. */
export async function checkOf(db: Store['db'], deliveryId: number): Promise<CheckRow | undefined> {
  return db.selectFrom('send_checks').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
}
