/**
 * Database URLs: a mistyped `database.url` must not quietly start a new, empty database somewhere
 * else (and make the directories for it); a database the hub creates is readable by its owner only.
 */

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { parseConfig } from '../../src/hub/config.js';
import { openStore } from '../../src/store/open-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dingkit-dburl-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o777;

describe('database.url', () => {
  it('a path into a missing directory is a clear error, and nothing is created', async () => {
    const root = tempDir();
    const url = join(root, 'dta', 'dingkit.db'); // "data" mistyped
    const err = await openStore({ url }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/does not exist/);
    expect(err?.message).toContain(join(root, 'dta'));
    expect(err?.message).toMatch(/create/);
    expect(existsSync(join(root, 'dta'))).toBe(false);
  });

  it('the hub refuses it too, before anything starts', async () => {
    const root = tempDir();
    const config = parseConfig(
      { emulator: { mode: 'on', port: 0 }, database: { url: join(root, 'nope', 'x.db') } },
      {},
    );
    await expect(launchHub({ config, emulator: { port: 0 } })).rejects.toThrow(/does not exist/);
    expect(existsSync(join(root, 'nope'))).toBe(false);
  });

  it('with creation asked for, the directory is made 0700 and the database and its -wal/-shm 0600', async () => {
    const root = tempDir();
    const dir = join(root, 'state', 'db');
    const file = join(dir, 'hub.db');
    const config = parseConfig(
      { emulator: { mode: 'on', port: 0 }, database: { url: file, create: true } },
      {},
    );
    const hub = await launchHub({ config, emulator: { port: 0 } });
    try {
      await hub.sendMessage({ group: 'ops', text: 'a write, so the WAL exists' }, { by: 't' });
      expect(mode(dir)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
    } finally {
      await hub.stop();
    }
  });

  it('a new database file in an existing directory is owner-only as well', async () => {
    const root = tempDir();
    const file = join(root, 'fresh.db');
    const store = await openStore({ url: file });
    await store.close();
    expect(mode(file)).toBe(0o600);
  });
});
