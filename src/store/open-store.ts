/**
 * `openStore({ url })`: the one way the hub gets its database. The URL picks the dialect
 * (`postgres://` / `postgresql://` → PostgreSQL; a path, `sqlite:<path>`, `file:<path>` or `:memory:` → SQLite),
 * the migrations are applied before the store is handed out, and `close()` releases the connections.
 */

import { resolve } from 'node:path';
import { Kysely, type Migration, Migrator, sql, type Transaction } from 'kysely';
import { ConfigError, DingTalkError } from '../core/errors.js';
import { postgresDialect, quoteIdent, type StoreDialect, sqliteDialect } from './dialect.js';
import { migrationsFor } from './migrations/index.js';
import type { Database } from './schema.js';

export interface OpenStoreOptions {
  /**
   * `./data/dingkit.db` (default in the hub config), `sqlite:/abs/file.db`, `:memory:`, or
   * `postgres://user@host:5432/db`.
   * @example 'postgres://dingkit@127.0.0.1:5432/dingkit'
   */
  url: string;
  /** PostgreSQL schema to use (created if missing). @default the connection's current schema */
  schema?: string | undefined;
  /** Apply pending migrations on open. @default true */
  migrate?: boolean | undefined;
  /** Extra migrations after the built-in ones (names must sort after the built-in ones, e.g. `900_...`). */
  extraMigrations?: Record<string, Migration> | undefined;
  /** @default 10 */
  poolSize?: number | undefined;
  /** SQLite lock wait before a write fails with SQLITE_BUSY. @default 5_000 */
  busyTimeoutMs?: number | undefined;
  /** PostgreSQL: a pooled connection died (a restart, a cut); called once per connection, never thrown. */
  onError?: ((e: Error) => void) | undefined;
  /**
   * SQLite: make the file's missing directory (0700). Off, a missing directory is a ConfigError, so a mistyped
   * path never starts a new empty database elsewhere. The hub turns it on for `database.create` and the default
   * demo path. @default false
   */
  createDirs?: boolean | undefined;
  /** SQLite `synchronous` pragma. @default 'FULL' */
  sqliteSynchronous?: 'FULL' | 'NORMAL' | undefined;
}

export type Tx = Transaction<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /**
   * Runs `fn` in one transaction (SQLite: `BEGIN IMMEDIATE`, a single-writer section). Inside `fn`, use the
   * given `tx`, never `store.db`: on SQLite the store has one connection and `store.db` would wait for `fn`.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns the names applied now (none when up to date). */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

/** Redacts the password of a connection URL before it appears in an error. */
export function describeUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:[REDACTED]@');
}

export function dialectOf(url: string): StoreDialect {
  return /^postgres(ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
}

function sqliteFile(url: string): string {
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (path === ':memory:') return path;
  if (path.length === 0) throw new ConfigError('database.url: empty SQLite path');
  return resolve(path);
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function openStore(o: OpenStoreOptions): Promise<Store> {
  if (typeof o.url !== 'string' || o.url.trim() === '') throw new ConfigError('database.url: missing');
  const dialect = dialectOf(o.url);
  let db: Kysely<Database>;
  let migrationSchema: string | undefined;
  if (dialect === 'postgres') {
    if (o.schema !== undefined && !SCHEMA_NAME.test(o.schema)) {
      throw new ConfigError('database schema: letters, digits and _ only (max 63)');
    }
    const { dialect: d, pool } = postgresDialect({
      connectionString: o.url,
      schema: o.schema,
      poolSize: o.poolSize ?? 10,
      onError: o.onError,
    });
    db = new Kysely<Database>({ dialect: d });
    try {
      if (o.schema) {
        // Two processes running CREATE SCHEMA IF NOT EXISTS at once can still collide on the catalog's unique
        // index (23505 / 42P06); the loser finds the schema there.
        await sql
          .raw(`create schema if not exists ${quoteIdent(o.schema)}`)
          .execute(db)
          .catch((e: { code?: string }) => {
            if (e?.code !== '23505' && e?.code !== '42P06') throw e;
          });
      }
      const r = await sql<{ s: string | null }>`select current_schema() as s`.execute(db);
      migrationSchema = r.rows[0]?.s ?? undefined;
      if (!migrationSchema) throw new ConfigError('database: the search_path names no existing schema');
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof DingTalkError) throw e;
      throw new ConfigError(`database ${describeUrl(o.url)}: cannot connect (${(e as Error).message})`, {
        cause: e,
      });
    }
  } else {
    try {
      db = new Kysely<Database>({
        dialect: sqliteDialect({
          file: sqliteFile(o.url),
          busyTimeoutMs: o.busyTimeoutMs ?? 5_000,
          synchronous: o.sqliteSynchronous ?? 'FULL',
          createDirs: o.createDirs === true,
        }),
      });
    } catch (e) {
      if (e instanceof DingTalkError) throw e;
      throw new ConfigError(`database ${o.url}: cannot open (${(e as Error).message})`, { cause: e });
    }
  }

  const migrations = { ...migrationsFor(dialect), ...(o.extraMigrations ?? {}) };
  // Kysely checks "does the migration table exist" across all schemas unless told which one; with several
  // schemas in one PostgreSQL database (tests, tenants) it must be pinned to ours.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}),
  });

  const store: Store = {
    db,
    dialect,
    transaction: (fn) => db.transaction().execute(fn),
    async migrate() {
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        throw new ConfigError(`database: migration ${failed} failed (${(error as Error).message ?? error})`, {
          cause: error,
        });
      }
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    close: () => db.destroy(),
  };
  if (o.migrate !== false) {
    try {
      await store.migrate();
    } catch (e) {
      await db.destroy().catch(() => {});
      throw e;
    }
  }
  return store;
}
