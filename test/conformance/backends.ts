/**
 * The backends the store conformance suite runs on. SQLite always runs (a temp file, so several stores can
 * share it as several processes would); PostgreSQL runs when `DINGKIT_TEST_PG_URL` (default
 * postgres://postgres@127.0.0.1:5432/test) answers, each test file in a fresh schema dropped at the end.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach } from 'vitest';
import { type OpenStoreOptions, openStore, type Store } from '../../src/store/open-store.js';

export const PG_URL = process.env['DINGKIT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export const pgAvailable = await pgReachable();
if (!pgAvailable) {
  console.warn(`[store conformance] PostgreSQL at ${PG_URL} is unreachable: PostgreSQL cases are skipped`);
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  /** Prepares a fresh database; returns a factory of stores on it (each one = one "process") and a cleanup. */
  fresh(): Promise<{
    /** How another process reaches this database: URL and (PostgreSQL) schema. */
    url: string;
    schema: string | undefined;
    open(extra?: Partial<OpenStoreOptions>): Promise<Store>;
    cleanup(): Promise<void>;
  }>;
}

export const backends: Backend[] = [
  {
    name: 'sqlite',
    skip: false,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'dingkit-store-'));
      const url = join(dir, 'hub.db');
      const opened: Store[] = [];
      return {
        url,
        schema: undefined,
        async open(extra = {}) {
          const s = await openStore({ url, sqliteSynchronous: 'NORMAL', ...extra });
          opened.push(s);
          return s;
        },
        async cleanup() {
          for (const s of opened) await s.close().catch(() => {});
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: !pgAvailable,
    async fresh() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const opened: Store[] = [];
      return {
        url: PG_URL,
        schema,
        async open(extra = {}) {
          const s = await openStore({ url: PG_URL, schema, poolSize: 6, ...extra });
          opened.push(s);
          return s;
        },
        async cleanup() {
          for (const s of opened) await s.close().catch(() => {});
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`drop schema if exists "${schema}" cascade`);
          await c.end();
        },
      };
    },
  },
];

/**
 * Call inside a describe: `stores(n)` opens n stores (n "processes") on a fresh database of the backend; after
 * each test `beforeCleanup` runs (stopping what still uses them), then the database is dropped.
 */
export function freshStores(
  backend: Backend,
  beforeCleanup?: () => Promise<void>,
): (n: number) => Promise<Store[]> {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await beforeCleanup?.();
    await cleanup?.();
    cleanup = undefined;
  });
  return async (n) => {
    const f = await backend.fresh();
    cleanup = f.cleanup;
    const out: Store[] = [];
    for (let i = 0; i < n; i++) out.push(await f.open());
    return out;
  };
}
