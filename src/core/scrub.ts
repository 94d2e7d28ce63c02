/**
 * Redaction of errors by value. Error messages are redacted by *name* where they are built (errors.ts), but a
 * DingTalk answer, a gateway page or a socket error can quote a secret without a `name=` in front of it. This
 * middleware sits just above the transport, so every layer above it (retry, limiter, logs, user middleware and
 * the caller) only ever sees errors whose message, stack, body and cause have passed through the client's
 * `Redactor`, which knows the app secret, the current access token and every robot token and secret.
 */

import { DingTalkError } from './errors.js';
import type { Middleware } from './pipeline.js';
import { Redactor } from './redact.js';

export function scrubMiddleware(redactor: Redactor): Middleware {
  return async (req, next) => {
    try {
      return await next(req);
    } catch (e) {
      const clean = scrubError(e, redactor);
      // The request's own one-time credentials (`redact`), with a redactor that lives for this error only.
      throw req.redact?.length ? scrubError(clean, new Redactor(req.redact)) : clean;
    }
  };
}

/** Rewrites an error's text fields in place (and its cause's); returns it. Non-errors become DingTalkErrors. */
export function scrubError(e: unknown, redactor: Redactor): unknown {
  if (!(e instanceof Error)) {
    return new DingTalkError('INTERNAL', redactor.redact(String(e)), { outcome: 'unknown' });
  }
  scrubFields(e, redactor);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) scrubFields(cause, redactor);
  return e;
}

function scrubFields(e: Error, redactor: Redactor): void {
  for (const key of ['message', 'stack', 'body'] as const) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (typeof v !== 'string') continue;
    const clean = redactor.redact(v);
    if (clean !== v) Object.defineProperty(e, key, { value: clean, writable: true, configurable: true });
  }
}
