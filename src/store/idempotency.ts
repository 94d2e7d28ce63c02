/**
 * Idempotency keys bound to a caller and a request. A key is claimed in a scope (whose key it
 * is: `token:<name>` for an API token, `person:<userId>` for a person's own page, `cli` for the local CLI), so one
 * caller's key never answers for another's request. With the key goes a fingerprint of the request: the same key
 * with the same request replays the first answer; with a different request it is refused and nothing is sent —
 * the rule payment APIs use, since silently answering "done" for a request that was never made is how alerts get
 * lost.
 *
 * The fingerprint is the SHA-256 of a canonical JSON form: object keys sorted, `undefined` members dropped, arrays
 * in their order. So `{"text":"x","group":"ops"}` and `{"group":"ops","text":"x"}` are the same request, and
 * `["a","b"]` and `["b","a"]` are not (the order of recipients or mentions is visible in what is sent).
 */

import { createHash } from 'node:crypto';
import { DingTalkError } from '../core/errors.js';

/** The same key was used by the same caller for a different request. The HTTP API answers 409. */
export class IdempotencyConflictError extends DingTalkError {
  override readonly name: string = 'IdempotencyConflictError';

  constructor(message = 'this Idempotency-Key was already used for a different request; use a new key') {
    super('IDEMPOTENCY_CONFLICT', message, { outcome: 'not_sent' });
  }
}

/** Canonical JSON: sorted object keys, no `undefined` members; throws on values JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in a request');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    return JSON.stringify({ sha256: createHash('sha256').update(value).digest('hex') });
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`a ${typeof value} cannot be part of a request fingerprint`);
}

/** Hex SHA-256 of the canonical request. */
export function requestFingerprint(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request), 'utf8').digest('hex');
}

/**
 * Whether a key's holder answers this request: same fingerprint, or a holder from before fingerprints existed
 * (null), or a caller that gave none. Otherwise the request conflicts.
 */
export function sameRequest(held: string | null, incoming: string | undefined): boolean {
  return held === null || incoming === undefined || held === incoming;
}
