/**
 * What the hub's services need from the store's transactional outbox (the dispatcher owns delivery). An
 * `enqueue` given a transaction writes its rows in it, so a task and its announcement, or an inbound command
 * and its effects, commit together or not at all.
 */

import type { Tx } from '../../store/open-store.js';
import type { Delivery, DeliveryStatus } from '../service.js';
import type { EnqueueInput } from './outbox.js';

export type { EnqueueInput };

export interface EnqueueResult {
  messageId: string;
  duplicate: boolean;
  deliveries: Delivery[];
}

export interface OutboxPort {
  enqueue(input: EnqueueInput, tx?: Tx): Promise<EnqueueResult>;
  getMessage(messageId: string): Promise<EnqueueResult | undefined>;
  listDeliveries(filter: {
    status?: DeliveryStatus | undefined;
    limit?: number | undefined;
  }): Promise<Delivery[]>;
  /** With `by`, each delivery moved gets a `redrive` decision recorded (outbox.ts `redrive`). */
  redrive(ids: readonly string[] | 'all-dead', by?: string): Promise<number>;
  counts(): Promise<{ queued: number; parked: number; dead: number }>;
}
