/**
 * Reading request input: JSON bodies, query strings, path ids and headers, each validated against its zod
 * contract. Every refusal is an ApiError or a ZodError, which api-error.ts turns into a 4xx with the reason, so a
 * malformed request can never reach the hub or produce a 5xx.
 */

import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { readFetchBody } from '../callback/http-io.js';
import { ApiError } from './api-error.js';

/** The JSON body limit of each request, set by `jsonBodyLimit` and enforced while the body is read. */
const limits = new WeakMap<object, number>();

/**
 * Caps JSON request bodies at `maxBytes` (413 beyond it): a declared `content-length` over the cap is refused before
 * anything is read; a body without one (chunked) is counted as it is read (`readJson`), and refused the moment it
 * passes the cap. Only readJson / readOptionalJson read JSON bodies, so the cap holds for every route.
 */
export function jsonBodyLimit(maxBytes: number, tooLarge: () => ApiError): MiddlewareHandler {
  return (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    limits.set(c.req.raw, maxBytes);
    return next();
  };
}

/** Parses a JSON body; wrong content type → 415, unreadable JSON → 400, contract violation → 400 with the path. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await bodyText(c);
  if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'the body is empty');
  return parseJsonText(c, text, schema);
}

/** Like readJson, but an absent or empty body is `{}` (routes whose fields are all optional). */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await bodyText(c);
  return parseJsonText(c, text.trim() === '' ? '{}' : text, schema, text.trim() === '');
}

/**
 * The body as UTF-8 text, within the request's limit. Served by @hono/node-server, the body is read straight from
 * Node's request stream (`c.env.incoming`): asking hono for it would first build a web `Request` around that stream
 * (a ReadableStream, an AbortController, a Headers copy), which was a sixth of the hub's CPU per accepted message
 * (bench/hub). Elsewhere (in-process `app.request`) from the web body.
 */
async function bodyText(c: Context): Promise<string> {
  const max = limits.get(c.req.raw) ?? Number.POSITIVE_INFINITY;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const chunks: Buffer[] = [];
  let size = 0;
  const tooLarge = () => new ApiError(413, 'payload_too_large', `request bodies are limited to ${max} bytes`);
  if (incoming && typeof incoming.on === 'function' && !incoming.readableDidRead) {
    await new Promise<void>((resolve, reject) => {
      const done = (e?: unknown) => {
        incoming
          .off('data', onData)
          .off('end', onEnd)
          .off('error', done)
          .off('aborted', onAborted)
          .off('close', onAborted);
        if (e) reject(e);
        else resolve();
      };
      const onData = (b: Buffer) => {
        size += b.length;
        if (size <= max) {
          chunks.push(b);
          return;
        }
        // Past the cap: nothing more is kept, and the answer goes now, while the sender may still be sending.
        // @hono/node-server then reads and drops the rest for a short grace before it cuts the connection. (Not
        // `connection: close`: Node would close the socket with unread data as soon as the answer is out, which
        // resets it, and the sender loses the 413.)
        done(tooLarge());
      };
      const onEnd = () => done();
      const onAborted = () => done(new ApiError(400, 'invalid_json', 'the body ended early'));
      incoming
        .on('data', onData)
        .on('end', onEnd)
        .on('error', done)
        .on('aborted', onAborted)
        .on('close', onAborted);
    });
  } else {
    const bytes = await readFetchBody(c.req.raw, max);
    if (bytes === undefined) throw tooLarge();
    chunks.push(bytes);
    size = bytes.length;
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  // As a web Request's text() reads it: a leading byte-order mark is not part of the text.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
