/**
 * `SharedTokenStore`: the core `TokenStore` (src/core/token-manager.ts) over the store's `kv` table, with the
 * optional lock, so several hub processes share one app access token and make one fetch between them at expiry.
 *
 * This is the one place the store holds credential material: short-lived app access tokens (about 2 h,
 * docs/dingtalk.md §1), never app secrets or robot tokens. Rows expire with the token; a deployment that wants none in
 * the database uses the memory store instead (one fetch per process).
 */

import { randomUUID } from 'node:crypto';
import type { CachedToken, TokenStore } from '../core/token-manager.js';
import { StoreLocks } from './locks.js';
import type { Store } from './open-store.js';

interface SharedTokenStoreOptions {
  now?: () => number;
  /** Longest a refresh may hold the lock. @default 30_000 */
  lockTtlMs?: number;
  /** Longest a caller waits for another process's refresh. @default 60_000 */
  lockWaitMs?: number;
}

const PREFIX = 'token:';

export class SharedTokenStore implements TokenStore {
  readonly #store: Store;
  readonly #locks: StoreLocks;
  readonly #owner = randomUUID();
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #wait: number;

  constructor(store: Store, o: SharedTokenStoreOptions = {}) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
    this.#locks = new StoreLocks(store, { now: this.#now });
    this.#ttl = o.lockTtlMs ?? 30_000;
    this.#wait = o.lockWaitMs ?? 60_000;
  }

  async get(appKey: string): Promise<CachedToken | undefined> {
    const row = await this.#store.db
      .selectFrom('kv')
      .select(['value', 'expires_at'])
      .where('key', '=', PREFIX + appKey)
      .executeTakeFirst();
    if (!row || (row.expires_at !== null && row.expires_at <= this.#now())) return undefined;
    try {
      const v = JSON.parse(row.value) as { token?: unknown; expiresAt?: unknown };
      if (typeof v.token !== 'string' || typeof v.expiresAt !== 'number') return undefined;
      return { token: v.token, expiresAt: v.expiresAt };
    } catch {
      return undefined;
    }
  }

  async set(appKey: string, token: CachedToken): Promise<void> {
    const value = JSON.stringify({ token: token.token, expiresAt: token.expiresAt });
    await this.#store.db
      .insertInto('kv')
      .values({ key: PREFIX + appKey, value, expires_at: token.expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, expires_at: token.expiresAt }))
      .execute();
  }

  async delete(appKey: string): Promise<void> {
    await this.#store.db
      .deleteFrom('kv')
      .where('key', '=', PREFIX + appKey)
      .execute();
  }

  /** Serialises refreshes of one app across processes (the token manager re-reads the store inside). */
  withLock<T>(appKey: string, fn: () => Promise<T>): Promise<T> {
    // One owner id per call: two refreshes in one process must not both think they hold the lock.
    return this.#locks.withLock(`${PREFIX}${appKey}`, `${this.#owner}:${randomUUID()}`, fn, {
      ttlMs: this.#ttl,
      waitMs: this.#wait,
    });
  }
}
