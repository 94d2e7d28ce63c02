/**
 * Replay protection for the HTTP callback receivers.
 *
 * A signature only proves who made a request, not that it is new. Robot and card callbacks sign nothing but the
 * timestamp (docs/dingtalk.md §9a, §10), so one captured `timestamp`/`sign` pair verifies for the whole one-hour
 * window with any body; an encrypted event push (§9b) verifies for as long as its timestamp is fresh. The guard
 * remembers every accepted signature (and DingTalk's message or event id, when there is one) until the timestamp
 * has left the window, after which the signature check itself refuses it. A request whose key was already seen is
 * answered like the original, but the application's handler does not run again.
 *
 * Keys are SHA-256 digests (`bot:sig:<hex>`), so a store never holds a signature or an id in clear.
 */

import { createHash } from 'node:crypto';

/**
 * Where accepted callback keys are remembered. Implement it over a shared database when several processes
 * receive for the same app, so a replay sent to another process is caught too.
 * @example
 * const store: SeenStore = {
 *   // INSERT ... ON CONFLICT DO NOTHING (or an expired row's takeover), true when this call inserted it
 *   firstSeen: (key, expiresAtMs) => db.insertIfAbsent(key, expiresAtMs),
 *   forget: (key) => db.delete(key),
 * };
 * createBotCallbackHandler({ appSecret, replay: store, onMessage });
 */
export interface SeenStore {
  /**
   * Records `key` until `expiresAtMs` (epoch ms). True only for the first call while the key is unexpired; must be
   * atomic, so two concurrent calls with one key cannot both get true.
   */
  firstSeen(key: string, expiresAtMs: number): Promise<boolean> | boolean;
  /** Removes `key`: the handler failed, so DingTalk's retry of the same callback must run it. */
  forget(key: string): Promise<void> | void;
}

/**
 * @example
 * new MemorySeenStore({ maxEntries: 200_000 })
 */
export interface MemorySeenStoreOptions {
  /**
   * Keys kept at most. When full, expired keys go first, then the oldest ones (counted in `evicted`): a replay of
   * an evicted key would be run again, so size it above the callbacks one window brings.
   * @default 100_000
   */
  maxEntries?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

/** The default store: one bounded in-memory map per receiver. Enough for a single process. */
export class MemorySeenStore implements SeenStore {
  readonly #keys = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;
  #evicted = 0;

  constructor(options: MemorySeenStoreOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError('MemorySeenStore: maxEntries must be > 0');
    this.#max = max;
    this.#now = options.now ?? Date.now;
  }

  firstSeen(key: string, expiresAtMs: number): boolean {
    const now = this.#now();
    const until = this.#keys.get(key);
    if (until !== undefined && until > now) return false;
    this.#keys.delete(key);
    if (this.#keys.size >= this.#max) this.#makeRoom(now);
    this.#keys.set(key, expiresAtMs);
    return true;
  }

  forget(key: string): void {
    this.#keys.delete(key);
  }

  /** Keys held now (expired ones included until room is needed). */
  get size(): number {
    return this.#keys.size;
  }

  /** Unexpired keys dropped because the store was full. */
  get evicted(): number {
    return this.#evicted;
  }

  #makeRoom(now: number): void {
    for (const [k, until] of this.#keys) if (until <= now) this.#keys.delete(k);
    // Still full: drop the oldest insertions (Map iterates in insertion order).
    for (const k of this.#keys.keys()) {
      if (this.#keys.size < this.#max) break;
      this.#keys.delete(k);
      this.#evicted++;
    }
  }
}

/**
 * The receivers' option: a store, `false` to turn the guard off, or `'handler'`: the receiver claims nothing and the
 * handler claims `meta.replay` itself, in the same transaction as its own effect (see `ReplayKeys`).
 */
export type ReplayOption = SeenStore | false | 'handler' | undefined;

/**
 * What a verified request would be remembered by: given to the handler as `meta.replay` in `'handler'` mode. With `replay: 'handler'`
 * the receiver claims none of it, so the handler must: insert every key if absent (or expired) in the same database
 * transaction that records the callback, and on any conflict treat the callback as a replay (record nothing, return
 * nothing; the receiver answers success as it would for a replay). A crash then leaves both or neither.
 * @example
 * onMessage: (msg, meta) => db.transaction(async (tx) => {
 *   for (const key of meta.replay.keys) if (!(await insertIfAbsent(tx, key, meta.replay.expiresAtMs))) return;
 *   await tx.insert('inbox', msg);
 * })
 */
export interface ReplayKeys {
  /** SHA-256 digests (`bot:sig:<hex>`, `bot:msg:<hex>`, `event:sig:…`, `event:event:…`, `card:sig:…`). */
  keys: readonly string[];
  /** When the keys may be forgotten: the signature check refuses the request from then on (epoch ms). */
  expiresAtMs: number;
}

export function digestKey(kind: string, what: 'sig' | 'msg' | 'event', ...parts: string[]): string {
  const h = createHash('sha256');
  // Length-prefixed, so ("ab", "c") and ("a", "bc") cannot collide.
  for (const p of parts) h.update(`${p.length}:${p}`, 'utf8');
  return `${kind}:${what}:${h.digest('hex')}`;
}

/** What one request claimed: `fresh` false means a replay; `keys` are released again if the handler fails. */
interface Claim {
  fresh: boolean;
  keys: string[];
}

/**
 * Claims every key. A request is fresh only if all its keys were unseen; keys it did claim stay claimed either
 * way (a fresh signature carrying an already-handled message id is still a signature that was used).
 */
export async function claimKeys(
  store: SeenStore,
  keys: readonly string[],
  expiresAtMs: number,
): Promise<Claim> {
  const claimed: string[] = [];
  let fresh = true;
  for (const key of keys) {
    if (await store.firstSeen(key, expiresAtMs)) claimed.push(key);
    else fresh = false;
  }
  return { fresh, keys: claimed };
}

/** Releases a failed request's keys; returns how many could not be forgotten (they stay until they expire). */
export async function releaseKeys(store: SeenStore, keys: readonly string[]): Promise<number> {
  let failed = 0;
  for (const key of keys) {
    try {
      await store.forget(key);
    } catch {
      failed++;
    }
  }
  return failed;
}
