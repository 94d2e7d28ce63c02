/**
 * Reading request input: JSON bodies, query strings, path ids and headers, each validated against its zod
 * contract. Every refusal is an ApiError or a ZodError, which api-error.ts turns into a 4xx with the reason, so a
 * malformed request can never reach the hub or produce a 5xx.
 */

import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Parses a JSON body; wrong content type → 415, unreadable JSON → 400, contract violation → 400 with the path. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'the body is empty');
  return parseJsonText(c, text, schema);
}

/** Like readJson, but an absent or empty body is `{}` (routes whose fields are all optional). */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  return parseJsonText(c, text.trim() === '' ? '{}' : text, schema, text.trim() === '');
}

function parseJsonText<S extends z.ZodType>(c: Context, text: string, schema: S, empty = false): z.output<S> {
  const type = c.req.header('content-type') ?? '';
  if (!empty && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw r.error;
  return r.data;
}

/** Query parameters, each at most once. `access_token` belongs to auth.ts and is not part of any contract. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const all = c.req.queries();
  const flat: Record<string, string> = {};
  for (const [k, vs] of Object.entries(all)) {
    if (k === 'access_token') continue;
    if (vs.length > 1)
      throw new ApiError(400, 'invalid_query', `query parameter "${k.slice(0, 40)}" is repeated`);
    flat[k] = vs[0] ?? '';
  }
  const r = schema.safeParse(flat);
  if (!r.success) throw r.error;
  return r.data;
}

/** A path parameter; a malformed id is a 400 that says so, not a 404. */
export function readParam<S extends z.ZodType>(
  value: string | undefined,
  schema: S,
  what: string,
): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError(400, 'invalid_id', `${what} is not a valid id`);
  return r.data;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The `Idempotency-Key` header, merged with a body `idempotencyKey`: either may be used; both must agree.
 * (Printable ASCII only, as the IETF httpapi idempotency-key draft suggests for a key that lives in a header.)
 */
export function idempotencyKey(c: Context, fromBody: string | undefined): string | undefined {
  const header = c.req.header('idempotency-key');
  if (header === undefined) return fromBody;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-200 printable ASCII characters',
    );
  }
  if (fromBody !== undefined && fromBody !== header) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      'the Idempotency-Key header and body idempotencyKey differ',
    );
  }
  return header;
}
