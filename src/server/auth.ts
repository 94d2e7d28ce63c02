/**
 * Bearer API tokens with scopes. Tokens are created with the CLI and stored hashed; `read` < `send` < `admin`,
 * each including the ones before it. Every route but health requires a token.
 *
 * The token travels in the `Authorization` header. Only the SSE route (`GET /v1/events`) also takes it as
 * `?access_token=`, because EventSource cannot send headers: a URL ends up in browser history, proxy logs and
 * Referer headers, so a token that leaked that way must at most be able to watch, never send.
 */

import type { MiddlewareHandler } from 'hono';
import { ApiError } from './api-error.js';
import type { TokenLimits } from './token-limits.js';

export type Scope = 'read' | 'send' | 'admin';

const RANK: Record<Scope, number> = { read: 1, send: 2, admin: 3 };

export interface TokenPrincipal {
  name: string;
  scopes: readonly Scope[];
  /** Where this token may send (token-limits.ts); absent: anywhere its scope allows. */
  limits?: TokenLimits | undefined;
  /** Epoch ms after which the token is refused. */
  expiresAt?: number | undefined;
}

type RefusalReason = 'unknown' | 'revoked' | 'expired' | 'demo';

export type TokenVerdict = { ok: true; principal: TokenPrincipal } | { ok: false; reason: RefusalReason };

export interface ApiTokenVerifier {
  verify(raw: string): Promise<TokenPrincipal | undefined>;
  /** The verdict with the reason of a refusal; `fresh` skips any cache (open streams re-check with it). */
  check?(raw: string, o?: { fresh?: boolean }): Promise<TokenVerdict>;
}

function hasScope(p: TokenPrincipal, needed: Scope): boolean {
  return p.scopes.some((s) => RANK[s] >= RANK[needed]);
}

export type AuthVariables = {
  principal: TokenPrincipal;
  /** Asks the store again, past any cache, whether this request's token still holds (long-lived streams). */
  stillValid: () => Promise<boolean>;
};

/** What a refused token is told: enough for its owner to act, nothing about the token itself. */
const REFUSED: Record<RefusalReason, string> = {
  unknown: 'the API token is not valid',
  revoked: 'the API token is not valid',
  expired: 'the API token has expired; create a new one (dingkit token create)',
  demo: 'demo tokens are not accepted by a hub with real DingTalk credentials; create one (dingkit token create)',
};

export async function verdictOf(
  verifier: ApiTokenVerifier,
  raw: string,
  fresh = false,
): Promise<TokenVerdict> {
  if (verifier.check) return verifier.check(raw, { fresh });
  const principal = await verifier.verify(raw);
  return principal ? { ok: true, principal } : { ok: false, reason: 'unknown' };
}

export interface GuardOptions {
  /** Also accept `?access_token=` (the SSE route only: EventSource cannot send headers). @default false */
  queryToken?: boolean;
}

/** Checks the bearer token and the scope the route needs. */
export function requireScope(
  verifier: ApiTokenVerifier,
  needed: Scope,
  o: GuardOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{8,200})$/i.exec(header);
    // Our own logs never record query strings.
    const raw = m?.[1] ?? (o.queryToken ? c.req.query('access_token') : undefined);
    if (!raw) {
      const hint =
        !o.queryToken && c.req.query('access_token') !== undefined
          ? '; ?access_token= is accepted only by GET /v1/events, send the token in the Authorization header'
          : '';
      throw new ApiError(401, 'unauthorized', `a bearer API token is required (dingkit token create)${hint}`);
    }
    const verdict = await verdictOf(verifier, raw);
    if (!verdict.ok) throw new ApiError(401, 'unauthorized', REFUSED[verdict.reason]);
    const principal = verdict.principal;
    if (!hasScope(principal, needed)) {
      throw new ApiError(403, 'forbidden', `this route needs the "${needed}" scope`);
    }
    c.set('principal', principal);
    c.set('stillValid', async () => (await verdictOf(verifier, raw, true)).ok);
    await next();
  };
}
