import { describe, expect, it } from 'vitest';
import {
  createApiToken,
  hashApiToken,
  MemoryApiTokenStore,
  parseDuration,
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

  it('an expiring token is refused from its expiry on, cached verdict or not; the reason is told', async () => {
    const store = new MemoryApiTokenStore();
    let now = 1_000_000;
    const clock = () => now;
    const { token, record } = await createApiToken(store, 'ci', ['send'], {
      expiresInMs: 60_000,
      now: clock,
    });
    expect(record.expiresAt).toBe(new Date(1_060_000).toISOString());
    const v = new StoreTokenVerifier(store, { ttlMs: 3_600_000, now: clock });
    expect(await v.verify(token)).toMatchObject({ name: 'ci', expiresAt: 1_060_000 });
    now = 1_059_999;
    expect(await v.verify(token)).toBeDefined();
    now = 1_060_000;
    expect(await v.check(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('demo tokens live 24 h at most and authenticate only where demo tokens are accepted', async () => {
    const store = new MemoryApiTokenStore();
    const { token, record } = await createApiToken(store, 'demo-x', ['admin'], {
      demo: true,
      expiresInMs: 7 * 86_400_000,
      now: () => 0,
    });
    expect(record.expiresAt).toBe(new Date(86_400_000).toISOString());
    const real = new StoreTokenVerifier(store, { now: () => 1 });
    expect(await real.check(token)).toEqual({ ok: false, reason: 'demo' });
    const demo = new StoreTokenVerifier(store, { now: () => 1, acceptDemoTokens: true });
    expect((await demo.check(token)).ok).toBe(true);
  });

  it('a fresh check sees a revocation the cache has not, and does not touch last-used', async () => {
    const store = new MemoryApiTokenStore();
    const { token } = await createApiToken(store, 'w', ['read']);
    const v = new StoreTokenVerifier(store, { ttlMs: 60_000 });
    expect((await v.check(token)).ok).toBe(true);
    await store.revoke('w', new Date().toISOString());
    expect((await v.check(token)).ok).toBe(true);
    expect(await v.check(token, { fresh: true })).toEqual({ ok: false, reason: 'revoked' });
    // The fresh verdict replaced the cached one.
    expect(await v.verify(token)).toBeUndefined();
  });

  it('parses lifetimes and refuses nonsense', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('45s')).toBe(45_000);
    for (const bad of ['', '30', 'd', '0d', '-1d', '1w', '1.5d', '3651d'])
      expect(() => parseDuration(bad)).toThrow();
  });
});
