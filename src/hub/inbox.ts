/**
 * The inbound inbox over the store's `inbox` table (reliability goals R1, R2): an inbound message is committed
 * under DingTalk's own id before the Stream ack, and handled exactly once. Handling runs in one transaction with
 * the handler's writes (task state, reply jobs) and the `handled` mark: either all of it commits or none, so a
 * crash mid-handler leaves the entry pending and it runs again, once, after restart.
 *
 * Handlers must do database work only (network effects go through the outbox), which keeps the transaction short.
 */

import type { Store, Tx } from '../store/open-store.js';

export interface InboxEntry {
  id: string;
  source: string;
  topic: string;
  payload: unknown;
  attempts: number;
}

export type InboxHandler = (entry: InboxEntry, tx: Tx) => Promise<void>;

export interface InboxOptions {
  now?: () => number;
  /** Failed handling attempts before an entry is parked as `failed`. @default 5 */
  maxAttempts?: number;
  /** Delay before a failed entry is tried again (× attempts). @default 1_000 */
  retryDelayMs?: number;
}

export class Inbox {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;

  constructor(store: Store, o: InboxOptions = {}) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
    this.#maxAttempts = o.maxAttempts ?? 5;
    this.#retryDelayMs = o.retryDelayMs ?? 1_000;
  }

  /** Durable record of one inbound message; `duplicate` when its id was seen before (a re-push). */
  async commit(id: string, source: string, topic: string, payload: unknown): Promise<'new' | 'duplicate'> {
    const now = this.#now();
    const r = await this.#store.db
      .insertInto('inbox')
      .values({
        id,
        source,
        topic,
        payload: JSON.stringify(payload ?? null),
        status: 'pending',
        attempts: 0,
        run_at: now,
        lease_owner: null,
        lease_until: null,
        error: null,
        received_at: now,
        handled_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'new' : 'duplicate';
  }

  /** Handles pending entries one by one until none is due; returns how many were handled now. */
  async processPending(handler: InboxHandler, max = 100): Promise<number> {
    let handled = 0;
    for (let i = 0; i < max; i++) {
      const next = await this.#store.db
        .selectFrom('inbox')
        .selectAll()
        .where('status', '=', 'pending')
        .where('run_at', '<=', this.#now())
        .orderBy('received_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (!next) break;
      try {
        const did = await this.#store.transaction(async (tx) => {
          // The conditional update is the claim: a second process (or a re-run) finds it no longer pending.
          const claim = await tx
            .updateTable('inbox')
            .set({ status: 'handled', handled_at: this.#now(), error: null })
            .where('id', '=', next.id)
            .where('status', '=', 'pending')
            .executeTakeFirst();
          if (Number(claim.numUpdatedRows) !== 1) return false;
          await handler(
            {
              id: next.id,
              source: next.source,
              topic: next.topic,
              payload: parse(next.payload),
              attempts: next.attempts,
            },
            tx,
          );
          return true;
        });
        if (did) handled++;
      } catch (e) {
        const attempts = next.attempts + 1;
        await this.#store.db
          .updateTable('inbox')
          .set({
            attempts,
            status: attempts >= this.#maxAttempts ? 'failed' : 'pending',
            run_at: this.#now() + this.#retryDelayMs * attempts,
            error: ((e as Error)?.message ?? String(e)).slice(0, 500),
          })
          .where('id', '=', next.id)
          .where('status', '=', 'pending')
          .execute();
      }
    }
    return handled;
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.#store.db
      .selectFrom('inbox')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
