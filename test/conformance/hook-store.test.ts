/**
 * The gateway's rows on both stores: a delivery's dedupe under racing processes, the fence that keeps two flushers
 * from both taking an item, and retention.
 */

import { describe, expect, it } from 'vitest';
import { HookStore, StaleFlush } from '../../src/hub/gateways/hook-store.js';
import type { HookItem } from '../../src/hub/gateways/items.js';
import { expectThrows } from '../support/expect-throws.js';
import { backends, freshStores } from './backends.js';

const item = (fp: string): HookItem => ({
  kind: 'firing',
  fingerprint: fp,
  labels: { alertname: 'A' },
  annotations: {},
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hook store (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('one delivery is accepted once, also when the same request races from 3 processes', async () => {
      const ss = await stores(3);
      const hooks = ss.map((s) => new HookStore(s));
      const items = [{ target: 'group:ops', item: item('f1'), mentionAll: false, dueAt: 0 }];
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => hooks[i % 3]!.accept('am', 'am:key1', items, 1_000)),
      );
      expect(answers.filter((a) => a === 'accepted')).toHaveLength(1);
      expect(await hooks[0]!.pending('am', 'group:ops', 1_000, 100)).toHaveLength(1);
      // Another route's identical key is another delivery.
      expect(await hooks[0]!.accept('other', 'am:key1', items, 1_000)).toBe('accepted');
    });

    it('finishing items another flusher already took rolls the whole transaction back', async () => {
      const [a, b] = await stores(2);
      const ha = new HookStore(a!);
      const hb = new HookStore(b!);
      const rows = ['f1', 'f2'].map((fp) => ({
        target: 'group:ops',
        item: item(fp),
        mentionAll: false,
        dueAt: 0,
      }));
      await ha.accept('am', 'k', rows, 1_000);
      const ids = (await ha.pending('am', 'group:ops', 1_000, 10)).map((p) => p.id);
      await ha.store.transaction((tx) => ha.finish(tx, [ids[0]!], 'sent', 'm-a', null, 2_000));
      // B read both as pending before A's commit: its finish must fail whole, leaving f2 pending.
      await expectThrows(
        () => hb.store.transaction((tx) => hb.finish(tx, ids, 'sent', 'm-b', null, 2_000)),
        StaleFlush,
      );
      const left = await hb.pending('am', 'group:ops', 3_000, 10);
      expect(left.map((p) => p.item.fingerprint)).toEqual(['f2']);
      const first = await a!.db
        .selectFrom('hook_items')
        .select('message_id')
        .where('id', '=', ids[0]!)
        .executeTakeFirst();
      expect(first?.message_id).toBe('m-a');
    });

    it('retention deletes finished items and dedupe rows older than the cut, never pending ones', async () => {
      const [s] = await stores(1);
      const h = new HookStore(s!);
      const rows = (fp: string) => [{ target: 'group:ops', item: item(fp), mentionAll: false, dueAt: 0 }];
      await h.accept('am', 'old-done', rows('a'), 1_000);
      await h.accept('am', 'old-pending', rows('b'), 1_000);
      await h.accept('am', 'new', rows('c'), 9_000);
      const [done] = await h.pending('am', 'group:ops', 10_000, 1);
      await h.store.transaction((tx) => h.finish(tx, [done!.id], 'sent', 'm', null, 2_000));
      expect(await h.purge(5_000)).toBe(3); // the old finished item and both old dedupe rows
      const left = await s!.db.selectFrom('hook_items').select('fingerprint').orderBy('id').execute();
      expect(left.map((r) => r.fingerprint)).toEqual(['b', 'c']);
      // The purged delivery's key is free again; the young one still dedupes.
      expect(await h.accept('am', 'new', rows('c'), 9_500)).toBe('duplicate');
    });
  });
}
