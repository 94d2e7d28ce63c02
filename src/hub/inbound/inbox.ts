/**
 * The inbox: inbound events and robot messages are committed here before the Stream ack,
 * keyed by DingTalk's own id, so a re-push is recognised as a duplicate; then each entry
 * is applied exactly once.
 *
 * Exactly once: the handler runs inside a transaction that first marks the entry handled (fenced by our lease)
 * and is given that transaction for its own writes (task state, outbox enqueue). Both commit together or not at
 * all; a crash mid-handler leaves the entry unhandled with nothing written, and it runs again after its lease.
 * Effects outside the database (a direct HTTP call) cannot be covered by this: enqueue them in the outbox
 * within the same transaction instead.
 */

import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../core/errors.js';
import { type Redactor, redactByName } from '../../core/redact.js';
import { fromJsonColumn } from '../../store/json.js';
import type { Store, Tx } from '../../store/open-store.js';
import type { InboxRow } from '../../store/schema.js';
import { reasonOf } from '../delivery/policy.js';
import { withTxRetry } from '../delivery/queue.js';

export interface InboxEntry {
  id: string;
  source: string;
  topic: string;
  payload: unknown;
  attempts: number;
  receivedAt: number;
}

/**
 * Applies one entry inside `tx`. `afterCommit` queues an effect that must only happen once the transaction has
 * committed (publishing an event: a rolled-back entry runs again, and must not have been announced the first time).
 */
export type InboxHandler = (
  entry: InboxEntry,
  tx: Tx,
  afterCommit: (effect: () => void) => void,
) => Promise<void>;

interface InboxOptions {
  owner?: string | undefined;
  now?: (() => number) | undefined;
  /** @default 30_000 */
  leaseMs?: number | undefined;
  /** Failed handler runs before the entry is marked `failed`. @default 10 */
  maxAttempts?: number | undefined;
  /** Delay before re-running a failed entry. @default attempt => min(60 s, 1 s × 2^(attempt-1)) */
  retryDelayMs?: ((attempt: number) => number) | undefined;
  /** Applied to stored handler errors (secret-named fields are always redacted). */
  redactor?: Redactor | undefined;
  /**
   * How long a handled id is remembered at least: `purge` never deletes younger entries. It must cover DingTalk's
   * re-push horizon.
   * @default 86_400_000 (24 h)
   */
  dedupeWindowMs?: number | undefined;
}

export interface ProcessResult {
  handled: number;
  failed: number;
  retried: number;
  /** Entries another processor took over before we finished (lease expired). */
  lost: number;
}

class LeaseLost extends Error {}

const MAX_ID = 256;

export class Inbox {
  readonly owner: string;
  readonly #store: Store;
  readonly #now: () => number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #retryDelay: (attempt: number) => number;
  readonly #redact: (text: string) => string;
  readonly #dedupeWindowMs: number;

  constructor(store: Store, o: InboxOptions = {}) {
    this.#store = store;
    this.owner = o.owner ?? randomUUID();
    this.#now = o.now ?? Date.now;
    this.#leaseMs = o.leaseMs ?? 30_000;
    this.#maxAttempts = o.maxAttempts ?? 10;
    this.#dedupeWindowMs = o.dedupeWindowMs ?? 86_400_000;
    this.#retryDelay = o.retryDelayMs ?? ((a) => Math.min(60_000, 1_000 * 2 ** Math.max(0, a - 1)));
    const r = o.redactor;
    this.#redact = r ? (t) => r.redact(t) : redactByName;
  }

  /**
   * Records an inbound item durably. `'duplicate'` when this id was committed before (any status): the caller
   * acks it and does nothing else. Payloads are kept as received (the Stream already decrypted them).
   * Given `tx`, the row is written in that transaction (and exists only if it commits).
   */
  async commit(
    id: string,
    source: string,
    topic: string,
    payload: unknown,
    tx?: Tx,
  ): Promise<'new' | 'duplicate'> {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID) {
      throw new ValidationError(`must be 1..${MAX_ID} characters`, 'id');
    }
    let text: string;
    try {
      text = JSON.stringify(payload ?? null);
    } catch (e) {
      throw new ValidationError(`is not serialisable as JSON (${(e as Error).message})`, 'payload');
    }
    const now = this.#now();
    const r = await (tx ?? this.#store.db)
      .insertInto('inbox')
      .values({
        id,
        source,
        topic,
        payload: text,
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
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0 ? 'new' : 'duplicate';
  }

  /** Runs `fn` in one store transaction (for handlers that need one outside `process`). */
  withTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#store.transaction(fn);
  }

  async get(id: string): Promise<InboxRow | undefined> {
    return this.#store.db.selectFrom('inbox').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Claims due entries (pending, or whose lease expired) and applies `handler` to each, one at a time. */
  async process(handler: InboxHandler, o: { limit?: number } = {}): Promise<ProcessResult> {
    const rows = await this.#claim(o.limit ?? 50);
    const out: ProcessResult = { handled: 0, failed: 0, retried: 0, lost: 0 };
    for (const row of rows) {
      const entry: InboxEntry = {
        id: row.id,
        source: row.source,
        topic: row.topic,
        payload: fromJsonColumn(row.payload),
        attempts: row.attempts + 1,
        receivedAt: row.received_at,
      };
      const effects: Array<() => void> = [];
      try {
        await this.#store.transaction(async (tx) => {
          const now = this.#now();
          const r = await tx
            .updateTable('inbox')
            .set((eb) => ({
              status: 'handled',
              handled_at: now,
              lease_owner: null,
              lease_until: null,
              attempts: eb('attempts', '+', 1),
              error: null,
            }))
            .where('id', '=', row.id)
            .where('status', '=', 'processing')
            .where('lease_owner', '=', this.owner)
            .executeTakeFirst();
          if (r.numUpdatedRows === 0n) throw new LeaseLost();
          await handler(entry, tx, (effect) => effects.push(effect));
        });
        out.handled++;
      } catch (e) {
        if (e instanceof LeaseLost) {
          out.lost++;
          continue;
        }
        const final = await this.#fail(row, e);
        if (final) out.failed++;
        else out.retried++;
        continue;
      }
      // Committed: now, and only now, what the handler wanted known. One failing effect does not stop the rest.
      for (const effect of effects) {
        try {
          effect();
        } catch {
          // An effect is a notification (an event bus publish); its failure leaves the committed entry as it is.
        }
      }
    }
    return out;
  }

  async #claim(limit: number): Promise<InboxRow[]> {
    return withTxRetry(() =>
      this.#store.transaction(async (tx) => {
        const now = this.#now();
        let q = tx
          .selectFrom('inbox')
          .selectAll()
          .where((eb) =>
            eb.or([
              eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
              eb.and([eb('status', '=', 'processing'), eb('lease_until', '<', now)]),
            ]),
          )
          .orderBy('received_at')
          .orderBy('id')
          .limit(Math.max(1, limit));
        if (this.#store.dialect === 'postgres') q = q.forUpdate().skipLocked();
        const rows = await q.execute();
        if (rows.length === 0) return [];
        return tx
          .updateTable('inbox')
          .set({ status: 'processing', lease_owner: this.owner, lease_until: now + this.#leaseMs })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .returningAll()
          .execute()
          .then((claimed) => claimed.sort((a, b) => a.received_at - b.received_at || (a.id < b.id ? -1 : 1)));
      }),
    );
  }

  /** Records a handler failure; true when the entry is now `failed` for good. */
  async #fail(row: InboxRow, e: unknown): Promise<boolean> {
    const attempts = row.attempts + 1;
    const final = attempts >= this.#maxAttempts;
    const now = this.#now();
    await this.#store.db
      .updateTable('inbox')
      .set({
        status: final ? 'failed' : 'pending',
        attempts,
        error: this.#redact(reasonOf(e)),
        run_at: final ? now : now + this.#retryDelay(attempts),
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', row.id)
      .where('lease_owner', '=', this.owner)
      .execute();
    return final;
  }

  /**
   * Deletes handled entries received before `olderThan` (epoch ms), clamped to the dedupe window: an id must be
   * remembered at least that long, or a late re-push of it would run its handler again. Pending,
   * processing and failed entries stay. Batches as `Outbox.purge` does.
   */
  async purge(
    olderThan: number,
    o: { batchSize?: number; between?: () => Promise<boolean> | boolean } = {},
  ): Promise<number> {
    const before = Math.min(olderThan, this.#now() - this.#dedupeWindowMs);
    const batch = Math.max(1, Math.trunc(o.batchSize ?? 1_000));
    let total = 0;
    for (;;) {
      const r = await this.#store.db
        .deleteFrom('inbox')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('inbox')
            .select('id')
            .where('status', '=', 'handled')
            .where('received_at', '<', before)
            .limit(batch),
        )
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      total += n;
      if (n < batch || (o.between && !(await o.between()))) break;
    }
    return total;
  }
}
