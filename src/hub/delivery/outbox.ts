/**
 * The transactional outbox: a request is durable before the API answers. `enqueue` writes the
 * message row and all its delivery rows in one transaction, so a crash leaves either the whole request or
 * nothing. An idempotency key makes a repeat within the window return the first request and write nothing; the
 * unique index on `messages (idempotency_scope, idempotency_key)` (with `ON CONFLICT DO NOTHING`) makes that hold
 * when callers race from several processes. A key belongs to its scope (the caller), and a
 * repeat whose request fingerprint differs from the first is refused with IdempotencyConflictError, writing
 * nothing (idempotency.ts).
 */

import { randomUUID } from 'node:crypto';
import { type Insertable, sql } from 'kysely';
import { ValidationError } from '../../core/errors.js';
import { IdempotencyConflictError, sameRequest } from '../../store/idempotency.js';
import { toJsonColumn } from '../../store/json.js';
import type { Store, Tx } from '../../store/open-store.js';
import { QueryShape } from '../../store/query-shape.js';
import type {
  DeliveryRow,
  DeliveryStatus,
  MessageRow,
  MessagesTable,
  NewDelivery,
} from '../../store/schema.js';
import type { Delivery } from '../service.js';
import { isIdempotentPayload, type Job } from './jobs.js';

export interface EnqueueInput {
  /** `message`, `task`, `file`, ... */
  kind: string;
  /** The request as accepted (JSON, no secrets); kept for audit and for replaying the first answer. */
  request: unknown;
  idempotencyKey?: string | undefined;
  /**
   * Whose key it is (`token:<name>`, `person:<userId>`, `cli`): the same key in another scope is another request.
   * @default '' (one shared scope: internal callers only)
   */
  idempotencyScope?: string | undefined;
  /** Fingerprint of the canonical request (idempotency.ts `requestFingerprint`); a repeat that differs is refused. */
  requestHash?: string | undefined;
  createdBy?: string | undefined;
  /** What to send: one `deliveries` row each, in this order. */
  jobs: readonly Job[];
}

export interface EnqueueResult {
  messageId: string;
  /** True when the idempotency key matched an earlier request: nothing new was written. */
  duplicate: boolean;
  createdAt: number;
  deliveries: DeliveryRow[];
}

export interface OutboxOptions {
  now?: () => number;
  /**
   * How long an idempotency key keeps answering with the first request. After it, the key starts a new one.
   * @default 86_400_000 (24 h)
   */
  idempotencyWindowMs?: number;
  /** Called after each enqueue that wrote something (live views). */
  onEnqueued?: (r: EnqueueResult) => void;
}

const MAX_KEY = 200;
/** Enqueues at most in one SQLite group commit: bounds how long one transaction holds the connection. */
const MAX_GROUP = 64;

interface PendingEnqueue {
  input: EnqueueInput;
  request: string;
  payloads: string[];
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

/** The service-contract view of a delivery row (src/hub/service.ts). */
export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: String(row.id),
    status: row.status,
    channel: row.channel,
    target: row.target,
    ...(row.part_count > 1 ? { part: { index: row.part_index, count: row.part_count } } : {}),
    attempts: row.attempts,
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.remote_id !== null ? { remoteId: row.remote_id } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function checkInput(input: EnqueueInput): void {
  if (!input.kind) throw new ValidationError('is required', 'kind');
  if (input.idempotencyKey !== undefined) {
    if (input.idempotencyKey.length === 0 || input.idempotencyKey.length > MAX_KEY) {
      throw new ValidationError(`must be 1..${MAX_KEY} characters`, 'idempotencyKey');
    }
  }
  if (input.jobs.length === 0) throw new ValidationError('at least one job is required', 'jobs');
  input.jobs.forEach((d, i) => {
    if (!d.target) throw new ValidationError('is required', `jobs[${i}].target`);
    if (d.part && (d.part.index < 1 || d.part.count < d.part.index)) {
      throw new ValidationError('index must be in 1..count', `jobs[${i}].part`);
    }
  });
}

type MessageValues = Omit<Required<Insertable<MessagesTable>>, 'response_json'>;
type DeliveryValues = Omit<Required<NewDelivery>, 'id'>;

export class Outbox {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #onEnqueued: ((r: EnqueueResult) => void) | undefined;
  /** The enqueue's two statements, built and compiled once (query-shape.ts): they run for every message. */
  readonly #insertMessage = new QueryShape<MessageValues, { id: string }>((db, v) =>
    db
      .insertInto('messages')
      .values({ ...v, response_json: null })
      .onConflict((oc) => oc.columns(['idempotency_scope', 'idempotency_key']).doNothing())
      .returning('id'),
  );
  readonly #insertDelivery = new QueryShape<DeliveryValues, DeliveryRow>((db, v) =>
    db.insertInto('deliveries').values(v).returningAll(),
  );
  /** SQLite: enqueues waiting for the next group commit (`#grouped`). */
  readonly #pending: PendingEnqueue[] = [];

  constructor(store: Store, o: OutboxOptions = {}) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
    this.#windowMs = o.idempotencyWindowMs ?? 86_400_000;
    this.#onEnqueued = o.onEnqueued;
  }

  /**
   * Makes a request durable. Pass `tx` to enqueue inside a transaction of your own (e.g. an inbox handler that
   * also writes task state); otherwise it runs in its own.
   */
  async enqueue(input: EnqueueInput, tx?: Tx): Promise<EnqueueResult> {
    checkInput(input);
    const request = toJsonColumn(input.request, 'request');
    const payloads = input.jobs.map((d, i) => toJsonColumn(d.payload, `jobs[${i}].payload`));
    let r: EnqueueResult;
    if (tx) r = await this.#enqueueIn(tx, input, request, payloads);
    else if (this.#store.dialect === 'sqlite') r = await this.#grouped({ input, request, payloads });
    else {
      r =
        (await this.#enqueueOneStatement(input, request, payloads)) ??
        (await this.#store.transaction((t) => this.#enqueueIn(t, input, request, payloads)));
    }
    if (!r.duplicate) this.#onEnqueued?.(r);
    return r;
  }

  /**
   * SQLite group commit: the enqueues that arrive in one turn of the event loop (the HTTP requests read in one poll)
   * share one transaction. On SQLite every commit writes each page it changed to the WAL (the table leaf and every
   * index leaf of `messages` and `deliveries`), so 16 enqueues committed together write those pages once instead
   * of 16 times, and run two statements fewer each (BEGIN, COMMIT); they also share the one fsync (wal-sync.ts).
   * Each caller still gets its own answer only once its rows are durable, and its own error: an idempotency refusal
   * (which writes nothing) is answered inside the batch; any other failure rolls the batch back and each of its
   * enqueues runs again alone, so one bad request never fails another. PostgreSQL gains nothing from this (a
   * transaction there costs round trips, not page writes): one statement per enqueue, in parallel on the pool.
   */
  #grouped(item: Omit<PendingEnqueue, 'resolve' | 'reject'>): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ ...item, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => void this.#commitPending());
    });
  }

  async #commitPending(): Promise<void> {
    const batch = this.#pending.splice(0, this.#pending.length);
    if (batch.length === 1) {
      const [b] = batch;
      await this.#store
        .transaction((t) => this.#enqueueIn(t, b!.input, b!.request, b!.payloads))
        .then(b!.resolve, b!.reject);
      return;
    }
    for (let i = 0; i < batch.length; i += MAX_GROUP) {
      void this.#commitGroup(batch.slice(i, i + MAX_GROUP));
    }
  }

  async #commitGroup(group: PendingEnqueue[]): Promise<void> {
    let outcomes: Array<{ ok: EnqueueResult } | { refused: unknown }>;
    try {
      outcomes = await this.#store.transaction(async (t) => {
        const out: Array<{ ok: EnqueueResult } | { refused: unknown }> = [];
        for (const g of group) {
          try {
            out.push({ ok: await this.#enqueueIn(t, g.input, g.request, g.payloads) });
          } catch (e) {
            // Thrown before this enqueue wrote anything: the others stand.
            if (!(e instanceof IdempotencyConflictError)) throw e;
            out.push({ refused: e });
          }
        }
        return out;
      });
    } catch {
      // Someone's enqueue failed and took the batch with it: each alone now, each with its own outcome.
      for (const g of group) {
        await this.#store
          .transaction((t) => this.#enqueueIn(t, g.input, g.request, g.payloads))
          .then(g.resolve, g.reject);
      }
      return;
    }
    for (const [i, g] of group.entries()) {
      const o = outcomes[i]!;
      if ('ok' in o) g.resolve(o.ok);
      else g.reject(o.refused);
    }
  }

  /**
   * PostgreSQL, one delivery, no caller transaction (the common `sendMessage`): the message and its delivery in
   * one statement (`WITH m AS (INSERT messages) INSERT deliveries`), atomic on its own, so one round trip instead
   * of four (begin, two inserts, commit): the accept rate is bound by round trips × pool size (bench/hub). A key
   * already taken makes the statement fail as a whole (nothing written); undefined then, and the transaction
   * path settles it (duplicate answer, or a key past its window). Several deliveries keep one insert per row there,
   * which keeps their ids in order.
   */
  async #enqueueOneStatement(
    input: EnqueueInput,
    request: string,
    payloads: string[],
  ): Promise<EnqueueResult | undefined> {
    if (input.jobs.length !== 1) return undefined;
    const now = this.#now();
    const id = randomUUID();
    const [value] = this.#deliveryValues(input, id, payloads, now);
    try {
      const row = await this.#store.db
        .with('m', (db) =>
          db.insertInto('messages').values({
            id,
            kind: input.kind,
            idempotency_key: input.idempotencyKey ?? null,
            idempotency_scope: input.idempotencyKey === undefined ? null : (input.idempotencyScope ?? ''),
            request_hash: input.requestHash ?? null,
            request_json: request,
            response_json: null,
            created_by: input.createdBy ?? null,
            created_at: now,
          }),
        )
        .insertInto('deliveries')
        .values(value!)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { messageId: id, duplicate: false, createdAt: now, deliveries: [row] };
    } catch (e) {
      if ((e as { code?: unknown }).code === '23505') return undefined;
      throw e;
    }
  }

  #deliveryValues(input: EnqueueInput, id: string, payloads: string[], now: number): DeliveryValues[] {
    return input.jobs.map((d, i) => ({
      message_id: id,
      kind: d.payload.t,
      channel: d.channel,
      target: d.target,
      rate_key: d.rateKey ?? null,
      payload: payloads[i]!,
      status: 'queued',
      attempts: 0,
      idempotent: isIdempotentPayload(d.payload) ? 1 : 0,
      run_at: d.runAt ?? now,
      lease_owner: null,
      lease_until: null,
      started_at: null,
      order_key:
        d.orderKey == null ? null : d.orderScope === 'message' ? `msg:${id}:${d.orderKey}` : d.orderKey,
      part_index: d.part?.index ?? 1,
      part_count: d.part?.count ?? 1,
      remote_id: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    }));
  }

  async #enqueueIn(tx: Tx, input: EnqueueInput, request: string, payloads: string[]): Promise<EnqueueResult> {
    const now = this.#now();
    const key = input.idempotencyKey ?? null;
    const scope = key === null ? null : (input.idempotencyScope ?? '');
    const id = randomUUID();
    const insert = async () =>
      (
        await this.#insertMessage.run(tx, {
          id,
          kind: input.kind,
          idempotency_key: key,
          idempotency_scope: scope,
          request_hash: input.requestHash ?? null,
          request_json: request,
          created_by: input.createdBy ?? null,
          created_at: now,
        })
      ).rows[0];
    let inserted = await insert();
    if (!inserted && key !== null && scope !== null) {
      // The key is taken. A holder older than the window lets it go (its request keeps its rows, just not the
      // key) and this request takes it. Checked only on a conflict, so a fresh key costs one statement, not two.
      const released = await tx
        .updateTable('messages')
        .set({ idempotency_key: null })
        .where('idempotency_scope', '=', scope)
        .where('idempotency_key', '=', key)
        .where('created_at', '<=', now - this.#windowMs)
        .executeTakeFirst();
      if (released.numUpdatedRows > 0n) inserted = await insert();
    }
    if (!inserted && key !== null && scope !== null) {
      // This caller holds the key (committed: PostgreSQL waits for a racing insert to finish first).
      const first = await tx
        .selectFrom('messages')
        .selectAll()
        .where('idempotency_scope', '=', scope)
        .where('idempotency_key', '=', key)
        .executeTakeFirstOrThrow();
      // Same key, another request: refuse rather than answer "done" for a message that is never sent.
      if (!sameRequest(first.request_hash, input.requestHash)) throw new IdempotencyConflictError();
      const rows = await tx
        .selectFrom('deliveries')
        .selectAll()
        .where('message_id', '=', first.id)
        .orderBy('id')
        .execute();
      return { messageId: first.id, duplicate: true, createdAt: first.created_at, deliveries: rows };
    }
    const values = this.#deliveryValues(input, id, payloads, now);
    const rows: DeliveryRow[] = [];
    // One statement per row keeps ids in enqueue order on both dialects (ordering relies on it).
    for (const v of values) rows.push((await this.#insertDelivery.run(tx, v)).rows[0]!);
    return { messageId: id, duplicate: false, createdAt: now, deliveries: rows };
  }

  async getMessage(id: string): Promise<{ message: MessageRow; deliveries: DeliveryRow[] } | undefined> {
    const message = await this.#store.db
      .selectFrom('messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!message) return undefined;
    const deliveries = await this.#store.db
      .selectFrom('deliveries')
      .selectAll()
      .where('message_id', '=', id)
      .orderBy('id')
      .execute();
    return { message, deliveries };
  }

  /** Records the answer given for a message, so repeats with its key can replay it byte for byte. */
  async setResponse(messageId: string, response: unknown, tx?: Tx): Promise<void> {
    await (tx ?? this.#store.db)
      .updateTable('messages')
      .set({ response_json: toJsonColumn(response, 'response') })
      .where('id', '=', messageId)
      .execute();
  }

  async getDelivery(id: number): Promise<DeliveryRow | undefined> {
    return this.#store.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  async listDeliveries(
    f: {
      status?: DeliveryStatus | undefined;
      messageId?: string | undefined;
      limit?: number | undefined;
    } = {},
  ): Promise<DeliveryRow[]> {
    let q = this.#store.db.selectFrom('deliveries').selectAll();
    if (f.status) q = q.where('status', '=', f.status);
    if (f.messageId) q = q.where('message_id', '=', f.messageId);
    const limit = Math.min(Math.max(1, Math.trunc(f.limit ?? 100)), 1_000);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.#store.db
      .selectFrom('deliveries')
      .select(['status', sql<number>`count(*)`.as('n')])
      .groupBy('status')
      .execute();
    const out: Record<DeliveryStatus, number> = {
      queued: 0,
      sending: 0,
      sent: 0,
      parked: 0,
      dead: 0,
      cancelled: 0,
    };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /**
   * Puts dead or parked deliveries back in the queue. The attempt count restarts so the retry
   * schedule applies again; the last error stays on the row until the next attempt replaces it.
   *
   * With `by`, each delivery moved gets a decision row (`redrive`, its previous status, who), in the same
   * transaction as the move: a bulk redrive of parked deliveries is an operator's decision on each of them, and
   * the evidence must show it as `resolve` does (resolve.ts).
   */
  async redrive(ids: readonly (number | string)[] | 'all-dead', by?: string): Promise<number> {
    const now = this.#now();
    let nums: number[] | undefined;
    if (ids !== 'all-dead') {
      nums = ids.map((i) => Number(i)).filter((n) => Number.isSafeInteger(n));
      if (nums.length === 0) return 0;
    }
    return this.#store.transaction(async (tx) => {
      let q = tx
        .updateTable('deliveries')
        .set({
          status: 'queued',
          run_at: now,
          attempts: 0,
          lease_owner: null,
          lease_until: null,
          started_at: null,
          finished_at: null,
          updated_at: now,
        })
        .where('status', 'in', ids === 'all-dead' ? ['dead'] : ['dead', 'parked']);
      if (nums) q = q.where('id', 'in', nums);
      if (by === undefined) return Number((await q.executeTakeFirst()).numUpdatedRows);
      // Which rows move, and from what: read under the same conditions first, then move exactly those ids (on
      // PostgreSQL a row changed in between is skipped by the status condition, and only moved rows are recorded).
      let sel = tx
        .selectFrom('deliveries')
        .select(['id', 'status'])
        .where('status', 'in', ids === 'all-dead' ? ['dead'] : ['dead', 'parked']);
      if (nums) sel = sel.where('id', 'in', nums);
      const before = await sel.execute();
      if (before.length === 0) return 0;
      const moved = await q
        .where(
          'id',
          'in',
          before.map((r) => r.id),
        )
        .returning(['id'])
        .execute();
      const from = new Map(before.map((r) => [Number(r.id), r.status]));
      if (moved.length > 0) {
        await tx
          .insertInto('delivery_decisions')
          .values(
            moved.map((r) => ({
              delivery_id: r.id,
              action: 'redrive',
              previous_status: from.get(Number(r.id)) ?? 'dead',
              by_actor: by,
              note: null,
              at: now,
            })),
          )
          .execute();
      }
      return moved.length;
    });
  }

  /**
   * Retention: deletes sent and cancelled deliveries finished before `olderThan`, then the failed attempts and
   * decisions of deliveries that are gone, then messages left with no deliveries and no file share. Dead and parked rows stay for operators, queued and sending ones are work.
   * `olderThan` is clamped to the idempotency window, so a key keeps answering for its full window.
   *
   * Rows go in batches of `batchSize`, each its own short transaction: on SQLite every write waits for the one
   * writer, and a first purge of a long-running store must not hold it for the whole backlog. `between` runs
   * after each batch; returning false stops early (the caller lost its purge lock, or is stopping).
   */
  async purge(
    olderThan: number,
    o: { batchSize?: number; between?: () => Promise<boolean> | boolean } = {},
  ): Promise<{ deliveries: number; messages: number }> {
    const before = Math.min(olderThan, this.#now() - this.#windowMs);
    const batch = Math.max(1, Math.trunc(o.batchSize ?? 1_000));
    const out = { deliveries: 0, messages: 0 };
    for (;;) {
      const r = await this.#store.db
        .deleteFrom('deliveries')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('deliveries')
            .select('id')
            .where('status', 'in', ['sent', 'cancelled'])
            .where('finished_at', '<', before)
            .limit(batch),
        )
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      out.deliveries += n;
      if (n < batch || (o.between && !(await o.between()))) break;
    }
    // The evidence of deliveries that are gone (migration 008): attempts and decisions have no foreign key.
    for (const table of ['delivery_attempts', 'delivery_decisions'] as const) {
      for (;;) {
        const r = await this.#store.db
          .deleteFrom(table)
          .where('id', 'in', (eb) =>
            eb
              .selectFrom(table)
              .select('id')
              .where((w) =>
                w.not(
                  w.exists(
                    w
                      .selectFrom('deliveries')
                      .select('deliveries.id')
                      .whereRef('deliveries.id', '=', `${table}.delivery_id`),
                  ),
                ),
              )
              .limit(batch),
          )
          .executeTakeFirst();
        const n = Number(r.numDeletedRows);
        if (n < batch || (o.between && !(await o.between()))) break;
      }
    }
    for (;;) {
      const r = await this.#store.db
        .deleteFrom('messages')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('messages')
            .select('id')
            .where('created_at', '<', before)
            .where((w) =>
              w.and([
                w.not(
                  w.exists(
                    w
                      .selectFrom('deliveries')
                      .select('id')
                      .whereRef('deliveries.message_id', '=', 'messages.id'),
                  ),
                ),
                w.not(
                  w.exists(
                    w
                      .selectFrom('file_shares')
                      .select('id')
                      .whereRef('file_shares.message_id', '=', 'messages.id'),
                  ),
                ),
              ]),
            )
            .limit(batch),
        )
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      out.messages += n;
      if (n < batch || (o.between && !(await o.between()))) break;
    }
    return out;
  }

  /** Cancels deliveries that have not been sent (queued or parked). Returns how many. */
  async cancel(ids: readonly (number | string)[]): Promise<number> {
    const nums = ids.map((i) => Number(i)).filter((n) => Number.isSafeInteger(n));
    if (nums.length === 0) return 0;
    const now = this.#now();
    const r = await this.#store.db
      .updateTable('deliveries')
      .set({ status: 'cancelled', updated_at: now, finished_at: now })
      .where('id', 'in', nums)
      .where('status', 'in', ['queued', 'parked'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
