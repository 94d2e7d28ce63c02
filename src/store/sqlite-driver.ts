/**
 * A Kysely driver for better-sqlite3 that behaves well when several processes (or several stores in one test
 * process) share one database file.
 *
 * - Transactions start with `BEGIN IMMEDIATE`: the write lock is taken up front, so a transaction that reads and
 *   then writes never fails half-way with SQLITE_BUSY (a deferred transaction cannot wait for a lock upgrade).
 * - Lock waits are asynchronous: better-sqlite3 is synchronous, so SQLite's own busy handler would freeze the
 *   event loop while it waits, and two stores in one process would then wait on each other until the timeout.
 *   The connection runs with `busy_timeout = 0` and this driver retries a statement that met SQLITE_BUSY after a
 *   short timer, up to `busyTimeoutMs`. A statement that failed with SQLITE_BUSY did nothing, so retrying is safe.
 * - One connection, used by one query or transaction at a time (a promise mutex, as Kysely's own driver does).
 * - Durable commits off the event loop (wal-sync.ts): given a `WalSync`, a commit that wrote something (an
 *   explicit COMMIT, or a write outside a transaction) resolves only once the WAL is fsynced, and the wait happens
 *   after the connection is released, so the next transaction runs meanwhile and commits that end together share
 *   one fsync.
 */

import type Database from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
} from 'kysely';
import type { Checkpointer } from './checkpointer.js';
import type { WalSync } from './wal-sync.js';

const STATEMENT_CACHE = 256;

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']);

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BUSY.has(code);
}

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  async lock(): Promise<void> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => {
      release = r;
    });
    await prev;
    this.#release = release;
  }

  unlock(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }
}

class SqliteConnection implements DatabaseConnection {
  readonly #db: Database.Database;
  readonly #busyTimeoutMs: number;
  /** The open transaction wrote something. */
  #wrote = false;
  /** A write was committed since the connection was last handed out: it must reach the disk before its answer. */
  committed = false;

  constructor(db: Database.Database, busyTimeoutMs: number) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        return this.#run<R>(q);
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw e;
      }
      // Jitter so that two waiters do not retry in lock-step.
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    }
  }

  /**
   * Prepared statements by SQL text. Kysely compiles the same few dozen shapes over and over (an enqueue is four
   * statements, a claim a handful); preparing one costs more than running it. Bounded: SQL built with a varying
   * number of placeholders (`in (?, ?, ...)`) makes new texts, and the oldest are dropped.
   */
  readonly #statements = new Map<string, Database.Statement>();

  #prepare(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      // Most recently used last, so the first key is the one to drop.
      this.#statements.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  #run<R>(q: CompiledQuery): QueryResult<R> {
    const stmt = this.#prepare(q.sql);
    const params = q.parameters as unknown[];
    // `readonly` is SQLite's own verdict (sqlite3_stmt_readonly): false for any write, RETURNING included; true for
    // BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE, which write nothing themselves.
    if (!stmt.readonly) this.#wrote = true;
    try {
      if (stmt.reader) return { rows: stmt.all(params) as R[] };
      const { changes, lastInsertRowid } = stmt.run(params);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } finally {
      if (!this.#db.inTransaction) {
        // Out of a transaction now: what was written is committed (a COMMIT, or a write on its own), unless this
        // was a ROLLBACK. A failed statement that SQLite rolled back may ask for one fsync too many: harmless.
        if (this.#wrote && !/^\s*rollback\b/i.test(q.sql)) this.committed = true;
        this.#wrote = false;
      }
    }
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(q.query)) throw new Error('SQLite streams only select queries');
    const stmt = this.#db.prepare(q.sql);
    for (const row of stmt.iterate(q.parameters as unknown[])) yield { rows: [row as R] };
  }
}

export class SqliteStoreDriver implements Driver {
  readonly #db: Database.Database;
  readonly #conn: SqliteConnection;
  readonly #mutex = new Mutex();
  readonly #wal: WalSync | undefined;
  readonly #checkpointer: Checkpointer | undefined;

  /**
   * `wal`: make every commit durable through it (wal-sync.ts); absent, commits are as durable as the pragma says.
   * `checkpointer`: told after each durable commit, checkpoints off the event loop (checkpointer.ts).
   */
  constructor(
    db: Database.Database,
    busyTimeoutMs: number,
    wal?: WalSync,
    checkpointer?: Checkpointer | undefined,
  ) {
    this.#db = db;
    this.#conn = new SqliteConnection(db, busyTimeoutMs);
    this.#wal = wal;
    this.#checkpointer = checkpointer;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#conn;
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  /**
   * SQLite itself rolls a transaction back on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY in
   * some states: https://www.sqlite.org/lang_transaction.html "Response To Errors Within A Transaction"). A
   * ROLLBACK then fails with "cannot rollback - no transaction is active", and Kysely would throw that instead of
   * the error that caused it ("database or disk is full"). So roll back only what is still open.
   */
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    if (!this.#db.inTransaction) return;
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(
    c: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await c.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    // After an automatic rollback (see rollbackTransaction) the savepoint is gone with the transaction.
    if (!this.#db.inTransaction) return;
    await c.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    _compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await c.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  /**
   * Kysely awaits this before it returns a query's or transaction's result, so a commit's caller waits here for
   * the fsync, after the connection went to the next one in line.
   */
  async releaseConnection(): Promise<void> {
    const durable = this.#conn.committed && this.#wal !== undefined;
    this.#conn.committed = false;
    this.#mutex.unlock();
    if (!durable) return;
    await this.#wal!.sync();
    this.#checkpointer?.kick();
  }

  async destroy(): Promise<void> {
    await this.#checkpointer?.close();
    await this.#wal?.close();
    if (this.#db.open) this.#db.close();
  }
}
