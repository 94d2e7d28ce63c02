/**
 * The store-backed replay memory (src/store/seen-store.ts) on both dialects: one accepted key per callback across
 * every process on the database, an expired key taken over by exactly one caller, and the library's receivers
 * sharing it (a replay sent to the second receiver is answered without running its handler).
 */

import { describe, expect, it } from 'vitest';
import { createBotCallbackHandler, signBotCallback } from '../../src/callback/index.js';
import { SEEN_PREFIX, StoreSeenStore } from '../../src/store/seen-store.js';
import { SharedTokenStore } from '../../src/store/token-store.js';
import { expectThrows } from '../support/expect-throws.js';
import { backends, freshStores } from './backends.js';
import { FakeClock } from './helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`store seen-store (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('concurrent first sightings of one key from three stores: exactly one is first, per key', async () => {
      const [a, b, c] = await stores(3);
      const clock = new FakeClock();
      const seen = [a!, b!, c!].map((s) => new StoreSeenStore(s, { now: clock.now }));
      const until = clock.t + 60_000;
      for (let k = 0; k < 8; k++) {
        const got = await Promise.all(
          [0, 1, 2, 0, 1, 2].map((i) => seen[i]!.firstSeen(`bot:sig:k${k}`, until)),
        );
        expect(got.filter(Boolean)).toHaveLength(1);
      }
      expect(await seen[1]!.firstSeen('bot:sig:k3', until)).toBe(false);
    });

    it('an expired key counts as absent and is taken over by one caller; forget frees a key at once', async () => {
      const [a, b] = await stores(2);
      const clock = new FakeClock();
      const sa = new StoreSeenStore(a!, { now: clock.now });
      const sb = new StoreSeenStore(b!, { now: clock.now });
      expect(await sa.firstSeen('event:sig:x', clock.t + 1_000)).toBe(true);
      clock.advance(999);
      expect(await sb.firstSeen('event:sig:x', clock.t + 1_000)).toBe(false);
      clock.advance(1);
      const got = await Promise.all([
        sa.firstSeen('event:sig:x', clock.t + 1_000),
        sb.firstSeen('event:sig:x', clock.t + 1_000),
        sb.firstSeen('event:sig:x', clock.t + 1_000),
      ]);
      expect(got.filter(Boolean)).toHaveLength(1);
      // The takeover set the new expiry: still seen just before it.
      clock.advance(999);
      expect(await sa.firstSeen('event:sig:x', clock.t + 1_000)).toBe(false);
      await sb.forget('event:sig:x');
      expect(await sa.firstSeen('event:sig:x', clock.t + 1_000)).toBe(true);
    });

    it('firstSeenIn: a claim inside a transaction exists only if it commits; a concurrent one sees the outcome', async () => {
      const [a, b] = await stores(2);
      const clock = new FakeClock();
      const sa = new StoreSeenStore(a!, { now: clock.now });
      const sb = new StoreSeenStore(b!, { now: clock.now });
      const until = clock.t + 60_000;
      // Rolled back (the process died before its commit): the key was never claimed.
      const e = await expectThrows(
        () =>
          a!.transaction(async (tx) => {
            expect(await sa.firstSeenIn(tx, 'bot:sig:rb', until)).toBe(true);
            throw new Error('died before the commit');
          }),
        Error,
      );
      expect(e.message).toBe('died before the commit');
      expect(await sb.firstSeen('bot:sig:rb', until)).toBe(true);
      // Committed: taken for everyone, including claims racing it from another store inside their own transactions.
      const got = await Promise.all([
        a!.transaction((tx) => sa.firstSeenIn(tx, 'bot:sig:race', until)),
        b!.transaction((tx) => sb.firstSeenIn(tx, 'bot:sig:race', until)),
        b!.transaction((tx) => sb.firstSeenIn(tx, 'bot:sig:race', until)),
      ]);
      expect(got.filter(Boolean)).toHaveLength(1);
      expect(await sa.firstSeen('bot:sig:race', until)).toBe(false);
    });

    it('purgeExpired deletes expired seen keys only (the token cache shares the kv table)', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const seen = new StoreSeenStore(s!, { now: clock.now });
      const tokens = new SharedTokenStore(s!, { now: clock.now, secretOf: () => 'app1-secret' });
      await tokens.set('app1', { token: 'tok', expiresAt: clock.t + 10 });
      await seen.firstSeen('a', clock.t + 10);
      await seen.firstSeen('b', clock.t + 10_000);
      clock.advance(20);
      expect(await seen.purgeExpired()).toBe(1);
      const keys = (await s!.db.selectFrom('kv').select('key').orderBy('key').execute()).map((r) => r.key);
      expect(keys).toEqual([`${SEEN_PREFIX}b`, 'token:app1']);
      // Digests only: no row holds anything but the key and a marker.
      const values = await s!.db.selectFrom('kv').select('value').where('key', 'like', 'seen:%').execute();
      expect(values.map((v) => v.value)).toEqual(['1']);
    });

    it('two bot receivers on two stores: a callback replayed to the second is answered and not run', async () => {
      const [a, b] = await stores(2);
      const secret = 'seen-store-conformance-secret';
      const runs: string[] = [];
      const handler = (store: typeof a) =>
        createBotCallbackHandler({
          appSecret: secret,
          replay: new StoreSeenStore(store!),
          onMessage: (m) => {
            runs.push(String(m.msgId));
          },
        });
      const [ha, hb] = [handler(a), handler(b)];
      const ts = Date.now();
      const req = (msgId: string) => ({
        method: 'POST',
        url: '/callbacks/robot',
        headers: { timestamp: String(ts), sign: signBotCallback(secret, ts) },
        body: JSON.stringify({ msgId, msgtype: 'text', text: { content: 'hi' } }),
      });
      expect((await ha.handle(req('m1'))).status).toBe(200);
      const again = await hb.handle(req('m1'));
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body)).toEqual({ msgtype: 'empty' });
      // The same signature pair under another body: caught by the pair, in the other process.
      expect((await hb.handle(req('m2'))).status).toBe(200);
      expect(runs).toEqual(['m1']);
    });
  });
}
