/**
 * 003_open_hits: a budget hit of a claimed delivery names the delivery while its send may be in flight
 * (limiter.ts). DingTalk counts a message when it arrives, so the hit is moved to the send's completion when the
 * result is recorded; until then it counts as live however old it is, and the delivery's id finds it again (the
 * result, a reclaim or a release closes it). Closed hits and the core limiter's hits have no delivery.
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';

export function openHits(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('limiter_hits')
        .addColumn('delivery_id', dialect === 'sqlite' ? 'integer' : 'bigint')
        .execute();
      await db.schema
        .createIndex('limiter_hits_delivery_idx')
        .on('limiter_hits')
        .column('delivery_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('limiter_hits_delivery_idx').execute();
      await db.schema.alterTable('limiter_hits').dropColumn('delivery_id').execute();
    },
  };
}
