import { describe, expect, it } from 'vitest';
import { backends } from '../../test/conformance/backends.js';
import { createApiToken, StoreTokenVerifier } from './api-tokens.js';
import { StoreApiTokens } from './store-tokens.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`API tokens in the store (${backend.name})`, () => {
    it('verifies, revokes, lets a revoked name be reused, and keeps only hashes', async () => {
      const fresh = await backend.fresh();
      try {
        const store = await fresh.open();
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
        const rows = await tokens.list();
        expect(rows.map((r) => r.name)).toEqual([expect.stringMatching(/^ci#revoked-\d+$/), 'ci']);
        // Last use is recorded in the background (never on the request's path).
        await expect.poll(async () => (await tokens.list())[1]?.lastUsedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(rows[0]?.revokedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);

        // A second "process" on the same database sees the same tokens.
        const other = new StoreTokenVerifier(new StoreApiTokens(await fresh.open()), { ttlMs: 0 });
        expect(await other.verify(again.token)).toEqual({ name: 'ci', scopes: ['admin'] });

        const raw = await store.db.selectFrom('api_tokens').selectAll().execute();
        const dump = JSON.stringify(raw);
        for (const t of [token, again.token]) expect(dump).not.toContain(t.slice(3));
      } finally {
        await fresh.cleanup();
      }
    });
  });
}
