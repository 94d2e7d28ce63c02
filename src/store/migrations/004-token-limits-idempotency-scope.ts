/**
 * 004_token_limits_idempotency_scope.
 *
 * API tokens get a lifetime and limits: `expires_at` (null = never), `demo` (minted by a demo `serve`: refused
 * by a hub that runs with real credentials) and `limits` (JSON `{ groups?, people?, noAtAll? }`, null = none).
 *
 * Idempotency keys become per caller and per request: `messages` and `tasks` get `idempotency_scope` (whose key it
 * is: `token:<name>`, `person:<userId>`, `cli`...) and `request_hash` (the canonical request's fingerprint), and
 * the key is unique per (scope, key) instead of globally. SQLite cannot drop a UNIQUE column constraint without
 * rebuilding the table, and a rebuild would fire the ON DELETE CASCADE of `tasks`' children inside the migration's
 * transaction (foreign keys are on, and cannot be turned off inside one). So the old column is renamed
 * `legacy_idempotency_key` and emptied, and a new `idempotency_key` column (same name the code uses) takes its
 * place under the new index; on PostgreSQL the legacy column is dropped right away. Rows from before keep their
 * keys, scoped as their API caller would be now (`created_by` `api:<name>` → `token:<name>`; others keep the
 * actor string), with no fingerprint: a retry across the upgrade still gets its first answer.
 */

import { type Kysely, type Migration, sql } from 'kysely';
import type { StoreDialect } from '../dialect.js';

const KEYED = ['messages', 'tasks'] as const;

export function tokenLimitsIdempotencyScope(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint').execute();
      await db.schema
        .alterTable('api_tokens')
        .addColumn('demo', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('api_tokens').addColumn('limits', 'text').execute();

      for (const table of KEYED) {
        await db.schema.alterTable(table).renameColumn('idempotency_key', 'legacy_idempotency_key').execute();
        await db.schema.alterTable(table).addColumn('idempotency_key', 'text').execute();
        await db.schema.alterTable(table).addColumn('idempotency_scope', 'text').execute();
        await db.schema.alterTable(table).addColumn('request_hash', 'text').execute();
        await sql`update ${sql.table(table)}
          set idempotency_key = legacy_idempotency_key,
              idempotency_scope = case
                when created_by like 'api:%' then 'token:' || substr(created_by, 5)
                else coalesce(created_by, '')
              end,
              legacy_idempotency_key = null
          where legacy_idempotency_key is not null`.execute(db);
        if (dialect === 'postgres') {
          await db.schema.alterTable(table).dropColumn('legacy_idempotency_key').execute();
        }
        await db.schema
          .createIndex(`${table}_idempotency_idx`)
          .on(table)
          .columns(['idempotency_scope', 'idempotency_key'])
          .unique()
          .execute();
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of KEYED) {
        await db.schema.dropIndex(`${table}_idempotency_idx`).execute();
        await db.schema.alterTable(table).dropColumn('request_hash').execute();
        await db.schema.alterTable(table).dropColumn('idempotency_scope').execute();
        if (dialect === 'postgres') {
          await db.schema.alterTable(table).dropColumn('idempotency_key').execute();
          await db.schema
            .alterTable(table)
            .addColumn('idempotency_key', 'text', (c) => c.unique())
            .execute();
        } else {
          // The unique legacy column is still there: keys scoped to one caller may collide once unscoped.
          await db.schema.alterTable(table).dropColumn('idempotency_key').execute();
          await db.schema
            .alterTable(table)
            .renameColumn('legacy_idempotency_key', 'idempotency_key')
            .execute();
        }
      }
      await db.schema.alterTable('api_tokens').dropColumn('limits').execute();
      await db.schema.alterTable('api_tokens').dropColumn('demo').execute();
      await db.schema.alterTable('api_tokens').dropColumn('expires_at').execute();
    },
  };
}
