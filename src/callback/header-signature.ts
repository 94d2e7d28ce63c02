/**
 * The shared shape of the two header-signed callbacks: a millisecond timestamp header and a base64
 * HMAC-SHA256 header, checked for presence, shape, freshness and value (timing-safe), in that order.
 */

import { createHmac } from 'node:crypto';
import { ConfigError, SignatureError } from '../core/errors.js';
import { assertFresh, parseTimestampMs, readNow } from './timestamp-window.js';
import { safeEqual } from './timing-safe.js';

/** A header as Node gives it (repeats may arrive as arrays). */
export type HeaderValue = string | readonly string[] | null | undefined;

/**
 * @example
 * verifyBotCallback(headers, appSecret, { windowMs: 60_000, now: () => clock.now() });
 */
export interface VerifyWindowOptions {
  /** Current time in epoch ms, or a clock. @default Date.now() */
  now?: number | (() => number);
  /**
   * Largest accepted |now − timestamp| in ms (inclusive).
   * @default 3_600_000 (one hour, docs/dingtalk.md §9a)
   */
  windowMs?: number;
}

export const DEFAULT_HEADER_WINDOW_MS = 3_600_000;

export function hmacBase64(key: string, message: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('base64');
}

interface HeaderCheck {
  kind: string;
  timestamp: HeaderValue;
  signature: HeaderValue;
  secret: string | undefined;
  /** The string HMAC-ed with the secret, built from the timestamp exactly as received. */
  message: (timestamp: string) => string;
  options: VerifyWindowOptions;
}

export function checkHeaderSignature(c: HeaderCheck): void {
  if (typeof c.secret !== 'string' || c.secret === '') {
    throw new SignatureError('missing_key', `${c.kind}: no secret configured to verify with`);
  }
  const timestamp = single(c.timestamp, c.kind, 'timestamp');
  const signature = single(c.signature, c.kind, 'signature');
  const windowMs = c.options.windowMs ?? DEFAULT_HEADER_WINDOW_MS;
  if (!(Number.isFinite(windowMs) && windowMs >= 0)) {
    throw new ConfigError(`${c.kind}: windowMs must be a non-negative number of ms`);
  }
  const ts = parseTimestampMs(timestamp, 'ms');
  assertFresh(ts, readNow(c.options.now), windowMs);
  if (!safeEqual(signature, hmacBase64(c.secret, c.message(timestamp)))) {
    throw new SignatureError('mismatch', `${c.kind}: signature does not match`);
  }
}

function single(value: HeaderValue, kind: string, label: string): string {
  if (value === undefined || value === null || value === '') {
    throw new SignatureError('missing', `${kind}: ${label} header is missing`);
  }
  if (typeof value === 'string') return value;
  if (value.length === 0) throw new SignatureError('missing', `${kind}: ${label} header is missing`);
  if (value.length > 1 || typeof value[0] !== 'string') {
    throw new SignatureError('malformed', `${kind}: ${label} header is repeated`);
  }
  return value[0];
}
