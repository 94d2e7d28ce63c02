/**
 * The two small HTTP calls of Stream mode (the open call and session-webhook replies) over undici `request`, with
 * a timeout, an abort signal and a bounded body read. Failures map into the core error family with their outcome
 * (style.md "Errors"); every text that reaches an error goes through the caller's redactor first.
 */

import { type Dispatcher, request } from 'undici';
import { DingTalkError, NetworkError, TimeoutError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';

interface PostJsonOptions {
  operation: string;
  timeoutMs: number;
  maxResponseBytes: number;
  redactor: Redactor;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
}

interface PostJsonResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

// Failures in these phases happen before the request bytes leave: DingTalk cannot have acted.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export async function postJson(url: string, body: unknown, o: PostJsonOptions): Promise<PostJsonResult> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json; charset=utf-8',
        ...o.headers,
      },
      body: JSON.stringify(body),
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (e) {
    throw requestFailure(e, o);
  }
  try {
    const text = await readBounded(res.body, o.maxResponseBytes, o.operation);
    return { status: res.statusCode, headers: res.headers, text };
  } catch (e) {
    if (e instanceof DingTalkError) throw e;
    throw requestFailure(e, o);
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], max: number, operation: string) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > max) {
      body.destroy();
      // The answer arrived, so the request was processed: outcome unknown, never a blind retry of a send.
      throw new DingTalkError('RESPONSE_TOO_LARGE', `${operation}: response body over ${max} bytes`, {
        operation,
        outcome: 'unknown',
      });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function requestFailure(e: unknown, o: PostJsonOptions): DingTalkError {
  const code = errorCode(e);
  const text = o.redactor.redact(e instanceof Error ? e.message : String(e));
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new TimeoutError(`${o.operation}: no answer within ${o.timeoutMs} ms`, o.timeoutMs, {
      operation: o.operation,
    });
  }
  if (o.signal?.aborted || (e instanceof Error && e.name === 'AbortError')) {
    return new NetworkError(`${o.operation}: aborted`, { operation: o.operation, retryable: false });
  }
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return new NetworkError(`${o.operation}: ${code}: ${text}`, { operation: o.operation });
  }
  // Reset or closed mid-exchange: the request may have been processed.
  return new NetworkError(`${o.operation}: ${code ?? 'network failure'}: ${text}`, {
    operation: o.operation,
    outcome: 'unknown',
    retryable: false,
  });
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 3 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
