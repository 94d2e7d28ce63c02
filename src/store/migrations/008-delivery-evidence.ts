/**
 * 008_delivery_evidence: what an operator needs to settle a parked delivery, and what they decided.
 *
 * - `delivery_attempts`: one row per attempt that failed (retried, parked or dead-lettered), with its time, the
 *   error's stable code, its outcome (`not_sent`, `unknown`, `rejected`) and the redacted reason. The row on
 *   `deliveries` keeps only the last error; a parked delivery's history (two timeouts, then a park) needs all of
 *   them. A success writes nothing here: the send path of a healthy hub pays nothing for this table.
 * - `delivery_decisions`: one row per operator decision on a parked delivery (mark-sent, redrive, drop): who,
 *   when, the status it had, the note. A delivery parked again after a redrive gets a second decision.
 *
 * Neither table references `deliveries` by a foreign key: retention deletes finished deliveries in batches and then
 * their evidence (outbox.ts `purge`), and a key would make each of those deletes check the other table first.
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf, notNull, serial as serialCol } from './columns.js';

export function deliveryEvidence(dialect: StoreDialect): Migration {
  const serial = serialCol(dialect);
  const idType = idTypeOf(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('delivery_attempts')
        .addColumn('id', idType, serial)
        .addColumn('delivery_id', idType, notNull)
        .addColumn('attempt', 'integer', notNull)
        .addColumn('at', 'bigint', notNull)
        .addColumn('action', 'text', notNull)
        .addColumn('code', 'text')
        .addColumn('outcome', 'text')
        .addColumn('reason', 'text', notNull)
        .execute();
      await db.schema
        .createIndex('delivery_attempts_delivery_idx')
        .on('delivery_attempts')
        .columns(['delivery_id', 'id'])
        .execute();
      await db.schema
        .createTable('delivery_decisions')
        .addColumn('id', idType, serial)
        .addColumn('delivery_id', idType, notNull)
        .addColumn('action', 'text', notNull)
        .addColumn('previous_status', 'text', notNull)
        .addColumn('by_actor', 'text', notNull)
        .addColumn('note', 'text')
        .addColumn('at', 'bigint', notNull)
        .execute();
      await db.schema
        .createIndex('delivery_decisions_delivery_idx')
        .on('delivery_decisions')
        .columns(['delivery_id', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('delivery_decisions').execute();
      await db.schema.dropTable('delivery_attempts').execute();
    },
  };
}
