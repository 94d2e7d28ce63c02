/**
 * Errors of the HTTP API, always answered as `{ "error": { "code", "message" } }` with a 4xx for bad input. The
 * message of an unexpected failure is never sent to the client (it could carry internals); it is logged,
 * redacted, and the client gets a request id to quote.
 */

import type { Context } from 'hono';
import { z } from 'zod';
import { isDingTalkError } from '../core/errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Maps any thrown value to a JSON answer. */
export function toResponse(c: Context, e: unknown, log?: (err: unknown) => void): Response {
  if (e instanceof ApiError) return c.json(errorBody(e.code, e.message, e.details), e.status);
  if (e instanceof z.ZodError) {
    const details = e.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = details[0];
    return c.json(
      errorBody(
        'invalid_request',
        first ? `${first.path || '(body)'}: ${first.message}` : 'invalid request',
        details,
      ),
      400,
    );
  }
  if (isDingTalkError(e)) {
    if (e.code === 'VALIDATION') return c.json(errorBody('invalid_request', e.message), 400);
    if (e.code === 'CONFIG') return c.json(errorBody('not_configured', e.message), 409);
    log?.(e);
    return c.json(errorBody('dingtalk_error', e.message), 502);
  }
  if (e instanceof SyntaxError) return c.json(errorBody('invalid_json', 'the body is not valid JSON'), 400);
  log?.(e);
  return c.json(errorBody('internal', 'internal error'), 500);
}
