/**
 * The gateway's rows (migration 010). `accept` is the intake: the request's dedupe row and its items in one
 * transaction, committed before the route answers 2xx. The flush side reads pending items and, in the
 * transaction that enqueues their outbox message, marks them done (fenced: only rows still `pending` move, and a
 * count that does not match rolls the whole transaction back, so two flushers can never both send an item).
 */

import { type Kysely, sql } from 'kysely';
import type { Store, Tx } from '../../store/open-store.js';
import type { Database, HookItemState } from '../../store/schema.js';
import type { HookItem } from './items.js';

export interface NewItem {
  target: string;
  item: HookItem;
  mentionAll: boolean;
  dueAt: number;
}

export interface PendingItem {
  id: number;
  route: string;
  target: string;
  item: HookItem;
  mentionAll: boolean;
  receivedAt: number;
}

export interface AlertState {
  status: string;
  messageId: string | null;
  postedAt: number | null;
  flaps: number;
  /** The interactive card that announced it firing (alert-cards.ts), which its resolve updates; null: a message. */
  card: { id: string; app: string } | null;
}

export class StaleFlush extends Error {}

interface AcceptArgs {
  route: string;
  dedupKey: string;
  items: readonly NewItem[];
  now: number;
}

interface QueuedAccept extends AcceptArgs {
  resolve(v: 'accepted' | 'duplicate'): void;
  reject(e: unknown): void;
}

/** Accepts committed together on SQLite at most: bounds how long one transaction holds the connection. */
const MAX_GROUP = 64;

/** The dedupe row, then the items, inside `tx`; nothing is written for a key this route already has. */
async function acceptIn(tx: Tx, a: AcceptArgs): Promise<'accepted' | 'duplicate'> {
  const { route, items, now } = a;
  const r = await tx
    .insertInto('hook_requests')
    .values({ route, dedup_key: a.dedupKey, items: items.length, received_at: now })
    .onConflict((oc) => oc.columns(['route', 'dedup_key']).doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0) return 'duplicate';
  // Chunks keep each statement under SQLite's bound-parameter limit.
  for (let i = 0; i < items.length; i += 200) {
    await tx
      .insertInto('hook_items')
      .values(
        items.slice(i, i + 200).map((n) => ({
          route,
          target: n.target,
          kind: n.item.kind,
          fingerprint: n.item.fingerprint ?? null,
          payload: JSON.stringify(n.item),
          mention_all: n.mentionAll ? 1 : 0,
          state: 'pending' as const,
          due_at: n.dueAt,
          message_id: null,
          note: null,
          received_at: now,
          done_at: null,
          request_key: a.dedupKey,
        })),
      )
      .execute();
  }
  return 'accepted';
}

export class HookStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get store(): Store {
    return this.#store;
  }

  /**
   * Commits a delivery and its items; `duplicate` when this route saw the same dedupe key before. On SQLite the
   * accepts that arrive in one turn of the event loop share one transaction (`#commitGroup`), as the outbox's enqueues
   * do (delivery/outbox.ts): SQLite has one connection and one writer, so a burst of concurrent posts otherwise
   * commits one after another, each paying its own BEGIN, page writes and fsync (bench/gateways/storm.ts measured
   * the queue). Each caller is answered only once its rows are committed.
   */
  accept(
    route: string,
    dedupKey: string,
    items: readonly NewItem[],
    now: number,
  ): Promise<'accepted' | 'duplicate'> {
    const one: AcceptArgs = { route, dedupKey, items, now };
    if (this.#store.dialect !== 'sqlite') return this.#store.transaction((tx) => acceptIn(tx, one));
    return new Promise((resolve, reject) => {
      this.#queued.push({ ...one, resolve, reject });
      if (this.#queued.length === 1) setImmediate(() => this.#commitQueued());
    });
  }

  readonly #queued: QueuedAccept[] = [];

  #commitQueued(): void {
    const batch = this.#queued.splice(0, this.#queued.length);
    for (let i = 0; i < batch.length; i += MAX_GROUP) void this.#commitGroup(batch.slice(i, i + MAX_GROUP));
  }

  /**
   * One transaction for the group. A failure rolls it back as a whole and each accept then runs alone, so one bad
   * request (or a store fault) is answered to its own caller and never fails another. A key repeated inside the
   * group is a duplicate of the first, as it would be one after the other (the insert sees the earlier row).
   */
  async #commitGroup(group: QueuedAccept[]): Promise<void> {
    let verdicts: Array<'accepted' | 'duplicate'>;
    try {
      verdicts = await this.#store.transaction(async (tx) => {
        const out: Array<'accepted' | 'duplicate'> = [];
        for (const g of group) out.push(await acceptIn(tx, g));
        return out;
      });
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(e);
        return;
      }
      for (const g of group) await this.#store.transaction((tx) => acceptIn(tx, g)).then(g.resolve, g.reject);
      return;
    }
    for (const [i, g] of group.entries()) g.resolve(verdicts[i]!);
  }

  /** Conversations with items due now. */
  async dueTargets(now: number, limit = 500): Promise<Array<{ route: string; target: string }>> {
    return this.#store.db
      .selectFrom('hook_items')
      .select(['route', 'target'])
      .where('state', '=', 'pending')
      .where('due_at', '<=', now)
      .groupBy(['route', 'target'])
      .orderBy('route')
      .orderBy('target')
      .limit(limit)
      .execute();
  }

  /** Gateway messages to this conversation the dispatcher has not finished (queued or being sent). */
  async inFlight(target: string): Promise<number> {
    const r = await this.#store.db
      .selectFrom('deliveries as d')
      .innerJoin('messages as m', 'm.id', 'd.message_id')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('m.kind', '=', 'hook')
      .where('d.target', '=', target)
      .where('d.status', 'in', ['queued', 'sending'])
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Messages the gateway made for this conversation since `since` (its share of the robot's budget). */
  async sentSince(target: string, since: number): Promise<number> {
    const r = await this.#store.db
      .selectFrom('hook_items')
      .select((eb) => eb.fn.count<number | string>('message_id').distinct().as('n'))
      .where('target', '=', target)
      .where('done_at', '>', since)
      .where('state', '=', 'sent')
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async pending(route: string, target: string, now: number, limit: number): Promise<PendingItem[]> {
    const rows = await this.#store.db
      .selectFrom('hook_items')
      .select(['id', 'route', 'target', 'payload', 'mention_all', 'received_at'])
      .where('route', '=', route)
      .where('target', '=', target)
      .where('state', '=', 'pending')
      .where('due_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      route: r.route,
      target: r.target,
      item: JSON.parse(r.payload) as HookItem,
      mentionAll: r.mention_all === 1,
      receivedAt: Number(r.received_at),
    }));
  }

  /** Resolved items of these alerts still held back by the flap window (not due yet), by fingerprint. */
  async heldResolved(
    db: Kysely<Database>,
    route: string,
    target: string,
    fingerprints: readonly string[],
    now: number,
  ): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (let i = 0; i < fingerprints.length; i += 200) {
      const rows = await db
        .selectFrom('hook_items')
        .select(['id', 'fingerprint'])
        .where('route', '=', route)
        .where('target', '=', target)
        .where('state', '=', 'pending')
        .where('kind', '=', 'resolved')
        .where('due_at', '>', now)
        .where('fingerprint', 'in', fingerprints.slice(i, i + 200))
        .execute();
      for (const r of rows) {
        const list = out.get(r.fingerprint ?? '') ?? [];
        list.push(Number(r.id));
        out.set(r.fingerprint ?? '', list);
      }
    }
    return out;
  }

  async alerts(
    tx: Kysely<Database>,
    route: string,
    target: string,
    fingerprints: readonly string[],
  ): Promise<Map<string, AlertState>> {
    const out = new Map<string, AlertState>();
    for (let i = 0; i < fingerprints.length; i += 200) {
      const rows = await tx
        .selectFrom('hook_alerts')
        .selectAll()
        .where('route', '=', route)
        .where('target', '=', target)
        .where('fingerprint', 'in', fingerprints.slice(i, i + 200))
        .execute();
      for (const r of rows) {
        out.set(r.fingerprint, {
          status: r.status,
          messageId: r.message_id,
          postedAt: r.posted_at === null ? null : Number(r.posted_at),
          flaps: Number(r.flaps),
          card: r.card_id !== null && r.card_app !== null ? { id: r.card_id, app: r.card_app } : null,
        });
      }
    }
    return out;
  }

  async saveAlerts(
    tx: Tx,
    route: string,
    target: string,
    states: ReadonlyMap<string, AlertState>,
    now: number,
  ): Promise<void> {
    const rows = [...states].map(([fingerprint, s]) => ({
      route,
      target,
      fingerprint,
      status: s.status,
      message_id: s.messageId,
      posted_at: s.postedAt,
      flaps: s.flaps,
      updated_at: now,
      card_id: s.card?.id ?? null,
      card_app: s.card?.app ?? null,
    }));
    for (let i = 0; i < rows.length; i += 100) {
      await tx
        .insertInto('hook_alerts')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) =>
          oc.columns(['route', 'target', 'fingerprint']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            message_id: eb.ref('excluded.message_id'),
            posted_at: eb.ref('excluded.posted_at'),
            flaps: eb.ref('excluded.flaps'),
            updated_at: eb.ref('excluded.updated_at'),
            card_id: eb.ref('excluded.card_id'),
            card_app: eb.ref('excluded.card_app'),
          })),
        )
        .execute();
    }
  }

  /** Moves pending items to `state`; throws StaleFlush (rolling back) if another flusher moved any first. */
  async finish(
    tx: Tx,
    ids: readonly number[],
    state: Exclude<HookItemState, 'pending'>,
    messageId: string | null,
    note: string | null,
    now: number,
  ): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const r = await tx
        .updateTable('hook_items')
        .set({ state, message_id: messageId, note, done_at: now })
        .where('id', 'in', chunk)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== chunk.length)
        throw new StaleFlush('items were taken by another flusher');
    }
  }

  /** Deletes finished items and dedupe rows received before `before` (retention). */
  async purge(before: number): Promise<number> {
    const a = await this.#store.db
      .deleteFrom('hook_items')
      .where('received_at', '<', before)
      .where('state', '!=', 'pending')
      .executeTakeFirst();
    const b = await this.#store.db
      .deleteFrom('hook_requests')
      .where('received_at', '<', before)
      .executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  /** Counts by state (tests and health). */
  async counts(): Promise<Record<string, number>> {
    const rows = await this.#store.db
      .selectFrom('hook_items')
      .select(['state', sql<number | string>`count(*)`.as('n')])
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}
