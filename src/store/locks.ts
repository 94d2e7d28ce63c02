/**
 * A named lock with an owner and an expiry, in the `locks` table, for work that must run in one process at a
 * time across all hub processes (token refresh, schedulers). Acquiring is one upsert that only takes the row
 * when it is free or expired, so it is atomic on both dialects; a crashed holder's lock frees itself at `until`.
 */

import { DingTalkError } from '../core/errors.js';
import type { Store } from './open-store.js';

export class StoreLocks {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, o: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
  }

  /** Takes `name` for `owner` for `ttlMs` if it is free, expired or already ours. */
  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const r = await this.#store.db
      .insertInto('locks')
      .values({ name, owner, until: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner, until: now + ttlMs })
          .where((eb) => eb.or([eb('locks.until', '<=', now), eb('locks.owner', '=', owner)])),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.#store.db.deleteFrom('locks').where('name', '=', name).where('owner', '=', owner).execute();
  }

  /**
   * Waits for the lock (polling every `pollMs`, up to `waitMs`), runs `fn`, releases. Throws if the lock could not
   * be had in time. `ttlMs` must exceed how long `fn` runs, or another process may take the lock meanwhile.
   */
  async withLock<T>(
    name: string,
    owner: string,
    fn: () => Promise<T>,
    o: { ttlMs?: number; waitMs?: number; pollMs?: number } = {},
  ): Promise<T> {
    const ttl = o.ttlMs ?? 30_000;
    const deadline = Date.now() + (o.waitMs ?? 60_000);
    const poll = o.pollMs ?? 25;
    while (!(await this.tryAcquire(name, owner, ttl))) {
      if (Date.now() >= deadline) {
        throw new DingTalkError(
          'LOCK_TIMEOUT',
          `lock ${name}: not acquired within ${o.waitMs ?? 60_000} ms`,
          {
            outcome: 'not_sent',
            retryable: true,
          },
        );
      }
      await new Promise((r) => setTimeout(r, poll / 2 + Math.random() * poll));
    }
    try {
      return await fn();
    } finally {
      await this.release(name, owner);
    }
  }
}
