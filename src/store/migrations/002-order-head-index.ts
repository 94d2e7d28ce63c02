/**
 * 002_order_head_index: the claim query asks, for each queued delivery with an order key, whether an earlier
 * delivery of the same key is still queued, sending or parked (delivery/queue.ts). With only (order_key, id)
 * indexed, that probe walks every already-sent row of the conversation before it meets a blocking one, so a
 * long ordered backlog made each claim slower as it drained. With the status between key and id, the probe
 * is one index seek per blocking status.
 */

import type { Kysely, Migration } from 'kysely';

export const orderHeadIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('deliveries_order_status_idx')
      .on('deliveries')
      .columns(['order_key', 'status', 'id'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('deliveries_order_status_idx').execute();
  },
};
