/**
 * Health disclosure: `/health` answers anyone (load balancers, `dingkit doctor`), so without a token it says ok or
 * not ok and nothing else: no version, store kind, queue sizes, emulator address or why the store is out. A token
 * of the `read` scope gets the report. The emulator's `/_emulator/health` says only ok (its counters are at
 * `/_emulator/stats`, behind the same loopback-only door as the rest of the control API).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/hub/config.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { waitFor } from '../e2e/hub-helpers.js';
import { call } from '../integration/emulator-http.js';
import { captureLogger, type HubWithApi, hubWithApi } from './support.js';

let h: HubWithApi;
let dir: string;
let reader: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-health-'));
  const config = parseConfig(
    { emulator: { mode: 'on', port: 0 }, database: { url: join(dir, 'hub.db') }, dispatcher: { pollMs: 20 } },
    {},
  );
  h = await hubWithApi(config, captureLogger().logger);
  reader = (await createApiToken(new StoreApiTokens(h.hub.store), 'reader', ['read'])).token;
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('health answers without internals unless a read token is given', () => {
  it('no token, a bad token: { ok } only', async () => {
    for (const auth of [null, 'dk_not_a_real_token_000000000000000000000000']) {
      for (const path of ['/health', '/v1/health']) {
        const r = await h.call('GET', path, undefined, auth);
        expect(r.status).toBe(200);
        expect(r.body).toEqual({ ok: true });
      }
    }
  });

  it('a read token: the report', async () => {
    const r = await h.call('GET', '/v1/health', undefined, reader);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, store: 'sqlite', queue: expect.any(Object) });
    expect(r.body.version).toEqual(expect.any(String));
    expect(r.body.emulator.url).toBe(h.hub.emulator!.url);
  });

  it('not ok: 503 { ok: false } without a token; why, with one', async () => {
    const db = h.hub.store.db;
    // A store that cannot take the probe's write (a full database, see store-full-disk.test.ts).
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
    try {
      for (let i = 0; ; i++) {
        try {
          await db
            .insertInto('kv')
            .values({ key: `f:${i}`, value: 'x'.repeat(2_000), expires_at: null })
            .execute();
        } catch {
          break;
        }
      }
      const anon = await waitFor(
        async () => {
          const r = await h.call('GET', '/health', undefined, null);
          return r.status === 503 ? r : undefined;
        },
        10_000,
        'health to fail',
      );
      expect(anon.body).toEqual({ ok: false });
      const told = await h.call('GET', '/health', undefined, reader);
      expect(told.status).toBe(503);
      expect(told.body.storeError).toMatch(/full/);
    } finally {
      await sql.raw('pragma max_page_count = 1073741823').execute(db);
    }
  });

  it("the emulator's health: ok, nothing more", async () => {
    const r = await call(`${h.hub.emulator!.url}/_emulator/health`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
  });
});
