/**
 * The people's web app's session in the browser: an HttpOnly cookie holding the opaque session id (the hub keeps its
 * hash, src/hub/people-app.ts), and the defences every change request must pass.
 *
 * | request                        | needs                                                                |
 * | ------------------------------ | -------------------------------------------------------------------- |
 * | GET of data (`/app/api/...`)   | a live session cookie                                                |
 * | any change (POST/PATCH/DELETE) | the session, the `x-csrf-token` header, and an `Origin` of this hub  |
 * | sign-in (`/app/session/...`)   | an `Origin` of this hub (no session yet: login CSRF is the risk)     |
 *
 * The CSRF token is derived from the session id (SHA-256 over a label and the id), so it is never stored, changes
 * with each session, and cannot be computed from the stored hash (a different input). The page reads it from
 * `GET /app/api/me` (same-origin JSON: another site cannot read it) and sends it in a header, which a cross-site
 * form cannot set. It is compared in constant time. The Origin check is the second lock: a browser always sends
 * `Origin` on a cross-site POST, and only this hub's own origins (its `publicUrl`, or the address it was reached
 * at) pass.
 *
 * Cookie: `Path=/app` (the operator pages and the API never see it), `SameSite=Lax` (sent on the top-level
 * navigation a DingTalk link makes, not on cross-site subrequests; `None` by config when DingTalk's PC side panel
 * frames the pages from its own site), `Secure` when `publicUrl` is https, and `Max-Age` = what is left of the
 * session.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppSession, PeopleAppService } from '../../hub/service.js';
import { ApiError } from '../api-error.js';

export const SESSION_COOKIE = 'dk_app_session';
export const LOGIN_COOKIE = 'dk_app_login';

export type PeopleEnv = { Variables: { session: AppSession; sessionId: string } };

/** The CSRF token of a session: a value only the holder of the session id can compute. */
export function csrfOf(sessionId: string): string {
  return createHash('sha256').update(`dingkit app csrf\0${sessionId}`, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings of any length. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a, 'utf8').digest();
  const y = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/** One cookie's value from the `Cookie` header, or undefined. Malformed pairs are skipped. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8_192) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** A `Set-Cookie` value. `SameSite=None` is always `Secure` (browsers drop it otherwise). */
export function cookie(
  name: string,
  value: string,
  o: { path: string; maxAgeS: number; secure: boolean; sameSite?: 'lax' | 'none' },
): string {
  const none = o.sameSite === 'none';
  return [
    `${name}=${value}`,
    `Path=${o.path}`,
    `Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`,
    'HttpOnly',
    none ? 'SameSite=None' : 'SameSite=Lax',
    ...(o.secure || none ? ['Secure'] : []),
  ].join('; ');
}

export const isHttps = (url: string): boolean => /^https:/i.test(url);

/** Origins a change may come from: the configured public address and the one this request reached. */
function ownOrigins(c: Context, app: PeopleAppService): string[] {
  const out: string[] = [];
  try {
    out.push(new URL(app.publicUrl()).origin);
  } catch {
    // A malformed public URL allows nothing extra.
  }
  const host = c.req.header('host');
  if (host) {
    const proto = new URL(c.req.url).protocol;
    out.push(`${proto}//${host}`.toLowerCase());
  }
  return out;
}

/** 403 unless the request carries an `Origin` of this hub. */
export function checkOrigin(c: Context, app: PeopleAppService): void {
  const origin = c.req.header('origin');
  if (origin === undefined || origin === 'null') {
    throw new ApiError(403, 'origin_required', 'changes need an Origin header of this hub');
  }
  if (!ownOrigins(c, app).includes(origin.toLowerCase())) {
    throw new ApiError(403, 'foreign_origin', 'this request comes from another site');
  }
}

/**
 * Loads the session from the cookie (401 with the reason when there is none, or it is expired or unknown, and the
 * cookie is cleared) and, for a change, checks the Origin and the CSRF token (403).
 */
export function requireSession(app: PeopleAppService): MiddlewareHandler<PeopleEnv> {
  return async (c, next) => {
    const id = readCookie(c.req.header('cookie'), SESSION_COOKIE);
    if (id === undefined || id === '') {
      throw new ApiError(401, 'no_session', 'sign in first');
    }
    const session = await app.readSession(id);
    if (session === undefined) {
      c.header(
        'set-cookie',
        cookie(SESSION_COOKIE, '', {
          path: '/app',
          maxAgeS: 0,
          secure: isHttps(app.publicUrl()),
          sameSite: app.cookieSameSite(),
        }),
      );
      throw new ApiError(401, 'session_expired', 'your sign-in has expired or is not valid; sign in again');
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      checkOrigin(c, app);
      const sent = c.req.header('x-csrf-token');
      if (sent === undefined || sent === '') {
        throw new ApiError(403, 'csrf_missing', 'the x-csrf-token header is missing');
      }
      if (!sameSecret(sent, csrfOf(id))) {
        throw new ApiError(403, 'csrf_mismatch', 'the x-csrf-token header is not this session’s');
      }
    }
    c.set('session', session);
    c.set('sessionId', id);
    await next();
  };
}
