/**
 * API tokens: minted by the CLI (`dingkit token create`) or by `serve` in demo mode, shown once, stored only as a
 * SHA-256 hash. A token is 32 random bytes, so a plain hash (no salt, no KDF) is enough: there is nothing to
 * brute-force, and a lookup by hash needs no per-row work.
 *
 * A token may expire (`expiresAt`), may be a demo token (minted by `serve` against the built-in emulator: it
 * expires within 24 h and is refused by a hub that runs with real credentials, so a database switched from demo
 * to production does not keep an admin token nobody remembers), and may carry limits (token-limits.ts).
 *
 * The verifier keeps a short per-instance cache (positive and negative) so a busy dashboard or a flood of bad
 * tokens does not turn every request into a store read; revocation therefore takes effect within `ttlMs`. Expiry
 * is judged on every call against the clock, cache or not. Open SSE streams re-check with `fresh` (no cache), so
 * a revocation by another process reaches them within their re-check period (sse.ts).
 */

import { createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import type { ApiTokenVerifier, Scope, TokenPrincipal, TokenVerdict } from './auth.js';
import { checkLimitsShape, type TokenLimits } from './token-limits.js';

const SCOPES: readonly Scope[] = ['read', 'send', 'admin'];

/** The longest a demo token lives. */
export const DEMO_TOKEN_LIFETIME_MS = 24 * 3_600_000;

export interface NewApiToken {
  name: string;
  /** Hex SHA-256 of the raw token. */
  hash: string;
  scopes: Scope[];
  createdAt: string;
  /** Absent: never expires. */
  expiresAt?: string | undefined;
  /** Minted by a demo `serve`. */
  demo?: boolean | undefined;
  limits?: TokenLimits | undefined;
}

export interface ApiTokenRecord extends NewApiToken {
  demo: boolean;
  lastUsedAt?: string | undefined;
  revokedAt?: string | undefined;
}

/** What the token table must offer (the store's repository implements it; see store-tokens.ts). */
export interface ApiTokenStore {
  /** Throws when a live token of that name exists. */
  insert(record: NewApiToken): Promise<void>;
  findByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  touch(hash: string, at: string): Promise<void>;
  /** Revokes the live token of that name; false when there was none. */
  revoke(name: string, at: string): Promise<boolean>;
  list(): Promise<ApiTokenRecord[]>;
}

/** Prefix makes a leaked token recognisable by secret scanners and in our own canary tests. */
export const TOKEN_PREFIX = 'dk_';

function generateApiToken(): string {
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

const DURATION = /^(\d{1,6})([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `90m`, `45s` → milliseconds (what `token create --expires` takes). */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ValidationError('a duration such as 30d, 12h, 90m or 45s', 'expires');
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new ValidationError('must be longer than 0', 'expires');
  if (ms > 3_650 * UNIT_MS.d) throw new ValidationError('at most 3650d', 'expires');
  return ms;
}

export interface CreateTokenOptions {
  /** Lifetime from now; absent: never expires. Demo tokens are capped at 24 h. */
  expiresInMs?: number | undefined;
  /** Minted by a demo `serve`: refused by a hub with real credentials. */
  demo?: boolean | undefined;
  /** Where a `send` token may send (token-limits.ts). */
  limits?: TokenLimits | undefined;
  now?: (() => number) | undefined;
}

/** Mints a token, stores its hash, and returns the raw value: the only moment it exists in clear. */
export async function createApiToken(
  store: ApiTokenStore,
  name: string,
  scopes: readonly Scope[],
  o: CreateTokenOptions = {},
): Promise<{ token: string; record: NewApiToken }> {
  if (!TOKEN_NAME.test(name)) {
    throw new ValidationError('letters, digits, _ . : - (max 64), starting with a letter or digit', 'name');
  }
  if (scopes.length === 0) throw new ValidationError('at least one scope is needed', 'scopes');
  let life = o.expiresInMs;
  if (life !== undefined && !(Number.isSafeInteger(life) && life > 0)) {
    throw new ValidationError('must be a positive number of milliseconds', 'expires');
  }
  if (o.demo) life = Math.min(life ?? DEMO_TOKEN_LIFETIME_MS, DEMO_TOKEN_LIFETIME_MS);
  if (o.limits !== undefined) checkLimitsShape(o.limits);
  const now = (o.now ?? Date.now)();
  const token = generateApiToken();
  const record: NewApiToken = {
    name,
    hash: hashApiToken(token),
    scopes: [...scopes],
    createdAt: new Date(now).toISOString(),
    ...(life !== undefined ? { expiresAt: new Date(now + life).toISOString() } : {}),
    ...(o.demo ? { demo: true } : {}),
    ...(o.limits !== undefined ? { limits: o.limits } : {}),
  };
  await store.insert(record);
  return { token, record };
}

export interface VerifierOptions {
  /** How long a verdict is reused; also the delay before a revocation bites. @default 1_000 */
  ttlMs?: number;
  /** Cache entries kept; the oldest go first. @default 1_000 */
  maxEntries?: number;
  now?: () => number;
  /** Called when recording `lastUsedAt` fails; the request still proceeds. */
  onError?: (e: unknown) => void;
  /**
   * Whether demo tokens authenticate: only on a hub that runs against the built-in emulator (`serve` sets it).
   * @default false
   */
  acceptDemoTokens?: boolean;
}

interface CacheEntry {
  record: ApiTokenRecord | undefined;
  until: number;
}

export class StoreTokenVerifier implements ApiTokenVerifier {
  readonly #store: ApiTokenStore;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onError: (e: unknown) => void;
  readonly #acceptDemo: boolean;

  constructor(store: ApiTokenStore, opts: VerifierOptions = {}) {
    this.#store = store;
    this.#ttl = opts.ttlMs ?? 1_000;
    this.#max = opts.maxEntries ?? 1_000;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
    this.#acceptDemo = opts.acceptDemoTokens ?? false;
  }

  async verify(raw: string): Promise<TokenPrincipal | undefined> {
    const v = await this.check(raw);
    return v.ok ? v.principal : undefined;
  }

  /** The verdict with the reason of a refusal. `fresh` reads the store whatever the cache holds. */
  async check(raw: string, o: { fresh?: boolean } = {}): Promise<TokenVerdict> {
    const hash = hashApiToken(raw);
    const now = this.#now();
    const hit = this.#cache.get(hash);
    if (!o.fresh && hit && hit.until > now) return this.#judge(hit.record, now);
    const record = await this.#store.findByHash(hash);
    const verdict = this.#judge(record, now);
    if (verdict.ok && !o.fresh) {
      // Once per cache period, not per request: last-used is for humans auditing tokens, not an access log.
      this.#store.touch(hash, new Date(now).toISOString()).catch(this.#onError);
    }
    this.#cache.delete(hash);
    this.#cache.set(hash, { record, until: now + this.#ttl });
    while (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return verdict;
  }

  #judge(rec: ApiTokenRecord | undefined, now: number): TokenVerdict {
    if (!rec) return { ok: false, reason: 'unknown' };
    if (rec.revokedAt) return { ok: false, reason: 'revoked' };
    if (rec.demo && !this.#acceptDemo) return { ok: false, reason: 'demo' };
    const expires = rec.expiresAt === undefined ? undefined : Date.parse(rec.expiresAt);
    // A damaged expiry (NaN) is treated as expired.
    if (expires !== undefined && !(expires > now)) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      principal: {
        name: rec.name,
        scopes: rec.scopes,
        ...(rec.limits !== undefined ? { limits: rec.limits } : {}),
        ...(expires !== undefined ? { expiresAt: expires } : {}),
      },
    };
  }

  /** Forgets cached verdicts, e.g. right after a revocation made through this process. */
  clear(): void {
    this.#cache.clear();
  }
}

/** In-memory token table: tests and a hub without a store. */
export class MemoryApiTokenStore implements ApiTokenStore {
  readonly #rows: ApiTokenRecord[] = [];

  async insert(r: NewApiToken): Promise<void> {
    if (this.#rows.some((x) => x.name === r.name && !x.revokedAt)) {
      throw new ValidationError(`a live token named "${r.name}" exists; revoke it first`, 'name');
    }
    this.#rows.push({ ...structuredClone(r), demo: r.demo === true });
  }
  async findByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const r = this.#rows.find((x) => x.hash === hash);
    return r ? structuredClone(r) : undefined;
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
    return this.#rows.map((r) => structuredClone(r));
  }
}
