import { describe, expect, it } from 'vitest';
import type { Handler } from './pipeline.js';
import { MemoryTokenStore, TokenManager, type TokenStore } from './token-manager.js';

const issuing = () => {
  let n = 0;
  const handler: Handler = async () =>
    ({ status: 200, headers: {}, data: { accessToken: `tok-${++n}`, expireIn: 7200 } }) as never;
  return { handler, fetches: () => n };
};

describe('token refusal and the store (compare-and-delete)', () => {
  it('concurrent refusals of one token: one compare-and-delete of that token, one fetch', async () => {
    const { handler, fetches } = issuing();
    const inner = new MemoryTokenStore();
    const deletes: Array<[string, string]> = [];
    const store: TokenStore = {
      get: (k) => inner.get(k),
      set: (k, t) => inner.set(k, t),
      invalidate: (k, t) => {
        deletes.push([k, t]);
        return inner.invalidate(k, t);
      },
    };
    const m = new TokenManager(handler, { appKey: 'app', appSecret: 's', store });
    expect(await m.get()).toBe('tok-1');
    const fresh = await Promise.all(Array.from({ length: 5 }, () => m.invalidate('tok-1')));
    expect(new Set(fresh)).toEqual(new Set(['tok-2']));
    expect(deletes).toEqual([['app', 'tok-1']]);
    expect(fetches()).toBe(2);
    // A late refusal of the old token is answered from this process's fresh one: no delete, no fetch.
    expect(await m.invalidate('tok-1')).toBe('tok-2');
    expect(deletes).toHaveLength(1);
  });

  it('the memory store deletes only the token it was asked about', () => {
    const s = new MemoryTokenStore();
    s.set('app', { token: 'new', expiresAt: 1 });
    expect(s.invalidate('app', 'old')).toBe(false);
    expect(s.get('app')?.token).toBe('new');
    expect(s.invalidate('app', 'new')).toBe(true);
    expect(s.get('app')).toBeUndefined();
  });

  it('a fetched token is used even when the shared store cannot take it', async () => {
    const { handler, fetches } = issuing();
    const store: TokenStore = {
      get: () => undefined,
      set: () => {
        throw new Error('store down');
      },
    };
    const m = new TokenManager(handler, { appKey: 'app', appSecret: 's', store });
    expect(await m.get()).toBe('tok-1');
    expect(await m.get()).toBe('tok-1');
    expect(fetches()).toBe(1);
  });
});
