/**
 * 010_gateways.
 *
 * What monitoring systems post to `POST /hooks/<name>` (src/hub/gateways/, docs/gateways.md):
 *
 * - `hook_requests`: one row per accepted delivery, keyed by route and dedupe key (Alertmanager: group key, status
 *   and its alerts' fingerprints and times; generic: the sender's idempotency header or the body's SHA-256). The
 *   primary key is the dedupe: a resend, a retry after a lost answer, or a replay inserts nothing.
 * - `hook_items`: an item (one alert, one generic event) per conversation it is routed to, committed with its
 *   request before the 2xx. `pending` until the gateway turns it into an outbox message (one transaction marks it
 *   `sent` with that message's id, or `coalesced` into another, or `failed` with a reason), so a crash between
 *   the two leaves it pending and it is sent after the restart. `due_at` holds a resolved alert back for the
 *   flap window.
 * - `hook_alerts`: per route, conversation and fingerprint, the alert's last known state and the message that
 *   announced it firing, which its resolved reply refers to; `flaps` counts coalesced fire/resolve pairs.
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf } from './columns.js';

export function gateways(dialect: StoreDialect): Migration {
  const idType = idTypeOf(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('hook_requests')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull())
        .addColumn('items', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('hook_requests_pk', ['route', 'dedup_key'])
        .execute();
      await db.schema
        .createIndex('hook_requests_received_idx')
        .on('hook_requests')
        .column('received_at')
        .execute();
      await db.schema
        .createTable('hook_items')
        .addColumn('id', idType, (c) =>
          dialect === 'sqlite'
            ? c.primaryKey().autoIncrement()
            : c.primaryKey().generatedByDefaultAsIdentity(),
        )
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('mention_all', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .addColumn('note', 'text')
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('hook_items_pending_idx')
        .on('hook_items')
        .columns(['state', 'due_at'])
        .execute();
      await db.schema
        .createIndex('hook_items_target_idx')
        .on('hook_items')
        .columns(['route', 'target', 'state'])
        .execute();
      // The budget gate counts a conversation's recent messages (flush.ts).
      await db.schema
        .createIndex('hook_items_sent_idx')
        .on('hook_items')
        .columns(['target', 'done_at'])
        .execute();
      await db.schema
        .createTable('hook_alerts')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .addColumn('posted_at', 'bigint')
        .addColumn('flaps', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('hook_alerts_pk', ['route', 'target', 'fingerprint'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('hook_alerts').execute();
      await db.schema.dropTable('hook_items').execute();
      await db.schema.dropTable('hook_requests').execute();
    },
  };
}
