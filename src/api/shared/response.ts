/**
 * Reading DingTalk's answers. A success answer that lacks the field a caller needs (a send without its
 * `processQueryKey`, an upload without its `media_id`) is not success: DingTalk may or may not have acted, so it
 * becomes a `BAD_RESPONSE` error with outcome `unknown` (style.md "Errors").
 */

import type { ApiContext } from '../../core/context.js';
import { DingTalkError } from '../../core/errors.js';

export type Json = Record<string, unknown>;

export function badResponse(op: string, what: string): DingTalkError {
  return new DingTalkError('BAD_RESPONSE', `${op}: DingTalk's answer has no ${what}`, {
    operation: op,
    outcome: 'unknown',
  });
}

/** A required string field (numbers are accepted and stringified: ids such as `task_id` come as numbers). */
export function needString(data: Json, key: string, op: string): string {
  const v = data[key];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw badResponse(op, key);
}

export function optString(data: Json, key: string): string | undefined {
  const v = data[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function optNumber(data: Json, key: string): number | undefined {
  const v = data[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function optBool(data: Json, key: string): boolean | undefined {
  const v = data[key];
  return typeof v === 'boolean' ? v : undefined;
}

/** A string array; other entries are dropped, a missing field is empty. */
export function stringList(data: Json, key: string): string[] {
  const v = data[key];
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string');
}

/** A nested object, or an empty one. */
export function objectAt(data: Json, key: string): Json {
  const v = data[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

/** A nested object that must be there. */
export function needObject(data: Json, key: string, op: string): Json {
  const v = data[key];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  throw badResponse(op, key);
}

/**
 * Limiter key for an app-token call: DingTalk throttles each app per API (docs/dingtalk.md §0.2, 20/s), so the key is
 * the app and the operation.
 */
export function appRateKey(ctx: ApiContext, operation: string): string {
  return `app:${ctx.app.appKey ?? 'anonymous'}:${operation}`;
}

/** Per-call options every request method accepts. */
export interface CallOptions {
  /** Cancels the call; an abort after the bytes were written leaves the outcome `unknown`. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number | undefined;
}

/** Copies the defined per-call options onto a request (exactOptionalPropertyTypes forbids explicit undefined). */
export function callFields(o: CallOptions | undefined): { signal?: AbortSignal; timeoutMs?: number } {
  const out: { signal?: AbortSignal; timeoutMs?: number } = {};
  if (o?.signal) out.signal = o.signal;
  if (o?.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  return out;
}
