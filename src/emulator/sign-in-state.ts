/**
 * The emulator's sign-in state (docs/dingtalk.md §13.2, §13.3): one-time codes, user access tokens and refresh
 * tokens. Kept apart from the app tokens of state.ts: a user token must never pass as an app token, nor the reverse.
 *
 * - A code is bound to the person and to the app (appKey) it was issued for, lives `authCodeTtlMs` (5 minutes,
 *   documented) on the emulator's clock, and is spent by its first successful use. A 免登 code (`jsapi`, from
 *   `dd.requestAuthCode`) and an OAuth code (`oauth`, from the login page) are different things and not
 *   interchangeable.
 * - A code shown to the wrong app or the wrong endpoint is refused without being spent, so an app that got hold of
 *   another app's code cannot burn it either.
 * - A refresh token is spent when used and replaced by a new one (whether DingTalk rotates them is unverified).
 */

export type CodeKind = 'jsapi' | 'oauth';

export interface AuthCodeEntry {
  code: string;
  kind: CodeKind;
  userId: string;
  appKey: string;
  /** OAuth scope the person consented to (`openid` or `openid corpid`). */
  scope: string;
  expiresAt: number;
}

export interface UserTokenEntry {
  token: string;
  userId: string;
  appKey: string;
  scope: string;
  expiresAt: number;
}

export type CodeRefusal = 'unknown' | 'expired' | 'wrong_app' | 'wrong_kind';

/** Refresh tokens live 30 days (the usual figure; unverified). */
const REFRESH_TTL_MS = 30 * 86_400_000;
/** Above this many live entries, expired ones are swept on the next issue. */
const SWEEP_AT = 10_000;

export class SignInState {
  readonly codes = new Map<string, AuthCodeEntry>();
  readonly userTokens = new Map<string, UserTokenEntry>();
  readonly refreshTokens = new Map<string, UserTokenEntry>();
  readonly #now: () => number;
  readonly #hex: (n: number) => string;
  readonly #limits: { authCodeTtlMs: number; tokenTtlSec: number };

  constructor(o: {
    now: () => number;
    hex: (n: number) => string;
    limits: { authCodeTtlMs: number; tokenTtlSec: number };
  }) {
    this.#now = o.now;
    this.#hex = o.hex;
    this.#limits = o.limits;
  }

  issueCode(kind: CodeKind, userId: string, appKey: string, scope = 'openid'): AuthCodeEntry {
    this.#sweep(this.codes);
    const entry: AuthCodeEntry = {
      code: this.#hex(32),
      kind,
      userId,
      appKey,
      scope,
      expiresAt: this.#now() + this.#limits.authCodeTtlMs,
    };
    this.codes.set(entry.code, entry);
    return entry;
  }

  /** Spends `code` for `appKey` at an endpoint taking `kind`; the reason when it is refused. */
  spendCode(code: string, kind: CodeKind, appKey: string): AuthCodeEntry | CodeRefusal {
    const e = this.codes.get(code);
    if (!e) return 'unknown';
    if (this.#now() >= e.expiresAt) {
      this.codes.delete(code);
      return 'expired';
    }
    if (e.kind !== kind) return 'wrong_kind';
    if (e.appKey !== appKey) return 'wrong_app';
    this.codes.delete(code);
    return e;
  }

  /** A new user access token and its refresh token for the person a code named. */
  issueUserToken(from: Pick<AuthCodeEntry, 'userId' | 'appKey' | 'scope'>): {
    access: UserTokenEntry;
    refresh: UserTokenEntry;
  } {
    this.#sweep(this.userTokens);
    this.#sweep(this.refreshTokens);
    const now = this.#now();
    const base = { userId: from.userId, appKey: from.appKey, scope: from.scope };
    const access = { ...base, token: this.#hex(32), expiresAt: now + this.#limits.tokenTtlSec * 1000 };
    const refresh = { ...base, token: this.#hex(32), expiresAt: now + REFRESH_TTL_MS };
    this.userTokens.set(access.token, access);
    this.refreshTokens.set(refresh.token, refresh);
    return { access, refresh };
  }

  /** Spends a refresh token of `appKey`. */
  spendRefresh(token: string, appKey: string): UserTokenEntry | undefined {
    const e = this.refreshTokens.get(token);
    if (!e || e.appKey !== appKey) return undefined;
    this.refreshTokens.delete(token);
    return this.#now() < e.expiresAt ? e : undefined;
  }

  userToken(token: string): UserTokenEntry | 'expired' | undefined {
    const e = this.userTokens.get(token);
    if (!e) return undefined;
    return this.#now() < e.expiresAt ? e : 'expired';
  }

  clear(): void {
    this.codes.clear();
    this.userTokens.clear();
    this.refreshTokens.clear();
  }

  #sweep(map: Map<string, { expiresAt: number }>): void {
    if (map.size < SWEEP_AT) return;
    const now = this.#now();
    for (const [k, v] of map) if (now >= v.expiresAt) map.delete(k);
  }
}
