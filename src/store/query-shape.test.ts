import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './open-store.js';
import { QueryShape } from './query-shape.js';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-shape-'));
  store = await openStore({ url: join(dir, 'hub.db') });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (key: string, value: string) => ({ key, value, expires_at: 1 });

describe('QueryShape', () => {
  it('runs its one compiled SQL with each call’s values, in and out of a transaction, constants kept in place', async () => {
    let builds = 0;
    const shape = new QueryShape<{ key: string; value: string; expires_at: number }, { key: string }>(
      (db, v) => {
        builds++;
        return db.insertInto('kv').values(v).returning('key');
      },
    );
    const a = await shape.run(store.db, row('a', 'one'));
    const b = await store.transaction((tx) => shape.run(tx, row('b', 'two')));
    expect(builds).toBe(1);
    expect(a.rows).toEqual([{ key: 'a' }]);
    expect(b.rows).toEqual([{ key: 'b' }]);
    const got = await store.db
      .selectFrom('kv')
      .select(['key', 'value'])
      .where('key', 'in', ['a', 'b'])
      .execute();
    expect(got.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two' },
    ]);
    const select = new QueryShape<{ key: string }, { value: string }>((db, v) =>
      db.selectFrom('kv').select('value').where('key', '=', v.key).where('expires_at', '=', 1).limit(1),
    );
    expect((await select.run(store.db, { key: 'b' })).rows).toEqual([{ value: 'two' }]);
    expect((await select.run(store.db, { key: 'a' })).rows).toEqual([{ value: 'one' }]);
  });

  it('refuses a shape whose value does not end up a parameter (it would be silently ignored)', async () => {
    const shape = new QueryShape<{ key: string; unused: string }, { value: string }>((db, v) =>
      db.selectFrom('kv').select('value').where('key', '=', v.key),
    );
    await expect(shape.run(store.db, { key: 'a', unused: 'x' })).rejects.toThrow(/unused/);
  });
});
