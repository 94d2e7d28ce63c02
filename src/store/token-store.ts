/**
 * `SharedTokenStore`: the core `TokenStore` (src/core/token-manager.ts) over the store's `kv` table, with a store
 * lock, so several hub processes share one app access token and make one fetch between them per token lifetime.
 *
 * The token is credential material for about 2 h (docs/dingtalk.md §1.2), so it is stored sealed with a key derived
 * from the app's secret (token-seal.ts): a dump of the database gives no usable token. App secrets and robot
 * tokens are never stored. Rows expire with the token; a deployment that wants no token in the database at all
 * sets `tokens.store: memory` (one fetch per process, docs/hub.md "Tokens").
 *
 * Refusal (docs/dingtalk.md §1.3): `invalidate` deletes the row only if it still holds the refused token
 * (compare-and-delete), so when N processes see the same refusal, the first one's delete is the only one, the
 * refetch happens once under the lock, and a late delete never removes the token fetched meanwhile.
 *
 * A lock holder that dies mid-refresh (kill -9) leaves its lock row behind; the row expires after `lockTtlMs` and
 * the next waiter takes over. `lockTtlMs` must therefore exceed the token fetch's own timeout, or a slow but live
 * holder could be overtaken and two fetches made.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDingTalkError, TokenError } from '../core/errors.js';
import type { CachedToken, TokenStore } from '../core/token-manager.js';
import { StoreLocks } from './locks.js';
import type { Store } from './open-store.js';
import { TokenSeal } from './token-seal.js';

export interface SharedTokenStoreOptions {
  /** The secret of each app whose tokens pass through this store: the sealing key is derived from it. */
  secretOf: (appKey: string) => string | undefined;
  now?: () => number;
  /** Longest a refresh may hold the lock; a dead holder's lock frees itself after this. @default 30_000 */
  lockTtlMs?: number;
  /** Longest a caller waits for another process's refresh. @default 60_000 */
  lockWaitMs?: number;
  /** How often a waiter looks at the lock. @default 25 */
  lockPollMs?: number;
}

export const TOKEN_KEY_PREFIX = 'token:';

/**
 * A store failure met while getting a token, as the typed, retryable `not_sent` error it is: nothing was sent to
 * DingTalk for the caller's request yet. Raw, the dispatcher would take it for a bug and dead-letter the message.
 */
function unavailable(e: unknown): unknown {
  if (isDingTalkError(e)) return e;
  return new TokenError('TOKEN_STORE_UNAVAILABLE', 'the shared token store could not be read or written', {
    retryable: true,
    cause: e,
  });
}

export class SharedTokenStore implements TokenStore {
  readonly #store: Store;
  readonly #locks: StoreLocks;
  /**
   * Who holds a lock, readable in the `locks` table: host and pid tell an operator (and the chaos test) which
   * process is refreshing; the random part keeps two stores in one process apart.
   */
  readonly #owner = `${hostname()}/${process.pid}/${randomUUID()}`;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #wait: number;
  readonly #poll: number;
  readonly #secretOf: (appKey: string) => string | undefined;
  readonly #seals = new Map<string, TokenSeal>();

  constructor(store: Store, o: SharedTokenStoreOptions) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
    this.#locks = new StoreLocks(store, { now: this.#now });
    this.#ttl = o.lockTtlMs ?? 30_000;
    this.#wait = o.lockWaitMs ?? 60_000;
    this.#poll = o.lockPollMs ?? 25;
    this.#secretOf = o.secretOf;
  }

  #seal(appKey: string): TokenSeal {
    let s = this.#seals.get(appKey);
    if (!s) {
      const secret = this.#secretOf(appKey);
      if (!secret) {
        // Storing it unsealed is not an option; the caller's configuration is wrong, not DingTalk.
        throw new TokenError('NO_SEAL_KEY', `no app secret to seal the tokens of app ${appKey} with`);
      }
      s = new TokenSeal(appKey, secret);
      this.#seals.set(appKey, s);
    }
    return s;
  }

  async #row(appKey: string): Promise<{ value: string; token: CachedToken } | undefined> {
    const key = TOKEN_KEY_PREFIX + appKey;
    const row = await this.#store.db
      .selectFrom('kv')
      .select(['value', 'expires_at'])
      .where('key', '=', key)
      .executeTakeFirst()
      .catch((e: unknown) => {
        throw unavailable(e);
      });
    if (!row || (row.expires_at !== null && row.expires_at <= this.#now())) return undefined;
    const token = this.#seal(appKey).open(key, row.value);
    return token ? { value: row.value, token } : undefined;
  }

  async get(appKey: string): Promise<CachedToken | undefined> {
    return (await this.#row(appKey))?.token;
  }

  async set(appKey: string, token: CachedToken): Promise<void> {
    const key = TOKEN_KEY_PREFIX + appKey;
    const value = this.#seal(appKey).seal(key, token);
    await this.#store.db
      .insertInto('kv')
      .values({ key, value, expires_at: token.expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, expires_at: token.expiresAt }))
      .execute()
      .catch((e: unknown) => {
        throw unavailable(e);
      });
  }

  async delete(appKey: string): Promise<void> {
    await this.#store.db
      .deleteFrom('kv')
      .where('key', '=', TOKEN_KEY_PREFIX + appKey)
      .execute();
  }

  /**
   * Deletes the stored token only if it is `token`. The match is on the exact sealed value just read (each seal
   * has its own IV), so a token written by another process between the read and the delete is left alone.
   * Returns whether this call deleted it.
   */
  async invalidate(appKey: string, token: string): Promise<boolean> {
    const r = await this.#row(appKey);
    if (!r || r.token.token !== token) return false;
    const res = await this.#store.db
      .deleteFrom('kv')
      .where('key', '=', TOKEN_KEY_PREFIX + appKey)
      .where('value', '=', r.value)
      .executeTakeFirst()
      .catch((e: unknown) => {
        throw unavailable(e);
      });
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * Serialises refreshes of one app across processes (the token manager re-reads the store inside). What `fn`
   * returns or throws is passed through as is; a failure to take the lock is a typed retryable error; a failure to
   * release it after `fn` is ignored (the lock frees itself at its ttl, and the token is already in hand).
   */
  async withLock<T>(appKey: string, fn: () => Promise<T>): Promise<T> {
    let out: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    try {
      // One owner id per call: two refreshes in one process must not both think they hold the lock.
      await this.#locks.withLock(
        `${TOKEN_KEY_PREFIX}${appKey}`,
        `${this.#owner}/${randomUUID()}`,
        async () => {
          try {
            out = { ok: true, value: await fn() };
          } catch (error) {
            out = { ok: false, error };
          }
        },
        { ttlMs: this.#ttl, waitMs: this.#wait, pollMs: this.#poll },
      );
    } catch (e) {
      if (out === undefined) throw unavailable(e);
    }
    const result = out as { ok: true; value: T } | { ok: false; error: unknown };
    if (!result.ok) throw result.error;
    return result.value;
  }
}
