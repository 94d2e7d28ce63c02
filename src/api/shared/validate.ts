/**
 * Local input checks shared by the domain APIs. Each throws a `ValidationError` (outcome `not_sent`) naming the
 * field and the operation, before any I/O: a request DingTalk would refuse is never sent.
 */

import { ValidationError } from '../../core/errors.js';

/** UTF-8 byte length; DingTalk's size limits count bytes, not characters (docs/dingtalk.md §2.6, §3.1, §5.1). */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A non-empty string (after trimming), at most `maxChars` characters when given. */
export function requireText(value: unknown, field: string, op: string, maxChars?: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError('must be a non-empty string', field, { operation: op });
  }
  if (maxChars !== undefined && value.length > maxChars) {
    throw new ValidationError(`must be at most ${maxChars} characters`, field, { operation: op });
  }
  return value;
}

/** An optional string: undefined passes, anything else must satisfy `requireText`. */
export function optionalText(
  value: unknown,
  field: string,
  op: string,
  maxChars?: number,
): string | undefined {
  return value === undefined ? undefined : requireText(value, field, op, maxChars);
}

/** A list of non-empty strings with `min`..`max` items. */
export function requireList(
  value: unknown,
  field: string,
  op: string,
  bounds: { min?: number; max?: number } = {},
): string[] {
  if (!Array.isArray(value))
    throw new ValidationError('must be an array of strings', field, { operation: op });
  const min = bounds.min ?? 1;
  if (value.length < min)
    throw new ValidationError(`needs at least ${min} item(s)`, field, { operation: op });
  if (bounds.max !== undefined && value.length > bounds.max) {
    throw new ValidationError(`has ${value.length} items; at most ${bounds.max} allowed`, field, {
      operation: op,
    });
  }
  value.forEach((v, i) => {
    requireText(v, `${field}[${i}]`, op);
  });
  return value as string[];
}

/** A finite integer within bounds. */
export function requireInt(value: unknown, field: string, op: string, min?: number, max?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError('must be an integer', field, { operation: op });
  }
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new ValidationError(`must be between ${min ?? '-∞'} and ${max ?? '∞'}`, field, { operation: op });
  }
  return value;
}

/** An http(s) or dingtalk:// URL (DingTalk opens both from messages, docs/dingtalk.md §2.4). */
export function requireUrl(value: unknown, field: string, op: string): string {
  const text = requireText(value, field, op);
  let ok = false;
  try {
    const u = new URL(text);
    ok = u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'dingtalk:';
  } catch {
    ok = false;
  }
  if (!ok) throw new ValidationError('must be an http(s) or dingtalk:// URL', field, { operation: op });
  return text;
}

/** A plain object (not null, not an array). */
export function requireObject(value: unknown, field: string, op: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('must be an object', field, { operation: op });
  }
  return value as Record<string, unknown>;
}

/**
 * The common head of a message check: an object whose `msgtype` is one of `types`. Returns the object and its
 * type; `hint` is the readable list of allowed types for the error.
 */
export function requireMsgtype(
  message: unknown,
  types: ReadonlySet<string>,
  hint: string,
  op: string,
): { m: Record<string, unknown>; type: string } {
  if (typeof message !== 'object' || message === null) {
    throw new ValidationError('must be a message object', 'message', { operation: op });
  }
  const m = message as Record<string, unknown>;
  const type = m['msgtype'];
  if (typeof type !== 'string' || !types.has(type)) {
    throw new ValidationError(`must be one of ${hint}`, 'msgtype', { operation: op });
  }
  return { m, type };
}
