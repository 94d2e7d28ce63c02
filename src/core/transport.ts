/**
 * HTTP transport over undici's dispatcher API on a keep-alive connection pool.
 *
 * Why `dispatch` with our own handler instead of `undici.request`: `request` wraps every answer in a Readable
 * stream we would immediately drain into a buffer; a handler that collects chunks directly is cheaper, and it
 * sees `onRequestSent`, which tells us whether the request bytes were written. That one bit is what separates
 * a `not_sent` failure (safe to retry any send) from an `unknown` one (DingTalk may have acted).
 */

import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { DingTalkError, NetworkError, TimeoutError } from './errors.js';

export interface RawRequest {
  origin: string;
  /** Path with query string. */
  path: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers: Record<string, string>;
  /** A buffer, a string, or a streamed body (multipart uploads of files) opened once per attempt. */
  body?: Buffer | string | StreamBody | undefined;
  timeoutMs: number;
  /** Largest response body accepted; larger answers fail with outcome `unknown`. */
  maxResponseBytes: number;
  signal?: AbortSignal | undefined;
  /** Operation name for error messages. */
  operation: string;
}

/** A body produced while it is written; `length` is its exact byte count (sent as `content-length`). */
export interface StreamBody {
  length: number;
  open(): AsyncIterable<Uint8Array>;
}

export function isStreamBody(body: RawRequest['body']): body is StreamBody {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type Transport = (req: RawRequest) => Promise<RawResponse>;

export interface TransportOptions {
  /**
   * Sockets per origin.
   * @default 128
   */
  connections?: number;
  /**
   * How long an idle keep-alive socket is kept.
   * @default 30_000
   */
  keepAliveTimeoutMs?: number;
  /** A dispatcher of your own (a proxy agent, a mock); the transport then owns no sockets. */
  dispatcher?: Dispatcher;
}

export interface HttpTransport {
  send: Transport;
  close(): Promise<void>;
}

const SOCKET_CODES_NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Creates the transport. One per client; `close()` releases its sockets. */
export function createHttpTransport(options: TransportOptions = {}): HttpTransport {
  const owned = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Agent({
      connections: options.connections ?? 128,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
    });

  const send: Transport = (req) =>
    new Promise<RawResponse>((resolve, reject) => {
      const handler = new CollectingHandler(req, resolve, reject);
      if (req.signal?.aborted) {
        reject(new NetworkError(`${req.operation}: aborted before sending`, { operation: req.operation }));
        return;
      }
      dispatcher.dispatch(
        {
          origin: req.origin,
          path: req.path,
          method: req.method,
          headers: req.headers,
          // A streamed body is only "sent" once undici has written all of it (onRequestSent), so a read error
          // or a reset during the upload stays `not_sent`: DingTalk cannot act on a truncated multipart body.
          body: isStreamBody(req.body)
            ? Readable.from(req.body.open(), { objectMode: false })
            : (req.body ?? null),
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
          // A POST is never silently retried by undici on a reused socket: the retry decision is ours.
          idempotent: false,
          blocking: false,
        },
        handler,
      );
    });

  return {
    send,
    async close() {
      if (owned) await dispatcher.close();
    },
  };
}

/** Legacy-style dispatch handler: collects the body with a cap and classifies failures precisely. */
class CollectingHandler implements Dispatcher.DispatchHandler {
  #status = 0;
  #headers: Record<string, string> = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #sent = false;
  #done = false;
  #abort: ((err?: Error) => void) | undefined;
  #onAbortSignal: (() => void) | undefined;

  constructor(
    private readonly req: RawRequest,
    private readonly resolve: (r: RawResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    const signal = this.req.signal;
    if (signal && !this.#onAbortSignal) {
      this.#onAbortSignal = () => abort(new AbortedByCaller());
      signal.addEventListener('abort', this.#onAbortSignal, { once: true });
    }
  }

  onRequestSent(): void {
    this.#sent = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.#status = statusCode;
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      headers[rawHeaders[i]!.toString('latin1').toLowerCase()] = rawHeaders[i + 1]!.toString('latin1');
    }
    this.#headers = headers;
    // The request is certainly sent once an answer starts (onRequestSent is not called for every body type).
    this.#sent = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#size += chunk.length;
    if (this.#size > this.req.maxResponseBytes) {
      this.#abort?.(new ResponseTooLarge());
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
    this.resolve({ status: this.#status, headers: this.#headers, body });
  }

  onError(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
    this.reject(this.#classify(err));
  }

  #cleanup(): void {
    if (this.#onAbortSignal) this.req.signal?.removeEventListener('abort', this.#onAbortSignal);
  }

  #classify(err: Error): DingTalkError {
    const op = this.req.operation;
    const code = (err as { code?: string }).code ?? '';
    const outcome = this.#sent ? 'unknown' : 'not_sent';
    if (err instanceof ResponseTooLarge) {
      return new DingTalkError(
        'RESPONSE_TOO_LARGE',
        `${op}: response larger than ${this.req.maxResponseBytes} bytes`,
        { outcome: 'unknown', operation: op },
      );
    }
    if (err instanceof AbortedByCaller || code === 'UND_ERR_ABORTED') {
      return new NetworkError(`${op}: aborted by caller`, { outcome, operation: op, retryable: false });
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new TimeoutError(`${op}: no answer within ${this.req.timeoutMs} ms`, this.req.timeoutMs, {
        outcome,
        operation: op,
        retryable: outcome === 'not_sent',
        cause: err,
      });
    }
    if (SOCKET_CODES_NOT_SENT.has(code) || !this.#sent) {
      return new NetworkError(`${op}: connection failed before the request was sent (${code || err.name})`, {
        outcome: 'not_sent',
        operation: op,
        cause: err,
      });
    }
    return new NetworkError(`${op}: connection lost after the request was sent (${code || err.name})`, {
      outcome: 'unknown',
      operation: op,
      retryable: false,
      cause: err,
    });
  }
}

class ResponseTooLarge extends Error {}
class AbortedByCaller extends Error {}
