import { describe, expect, it } from 'vitest';
import { DingTalkError, TokenError } from '../../src/core/errors.js';
import type { Handler } from '../../src/core/pipeline.js';
import { TokenManager, type TokenStore } from '../../src/core/token-manager.js';
import { decide, defaultPolicy } from '../../src/hub/delivery/policy.js';
import { StoreLocks } from '../../src/store/locks.js';
import type { Store } from '../../src/store/open-store.js';
import { TokenSeal } from '../../src/store/token-seal.js';
import { SharedTokenStore } from '../../src/store/token-store.js';
import { expectThrows } from '../support/expect-throws.js';
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
            store: new SharedTokenStore(s, { secretOf: () => 'app-secret-1' }),
          }),
      );
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => managers[i % 3]!.get()));
      expect(fetches).toBe(1);
      expect(new Set(tokens)).toEqual(new Set(['tok-1']));
      // Neither the secret nor the token is readable in the table: the token is sealed (token-seal.ts).
      const kv = JSON.stringify(await ss[0]!.db.selectFrom('kv').selectAll().execute());
      expect(kv).toContain('token:ding-app');
      expect(kv).not.toContain('app-secret-1');
      expect(kv).not.toContain('tok-1');
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
      const t = new SharedTokenStore(s!, { now: clock.now, secretOf: () => 'sec' });
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

    it('a dump of the table gives no usable token: sealed under the app secret, bound to its row', async () => {
      const [s] = await stores(1);
      const t = new SharedTokenStore(s!, { secretOf: (k) => `secret-of-${k}` });
      const token = { token: 'live-access-token-0123456789', expiresAt: Date.now() + 7_200_000 };
      await t.set('app-a', token);
      const rows = await s!.db.selectFrom('kv').selectAll().execute();
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(token.token);
      expect(dump).not.toContain(Buffer.from(token.token).toString('base64'));
      expect(dump).not.toContain('secret-of-app-a');
      // The row does hold the token: the right secret opens it (so the absence above is the seal, not an empty table).
      const value = rows.find((r) => r.key === 'token:app-a')!.value;
      expect(new TokenSeal('app-a', 'secret-of-app-a').open('token:app-a', value)).toEqual(token);
      expect(await t.get('app-a')).toEqual(token);
      // Another deployment's secret (or a rotated one) opens nothing: read as absent, so the manager refetches.
      expect(await new SharedTokenStore(s!, { secretOf: () => 'other-secret' }).get('app-a')).toBeUndefined();
      // A sealed row copied under another app's key does not open there (the row key is authenticated).
      await s!.db
        .insertInto('kv')
        .values({ key: 'token:app-b', value, expires_at: token.expiresAt })
        .execute();
      expect(new TokenSeal('app-b', 'secret-of-app-a').open('token:app-b', value)).toBeUndefined();
      // A tampered row reads as absent, it does not throw.
      const o = JSON.parse(value) as { ct: string };
      const flipped = Buffer.from(o.ct, 'base64');
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      await s!.db
        .updateTable('kv')
        .set({ value: JSON.stringify({ ...o, ct: flipped.toString('base64') }) })
        .where('key', '=', 'token:app-a')
        .execute();
      expect(await t.get('app-a')).toBeUndefined();
      // No secret, no storing in the clear: a typed error instead.
      const none = new SharedTokenStore(s!, { secretOf: () => undefined });
      const e = await expectThrows(() => none.set('app-c', token), TokenError);
      expect(e.code).toBe('NO_SEAL_KEY');
    });

    /** 3 managers on 3 stores that all hold `tok-1`; `invalidate` is what a refusal triggers (auth-middleware.ts). */
    async function threeHolding(shared: (s: Store) => TokenStore) {
      const ss = await stores(3);
      let fetches = 0;
      const fetchHandler: Handler = async () => {
        fetches++;
        await sleep(20);
        return { status: 200, headers: {}, data: { accessToken: `tok-${fetches}`, expireIn: 7200 } } as never;
      };
      const managers = ss.map(
        (s) => new TokenManager(fetchHandler, { appKey: 'ding-app', appSecret: 'sec', store: shared(s) }),
      );
      for (const m of managers) expect(await m.get()).toBe('tok-1');
      return { managers, fetches: () => fetches };
    }
    const sealed = (s: Store) => new SharedTokenStore(s, { secretOf: () => 'sec', lockPollMs: 5 });

    it('a refusal seen by all 3 at once causes one refetch; all move to the new token', async () => {
      const { managers, fetches } = await threeHolding(sealed);
      const fresh = await Promise.all(
        managers.flatMap((m) => [m.invalidate('tok-1'), m.invalidate('tok-1')]),
      );
      expect(new Set(fresh)).toEqual(new Set(['tok-2']));
      expect(fetches()).toBe(2);
    });

    it('a late refusal of the old token leaves the new one in place (compare-and-delete)', async () => {
      const { managers, fetches } = await threeHolding(sealed);
      expect(await managers[0]!.invalidate('tok-1')).toBe('tok-2');
      expect(await managers[1]!.invalidate('tok-1')).toBe('tok-2');
      expect(await managers[2]!.invalidate('tok-1')).toBe('tok-2');
      expect(fetches()).toBe(2);
    });

    it('twin: with a plain delete instead of compare-and-delete, each late refusal costs a fetch', async () => {
      const blind = (s: Store): TokenStore => {
        const inner = sealed(s);
        return {
          get: (k) => inner.get(k),
          set: (k, t) => inner.set(k, t),
          withLock: (k, fn) => inner.withLock(k, fn),
          invalidate: async (k) => {
            await inner.delete(k);
            return true;
          },
        };
      };
      const { managers, fetches } = await threeHolding(blind);
      for (const m of managers) await m.invalidate('tok-1');
      expect(fetches()).toBe(4);
    });

    it('a lock holder that dies mid-refresh: its lock expires, another process fetches, callers are served', async () => {
      const ss = await stores(2);
      const opts = { secretOf: () => 'sec', lockTtlMs: 300, lockWaitMs: 5_000, lockPollMs: 10 };
      let dying = 0;
      // Process 1 takes the lock and its fetch never answers: what a `kill -9` mid-refresh looks like to the others.
      let entered!: () => void;
      const holding = new Promise<void>((r) => {
        entered = r;
      });
      const dead = new TokenManager(
        async () => {
          dying++;
          entered();
          return new Promise<never>(() => {});
        },
        { appKey: 'ding-app', appSecret: 'sec', store: new SharedTokenStore(ss[0]!, opts) },
      );
      void dead.get();
      await holding;
      let fetches = 0;
      const live = new TokenManager(
        async () => {
          fetches++;
          return { status: 200, headers: {}, data: { accessToken: 'tok-live', expireIn: 7200 } } as never;
        },
        { appKey: 'ding-app', appSecret: 'sec', store: new SharedTokenStore(ss[1]!, opts) },
      );
      const started = Date.now();
      const got = await Promise.all(Array.from({ length: 10 }, () => live.get()));
      expect(new Set(got)).toEqual(new Set(['tok-live']));
      expect({ dying, fetches }).toEqual({ dying: 1, fetches: 1 });
      // Taken over when the lock's ttl ran out, not before (the holder was still "alive" until then).
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('twin: a lock that never expires keeps every other caller waiting until it gives up', async () => {
      const ss = await stores(2);
      const opts = { secretOf: () => 'sec', lockTtlMs: 600_000, lockWaitMs: 400, lockPollMs: 10 };
      let entered!: () => void;
      const holding = new Promise<void>((r) => {
        entered = r;
      });
      const dead = new TokenManager(
        async () => {
          entered();
          return new Promise<never>(() => {});
        },
        { appKey: 'ding-app', appSecret: 'sec', store: new SharedTokenStore(ss[0]!, opts) },
      );
      void dead.get();
      await holding;
      const live = new TokenManager(
        async () => ({ status: 200, headers: {}, data: { accessToken: 'x', expireIn: 7200 } }) as never,
        { appKey: 'ding-app', appSecret: 'sec', store: new SharedTokenStore(ss[1]!, opts) },
      );
      const e = await expectThrows(() => live.get(), DingTalkError);
      expect(e.code).toBe('LOCK_TIMEOUT');
    });

    it('the lock row names the refreshing process (host/pid), so an operator can tell who holds it', async () => {
      const [s] = await stores(1);
      const t = sealed(s!);
      const owners = await t.withLock('ding-app', () =>
        s!.db.selectFrom('locks').select(['name', 'owner']).execute(),
      );
      expect(owners).toHaveLength(1);
      expect(owners[0]!.name).toBe('token:ding-app');
      expect(owners[0]!.owner.split('/')[1]).toBe(String(process.pid));
    });

    it('a store outage while getting a token is a typed, retryable not_sent error the dispatcher retries', async () => {
      const [s] = await stores(1);
      const handler: Handler = async () =>
        ({ status: 200, headers: {}, data: { accessToken: 't', expireIn: 7200 } }) as never;
      const m = new TokenManager(handler, { appKey: 'ding-app', appSecret: 'sec', store: sealed(s!) });
      await s!.close();
      const e = await expectThrows(() => m.get(), TokenError);
      expect(e).toMatchObject({ code: 'TOKEN_STORE_UNAVAILABLE', outcome: 'not_sent', retryable: true });
      const ctx = { attempt: 1, idempotent: false, now: 0 };
      expect(decide(e, ctx, defaultPolicy).action).toBe('retry');
      // Twin: the raw driver error, as it came out before, is taken for a bug and dead-lettered.
      expect(e.cause).toBeDefined();
      expect(decide(e.cause, ctx, defaultPolicy).action).toBe('dead');
    });
    it('an old sealed row replayed with a far expiry column is not used: the sealed expiry decides', async () => {
      const [s] = await stores(1);
      const t = sealed(s!);
      // A token that has expired, its row's plain expiry column then moved far ahead (someone with write access).
      await t.set('ding-app', { token: 'tok-old', expiresAt: Date.now() - 1_000 });
      await s!.db
        .updateTable('kv')
        .set({ expires_at: Date.now() + 86_400_000 })
        .where('key', '=', 'token:ding-app')
        .execute();
      expect(await t.get('ding-app')).toMatchObject({ token: 'tok-old' });
      let fetches = 0;
      const m = new TokenManager(
        async () => {
          fetches++;
          return { status: 200, headers: {}, data: { accessToken: 'tok-new', expireIn: 7200 } } as never;
        },
        { appKey: 'ding-app', appSecret: 'sec', store: t },
      );
      expect(await m.get()).toBe('tok-new');
      expect(fetches).toBe(1);
    });
  });
}
