/**
 * The health probe's write: can the store take a write right now? One transaction inserts a row of a few pages
 * into `kv` and deletes it again, and commits. That needs what every real write needs: a connection, the write
 * lock, room for new pages (SQLite: a file at its size limit or a full disk answers SQLITE_FULL; PostgreSQL: 53100),
 * and a commit (the WAL append and its sync). It leaves nothing behind, and its pages go back to the free list.
 *
 * The row is larger than a page on purpose: a small row could fit into a half-empty page that is already there,
 * and a store that has no room for anything else would still pass.
 */

import type { Store } from './open-store.js';

const PROBE_KEY = 'dingkit:health-probe';
/** Three SQLite pages of the default 4 KiB size (overflow pages, never a leaf's spare room). */
const PROBE_VALUE = 'p'.repeat(12_000);

export async function probeWrite(store: Store): Promise<void> {
  await store.transaction(async (tx) => {
    // A probe a crashed process left behind must not make this one fail on the key.
    await tx.deleteFrom('kv').where('key', '=', PROBE_KEY).execute();
    await tx.insertInto('kv').values({ key: PROBE_KEY, value: PROBE_VALUE, expires_at: null }).execute();
    await tx.deleteFrom('kv').where('key', '=', PROBE_KEY).execute();
  });
}
