/**
 * What the three receivers have in common: POST only, a body cap, query parsing, JSON bodies, and one mapping
 * from failures to answers. Bad input is a 4xx with `{ error, reason }`; only the application's own callback
 * failing gives a 500, and its details stay in the process (reported through `onError`), never in the answer.
 */

import { DecryptError, SignatureError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  BadCallbackRequest,
  type CallbackHttpHandler,
  type CallbackHttpRequest,
  type CallbackHttpResponse,
  DEFAULT_MAX_BODY_BYTES,
  httpHandler,
  jsonResponse,
  tooLarge,
} from './http-io.js';
import {
  claimKeys,
  MemorySeenStore,
  type ReplayOption,
  releaseKeys,
  type SeenStore,
} from './replay-guard.js';

/** Options every receiver accepts. */
export interface ReceiverOptions {
  /**
   * Where accepted signatures and message ids are remembered for the whole timestamp window, so a replayed
   * callback is answered like the original without running the handler again. Pass a shared store when several
   * processes receive for one app; `false` turns the guard off (tests only: every replay then runs the handler).
   * `'handler'`: the receiver claims nothing and the handler must claim `meta.replay` in the same transaction as
   * its own write (`ReplayKeys`), so a crash between a claim and that write cannot lose a callback.
   * @default a MemorySeenStore of this receiver (100,000 keys)
   * @example { replay: new MemorySeenStore({ maxEntries: 500_000 }) }
   */
  replay?: Exclude<ReplayOption, undefined>;
  /**
   * Largest accepted body in bytes; larger ones are answered 413 without being buffered.
   * @default 1_048_576 (1 MiB)
   */
  maxBodyBytes?: number;
  /** Receives one line per rejected request (`kind`, `status`, `reason`) and per handler failure. No secrets. */
  logger?: Logger;
  /** Called with the error when the application's handler throws (the caller is answered 500 without details). */
  onError?: (error: unknown) => void;
}

/** A request after the shared checks. */
interface ReceivedRequest {
  query: URLSearchParams;
  header: (name: string) => string | readonly string[] | undefined;
  /** Raw body bytes, when the body was not pre-parsed by a framework. */
  bytes: Buffer | undefined;
  /** A framework's pre-parsed body, when `bytes` is undefined. */
  parsed: unknown;
}

/** Thrown around the application's callback so its failure is told apart from bad input. */
class HandlerFailure extends Error {
  override readonly name = 'HandlerFailure';
}

/** Runs the application's callback; any throw becomes a 500 (reported to `onError`, never to the caller). */
export async function runHandler<T>(
  common: ReceiverOptions,
  kind: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    common.logger?.error({ kind, err: e instanceof Error ? e.name : typeof e }, 'callback handler failed');
    try {
      common.onError?.(e);
    } catch {
      // A failing error hook must not turn into a different answer.
    }
    throw new HandlerFailure();
  }
}

/**
 * The receiver's store: the caller's, a fresh in-memory one by default (on the receiver's clock, so expiry is
 * judged by the same time as the signature window), none when turned off or left to the handler.
 */
export function replayStore(option: ReplayOption, now: () => number): SeenStore | undefined {
  if (option === false || option === 'handler') return undefined;
  return option ?? new MemorySeenStore({ now });
}

/**
 * Runs `run` only if every key is new (see replay-guard.ts); a replay gets `replayAnswer`, the answer DingTalk
 * expects for success, and learns nothing. If `run` fails its keys are released, so DingTalk's retry runs it.
 */
export async function onceOnly(
  store: SeenStore | undefined,
  common: ReceiverOptions,
  kind: string,
  keys: readonly string[],
  expiresAtMs: number,
  run: () => Promise<CallbackHttpResponse>,
  replayAnswer: () => CallbackHttpResponse,
): Promise<CallbackHttpResponse> {
  if (!store || keys.length === 0) return run();
  const claim = await claimKeys(store, keys, expiresAtMs);
  if (!claim.fresh) {
    common.logger?.info({ kind, reason: 'replay' }, 'callback seen before: answered, handler not run');
    return replayAnswer();
  }
  try {
    return await run();
  } catch (e) {
    const stuck = await releaseKeys(store, claim.keys);
    if (stuck > 0) {
      common.logger?.error({ kind, keys: stuck }, 'replay store could not forget a failed callback');
    }
    throw e;
  }
}

export function createReceiver(
  kind: string,
  common: ReceiverOptions,
  process: (request: ReceivedRequest) => Promise<CallbackHttpResponse>,
): CallbackHttpHandler {
  const max = common.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const reject = (status: number, error: string, reason: string) => {
    common.logger?.debug({ kind, status, reason }, 'callback rejected');
    return jsonResponse(status, { error, reason }, status === 405 ? { allow: 'POST' } : {});
  };
  const handle = async (request: CallbackHttpRequest): Promise<CallbackHttpResponse> => {
    if (request.method.toUpperCase() !== 'POST') return reject(405, 'method_not_allowed', 'use_post');
    const bytes = request.body === undefined ? undefined : Buffer.from(request.body);
    if (bytes && bytes.length > max) return tooLarge();
    let query: URLSearchParams;
    try {
      query = new URL(request.url, 'http://callback.invalid').searchParams;
    } catch {
      return reject(400, 'bad_request', 'bad_url');
    }
    const header = (name: string) => request.headers[name];
    try {
      return await process({
        query,
        header,
        bytes: bytes ?? (request.parsedBody === undefined ? Buffer.alloc(0) : undefined),
        parsed: request.parsedBody,
      });
    } catch (e) {
      if (e instanceof BadCallbackRequest) return reject(e.status, e.error, e.reason);
      if (e instanceof SignatureError) return reject(401, 'signature', e.reason);
      if (e instanceof DecryptError) return reject(400, 'decrypt', e.reason);
      if (!(e instanceof HandlerFailure)) {
        common.logger?.error(
          { kind, err: e instanceof Error ? e.name : typeof e },
          'callback receiver failed',
        );
      }
      return jsonResponse(500, { error: 'internal' });
    }
  };
  return httpHandler(handle, max);
}

/** The body as a JSON object, or a 400 saying why not. */
export function jsonObjectBody(request: ReceivedRequest): Record<string, unknown> {
  let value: unknown;
  if (request.bytes === undefined) {
    value = request.parsed;
  } else {
    if (request.bytes.length === 0) throw new BadCallbackRequest(400, 'bad_request', 'empty_body');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(request.bytes);
    } catch {
      throw new BadCallbackRequest(400, 'bad_request', 'invalid_utf8');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new BadCallbackRequest(400, 'bad_request', 'invalid_json');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadCallbackRequest(400, 'bad_request', 'not_a_json_object');
  }
  return value as Record<string, unknown>;
}
