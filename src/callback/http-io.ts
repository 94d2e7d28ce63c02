/**
 * The HTTP edge shared by the three callback receivers: one framework-neutral `handle(request) → response`
 * core and two adapters, Node's `(req, res)` (node:http, Express) and fetch's `(Request) → Response` (Hono's
 * `c.req.raw`, Bun, Deno). Bodies are read with a size cap (413 beyond it) and bad input is always a 4xx with
 * a JSON reason, never a 5xx.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request reduced to what the receivers need. */
export interface CallbackHttpRequest {
  method: string;
  /** Request target: a path with its query (`/cb?nonce=...`) or an absolute URL. */
  url: string;
  /** Lower-case header names, as Node gives them. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Raw body bytes or text. */
  body?: Uint8Array | string | undefined;
  /** A body a framework already parsed as JSON (Express `express.json()`); used when `body` is absent. */
  parsedBody?: unknown;
}

export interface CallbackHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What every receiver returns: one handler in three shapes. */
export interface CallbackHttpHandler {
  /** For `node:http` and Express: `http.createServer(h.node)`, `app.post('/dingtalk', h.node)`. */
  node: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** For fetch-style servers: Hono `app.post('/dingtalk', (c) => h.fetch(c.req.raw))`. */
  fetch: (request: Request) => Promise<Response>;
  /** The framework-neutral core the two adapters call. */
  handle: (request: CallbackHttpRequest) => Promise<CallbackHttpResponse>;
}

/** A 4xx answer with a stable reason, thrown by request parsing. */
export class BadCallbackRequest extends Error {
  override readonly name = 'BadCallbackRequest';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${error}: ${reason}`);
  }
}

/** @default 1 MiB */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function jsonResponse(
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): CallbackHttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(body),
  };
}

export function tooLarge(): CallbackHttpResponse {
  return jsonResponse(413, { error: 'payload_too_large', reason: 'body_too_large' }, { connection: 'close' });
}

/** Builds the handler triple around a core. */
export function httpHandler(
  handle: (request: CallbackHttpRequest) => Promise<CallbackHttpResponse>,
  maxBodyBytes: number,
): CallbackHttpHandler {
  return {
    handle,
    node: (req, res) => serveNode(handle, maxBodyBytes, req, res),
    fetch: (request) => serveFetch(handle, maxBodyBytes, request),
  };
}

type BodyRead =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'parsed'; value: unknown }
  | { kind: 'too_large' }
  | { kind: 'aborted' };

async function serveNode(
  handle: (request: CallbackHttpRequest) => Promise<CallbackHttpResponse>,
  max: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let answer: CallbackHttpResponse;
  try {
    const read = await readNodeBody(req, max);
    if (read.kind === 'aborted') {
      res.destroy();
      return;
    }
    if (read.kind === 'too_large') {
      answer = tooLarge();
    } else {
      answer = await handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        ...(read.kind === 'bytes' ? { body: read.bytes } : { parsedBody: read.value }),
      });
    }
  } catch {
    answer = jsonResponse(500, { error: 'internal' });
  }
  if (res.headersSent || res.destroyed) return;
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

function readNodeBody(req: IncomingMessage, max: number): Promise<BodyRead> {
  // Express and friends may have read the stream already and left the result on `req.body`.
  const pre = (req as IncomingMessage & { body?: unknown }).body;
  if (req.readableEnded && pre !== undefined) {
    if (typeof pre === 'string' || pre instanceof Uint8Array) {
      const bytes = Buffer.from(pre);
      return Promise.resolve(bytes.length > max ? { kind: 'too_large' } : { kind: 'bytes', bytes });
    }
    return Promise.resolve({ kind: 'parsed', value: pre });
  }
  const declared = declaredLength(req.headers['content-length']);
  if (declared !== undefined && declared > max) {
    // Answer at once; Node discards the unread body once the response is complete.
    return Promise.resolve({ kind: 'too_large' });
  }
  return new Promise<BodyRead>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        // Keep the stream flowing so the remainder is discarded rather than buffered.
        req.resume();
        settle({ kind: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle({ kind: 'bytes', bytes: Buffer.concat(chunks, size) });
    const onAbort = () => settle({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) settle({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

async function serveFetch(
  handle: (request: CallbackHttpRequest) => Promise<CallbackHttpResponse>,
  max: number,
  request: Request,
): Promise<Response> {
  let answer: CallbackHttpResponse;
  try {
    let bytes: Buffer | undefined;
    try {
      bytes = await readFetchBody(request, max);
    } catch {
      // The client went away or sent a broken stream: its fault, and nobody is left to read a 5xx.
      return toFetchResponse(jsonResponse(400, { error: 'bad_request', reason: 'body_unreadable' }));
    }
    if (bytes === undefined) {
      answer = tooLarge();
    } else {
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      answer = await handle({ method: request.method, url: request.url, headers, body: bytes });
    }
  } catch {
    answer = jsonResponse(500, { error: 'internal' });
  }
  return toFetchResponse(answer);
}

function toFetchResponse(answer: CallbackHttpResponse): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** The body bytes, or undefined when over the cap (a declared length over it is refused before reading). */
export async function readFetchBody(request: Request, max: number): Promise<Buffer | undefined> {
  const declared = declaredLength(request.headers.get('content-length'));
  if (declared !== undefined && declared > max) {
    await request.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
