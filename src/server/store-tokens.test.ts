import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/open-store.js';
import { createApiToken, StoreTokenVerifier } from './api-tokens.js';
import { StoreApiTokens } from './store-tokens.js';

let dir = '';
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('API tokens in the store (SQLite)', () => {
  it('keeps only the hash on disk, verifies, revokes, and lets a revoked name be reused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dingkit-tokens-'));
    const file = join(dir, 'hub.db');
    store = await openStore({ url: file });
    const tokens = new StoreApiTokens(store);
    const { token } = await createApiToken(tokens, 'ci', ['send', 'read']);
    const v = new StoreTokenVerifier(tokens, { ttlMs: 0 });
    expect(await v.verify(token)).toEqual({ name: 'ci', scopes: ['send', 'read'] });
    await expect(createApiToken(tokens, 'ci', ['read'])).rejects.toThrow(/live token/);

    expect(await tokens.revoke('ci', new Date().toISOString())).toBe(true);
    expect(await tokens.revoke('ci', new Date().toISOString())).toBe(false);
    expect(await v.verify(token)).toBeUndefined();
    const again = await createApiToken(tokens, 'ci', ['admin']);
    expect(await v.verify(again.token)).toEqual({ name: 'ci', scopes: ['admin'] });
    const names = (await tokens.list()).map((r) => r.name);
    expect(names[0]).toMatch(/^ci#revoked-\d+$/);
    expect(names[1]).toBe('ci');
    expect((await tokens.list())[1]?.lastUsedAt).toBeDefined();

    await store.close();
    store = undefined;
    const raw = readFileSync(file);
    for (const t of [token, again.token]) expect(raw.includes(Buffer.from(t.slice(3)))).toBe(false);
  });
});
