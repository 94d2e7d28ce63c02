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
import type { Registry } from '../observe/metrics.js';

/** `scheme://user:password@` anywhere in a text → the password replaced. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s/]*@/gi;

export function redactStoreError(message: string): string {
  return redactByName(message.replace(URL_CREDENTIALS, '$1:[REDACTED]@'));
}

interface StoreErrorReporterOptions {
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

/**
 * SQLite result codes that mean "the store cannot do this now", whatever the statement: no room (SQLITE_FULL is
 * also what a full disk gives), a read-only or vanished file, I/O errors, a lock held past the busy timeout.
 * better-sqlite3 puts the extended code in `code` (`SQLITE_IOERR_WRITE`), so prefixes are matched.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;
/**
 * PostgreSQL SQLSTATE classes and codes with the same meaning: 08 connection exception, 53 insufficient resources
 * (53100 disk full), 57P01-57P03 shutdown / cannot connect now, 58 system error (I/O), 25006 read-only transaction
 * (a standby after a failover).
 */
const PG_UNAVAILABLE = /^(08...|53...|57P0[1-3]|58...|25006)$/;
const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOSPC',
]);
/** pg and pg-pool report a lost or refused connection by message only. */
const PG_LOST =
  /^(Connection terminated|Connection ended unexpectedly|Client has encountered a connection error|timeout exceeded when trying to connect|The database connection is not open)/;

export type StoreFaultKind = 'full' | 'read_only' | 'busy' | 'io' | 'unreachable';

/** What kind of store outage `e` is, or undefined when it is not one (a bug, a constraint, bad input). */
export function storeFaultOf(e: unknown): StoreFaultKind | undefined {
  for (
    let x = e, depth = 0;
    x && typeof x === 'object' && depth < 4;
    x = (x as { cause?: unknown }).cause, depth++
  ) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SQLITE_UNAVAILABLE.test(code)) {
        if (code.startsWith('SQLITE_FULL')) return 'full';
        if (code.startsWith('SQLITE_READONLY')) return 'read_only';
        if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
        if (code.startsWith('SQLITE_CANTOPEN')) return 'unreachable';
        return 'io';
      }
      if (PG_UNAVAILABLE.test(code)) {
        if (code === '53100') return 'full';
        if (code === '25006') return 'read_only';
        if (code.startsWith('58')) return 'io';
        return 'unreachable';
      }
      if (NET_UNAVAILABLE.has(code)) return code === 'ENOSPC' ? 'full' : 'unreachable';
    }
    const message = (x as { message?: unknown }).message;
    if (typeof message === 'string' && PG_LOST.test(message)) return 'unreachable';
  }
  return undefined;
}

export function isStoreUnavailable(e: unknown): boolean {
  return storeFaultOf(e) !== undefined;
}

const REASONS: Record<StoreFaultKind, string> = {
  full: 'the store is full (no room to write: disk or database size limit)',
  read_only: 'the store is read-only',
  busy: 'the store is locked by another writer',
  io: 'the store cannot read or write its files',
  unreachable: 'the store cannot be reached',
};

/** The reason an API client is given: what kind of outage, never the driver's text (paths, hosts, SQL). */
export function storeFaultReason(kind: StoreFaultKind): string {
  return REASONS[kind];
}
