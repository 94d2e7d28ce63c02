/**
 * Bearer API tokens with scopes. Tokens are created with the CLI and stored hashed; `read` < `send` < `admin`,
 * each including the ones before it. Every route but health requires a token.
 */

import type { MiddlewareHandler } from 'hono';
import { ApiError } from './api-error.js';

export type Scope = 'read' | 'send' | 'admin';

const RANK: Record<Scope, number> = { read: 1, send: 2, admin: 3 };

export interface TokenPrincipal {
  name: string;
  scopes: readonly Scope[];
}

export interface ApiTokenVerifier {
  verify(raw: string): Promise<TokenPrincipal | undefined>;
}

export function hasScope(p: TokenPrincipal, needed: Scope): boolean {
  return p.scopes.some((s) => RANK[s] >= RANK[needed]);
}

export type AuthVariables = { principal: TokenPrincipal };

/** Checks the bearer token and the scope the route needs. */
export function requireScope(
  verifier: ApiTokenVerifier,
  needed: Scope,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{8,200})$/i.exec(header);
    // EventSource cannot send headers, so the SSE stream may pass the token as a query parameter; our own
    // logs never record query strings.
    const raw = m?.[1] ?? c.req.query('access_token');
    if (!raw)
      throw new ApiError(401, 'unauthorized', 'a bearer API token is required (dingkit token create)');
    const principal = await verifier.verify(raw);
    if (!principal) throw new ApiError(401, 'unauthorized', 'the API token is not valid');
    if (!hasScope(principal, needed)) {
      throw new ApiError(403, 'forbidden', `this route needs the "${needed}" scope`);
    }
    c.set('principal', principal);
    await next();
  };
}
