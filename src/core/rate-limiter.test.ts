import { describe, expect, it } from 'vitest';
import { RateLimitedError } from './errors.js';
import { compose, type DingTalkRequest } from './pipeline.js';
import { MemoryLimiterStore, rateLimitMiddleware } from './rate-limiter.js';

const req = (rateKey: string): DingTalkRequest => ({
  operation: 'webhook.send',
  host: 'oapi',
  method: 'POST',
  path: '/robot/send',
  auth: 'none',
  idempotent: false,
  rateKey,
});

/** A fake clock whose sleep advances time, so waits cost nothing. */
function clock() {
  const c = { t: 0, slept: [] as number[] };
  return {
    c,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
}

describe('sliding window', () => {
  it('never lets more than the budget through in any window', async () => {
    const { c, now, sleep } = clock();
    const sent: number[] = [];
    const h = compose(
      [rateLimitMiddleware({ robot: { limit: 20, windowMs: 60_000 }, now, sleep, maxWaitMs: 1e9 })],
      async () => {
        sent.push(c.t);
        return { status: 200, headers: {}, data: {}, requestId: undefined };
      },
    );
    for (let i = 0; i < 100; i++) await h(req('webhook:a'));
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((t) => t >= sent[i]! && t < sent[i]! + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(20);
    }
    // Backlogged: 100 sends need 4 more windows after the first, and no more.
    expect(sent.at(-1)).toBe(4 * 60_000);
  });

  it('keeps robots independent: a penalty on one never pauses another', async () => {
    const { now, sleep } = clock();
    const store = new MemoryLimiterStore();
    let fail = true;
    const h = compose([rateLimitMiddleware({ store, now, sleep, mode: 'fail' })], async (r) => {
      if (r.rateKey === 'webhook:a' && fail) {
        fail = false;
        throw new RateLimitedError('robot', 600_000, 'too fast', { status: 200, errcode: 410100 });
      }
      return { status: 200, headers: {}, data: {}, requestId: undefined };
    });
    await expect(h(req('webhook:a'))).rejects.toBeInstanceOf(RateLimitedError);
    const blocked = await h(req('webhook:a')).catch((e) => e);
    expect(blocked.scope).toBe('local');
    expect(blocked.outcome).toBe('not_sent');
    expect(blocked.retryAfterMs).toBe(600_000);
    await expect(h(req('webhook:b'))).resolves.toBeDefined();
  });

  it('fails with a local not_sent error instead of waiting past maxWaitMs', async () => {
    const { now, sleep } = clock();
    const h = compose(
      [rateLimitMiddleware({ robot: { limit: 1, windowMs: 60_000 }, now, sleep, maxWaitMs: 1_000 })],
      async () => ({ status: 200, headers: {}, data: {}, requestId: undefined }),
    );
    await h(req('webhook:a'));
    const err = await h(req('webhook:a')).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.outcome).toBe('not_sent');
  });
});
