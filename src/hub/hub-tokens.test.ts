import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import { ConfigError } from '../core/errors.js';
import { openStore } from '../store/open-store.js';
import { SharedTokenStore } from '../store/token-store.js';
import { parseConfig } from './config.js';
import { checkTokenConfig, hubTokenStore } from './hub-tokens.js';

const apps = { hub: { appKey: 'ding-app', appSecret: 'canary-app-secret-77' } };

describe('hub tokens config', () => {
  it('shares tokens through the store by default; memory and the lock timings are settable; bad values named', () => {
    expect(parseConfig({ apps }, {}).tokens).toEqual({
      store: 'shared',
      lockTtlMs: 30_000,
      lockWaitMs: 60_000,
    });
    expect(parseConfig({ apps, tokens: { store: 'memory' } }, {}).tokens.store).toBe('memory');
    const e = expectThrows(() => parseConfig({ apps, tokens: { store: 'disk' } }, {}), ConfigError);
    expect(e.message).toContain('tokens.store');
    const f = expectThrows(() => parseConfig({ apps, tokens: { lockTtl: 5 } }, {}), ConfigError);
    expect(f.message).toContain('lockTtl');
  });

  it('refuses a lock ttl a token call can outlast, naming both numbers', () => {
    const config = parseConfig({ apps, tokens: { lockTtlMs: 10_000 } }, {});
    const e = expectThrows(() => checkTokenConfig(config, 10_000), ConfigError);
    expect(e.message).toContain('tokens.lockTtlMs (10000 ms)');
    expect(e.message).toContain('(10000 ms)');
    checkTokenConfig(config, 9_999);
    // With memory tokens there is no lock: nothing to check.
    checkTokenConfig(parseConfig({ apps, tokens: { store: 'memory', lockTtlMs: 1 } }, {}), 10_000);
  });

  it('gives the app clients the sealed store (shared) or none (memory: their own memory)', async () => {
    const store = await openStore({ url: join(mkdtempSync(join(tmpdir(), 'dk-tokens-')), 'hub.db') });
    try {
      const shared = hubTokenStore(parseConfig({ apps }, {}), store, 10_000);
      expect(shared).toBeInstanceOf(SharedTokenStore);
      await shared!.set('ding-app', { token: 'tok-in-the-clear?', expiresAt: Date.now() + 60_000 });
      const kv = JSON.stringify(await store.db.selectFrom('kv').selectAll().execute());
      expect(kv).toContain('token:ding-app');
      expect(kv).not.toContain('tok-in-the-clear?');
      expect(kv).not.toContain('canary-app-secret-77');
      expect(await shared!.get('ding-app')).toMatchObject({ token: 'tok-in-the-clear?' });
      expect(hubTokenStore(parseConfig({ apps, tokens: { store: 'memory' } }, {}), store, 10_000)).toBe(
        undefined,
      );
    } finally {
      await store.close();
    }
  });
});
