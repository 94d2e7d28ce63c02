/**
 * `StoreSeenStore`: the replay guard's `SeenStore` (src/callback/replay-guard.ts) over the store's `kv` table, so
 * every hub process on one database remembers the same accepted callbacks. A callback replayed
 * to another process behind the same URL is then answered there without being applied again.
 *
 * `firstSeen` is one statement, atomic on both dialects: insert the key, and on a conflict take the row over only
 * when it has expired (the same upsert-with-condition as locks.ts). PostgreSQL makes a second concurrent insert of
 * one key wait on the unique index and then re-check the condition against the committed row, so two processes
 * cannot both get `true`; SQLite has one writer at a time. Keys are the guard's SHA-256 digests, never a signature
 * or a message id in clear. Rows outlive their expiry until `purgeExpired` (the hub's retention round) deletes them.
 *
 * `firstSeenIn(tx, …)` is the same statement inside a caller's transaction: the hub claims a callback's signature in
 * the transaction that commits it to the inbox (inbound/http.ts), so a crash leaves both or neither. On PostgreSQL a
 * concurrent claim of the key then waits until that transaction ends, and sees its row only if it committed.
 */

import type { Kysely } from 'kysely';
import type { SeenStore } from '../callback/replay-guard.js';
import type { Store, Tx } from './open-store.js';
import type { Database } from './schema.js';

/** kv keys of this store start with it, so `purgeExpired` leaves the token cache and probe rows alone. */
export const SEEN_PREFIX = 'seen:';

export class StoreSeenStore implements SeenStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, o: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
  }

  firstSeen(key: string, expiresAtMs: number): Promise<boolean> {
    return this.#claim(this.#store.db, key, expiresAtMs);
  }

  /** `firstSeen` within `tx`: the key is claimed only if `tx` commits. */
  firstSeenIn(tx: Tx, key: string, expiresAtMs: number): Promise<boolean> {
    return this.#claim(tx, key, expiresAtMs);
  }

  async #claim(db: Kysely<Database>, key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#now();
    const until = Math.trunc(expiresAtMs);
    const r = await db
      .insertInto('kv')
      .values({ key: SEEN_PREFIX + key, value: '1', expires_at: until })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ value: '1', expires_at: until })
          // An expired row counts as absent: the one statement that finds it so takes it over.
          .where((eb) => eb.and([eb('kv.expires_at', 'is not', null), eb('kv.expires_at', '<=', now)])),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async forget(key: string): Promise<void> {
    await this.#store.db
      .deleteFrom('kv')
      .where('key', '=', SEEN_PREFIX + key)
      .execute();
  }

  /** Deletes expired keys (at most `limit` per call); returns how many went. */
  async purgeExpired(limit = 1_000): Promise<number> {
    const now = this.#now();
    const r = await this.#store.db
      .deleteFrom('kv')
      .where('key', 'in', (eb) =>
        eb
          .selectFrom('kv')
          .select('key')
          .where('key', 'like', `${SEEN_PREFIX}%`)
          .where('expires_at', '<=', now)
          .limit(Math.max(1, Math.trunc(limit))),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
