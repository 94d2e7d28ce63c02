/**
 * API tokens: minted by the CLI (`dingkit token create`) or by `serve` in demo mode, shown once, stored only as a
 * SHA-256 hash. A token is 32 random bytes, so a plain hash (no salt, no KDF) is enough: there is nothing to
 * brute-force, and a lookup by hash needs no per-row work.
 *
 * The verifier keeps a short per-instance cache (positive and negative) so a busy dashboard or a flood of bad
 * tokens does not turn every request into a store read; revocation therefore takes effect within `ttlMs`.
 */

import { createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import type { ApiTokenVerifier, Scope, TokenPrincipal } from './auth.js';

export const SCOPES: readonly Scope[] = ['read', 'send', 'admin'];

export interface ApiTokenRecord {
  name: string;
  /** Hex SHA-256 of the raw token. */
  hash: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt?: string | undefined;
  revokedAt?: string | undefined;
}

/** What the token table must offer (the store's repository implements it; see store-tokens.ts). */
export interface ApiTokenStore {
  /** Throws when a live token of that name exists. */
  insert(record: { name: string; hash: string; scopes: Scope[]; createdAt: string }): Promise<void>;
  findByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  touch(hash: string, at: string): Promise<void>;
  /** Revokes the live token of that name; false when there was none. */
  revoke(name: string, at: string): Promise<boolean>;
  list(): Promise<ApiTokenRecord[]>;
}

/** Prefix makes a leaked token recognisable by secret scanners and in our own canary tests. */
export const TOKEN_PREFIX = 'dk_';

export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiToken(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function parseScopes(text: string): Scope[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0)
    throw new ValidationError('at least one scope is needed (read, send, admin)', 'scopes');
  for (const p of parts) {
    if (!(SCOPES as readonly string[]).includes(p)) {
      throw new ValidationError(`unknown scope "${p.slice(0, 20)}" (read, send, admin)`, 'scopes');
    }
  }
  return [...new Set(parts)] as Scope[];
}

/** Mints a token, stores its hash, and returns the raw value: the only moment it exists in clear. */
export async function createApiToken(
  store: ApiTokenStore,
  name: string,
  scopes: readonly Scope[],
  now: () => number = Date.now,
): Promise<{ token: string; record: ApiTokenRecord }> {
  if (!TOKEN_NAME.test(name)) {
    throw new ValidationError('letters, digits, _ . : - (max 64), starting with a letter or digit', 'name');
  }
  if (scopes.length === 0) throw new ValidationError('at least one scope is needed', 'scopes');
  const token = generateApiToken();
  const record = {
    name,
    hash: hashApiToken(token),
    scopes: [...scopes],
    createdAt: new Date(now()).toISOString(),
  };
  await store.insert(record);
  return { token, record };
}

export interface VerifierOptions {
  /** How long a verdict is reused; also the delay before a revocation bites. @default 5_000 */
  ttlMs?: number;
  /** Cache entries kept; the oldest go first. @default 1_000 */
  maxEntries?: number;
  now?: () => number;
  /** Called when recording `lastUsedAt` fails; the request still proceeds. */
  onError?: (e: unknown) => void;
}

interface CacheEntry {
  principal: TokenPrincipal | undefined;
  until: number;
}

export class StoreTokenVerifier implements ApiTokenVerifier {
  readonly #store: ApiTokenStore;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onError: (e: unknown) => void;

  constructor(store: ApiTokenStore, opts: VerifierOptions = {}) {
    this.#store = store;
    this.#ttl = opts.ttlMs ?? 5_000;
    this.#max = opts.maxEntries ?? 1_000;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
  }

  async verify(raw: string): Promise<TokenPrincipal | undefined> {
    const hash = hashApiToken(raw);
    const now = this.#now();
    const hit = this.#cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const rec = await this.#store.findByHash(hash);
    const principal = rec && !rec.revokedAt ? { name: rec.name, scopes: rec.scopes } : undefined;
    if (principal) {
      // Once per cache period, not per request: last-used is for humans auditing tokens, not an access log.
      this.#store.touch(hash, new Date(now).toISOString()).catch(this.#onError);
    }
    this.#cache.delete(hash);
    this.#cache.set(hash, { principal, until: now + this.#ttl });
    while (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return principal;
  }

  /** Forgets cached verdicts, e.g. right after a revocation made through this process. */
  clear(): void {
    this.#cache.clear();
  }
}

/** In-memory token table: tests and a hub without a store. */
export class MemoryApiTokenStore implements ApiTokenStore {
  readonly #rows: ApiTokenRecord[] = [];

  async insert(r: { name: string; hash: string; scopes: Scope[]; createdAt: string }): Promise<void> {
    if (this.#rows.some((x) => x.name === r.name && !x.revokedAt)) {
      throw new ValidationError(`a live token named "${r.name}" exists; revoke it first`, 'name');
    }
    this.#rows.push({ ...r, scopes: [...r.scopes] });
  }
  async findByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const r = this.#rows.find((x) => x.hash === hash);
    return r ? { ...r } : undefined;
  }
  async touch(hash: string, at: string): Promise<void> {
    const r = this.#rows.find((x) => x.hash === hash);
    if (r) r.lastUsedAt = at;
  }
  async revoke(name: string, at: string): Promise<boolean> {
    const r = this.#rows.find((x) => x.name === name && !x.revokedAt);
    if (!r) return false;
    r.revokedAt = at;
    return true;
  }
  async list(): Promise<ApiTokenRecord[]> {
    return this.#rows.map((r) => ({ ...r }));
  }
}
