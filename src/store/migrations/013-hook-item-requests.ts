/**
 * 013_hook_item_requests.
 *
 * Each hook item names the delivery it came with: `request_key` is its `hook_requests.dedup_key` (same route), written
 * in the transaction that accepts both. `dingkit hooks list` / `GET /v1/hooks` show per delivery what became of its
 * items; before this column they were found by the millisecond they were received in, which merged two deliveries
 * of one route accepted in the same millisecond (common under a storm, where concurrent accepts share a commit).
 * Items accepted before this migration keep a null key and are still found by that millisecond.
 */

import type { Kysely, Migration } from 'kysely';

export const hookItemRequests: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('hook_items').addColumn('request_key', 'text').execute();
    await db.schema
      .createIndex('hook_items_request_idx')
      .on('hook_items')
      .columns(['route', 'request_key'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('hook_items_request_idx').execute();
    await db.schema.alterTable('hook_items').dropColumn('request_key').execute();
  },
};
