/** What the benchmarks share: the PostgreSQL they may use and how they read a latency distribution. */

import pg from 'pg';
import type { Store } from '../src/store/open-store.js';

/** PostgreSQL for the benchmarks' PostgreSQL rows (the tests' database), skipped when it does not answer. */
export const PG_URL = process.env['DINGKIT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The p-th percentile of an ascending list (nearest rank); NaN for an empty one. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Whether PG_URL accepts a connection within 2 s. */
export async function pgUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Drops a benchmark's own PostgreSQL schema (with everything in it) and closes its store; never throws. */
export async function dropPgStore(store: Store, schema: string): Promise<void> {
  await store.db.schema
    .dropSchema(schema)
    .ifExists()
    .cascade()
    .execute()
    .catch(() => {});
  await store.close().catch(() => {});
}
