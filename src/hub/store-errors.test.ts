import { describe, expect, it } from 'vitest';
import type { Logger } from '../core/logger.js';
import { Registry } from '../observe/metrics.js';
import { redactStoreError, storeErrorReporter } from './store-errors.js';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('store error reporter', () => {
  it('counts every error, logs one line per quiet period and says how many it folded', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      error: () => {},
      warn: (o) => lines.push(o as Record<string, unknown>),
      info: () => {},
      debug: () => {},
    };
    const metrics = new Registry();
    let t = 0;
    const report = storeErrorReporter({ logger, metrics, quietMs: 1_000, now: () => t });
    report(pgError('terminating connection due to administrator command', '57P01'));
    report(pgError('terminating connection due to administrator command', '57P01'));
    report(pgError('Connection terminated unexpectedly'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ code: '57P01' });
    t = 1_000;
    report(pgError('terminating connection due to administrator command', '57P01'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ alsoSince: 2 });
    const text = metrics.render();
    expect(text).toContain('dingkit_store_errors_total{code="57P01"} 3');
    expect(text).toContain('dingkit_store_errors_total{code="none"} 1');
  });

  it('redacts URL passwords and secret-named pairs in the message', () => {
    const m = redactStoreError(
      'connect to postgres://dingkit:hunter2@db:5432/x failed; password=hunter2 token=abc',
    );
    expect(m).not.toContain('hunter2');
    expect(m).not.toContain('abc');
    expect(m).toContain('postgres://dingkit:[REDACTED]@db:5432/x');
  });
});
