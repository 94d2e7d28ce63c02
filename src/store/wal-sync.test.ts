import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Generated, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from './checkpointer.js';
import { openStore } from './open-store.js';
import { SqliteStoreDriver } from './sqlite-driver.js';
import { type FsyncFn, WalSync } from './wal-sync.js';

/** An fsync that finishes when the test says so; `calls` lists the fds in call order. */
function gatedFsync() {
  const gates: (() => void)[] = [];
  const calls: number[] = [];
  const fsync: FsyncFn = (fd) => {
    calls.push(fd);
    return new Promise<void>((r) => gates.push(r));
  };
  /** Lets the oldest waiting fsync finish, then lets promise callbacks run. */
  const finishOne = async () => {
    gates.shift()?.();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { fsync, calls, finishOne, waiting: () => gates.length };
}

/** Which of the promises have settled, in order. */
function tracker(ps: Promise<unknown>[]) {
  const done = ps.map(() => false);
  for (const [i, p] of ps.entries()) {
    p.then(
      () => {
        done[i] = true;
      },
      () => {},
    );
  }
  return done;
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('WalSync: one fsync for the commits that end together', () => {
  it('a sync asked while one runs waits for the next one, which all such askers share', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-wal-'));
    const wal = join(dir, 'x.db-wal');
    writeFileSync(wal, '');
    const g = gatedFsync();
    const w = new WalSync(wal, { fsync: g.fsync });
    const first = w.sync();
    const later = [w.sync(), w.sync(), w.sync()];
    const done = tracker([first, ...later]);
    await g.finishOne();
    // The first fsync may have started before the later commits: it does not answer for them.
    expect(done).toEqual([false, false, false, false]);
    // (the first fsync of a WAL also syncs its directory)
    await g.finishOne();
    expect(done).toEqual([true, false, false, false]);
    expect(w.count).toBe(2);
    await g.finishOne();
    expect(done).toEqual([true, true, true, true]);
    // Three askers, one fsync of the WAL after the first: 1 + 1 + the directory once.
    expect(g.calls).toHaveLength(3);
    expect(g.waiting()).toBe(0);
    await w.close();
  });
});

describe('sqlite driver: a commit answers only once the WAL is on disk', () => {
  async function open() {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-wal-'));
    const file = join(dir, 'x.db');
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('create table t (id integer primary key, v text)');
    const g = gatedFsync();
    const wal = new WalSync(`${file}-wal`, { fsync: g.fsync });
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new SqliteStoreDriver(raw, 1_000, wal),
        createQueryCompiler: () => new SqliteQueryCompiler(),
        createIntrospector: (k) => new SqliteIntrospector(k),
      },
    });
    return { db, g, wal };
  }

  it('a transaction that wrote waits for the fsync; the connection serves others meanwhile', async () => {
    const { db, g } = await open();
    const tx = db.transaction().execute((t) => t.insertInto('t').values({ v: 'a' }).execute());
    const txDone = tracker([tx]);
    await new Promise((r) => setImmediate(r));
    expect(g.calls.length).toBe(1);
    expect(txDone[0]).toBe(false);
    // Committed (visible), not yet reported: a read runs on the released connection while the fsync waits.
    const rows = await db.selectFrom('t').selectAll().execute();
    expect(rows.map((r) => r.v)).toEqual(['a']);
    expect(txDone[0]).toBe(false);
    await g.finishOne(); // the WAL
    expect(txDone[0]).toBe(false);
    await g.finishOne(); // its directory, the first time
    expect(txDone[0]).toBe(true);
    await tx;
    await db.destroy();
  });

  it('a write outside a transaction (RETURNING included) waits too; reads and rollbacks do not fsync', async () => {
    const { db, g } = await open();
    await db.selectFrom('t').selectAll().execute();
    await db
      .transaction()
      .execute(async (t) => {
        await t.insertInto('t').values({ v: 'x' }).execute();
        throw new Error('undo');
      })
      .catch(() => {});
    expect(g.calls).toHaveLength(0);
    const ins = db.insertInto('t').values({ v: 'b' }).returning('id').executeTakeFirst();
    const insDone = tracker([ins]);
    await new Promise((r) => setImmediate(r));
    expect(g.calls).toHaveLength(1);
    expect(insDone[0]).toBe(false);
    await g.finishOne();
    await g.finishOne();
    expect((await ins)?.id).toBe(1);
    await db.destroy();
  });
});

describe('openStore on SQLite: durable commits by default', () => {
  it("runs SQLite at NORMAL: the fsync is the driver's", async () => {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-wal-'));
    const store = await openStore({ url: join(dir, 'a.db') });
    const r = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    // 1 = NORMAL: the fsync is the driver's, after COMMIT, not SQLite's inside it.
    expect(r.rows[0]?.synchronous).toBe(1);
    await store.db.insertInto('kv').values({ key: 'k', value: '1', expires_at: null }).execute();
    await store.close();
  });
});

describe('Checkpointer: the WAL goes back into the database file on a worker thread', () => {
  it('a kick copies the committed pages into the database file; SQLite on this connection did not', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-wal-'));
    const file = join(dir, 'c.db');
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec('create table t (id integer primary key, v text)');
    const ins = raw.prepare('insert into t (v) values (?)');
    for (let i = 0; i < 200; i++) ins.run('x'.repeat(500));
    const before = statSync(file).size;
    const cp = new Checkpointer(file, { everyMs: 0, startAfter: 1 });
    try {
      cp.kick();
      // Polls the file (the worker answers no one here) until the pages are all in, bounded at 10 s. Not until
      // the file first grows: the copy writes page by page, and a loaded machine was caught half-way (CI).
      const until = Date.now() + 10_000;
      while (statSync(file).size <= before + 50_000 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(statSync(file).size).toBeGreaterThan(before + 50_000);
      expect(cp.count).toBe(1);
      // Rows and file intact after the copy.
      expect(raw.prepare('select count(*) as n from t').get()).toEqual({ n: 200 });
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await cp.close();
      raw.close();
    }
  });
  it('a store with few commits starts no worker', async () => {
    const cp = new Checkpointer('/nonexistent/never-opened.db', { everyMs: 0, startAfter: 3 });
    cp.kick();
    cp.kick();
    expect(cp.count).toBe(0);
    await cp.close();
  });
});
