import { describe, expect, it } from 'vitest';
import {
  NetworkError,
  PlatformError,
  RateLimitedError,
  TimeoutError,
  ValidationError,
} from '../../core/errors.js';
import { decide, defaultPolicy, retryDelay } from './policy.js';

const ctx = { attempt: 1, idempotent: false, now: 1_000 };

describe('delivery decisions', () => {
  it('completes on success', () => {
    expect(decide(undefined, ctx, defaultPolicy)).toEqual({ action: 'complete' });
  });

  it('defers throttles to their retry-after without spending an attempt', () => {
    const d = decide(new RateLimitedError('robot', 600_000, 'too fast', { status: 200 }), ctx, defaultPolicy);
    expect(d).toMatchObject({ action: 'defer', at: 601_000 });
  });

  it('retries not_sent failures and dead-letters them after maxAttempts', () => {
    const e = new NetworkError('refused');
    expect(decide(e, ctx, defaultPolicy).action).toBe('retry');
    expect(decide(e, { ...ctx, attempt: 8 }, defaultPolicy).action).toBe('dead');
  });

  it('parks unknown outcomes in hold mode, retries them when the channel is idempotent or mode is retry', () => {
    const e = new TimeoutError('hang', 10_000);
    expect(decide(e, ctx, defaultPolicy).action).toBe('park');
    expect(decide(e, { ...ctx, idempotent: true }, defaultPolicy).action).toBe('retry');
    expect(decide(e, ctx, { ...defaultPolicy, ambiguous: 'retry' }).action).toBe('retry');
  });

  it('dead-letters non-retryable rejections at once', () => {
    const e = new PlatformError('INVALID_PARAMETER', 'bad receiver', { status: 400 });
    expect(decide(e, ctx, defaultPolicy).action).toBe('dead');
    expect(decide(new ValidationError('too long'), ctx, defaultPolicy).action).toBe('dead');
    expect(decide(new Error('bug'), ctx, defaultPolicy).action).toBe('dead');
  });

  it('retries retryable rejections (system busy)', () => {
    const e = new PlatformError('PLATFORM_BUSY', 'busy', { status: 200, errcode: -1 }, { retryable: true });
    expect(decide(e, ctx, defaultPolicy).action).toBe('retry');
  });

  it('spreads retry delays within ±20 % (distribution)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const ds = Array.from({ length: 2_000 }, () => retryDelay(3, defaultPolicy, random));
    const base = 4_000;
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(base * 0.8);
    expect(Math.max(...ds)).toBeLessThanOrEqual(base * 1.2);
    const mean = ds.reduce((a, b) => a + b, 0) / ds.length;
    expect(Math.abs(mean - base)).toBeLessThan(base * 0.02);
    // Spread, not a constant: both halves of the range are used.
    expect(ds.filter((d) => d < base).length).toBeGreaterThan(800);
    expect(ds.filter((d) => d > base).length).toBeGreaterThan(800);
  });
});
