import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, nominalDelay, resolveBackoff } from './backoff.js';

describe('backoff', () => {
  const b = resolveBackoff();

  it('defaults to 1 s doubling up to a 60 s cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => nominalDelay(b, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('keeps every jittered delay within [nominal × (1 − jitter), nominal] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r, jitter) => {
          const bj = resolveBackoff({ jitter });
          const d = backoffDelay(bj, attempt, () => r);
          const nominal = nominalDelay(bj, attempt);
          expect(d).toBeLessThanOrEqual(nominal);
          expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - jitter)));
          expect(Number.isFinite(d)).toBe(true);
        },
      ),
    );
  });

  it('full jitter can reach zero, no jitter is exact', () => {
    expect(backoffDelay(resolveBackoff({ jitter: 1 }), 3, () => 0.999_999)).toBe(0);
    expect(backoffDelay(resolveBackoff({ jitter: 0 }), 3, () => 0.5)).toBe(8_000);
  });

  it('rejects nonsense settings', () => {
    expect(() => resolveBackoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolveBackoff({ factor: 0.5 })).toThrow(RangeError);
  });
});
