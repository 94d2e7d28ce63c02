/**
 * The hub's `onError` of its store: a pooled PostgreSQL connection died (a server restart, a
 * `pg_terminate_backend`, a network cut). The pool drops the dead connection and opens a new one on the next
 * query, and the statement that was running fails to its caller (the dispatcher and the inbox retry theirs), so
 * the hub keeps running; this hook only makes the event visible: every dead connection counts in
 * `dingkit_store_errors_total`, and the log gets one redacted line per burst (a restart kills every pooled
 * connection at once: ten identical lines would say nothing more than one with a count).
 */

import type { Logger } from '../core/logger.js';
import { redactByName } from '../core/redact.js';
import type { Registry } from '../server/metrics.js';

/** `scheme://user:password@` anywhere in a text → the password replaced. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s/]*@/gi;

export function redactStoreError(message: string): string {
  return redactByName(message.replace(URL_CREDENTIALS, '$1:[REDACTED]@'));
}

export interface StoreErrorReporterOptions {
  logger: Logger;
  metrics: Registry;
  /** One log line per this period at most; the next line says how many were folded into it. @default 30_000 */
  quietMs?: number | undefined;
  now?: (() => number) | undefined;
}

export function storeErrorReporter(o: StoreErrorReporterOptions): (e: Error) => void {
  const counter = o.metrics.counter(
    'dingkit_store_errors_total',
    'Pooled store connections that died, by error code (SQLSTATE, errno or none); the pool replaces them',
  );
  const quiet = o.quietMs ?? 30_000;
  // Real time on purpose: the hub's injected clock may be a test's fake one, and this is log-rate limiting.
  const now = o.now ?? Date.now;
  let lastLog = Number.NEGATIVE_INFINITY;
  let folded = 0;
  return (e: Error) => {
    const code = (e as { code?: unknown })?.code;
    counter.inc({ code: typeof code === 'string' && /^[0-9A-Z_]{2,24}$/.test(code) ? code : 'none' });
    const t = now();
    if (t - lastLog < quiet) {
      folded++;
      return;
    }
    lastLog = t;
    o.logger.warn(
      {
        err: redactStoreError(e?.message ?? String(e)),
        ...(typeof code === 'string' ? { code } : {}),
        ...(folded > 0 ? { alsoSince: folded } : {}),
      },
      'store connection error; the pool replaces the connection and the hub keeps running',
    );
    folded = 0;
  };
}
