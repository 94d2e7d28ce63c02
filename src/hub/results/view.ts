/**
 * Send results as the service contract shows them (src/hub/service.ts): outcome counts on a page of deliveries,
 * and one delivery with its people and its question schedule.
 */

import type { Store } from '../../store/open-store.js';
import { type Outbox, toDelivery } from '../delivery/outbox.js';
import type { Delivery, DeliveryDetail, DeliveryStatus } from '../service.js';
import { checkOf, deliveriesWithDrops, recipientSummaries, recipientsOf } from './repo.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Adds the outcome counts to each delivery that has recipients. */
export async function withRecipients(store: Store, list: Delivery[]): Promise<Delivery[]> {
  const counts = await recipientSummaries(
    store.db,
    list.map((d) => Number(d.id)),
  );
  return list.map((d) => {
    const c = counts.get(Number(d.id));
    return c ? { ...d, recipients: c } : d;
  });
}

/** The deliveries of the list filter: by status, or those with a drop (newest first). */
export async function listWithRecipients(
  store: Store,
  outbox: Outbox,
  f: { status?: DeliveryStatus | undefined; dropped?: boolean | undefined; limit?: number | undefined },
): Promise<Delivery[]> {
  const limit = Math.min(Math.max(1, Math.trunc(f.limit ?? 100)), 1_000);
  if (!f.dropped)
    return withRecipients(store, (await outbox.listDeliveries({ ...f, limit })).map(toDelivery));
  const ids = await deliveriesWithDrops(store.db, limit);
  if (ids.length === 0) return [];
  let q = store.db.selectFrom('deliveries').selectAll().where('id', 'in', ids);
  if (f.status) q = q.where('status', '=', f.status);
  return withRecipients(store, (await q.orderBy('id', 'desc').execute()).map(toDelivery));
}

export async function deliveryDetail(store: Store, id: string): Promise<DeliveryDetail | undefined> {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  const n = Number(id);
  const row = await store.db.selectFrom('deliveries').selectAll().where('id', '=', n).executeTakeFirst();
  if (!row) return undefined;
  // The counts from the same read as the list, so the two always agree.
  const people = await recipientsOf(store.db, n);
  const counts = { pending: 0, delivered: 0, read: 0, dropped: 0 };
  for (const p of people) counts[p.outcome]++;
  const base = { ...toDelivery(row), ...(people.length > 0 ? { recipients: counts } : {}) };
  const check = await checkOf(store.db, n);
  return {
    ...base,
    messageId: row.message_id,
    people: people.map((p) => ({
      userId: p.userId,
      outcome: p.outcome,
      ...(p.reasonCode !== undefined ? { reasonCode: p.reasonCode } : {}),
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      updatedAt: iso(p.updatedAt),
      ...(p.fallbackDeliveryId !== undefined ? { fallbackDeliveryId: String(p.fallbackDeliveryId) } : {}),
    })),
    ...(check && check.kind !== 'none'
      ? {
          check: {
            kind: check.kind as 'notice' | 'oto' | 'group',
            asked: Number(check.checks),
            ...(check.done_at === null
              ? { nextAt: iso(Number(check.due_at)) }
              : { doneAt: iso(Number(check.done_at)) }),
            ...(check.last_error !== null ? { lastError: check.last_error } : {}),
          },
        }
      : {}),
  };
}
