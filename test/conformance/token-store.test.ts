import { describe, expect, it } from 'vitest';
import type { Handler } from '../../src/core/pipeline.js';
import { TokenManager } from '../../src/core/token-manager.js';
import { StoreLocks } from '../../src/store/locks.js';
import { SharedTokenStore } from '../../src/store/token-store.js';
import { backends, freshStores } from './backends.js';
import { FakeClock, sleep } from './helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`shared token store and locks (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('a lock has one holder at a time; it frees on release or when its ttl passes', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      const l1 = new StoreLocks(s1!, { now: clock.now });
      const l2 = new StoreLocks(s2!, { now: clock.now });
      const got = await Promise.all([
        l1.tryAcquire('job', 'a', 1_000),
        l2.tryAcquire('job', 'b', 1_000),
        l2.tryAcquire('job', 'c', 1_000),
      ]);
      expect(got.filter(Boolean)).toHaveLength(1);
      const holder = ['a', 'b', 'c'][got.indexOf(true)]!;
      expect(await l1.tryAcquire('job', holder, 1_000)).toBe(true); // re-entrant for its owner (renewal)
      clock.advance(1_001);
      expect(await l2.tryAcquire('job', 'z', 1_000)).toBe(true);
      await l2.release('job', 'z');
      expect(await l1.tryAcquire('job', 'y', 1_000)).toBe(true);
    });

    it('withLock gives up with a typed LOCK_TIMEOUT while another owner holds the lock', async () => {
      const [s] = await stores(1);
      const locks = new StoreLocks(s!);
      expect(await locks.tryAcquire('busy', 'holder', 60_000)).toBe(true);
      let ran = false;
      await expect(
        locks.withLock(
          'busy',
          'other',
          async () => {
            ran = true;
          },
          { waitMs: 60, pollMs: 10 },
        ),
      ).rejects.toMatchObject({ code: 'LOCK_TIMEOUT', outcome: 'not_sent' });
      expect(ran).toBe(false);
    });

    it('withLock runs critical sections one at a time across stores', async () => {
      const ss = await stores(3);
      const locks = ss.map((s) => new StoreLocks(s));
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          locks[i % 3]!.withLock(
            'critical',
            `owner-${i}`,
            async () => {
              inside++;
              maxInside = Math.max(maxInside, inside);
              await sleep(5);
              inside--;
            },
            { pollMs: 5 },
          ),
        ),
      );
      expect(maxInside).toBe(1);
    });

    it('3 token managers on 3 stores make one token fetch between them, and all get that token', async () => {
      const ss = await stores(3);
      let fetches = 0;
      const fetchHandler: Handler = async () => {
        fetches++;
        await sleep(30);
        return { status: 200, headers: {}, data: { accessToken: `tok-${fetches}`, expireIn: 7200 } } as never;
      };
      const managers = ss.map(
        (s) =>
          new TokenManager(fetchHandler, {
            appKey: 'ding-app',
            appSecret: 'app-secret-1',
            store: new SharedTokenStore(s),
          }),
      );
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => managers[i % 3]!.get()));
      expect(fetches).toBe(1);
      expect(new Set(tokens)).toEqual(new Set(['tok-1']));
      // The secret is not what is stored; only the short-lived token is.
      const kv = JSON.stringify(await ss[0]!.db.selectFrom('kv').selectAll().execute());
      expect(kv).not.toContain('app-secret-1');
    });

    it('twin: the same managers without the shared store fetch once each', async () => {
      let fetches = 0;
      const fetchHandler: Handler = async () => {
        fetches++;
        await sleep(30);
        return { status: 200, headers: {}, data: { accessToken: `tok-${fetches}`, expireIn: 7200 } } as never;
      };
      const managers = [1, 2, 3].map(() => new TokenManager(fetchHandler, { appKey: 'a', appSecret: 'b' }));
      await Promise.all(managers.map((m) => m.get()));
      expect(fetches).toBe(3);
    });

    it('get/set/delete round trip; an expired row reads as absent', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const t = new SharedTokenStore(s!, { now: clock.now });
      expect(await t.get('app')).toBeUndefined();
      await t.set('app', { token: 'x1', expiresAt: clock.now() + 1_000 });
      await t.set('app', { token: 'x2', expiresAt: clock.now() + 2_000 });
      expect(await t.get('app')).toEqual({ token: 'x2', expiresAt: clock.now() + 2_000 });
      clock.advance(2_000);
      expect(await t.get('app')).toBeUndefined();
      await t.set('app', { token: 'x3', expiresAt: clock.now() + 2_000 });
      await t.delete('app');
      expect(await t.get('app')).toBeUndefined();
    });
  });
}
