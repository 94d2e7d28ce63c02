/**
 * An operator settles a parked delivery (its outcome is unknown: DingTalk may or may not have the message) and the
 * decision is recorded with who, when, the note and the status it had:
 *
 * | action      | when the operator has found that...          | the delivery becomes                        |
 * |-------------|----------------------------------------------|---------------------------------------------|
 * | `mark-sent` | the message did arrive                       | `sent` (finished; nothing is sent again)     |
 * | `redrive`   | it did not arrive, or a duplicate is fine    | `queued` now, attempt count from zero        |
 * | `drop`      | it should not be sent at all any more        | `cancelled` (finished)                       |
 *
 * Race-safe: the change is one conditional update (`WHERE status = 'parked'`) and the decision row is written in
 * the same transaction, so of two operators resolving one delivery exactly one changes it; on PostgreSQL the second
 * update waits for the first to commit and then matches nothing. The loser is told the decision that stands
 * (`DeliveryResolveConflictError`, HTTP 409). The same actor repeating the same decision gets it back (`duplicate`),
 * so a retried request is harmless.
 */

import { DingTalkError } from '../../core/errors.js';
import type { Store } from '../../store/open-store.js';
import type { DeliveryStatus } from '../../store/schema.js';
import type { DeliveryDecision, ResolveAction, ResolveResult } from '../service.js';
import { toDecision } from './evidence.js';
import { toDelivery } from './outbox.js';
import { withTxRetry } from './queue.js';

export const RESOLVE_ACTIONS: readonly ResolveAction[] = ['mark-sent', 'redrive', 'drop'];

/** Longest operator note kept. */
export const MAX_NOTE = 1_000;

/** The delivery is not parked: someone decided first, or it never was. Nothing was changed. */
export class DeliveryResolveConflictError extends DingTalkError {
  override readonly name: string = 'DeliveryResolveConflictError';
  constructor(
    readonly reason: 'already_resolved' | 'not_parked',
    readonly status: DeliveryStatus,
    /** The decision that stands, when there is one. */
    readonly decision: DeliveryDecision | undefined,
  ) {
    super(
      'DELIVERY_RESOLVE_CONFLICT',
      decision
        ? `delivery already resolved: ${decision.action} by ${decision.by} at ${decision.at} (now ${status})`
        : `delivery is ${status}, not parked: only a parked delivery can be resolved`,
      { outcome: 'not_sent' },
    );
  }
}

export interface ResolveInput {
  id: number;
  action: ResolveAction;
  by: string;
  note?: string | undefined;
  now: number;
  /**
   * @internal Mutation twin for the race test only: drops the `status = 'parked'` condition, so two racing
   * operators both "win". Never set in production.
   */
  unguarded?: boolean | undefined;
}

export async function resolveParked(store: Store, r: ResolveInput): Promise<ResolveResult | undefined> {
  if (!Number.isSafeInteger(r.id)) return undefined;
  const note = r.note === undefined || r.note.trim() === '' ? null : r.note.slice(0, MAX_NOTE);
  return withTxRetry(() =>
    store.transaction(async (tx) => {
      let q = tx
        .updateTable('deliveries')
        .set({
          updated_at: r.now,
          lease_owner: null,
          lease_until: null,
          started_at: null,
        })
        .where('id', '=', r.id)
        .where('status', 'in', r.unguarded ? ['parked', 'sent', 'queued', 'cancelled'] : ['parked']);
      if (r.action === 'mark-sent') q = q.set({ status: 'sent', finished_at: r.now });
      else if (r.action === 'drop') q = q.set({ status: 'cancelled', finished_at: r.now });
      // As outbox.ts `redrive`: the retry schedule applies again; the last error stays until the next attempt.
      else q = q.set({ status: 'queued', run_at: r.now, attempts: 0, finished_at: null });
      const changed = await q.returningAll().executeTakeFirst();
      if (changed) {
        const row = await tx
          .insertInto('delivery_decisions')
          .values({
            delivery_id: r.id,
            action: r.action,
            previous_status: 'parked',
            by_actor: r.by,
            note,
            at: r.now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { delivery: toDelivery(changed), decision: toDecision(row), duplicate: false };
      }
      const current = await tx.selectFrom('deliveries').selectAll().where('id', '=', r.id).executeTakeFirst();
      if (!current) return undefined;
      const last = await tx
        .selectFrom('delivery_decisions')
        .selectAll()
        .where('delivery_id', '=', r.id)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const decision = last ? toDecision(last) : undefined;
      if (decision && decision.action === r.action && decision.by === r.by) {
        return { delivery: toDelivery(current), decision, duplicate: true };
      }
      throw new DeliveryResolveConflictError(
        decision ? 'already_resolved' : 'not_parked',
        current.status,
        decision,
      );
    }),
  );
}
