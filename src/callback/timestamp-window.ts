/**
 * Timestamp freshness shared by the three callback kinds. A callback is accepted when
 * |now − timestamp| ≤ window (inclusive), in either direction: a far-future timestamp is as suspect as an old one.
 */

import { SignatureError } from '../core/errors.js';

// Up to 16 digits keeps the value an exact integer in a double.
const DIGITS = /^\d{1,16}$/;
// Below this a timestamp is read as seconds: 1e11 s is the year 5138, 1e11 ms is March 1973.
const SECONDS_BELOW = 1e11;

/**
 * Parses a decimal timestamp. `ms` accepts epoch milliseconds only (bot and card callbacks, docs/dingtalk.md §9a and §10);
 * `auto` also accepts epoch seconds, because event pushes carry either (§9b: "timestamps may be seconds or ms").
 */
export function parseTimestampMs(raw: string, unit: 'ms' | 'auto'): number {
  if (!DIGITS.test(raw)) throw new SignatureError('bad_timestamp', 'timestamp is not a decimal number');
  const n = Number(raw);
  return unit === 'auto' && n < SECONDS_BELOW ? n * 1000 : n;
}

/** Throws `stale_timestamp` when the timestamp is outside the window around `nowMs`. */
export function assertFresh(timestampMs: number, nowMs: number, windowMs: number): void {
  if (Math.abs(nowMs - timestampMs) > windowMs) {
    throw new SignatureError('stale_timestamp', 'timestamp is outside the accepted window');
  }
}

/** Reads `now` given either as a clock function or as a fixed epoch-ms value. */
export function readNow(now: number | (() => number) | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === 'function' ? now() : now;
}

/** A clock function from `now` given either way. */
export function toClock(now: number | (() => number) | undefined): () => number {
  if (now === undefined) return Date.now;
  return typeof now === 'function' ? now : () => now;
}
