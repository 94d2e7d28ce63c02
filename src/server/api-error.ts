/**
 * Errors of the HTTP API, always answered as `{ "error": { "code", "message" } }` with a 4xx for bad input. The
 * message of an unexpected failure is never sent to the client (it could carry internals); it is logged,
 * redacted, and the client gets a request id to quote. A store outage (full disk, read-only file, unreachable
 * database) is the server's state, not a bug: 503 `store_unavailable` with the kind of outage and `Retry-After`.
 */

import type { Context } from 'hono';
import { z } from 'zod';
import { isDingTalkError } from '../core/errors.js';
import { DeliveryResolveConflictError } from '../hub/delivery/resolve.js';
import { storeFaultOf, storeFaultReason } from '../hub/store-errors.js';

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

/**
 * Maps any thrown value to a JSON answer. `redact` scrubs every message that leaves (the app passes its
 * Redactor, so a secret that slipped into an upstream error by value never reaches the client); messages are
 * also bounded, since zod echoes unknown key names from the input.
 */
export function toResponse(
  c: Context,
  e: unknown,
  log?: (err: unknown) => void,
  redact: (text: string) => string = (t) => t,
): Response {
  const clean = (t: string) => redact(t.length > 500 ? `${t.slice(0, 500)}…` : t);
  if (e instanceof ApiError) return c.json(errorBody(e.code, clean(e.message), e.details), e.status);
  if (e instanceof z.ZodError) {
    const details = e.issues
      .slice(0, 20)
      .map((i) => ({ path: clean(i.path.map(String).join('.')), message: clean(i.message) }));
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
    if (e.code === 'VALIDATION') {
      const reason = (e as { reason?: string }).reason;
      return c.json(errorBody(reason ?? 'invalid_request', clean(e.message)), 400);
    }
    if (e.code === 'CONFIG') return c.json(errorBody('not_configured', clean(e.message)), 409);
    // A person the task-access rule refused (src/hub/tasks/access.ts): answered like a missing task, so a route
    // acting for a person cannot be used to learn which tasks exist.
    if (e.code === 'TASK_ACCESS') return c.json(errorBody('not_found', clean(e.message)), 404);
    // The same key, the same caller, another request (src/store/idempotency.ts): nothing was sent.
    if (e.code === 'IDEMPOTENCY_CONFLICT')
      return c.json(errorBody('idempotency_conflict', clean(e.message)), 409);
    // Another operator settled this parked delivery first, or it is not parked (delivery/resolve.ts): the decision
    // that stands goes with the refusal.
    if (e instanceof DeliveryResolveConflictError) {
      return c.json(
        errorBody(e.reason, clean(e.message), {
          status: e.status,
          ...(e.decision ? { decision: e.decision } : {}),
        }),
        409,
      );
    }
    log?.(e);
    return c.json(errorBody('dingtalk_error', clean(e.message)), 502);
  }
  const fault = storeFaultOf(e);
  if (fault !== undefined) {
    c.header('retry-after', '5');
    return c.json(errorBody('store_unavailable', `${storeFaultReason(fault)}; retry shortly`), 503);
  }
  if (e instanceof SyntaxError) return c.json(errorBody('invalid_json', 'the body is not valid JSON'), 400);
  log?.(e);
  return c.json(errorBody('internal', 'internal error'), 500);
}
