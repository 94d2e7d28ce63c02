/**
 * 001_initial: every table the hub owns (schema.ts), so the services, the API and the dispatcher share one
 * layout. Later changes are new numbered migrations; this one is never edited after release.
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf, notNull, serial as serialCol } from './columns.js';

export function initial(dialect: StoreDialect): Migration {
  const serial = serialCol(dialect);
  const idType = idTypeOf(dialect);

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', notNull)
        .addColumn('idempotency_key', 'text', (c) => c.unique())
        .addColumn('request_json', 'text', notNull)
        .addColumn('response_json', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', notNull)
        .execute();
      await db.schema.createIndex('messages_created_idx').on('messages').column('created_at').execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('id', idType, serial)
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
        .addColumn('kind', 'text', notNull)
        .addColumn('channel', 'text', notNull)
        .addColumn('target', 'text', notNull)
        .addColumn('rate_key', 'text')
        .addColumn('payload', 'text', notNull)
        .addColumn('status', 'text', notNull)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('idempotent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('run_at', 'bigint', notNull)
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('started_at', 'bigint')
        .addColumn('order_key', 'text')
        .addColumn('part_index', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('part_count', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('remote_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('updated_at', 'bigint', notNull)
        .addColumn('finished_at', 'bigint')
        .execute();
      // The claim query: due queued jobs in order, and expired leases.
      await db.schema
        .createIndex('deliveries_claim_idx')
        .on('deliveries')
        .columns(['status', 'run_at'])
        .execute();
      await db.schema.createIndex('deliveries_message_idx').on('deliveries').column('message_id').execute();
      await db.schema
        .createIndex('deliveries_order_idx')
        .on('deliveries')
        .columns(['order_key', 'id'])
        .execute();
      await db.schema
        .createIndex('deliveries_rate_idx')
        .on('deliveries')
        .columns(['rate_key', 'status'])
        .execute();

      await db.schema
        .createTable('limiter_hits')
        .addColumn('id', idType, serial)
        .addColumn('key', 'text', notNull)
        .addColumn('at', 'bigint', notNull)
        .execute();
      await db.schema.createIndex('limiter_hits_key_idx').on('limiter_hits').columns(['key', 'at']).execute();
      await db.schema
        .createTable('limiter_keys')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('penalty_until', 'bigint')
        .execute();

      await db.schema
        .createTable('inbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', notNull)
        .addColumn('topic', 'text', notNull)
        .addColumn('payload', 'text', notNull)
        .addColumn('status', 'text', notNull)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('run_at', 'bigint', notNull)
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('error', 'text')
        .addColumn('received_at', 'bigint', notNull)
        .addColumn('handled_at', 'bigint')
        .execute();
      await db.schema.createIndex('inbox_claim_idx').on('inbox').columns(['status', 'run_at']).execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', idType, serial)
        .addColumn('title', 'text', notNull)
        .addColumn('description', 'text')
        .addColumn('state', 'text', notNull)
        .addColumn('group_alias', 'text')
        .addColumn('due_at', 'bigint')
        .addColumn('priority', 'text', (c) => c.notNull().defaultTo('normal'))
        .addColumn('idempotency_key', 'text', (c) => c.unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('updated_at', 'bigint', notNull)
        .execute();
      await db.schema.createIndex('tasks_state_idx').on('tasks').columns(['state', 'due_at']).execute();
      await db.schema
        .createTable('task_assignees')
        .addColumn('task_id', idType, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('person', 'text', notNull)
        .addColumn('union_id', 'text')
        .addColumn('todo_id', 'text')
        .addPrimaryKeyConstraint('task_assignees_pk', ['task_id', 'person'])
        .execute();
      await db.schema
        .createIndex('task_assignees_person_idx')
        .on('task_assignees')
        .column('person')
        .execute();
      await db.schema
        .createTable('task_events')
        .addColumn('id', idType, serial)
        .addColumn('task_id', idType, (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('at', 'bigint', notNull)
        .addColumn('kind', 'text', notNull)
        .addColumn('by_actor', 'text', notNull)
        .addColumn('note', 'text')
        .execute();
      await db.schema
        .createIndex('task_events_task_idx')
        .on('task_events')
        .columns(['task_id', 'id'])
        .execute();

      await db.schema
        .createTable('schedules')
        .addColumn('id', idType, serial)
        .addColumn('task_id', idType, (c) => c.references('tasks.id').onDelete('cascade'))
        .addColumn('kind', 'text', notNull)
        .addColumn('due_at', 'bigint', notNull)
        .addColumn('payload', 'text')
        .addColumn('fired_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('created_at', 'bigint', notNull)
        .execute();
      await db.schema
        .createIndex('schedules_due_idx')
        .on('schedules')
        .columns(['fired_at', 'due_at'])
        .execute();
      await db.schema.createIndex('schedules_task_idx').on('schedules').column('task_id').execute();

      await db.schema
        .createTable('file_shares')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.references('messages.id'))
        .addColumn('file_name', 'text', notNull)
        .addColumn('size', 'bigint', notNull)
        .addColumn('sha256', 'text')
        .addColumn('media_id', 'text')
        .addColumn('target', 'text', notNull)
        .addColumn('channel', 'text', notNull)
        .addColumn('status', 'text', notNull)
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('updated_at', 'bigint', notNull)
        .execute();
      await db.schema.createIndex('file_shares_created_idx').on('file_shares').column('created_at').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', idType, serial)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', 'text', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();

      await db.schema
        .createTable('people')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('mobile', 'text')
        .addColumn('user_id', 'text')
        .addColumn('union_id', 'text')
        .addColumn('resolved_at', 'bigint')
        .execute();

      await db.schema
        .createTable('kv')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', notNull)
        .addColumn('expires_at', 'bigint')
        .execute();

      await db.schema
        .createTable('locks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', notNull)
        .addColumn('until', 'bigint', notNull)
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of [
        'locks',
        'kv',
        'people',
        'api_tokens',
        'file_shares',
        'schedules',
        'task_events',
        'task_assignees',
        'tasks',
        'inbox',
        'limiter_keys',
        'limiter_hits',
        'deliveries',
        'messages',
      ]) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
