import { describe, expect, it } from 'vitest';
import type { Logger } from '../core/logger.js';
import { isStoreUnavailable, storeFaultOf } from './store-errors.js';
import { StoreFaults } from './store-faults.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('storeFaultOf', () => {
  it('tells store outages from other failures', () => {
    expect(storeFaultOf(err('database or disk is full', 'SQLITE_FULL'))).toBe('full');
    expect(storeFaultOf(err('disk I/O error', 'SQLITE_IOERR_WRITE'))).toBe('io');
    expect(storeFaultOf(err('attempt to write a readonly database', 'SQLITE_READONLY'))).toBe('read_only');
    expect(storeFaultOf(err('database is locked', 'SQLITE_BUSY'))).toBe('busy');
    expect(storeFaultOf(err('could not extend file', '53100'))).toBe('full');
    expect(storeFaultOf(err('terminating connection due to administrator command', '57P01'))).toBe(
      'unreachable',
    );
    expect(storeFaultOf(err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe('unreachable');
    expect(storeFaultOf(err('Connection terminated unexpectedly'))).toBe('unreachable');
    expect(storeFaultOf(new Error('wrapped', { cause: err('full', 'SQLITE_FULL') }))).toBe('full');
    // Not outages: a constraint, a bug, a syntax error.
    expect(isStoreUnavailable(err('UNIQUE constraint failed: kv.key', 'SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(
      false,
    );
    expect(isStoreUnavailable(err('duplicate key value', '23505'))).toBe(false);
    expect(isStoreUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailable(err('cannot rollback - no transaction is active', 'SQLITE_ERROR'))).toBe(false);
  });
});

describe('StoreFaults', () => {
  it('logs an outage once per burst and leaves other failures to the caller', () => {
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: (_o, m) => lines.push(`info ${m}`),
      warn: (_o, m) => lines.push(`warn ${m}`),
      error: (o, m) => lines.push(`error ${m} ${JSON.stringify(o)}`),
    };
    const faults = new StoreFaults({ logger, quietMs: 60_000 });
    try {
      for (let i = 0; i < 20; i++)
        expect(faults.report(err('database or disk is full', 'SQLITE_FULL'), 'api')).toBe(true);
      expect(faults.report(new TypeError('a bug'), 'api')).toBe(false);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('store unavailable');
      expect(lines[0]).toContain('database or disk is full');
      expect(faults.down).toBe(true);
    } finally {
      faults.stop();
    }
  });
});
