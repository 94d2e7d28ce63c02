import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './open-store.js';

let dir: string | undefined;
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

describe('sqlite driver: a transaction SQLite rolled back itself', () => {
  // SQLite ends the transaction on its own after some errors (SQLITE_FULL at commit on a full disk, SQLITE_IOERR,
  // an OR ROLLBACK conflict clause). A ROLLBACK after that fails with "cannot rollback - no transaction is
  // active", and Kysely threw that instead of the error that caused it. OR ROLLBACK makes SQLite do it on demand.
  it('the caller gets the cause, not "cannot rollback"', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-drv-'));
    store = await openStore({ url: join(dir, 'x.db') });
    await store.db.insertInto('kv').values({ key: 'k', value: '1', expires_at: null }).execute();
    const err = await store
      .transaction(async (tx) => {
        await sql`insert or rollback into kv (key, value, expires_at) values ('k', '2', null)`.execute(tx);
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
    expect(err?.message).not.toMatch(/cannot rollback/);
    expect(err?.code).toMatch(/^SQLITE_CONSTRAINT/);
    // And the store is usable afterwards.
    await store.transaction(async (tx) => {
      await tx.insertInto('kv').values({ key: 'k2', value: '1', expires_at: null }).execute();
    });
  });
});
