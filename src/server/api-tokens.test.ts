import { describe, expect, it } from 'vitest';
import {
  createApiToken,
  hashApiToken,
  MemoryApiTokenStore,
  parseScopes,
  StoreTokenVerifier,
  TOKEN_PREFIX,
} from './api-tokens.js';

describe('API tokens', () => {
  it('stores only the hash, and the raw token verifies to its name and scopes', async () => {
    const store = new MemoryApiTokenStore();
    const { token, record } = await createApiToken(store, 'ci', ['send']);
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(record.hash).toBe(hashApiToken(token));
    expect(JSON.stringify(await store.list())).not.toContain(token.slice(TOKEN_PREFIX.length));
    const v = new StoreTokenVerifier(store);
    expect(await v.verify(token)).toEqual({ name: 'ci', scopes: ['send'] });
    expect(await v.verify(`${token}x`)).toBeUndefined();
  });

  it('mints different tokens each time and refuses a second live token of the same name', async () => {
    const store = new MemoryApiTokenStore();
    const a = await createApiToken(store, 'a', ['read']);
    const b = await createApiToken(store, 'b', ['read']);
    expect(a.token).not.toBe(b.token);
    await expect(createApiToken(store, 'a', ['read'])).rejects.toThrow(/live token named "a"/);
    await expect(createApiToken(store, 'bad name!', ['read'])).rejects.toThrow(/^name:/);
  });

  it('caches verdicts for ttlMs: a revocation bites once the cache entry expires', async () => {
    const store = new MemoryApiTokenStore();
    const { token } = await createApiToken(store, 'ci', ['read']);
    let now = 1_000;
    const v = new StoreTokenVerifier(store, { ttlMs: 5_000, now: () => now });
    expect(await v.verify(token)).toBeDefined();
    await store.revoke('ci', new Date().toISOString());
    now += 4_999;
    expect(await v.verify(token)).toBeDefined();
    now += 2;
    expect(await v.verify(token)).toBeUndefined();
  });

  it('records last use at most once per cache period, and bounds the cache', async () => {
    const store = new MemoryApiTokenStore();
    const { token } = await createApiToken(store, 'ci', ['read']);
    let touches = 0;
    const counting = Object.assign(Object.create(store) as MemoryApiTokenStore, {
      touch: async (h: string, at: string) => {
        touches++;
        return store.touch(h, at);
      },
      findByHash: (h: string) => store.findByHash(h),
    });
    const v = new StoreTokenVerifier(counting, { ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 10; i++) await v.verify(token);
    expect(touches).toBe(1);
    expect((await store.list())[0]?.lastUsedAt).toBeDefined();
    for (let i = 0; i < 10; i++) await v.verify(`dk_garbage_${i}_padding`);
    await v.verify(token);
    expect(touches).toBe(2);
  });

  it('parses scope lists', () => {
    expect(parseScopes('read, send,read')).toEqual(['read', 'send']);
    expect(() => parseScopes('')).toThrow(/scope/);
    expect(() => parseScopes('read,root')).toThrow(/unknown scope "root"/);
  });
});
