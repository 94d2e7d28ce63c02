/**
 * The hub's outbox port over the store's `Outbox`: jobs go in as they are, rows come out as the service contract's
 * `Delivery`.
 */

import type { Tx } from '../../store/open-store.js';
import { type Outbox, toDelivery } from './outbox.js';
import type { EnqueueInput, EnqueueResult, OutboxPort } from './outbox-port.js';

export function createOutboxPort(outbox: Outbox): OutboxPort {
  return {
    async enqueue(input: EnqueueInput, tx?: Tx): Promise<EnqueueResult> {
      const r = await outbox.enqueue(input, tx);
      return { messageId: r.messageId, duplicate: r.duplicate, deliveries: r.deliveries.map(toDelivery) };
    },
    async getMessage(id) {
      const r = await outbox.getMessage(id);
      if (!r) return undefined;
      return { messageId: r.message.id, duplicate: false, deliveries: r.deliveries.map(toDelivery) };
    },
    async listDeliveries(f) {
      return (await outbox.listDeliveries(f)).map(toDelivery);
    },
    redrive: (ids, by) => outbox.redrive(ids, by),
    async counts() {
      const c = await outbox.counts();
      return { queued: c.queued + c.sending, parked: c.parked, dead: c.dead };
    },
  };
}
