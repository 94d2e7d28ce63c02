/**
 * Logging as a middleware. The logger interface is pino-compatible (`(obj, msg)`), so a pino instance can be
 * passed as is. Every line is built from the operation name, the outcome and timings; URLs, bodies and headers
 * are never logged, and every string goes through the client's redactor first.
 */

import { isDingTalkError } from './errors.js';
import type { Middleware } from './pipeline.js';
import type { Redactor } from './redact.js';

export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export function logMiddleware(logger: Logger, redactor: Redactor, now: () => number): Middleware {
  if (logger === silentLogger) return (req, next) => next(req);
  return async (req, next) => {
    const started = now();
    try {
      const res = await next(req);
      logger.debug({ op: req.operation, status: res.status, ms: now() - started }, 'dingtalk call ok');
      return res;
    } catch (e) {
      const fields: Record<string, unknown> = { op: req.operation, ms: now() - started };
      if (isDingTalkError(e)) {
        fields['code'] = e.code;
        fields['outcome'] = e.outcome;
        fields['err'] = redactor.redact(e.message);
      } else {
        fields['err'] = redactor.redact(String(e));
      }
      logger.warn(fields, 'dingtalk call failed');
      throw e;
    }
  };
}
