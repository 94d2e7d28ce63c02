/**
 * App access tokens (docs/dingtalk.md §1): obtained from the v1.0 `oauth2/accessToken` endpoint (default) or the legacy
 * `gettoken`, cached until shortly before expiry, fetched once for any number of concurrent callers
 * (single-flight), refreshed early in the background, and shareable across processes through a `TokenStore`.
 */

import { isDingTalkError, TokenError } from './errors.js';
import type { Handler } from './pipeline.js';

export interface CachedToken {
  token: string;
  /** Epoch ms after which DingTalk no longer accepts the token. */
  expiresAt: number;
}

/**
 * Where tokens live. The memory store is built in; the hub provides one shared by several processes.
 * `withLock` (optional) serialises refreshes across processes so that N processes make one fetch.
 */
export interface TokenStore {
  get(appKey: string): Promise<CachedToken | undefined> | CachedToken | undefined;
  set(appKey: string, token: CachedToken): Promise<void> | void;
  delete?(appKey: string): Promise<void> | void;
  /**
   * Compare-and-delete: forget the stored token only if it is still `token` (the one DingTalk refused), so a token
   * another process fetched meanwhile survives a late refusal of the old one. Returns whether it deleted.
   */
  invalidate?(appKey: string, token: string): Promise<boolean> | boolean;
  withLock?<T>(appKey: string, fn: () => Promise<T>): Promise<T>;
}

export class MemoryTokenStore implements TokenStore {
  readonly #map = new Map<string, CachedToken>();
  get(appKey: string): CachedToken | undefined {
    return this.#map.get(appKey);
  }
  set(appKey: string, token: CachedToken): void {
    this.#map.set(appKey, token);
  }
  delete(appKey: string): void {
    this.#map.delete(appKey);
  }
  invalidate(appKey: string, token: string): boolean {
    if (this.#map.get(appKey)?.token !== token) return false;
    return this.#map.delete(appKey);
  }
}

export interface TokenManagerOptions {
  appKey: string;
  appSecret: string;
  /**
   * Which endpoint issues tokens. Both give the same kind of app token (docs/dingtalk.md §0.1).
   * @default 'v1'
   */
  endpoint?: 'v1' | 'legacy';
  /**
   * Refresh this long before expiry, in the background while the old token is still served.
   * @default 300_000 (5 minutes; a refresh must start at least 3 minutes before expiry)
   */
  refreshBeforeMs?: number;
  /**
   * Never use a token closer than this to its expiry; callers wait for a fresh one instead.
   * @default 60_000
   */
  minRemainingMs?: number;
  store?: TokenStore;
  now?: () => number;
  /** Called after every fetch from DingTalk (metrics, tests). */
  onFetch?: (appKey: string) => void;
}

export class TokenManager {
  readonly appKey: string;
  readonly #secret: string;
  readonly #fetchHandler: Handler;
  readonly #endpoint: 'v1' | 'legacy';
  readonly #refreshBeforeMs: number;
  readonly #minRemainingMs: number;
  readonly #store: TokenStore;
  readonly #now: () => number;
  readonly #onFetch: ((appKey: string) => void) | undefined;
  #local: CachedToken | undefined;
  #inflight: Promise<CachedToken> | undefined;
  #fetches = 0;

  /** `fetchHandler` is the base handler (no token middleware), with retries for `not_sent` failures. */
  constructor(fetchHandler: Handler, o: TokenManagerOptions) {
    if (!o.appKey || !o.appSecret)
      throw new TokenError('MISSING_CREDENTIALS', 'appKey and appSecret are required');
    this.appKey = o.appKey;
    this.#secret = o.appSecret;
    this.#fetchHandler = fetchHandler;
    this.#endpoint = o.endpoint ?? 'v1';
    this.#refreshBeforeMs = o.refreshBeforeMs ?? 300_000;
    this.#minRemainingMs = o.minRemainingMs ?? 60_000;
    this.#store = o.store ?? new MemoryTokenStore();
    this.#now = o.now ?? Date.now;
    this.#onFetch = o.onFetch;
  }

  /** Tokens fetched from DingTalk by this instance. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** A usable token. Concurrent callers share one fetch. */
  async get(): Promise<string> {
    const now = this.#now();
    const local = this.#local;
    if (local && local.expiresAt - now > this.#minRemainingMs) {
      if (local.expiresAt - now <= this.#refreshBeforeMs) this.#refreshInBackground();
      return local.token;
    }
    return (await this.#refresh(undefined)).token;
  }

  /**
   * Marks `token` as rejected by DingTalk and returns a different one. Only the first caller holding the stale
   * token triggers a fetch; later callers get the already refreshed token.
   */
  async invalidate(token: string): Promise<string> {
    if (
      this.#local &&
      this.#local.token !== token &&
      this.#local.expiresAt - this.#now() > this.#minRemainingMs
    ) {
      return this.#local.token;
    }
    return (await this.#refresh(token)).token;
  }

  #refreshInBackground(): void {
    if (this.#inflight) return;
    this.#refresh(undefined).catch(() => {
      // The current token is still valid; the next call retries the refresh.
    });
  }

  #refresh(stale: string | undefined): Promise<CachedToken> {
    if (!this.#inflight) {
      this.#inflight = this.#obtain(stale).finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  /** `shared` when it is not `stale` and not yet due for refresh (then it becomes this process's token). */
  #usable(shared: CachedToken | undefined, stale: string | undefined): CachedToken | undefined {
    if (shared && shared.token !== stale && shared.expiresAt - this.#now() > this.#refreshBeforeMs) {
      this.#local = shared;
      return shared;
    }
    return undefined;
  }

  async #obtain(stale: string | undefined): Promise<CachedToken> {
    // A refused token leaves the shared store first, and only if it is still the one there (docs/dingtalk.md §1.3):
    // N processes refused at once delete it once, and none deletes a successor another process already stored.
    if (stale !== undefined) await this.#store.invalidate?.(this.appKey, stale);
    const viaStore = async (): Promise<CachedToken> => {
      const shared = this.#usable(await this.#store.get(this.appKey), stale);
      if (shared) return shared;
      const fresh = await this.#fetch();
      this.#local = fresh;
      try {
        await this.#store.set(this.appKey, fresh);
      } catch {
        // The token is in hand and good; only sharing it failed (the store reports its own outage). Other processes
        // fetch their own meanwhile, which is what they would do without a shared store.
      }
      return fresh;
    };
    if (!this.#store.withLock) return viaStore();
    // Another process may have stored a good token already: take it without queueing for the lock (a fresh process
    // starting next to running ones then costs one read). Inside the lock the store is read again: the holder
    // before us has usually just fetched.
    return (
      this.#usable(await this.#store.get(this.appKey), stale) ?? this.#store.withLock(this.appKey, viaStore)
    );
  }

  async #fetch(): Promise<CachedToken> {
    this.#fetches++;
    this.#onFetch?.(this.appKey);
    const started = this.#now();
    try {
      if (this.#endpoint === 'legacy') {
        const res = await this.#fetchHandler({
          operation: 'auth.getToken',
          host: 'oapi',
          method: 'GET',
          path: '/gettoken',
          query: { appkey: this.appKey, appsecret: this.#secret },
          auth: 'none',
          idempotent: true,
        });
        const d = res.data as { access_token?: unknown; expires_in?: unknown };
        return this.#shape(d.access_token, d.expires_in, started);
      }
      const res = await this.#fetchHandler({
        operation: 'auth.accessToken',
        host: 'api',
        method: 'POST',
        path: '/v1.0/oauth2/accessToken',
        body: { appKey: this.appKey, appSecret: this.#secret },
        auth: 'none',
        idempotent: true,
      });
      const d = res.data as { accessToken?: unknown; expireIn?: unknown };
      return this.#shape(d.accessToken, d.expireIn, started);
    } catch (e) {
      if (isDingTalkError(e) && e.code === 'BAD_CREDENTIALS') {
        throw new TokenError('BAD_CREDENTIALS', `DingTalk refused the credentials of app ${this.appKey}`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  #shape(token: unknown, expiresIn: unknown, started: number): CachedToken {
    const secs = Number(expiresIn);
    if (typeof token !== 'string' || token.length === 0 || !Number.isFinite(secs) || secs <= 0) {
      throw new TokenError('BAD_TOKEN_RESPONSE', 'the token endpoint answered without a token or lifetime');
    }
    // Count the lifetime from before the request was sent, so network time never makes us overestimate it.
    return { token, expiresAt: started + secs * 1000 };
  }
}
