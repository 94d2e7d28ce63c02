/**
 * The SQLite group commit of hook accepts (hook-store.ts): concurrent accepts share one transaction, each caller
 * gets its own verdict (a key repeated inside the group is a duplicate), and one failing accept is answered to its
 * own caller while the others stand. The twin awaits the same accepts one by one: one transaction each, so the
 * counter sees the difference the grouping makes.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../store/open-store.js';
import { hookRouteSchema } from './config.js';
import { HookStore, type NewItem } from './hook-store.js';
import { HookOverview } from './overview.js';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A store whose transactions are counted. */
async function counted(): Promise<{ store: Store; transactions: () => number }> {
  const base = await openStore({ url: ':memory:' });
  stores.push(base);
  let n = 0;
  const store = Object.create(base) as Store;
  Object.defineProperty(store, 'transaction', {
    value: (fn: Parameters<Store['transaction']>[0]) => {
      n++;
      return base.transaction(fn);
    },
  });
  return { store, transactions: () => n };
}

function items(k: number, target = 'cidOps'): NewItem[] {
  return Array.from({ length: 3 }, (_, i) => ({
    target,
    item: { kind: 'firing', fingerprint: `fp-${k}-${i}`, labels: { alertname: 'A' }, annotations: {} },
    mentionAll: false,
    dueAt: 0,
  }));
}

async function rows(store: Store): Promise<{ requests: number; items: number }> {
  const r = await store.db.selectFrom('hook_requests').select('route').execute();
  const i = await store.db.selectFrom('hook_items').select('id').execute();
  return { requests: r.length, items: i.length };
}

describe('hook accepts on SQLite', () => {
  it('concurrent accepts commit in one transaction; a key repeated in the group is a duplicate', async () => {
    const { store, transactions } = await counted();
    const hooks = new HookStore(store);
    const verdicts = await Promise.all([
      ...Array.from({ length: 20 }, (_, k) => hooks.accept('am', `key-${k}`, items(k), 1_000 + k)),
      hooks.accept('am', 'key-0', items(0), 2_000),
    ]);
    expect(verdicts.filter((v) => v === 'accepted')).toHaveLength(20);
    expect(verdicts[20]).toBe('duplicate');
    expect(transactions()).toBe(1);
    expect(await rows(store)).toEqual({ requests: 20, items: 60 });
  });

  it('twin: the same accepts one after another take one transaction each', async () => {
    const { store, transactions } = await counted();
    const hooks = new HookStore(store);
    for (let k = 0; k < 20; k++)
      expect(await hooks.accept('am', `key-${k}`, items(k), 1_000 + k)).toBe('accepted');
    expect(transactions()).toBe(20);
    expect(await rows(store)).toEqual({ requests: 20, items: 60 });
  });

  it('one failing accept is refused to its own caller; the others in its group are committed', async () => {
    const { store } = await counted();
    const hooks = new HookStore(store);
    // A NULL target breaks the NOT NULL constraint: the whole group rolls back, then each runs alone.
    const broken = items(99, null as unknown as string);
    const results = await Promise.allSettled([
      hooks.accept('am', 'a', items(1), 1),
      hooks.accept('am', 'bad', broken, 2),
      hooks.accept('am', 'b', items(2), 3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await rows(store)).toEqual({ requests: 2, items: 6 });
  });
});

describe('what a delivery became (hooks list, GET /v1/hooks)', () => {
  it('two deliveries of one route accepted in the same millisecond are shown apart, each with its own items', async () => {
    const store = await openStore({ url: ':memory:' });
    stores.push(store);
    const hooks = new HookStore(store);
    const now = 1_765_000_000_000;
    // The concurrent accepts of a storm share a commit and, often, the millisecond.
    await Promise.all([
      hooks.accept('am', 'key-a', items(1), now),
      hooks.accept('am', 'key-b', [...items(2), ...items(3)], now),
    ]);
    const overview = new HookOverview({
      store,
      routes: [
        hookRouteSchema.parse({
          name: 'am',
          kind: 'alertmanager',
          auth: { type: 'bearer', token: 'x'.repeat(16) },
        }),
      ],
      publicUrl: () => 'http://127.0.0.1',
    });
    const a = await overview.request('am', 'key-a');
    const b = await overview.request('am', 'key-b');
    expect(a).toMatchObject({ items: 3, states: { pending: 3 } });
    expect(b).toMatchObject({ items: 6, states: { pending: 6 } });
    // An item stored without its key (accepted before migration 013) is still found by its millisecond.
    await store.db
      .updateTable('hook_items')
      .set({ request_key: null })
      .where('request_key', '=', 'key-a')
      .execute();
    expect(await overview.request('am', 'key-a')).toMatchObject({ states: { pending: 3 } });
  });
});
