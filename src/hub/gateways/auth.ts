/**
 * Checks that a hook request comes from the route's configured sender, before anything it sent is believed.
 * Every secret comparison goes through `safeEqual` (timing-safe, src/callback/timing-safe.ts), and a refusal says
 * which check failed without ever echoing what was received or expected.
 *
 * `headerGate` runs before the body is read (bearer, basic, token): a stranger cannot make the hub read a megabyte.
 * `bodyGate` runs on the raw bytes for `hmac` (the signature covers them exactly as sent; a re-serialised body
 * would verify a different text).
 */

import { createHmac } from 'node:crypto';
import { safeEqual } from '../../callback/timing-safe.js';
import type { HookAuth } from './config.js';

export type AuthRefusal =
  | 'missing_credentials'
  | 'bad_credentials'
  | 'missing_signature'
  | 'bad_signature'
  | 'bad_timestamp'
  | 'stale_timestamp';

export type Headers = (name: string) => string | undefined;

/** Undefined: the header part passes (or this route signs the body instead). */
export function headerGate(auth: HookAuth, header: Headers): AuthRefusal | undefined {
  switch (auth.type) {
    case 'bearer': {
      const got = header('authorization');
      if (got === undefined) return 'missing_credentials';
      // The scheme is configurable (Grafana lets its contact point send `Authorization: <scheme> <credentials>`).
      const m = /^([^\s]+) +(\S+)\s*$/.exec(got);
      if (!m || m[1]!.toLowerCase() !== auth.scheme.toLowerCase()) return 'bad_credentials';
      return safeEqual(m[2]!, auth.token) ? undefined : 'bad_credentials';
    }
    case 'basic': {
      const got = header('authorization');
      if (got === undefined) return 'missing_credentials';
      const m = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(got);
      if (!m) return 'bad_credentials';
      const expected = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
      return safeEqual(m[1]!, expected) ? undefined : 'bad_credentials';
    }
    case 'token': {
      const got = header(auth.header);
      if (got === undefined) return 'missing_credentials';
      return safeEqual(got.trim(), auth.token) ? undefined : 'bad_credentials';
    }
    case 'hmac':
      return header(auth.header) === undefined ? 'missing_signature' : undefined;
  }
}

/** The body part: only `hmac` routes have one. `now` is epoch ms. */
export function bodyGate(auth: HookAuth, header: Headers, raw: Buffer, now: number): AuthRefusal | undefined {
  if (auth.type !== 'hmac') return undefined;
  const sig = header(auth.header);
  if (sig === undefined) return 'missing_signature';
  let signed: Buffer = raw;
  if (auth.timestampHeader !== undefined) {
    const ts = header(auth.timestampHeader);
    if (ts === undefined) return 'missing_signature';
    if (!/^\d{1,12}$/.test(ts.trim())) return 'bad_timestamp';
    // Checked after the signature: an attacker learns nothing about the clock from a forged request.
    signed = Buffer.concat([Buffer.from(`${ts.trim()}${auth.timestampSeparator}`, 'utf8'), raw]);
  }
  const mac = createHmac(auth.algorithm, auth.secret).update(signed).digest(auth.encoding);
  if (!safeEqual(sig.trim(), `${auth.prefix}${mac}`)) return 'bad_signature';
  if (auth.timestampHeader !== undefined) {
    const at = Number(header(auth.timestampHeader)!.trim()) * 1000;
    if (Math.abs(now - at) > auth.toleranceMs) return 'stale_timestamp';
  }
  return undefined;
}

/** The signature a sender computes (tests, and docs/gateways.md's example). */
type HmacAuth = Extract<HookAuth, { type: 'hmac' }>;

export function signHook(
  auth: Omit<HmacAuth, 'timestampSeparator'> & { timestampSeparator?: HmacAuth['timestampSeparator'] },
  raw: string | Buffer,
  timestampSec?: number,
): Record<string, string> {
  const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const signed =
    timestampSec === undefined
      ? body
      : Buffer.concat([Buffer.from(`${timestampSec}${auth.timestampSeparator ?? '.'}`, 'utf8'), body]);
  const mac = createHmac(auth.algorithm, auth.secret).update(signed).digest(auth.encoding);
  return {
    [auth.header]: `${auth.prefix}${mac}`,
    ...(auth.timestampHeader !== undefined && timestampSec !== undefined
      ? { [auth.timestampHeader]: String(timestampSec) }
      : {}),
  };
}
