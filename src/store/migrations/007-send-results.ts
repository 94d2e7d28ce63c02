/**
 * 007_send_results: what DingTalk did with a message after it accepted it (docs/dingtalk.md §5.2, §3.1).
 *
 * - `send_checks`: one row per sent delivery whose result DingTalk lets us ask for (a work notice's `task_id`, an
 *   app-robot send's `processQueryKey`): when the next question is due, how many were asked, and a lease so that
 *   of several hub processes only one asks at a time (src/hub/results/checks.ts).
 * - `delivery_recipients`: one row per person and delivery, with the outcome DingTalk reported (`pending`,
 *   `delivered`, `read`, `dropped` with its code and our words for it) and the fallback sent for a drop, if any.
 *
 * Both go with their delivery (ON DELETE CASCADE): retention purges a delivery and its results together. The
 * partial index finds sent deliveries that have a handle but no check yet, by finish time, without scanning every
 * sent row of the retention period (the checker's enrolment sweep, checks.ts).
 */

import { type Kysely, type Migration, sql } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf } from './columns.js';

export function sendResults(dialect: StoreDialect): Migration {
  const idType = idTypeOf(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('send_checks')
        .addColumn('delivery_id', idType, (c) =>
          c.primaryKey().references('deliveries.id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('conversation', 'text')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('done_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('send_checks_due_idx')
        .on('send_checks')
        .columns(['done_at', 'due_at'])
        .execute();

      await db.schema
        .createTable('delivery_recipients')
        .addColumn('delivery_id', idType, (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason_code', 'text')
        .addColumn('reason', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('fallback_at', 'bigint')
        .addColumn('fallback_delivery_id', idType)
        .addPrimaryKeyConstraint('delivery_recipients_pk', ['delivery_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('delivery_recipients_outcome_idx')
        .on('delivery_recipients')
        .columns(['outcome', 'delivery_id'])
        .execute();

      await db.schema
        .createIndex('deliveries_result_idx')
        .on('deliveries')
        .column('finished_at')
        .where(sql.raw<boolean>("status = 'sent' and remote_id is not null and channel in ('notice', 'app')"))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('deliveries_result_idx').execute();
      await db.schema.dropTable('delivery_recipients').execute();
      await db.schema.dropTable('send_checks').execute();
    },
  };
}
