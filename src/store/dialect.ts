/**
 * The two database dialects the store runs on, built so the rest of the store can be written once.
 *
 * SQLite: one better-sqlite3 connection per store, WAL (readers never block the writer), and the driver of
 * sqlite-driver.ts (BEGIN IMMEDIATE, asynchronous lock waits), so every transaction is a single-writer section.
 *
 * PostgreSQL: a `pg` Pool whose int8 columns are parsed to JS numbers (our bigints are epoch milliseconds and
 * counters, far below 2^53), set per pool through `types` rather than on pg's global parser registry.
 */

import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  type Dialect,
  PostgresDialect,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import pg from 'pg';
import { ConfigError } from '../core/errors.js';
import { Checkpointer } from './checkpointer.js';
import { ScopedPostgresIntrospector } from './pg-introspector.js';
import { SqliteStoreDriver } from './sqlite-driver.js';
import { WalSync } from './wal-sync.js';

export type StoreDialect = 'sqlite' | 'postgres';

interface SqliteOptions {
  /** File path, or `:memory:` (one process only). */
  file: string;
  /** @default 5_000 */
  busyTimeoutMs?: number;
  /**
   * `FULL`: every commit is on disk before its promise resolves, so an accepted request survives a power cut. The
   * fsync runs on libuv's thread pool, not inside SQLite's COMMIT (wal-sync.ts), so it never stops the event
   * loop, and commits that end together share one. `NORMAL`: no fsync at commit; survives a process crash
   * (kill -9) but may lose the last commits on power loss.
   * @default 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Make the file's directory (0700) when it is missing. Off, a missing directory is an error: a mistyped path
   * must not quietly start a new, empty database somewhere else.
   * @default false
   */
  createDirs?: boolean;
}

/**
 * The database file's directory must exist unless asked to make it (then owner-only, 0700). A new file is created
 * here, empty (a valid SQLite database) and 0600, before SQLite opens it: SQLite creates its `-wal` and `-shm`
 * files with the main file's permissions (os_unix.c, findCreateFileMode), so they are owner-only too, whatever the
 * umask. An existing file keeps the mode its owner gave it.
 */
function prepareFile(file: string, createDirs: boolean): void {
  const dir = dirname(file);
  if (!existsSync(dir)) {
    if (!createDirs) {
      throw new ConfigError(
        `database.url: the directory ${dir} does not exist (a mistyped path?). Create it, or let the hub create it: database.create: true in the config, or dingkit serve --create-db`,
      );
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
  }
}

/**
 * SQLite does run DDL inside transactions; Kysely's adapter says it does not (so its Migrator skips the
 * transaction, and two processes opening a new file would both run 001_initial). Saying yes puts the whole
 * migration run inside one BEGIN IMMEDIATE, which serialises concurrent starts.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export function sqliteDialect(o: SqliteOptions): Dialect {
  if (o.file !== ':memory:') prepareFile(o.file, o.createDirs === true);
  const database = new BetterSqlite3(o.file);
  const mode = database.pragma('journal_mode = WAL', { simple: true });
  // Lock waits happen in the driver, asynchronously (sqlite-driver.ts), never inside SQLite.
  database.pragma('busy_timeout = 0');
  // SQLite itself never fsyncs at commit (NORMAL: consistent after any crash); for FULL the driver fsyncs the WAL
  // after each commit, off the event loop, before the commit's caller hears of it (wal-sync.ts).
  // Without a WAL (`:memory:`, or a file system SQLite cannot share memory on) SQLite keeps its own FULL.
  const wal = o.synchronous !== 'NORMAL' && mode === 'wal' ? new WalSync(`${database.name}-wal`) : undefined;
  database.pragma(`synchronous = ${o.synchronous === 'NORMAL' || wal ? 'NORMAL' : 'FULL'}`);
  // Checkpoints run on a worker thread (checkpointer.ts); SQLite's own, inside a COMMIT, only past ten times the
  // usual 1,000 pages, should that worker fall behind.
  const checkpointer = wal ? new Checkpointer(database.name) : undefined;
  if (checkpointer) database.pragma('wal_autocheckpoint = 10000');
  database.pragma('foreign_keys = ON');
  return {
    createAdapter: () => new TransactionalSqliteAdapter(),
    createDriver: () => new SqliteStoreDriver(database, o.busyTimeoutMs ?? 5_000, wal, checkpointer),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
}

interface PostgresOptions {
  connectionString: string;
  /** Schema to work in (created when missing); tests use a fresh one per run. */
  schema?: string | undefined;
  /** @default 10 */
  poolSize?: number;
  /** A pooled connection died (server restart, network cut): reported once per connection, never thrown. */
  onError?: ((e: Error) => void) | undefined;
}

const INT8_OID = 20;

export function postgresDialect(o: PostgresOptions): { dialect: Dialect; pool: pg.Pool } {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID && format !== 'binary'
        ? (v: string) => Number(v)
        : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    max: o.poolSize ?? 10,
    types,
    // The schema goes in the startup options, so every pooled connection works in it without a per-query SET.
    ...(o.schema ? { options: `-c search_path=${quoteIdent(o.schema)}` } : {}),
  });
  // A connection that dies (server restart, pg_terminate_backend, network cut) emits 'error' on its client, and
  // with no listener an EventEmitter 'error' crashes the process. pg-pool listens only while a client is idle;
  // a client checked out by Kysely (between the statements of a transaction, say) has no listener at all. So
  // every client gets one from its first connect, and it reports each dead connection once (a terminated
  // backend also emits "Connection terminated unexpectedly" right after its own error). The pool's own 'error'
  // is the same event re-emitted for idle clients: heard, not reported twice. Either way the pool discards the
  // broken client and opens a new one on the next query; the statement that was running fails to its caller.
  const reported = new WeakSet<object>();
  pool.on('connect', (client) => {
    client.on('error', (e: Error) => {
      if (reported.has(client)) return;
      reported.add(client);
      o.onError?.(e);
    });
  });
  pool.on('error', () => {});
  const base = new PostgresDialect({ pool });
  const dialect: Dialect = {
    createAdapter: () => base.createAdapter(),
    createDriver: () => base.createDriver(),
    createQueryCompiler: () => base.createQueryCompiler(),
    // Scoped to our schema: Kysely's stock one fails when another process drops a schema meanwhile.
    createIntrospector: (db) => new ScopedPostgresIntrospector(db),
  };
  return { dialect, pool };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
