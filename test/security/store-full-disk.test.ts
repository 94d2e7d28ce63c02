/**
 * Store faults: store faults are honest. A real hub with its HTTP API on loopback, against the real emulator;
 * mid-run its store stops taking writes:
 * - SQLite: `PRAGMA max_page_count` capped at the file's size and the free pages used up, so SQLite answers
 *   SQLITE_FULL "database or disk is full", exactly as a full disk does;
 * - PostgreSQL: every connection of the hub cut by a proxy that refuses new ones (a dead server or network).
 * While it lasts: the API answers 503 store_unavailable with a reason, the cause is logged once, /health fails.
 * A send that reached DingTalk (the emulator) during the outage is recorded `sent` when the store is back: not
 * parked as an unknown outcome, not sent twice.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/hub/config.js';
import { PG_URL, pgAvailable } from '../conformance/backends.js';
import { waitFor } from '../e2e/hub-helpers.js';
import { captureLogger, cuttableProxy, type HubWithApi, hubWithApi, type LogLine } from './support.js';

const OPS = 'cidDemoOps000000002==';
const LEASE_MS = 1_500;

function config(database: Record<string, unknown>) {
  return parseConfig(
    {
      emulator: { mode: 'on', port: 0 },
      database,
      dispatcher: { pollMs: 20, leaseMs: LEASE_MS, maxAttempts: 3 },
      tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 },
    },
    {},
  );
}

interface Outage {
  start(h: HubWithApi): Promise<void>;
  end(h: HubWithApi): Promise<void>;
  /** What the one log line of the burst must name. */
  cause: RegExp;
}

/** The outage drill, the same on both stores. */
async function drill(h: HubWithApi, lines: LogLine[], outage: Outage): Promise<void> {
  const emu = h.hub.emulator!;
  // The robot's answer comes late, so the store can fail while the send is on the wire.
  emu.setFaults({ rules: [{ route: 'POST /robot/send', latencyMs: 400 }] });
  const accepted = await h.call('POST', '/v1/messages', { group: 'ops', text: 'sent during the outage' });
  expect(accepted.status).toBe(202);
  const id = accepted.body.deliveries[0].id as number;
  const row = () =>
    h.hub.store.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  await waitFor(
    async () => {
      const r = await row();
      return r.status === 'sending' && r.started_at !== null;
    },
    10_000,
    'the send to start',
  );

  const before = lines.length;
  await outage.start(h);

  // A full disk may still take a small write that fits a page already there; the next ones find no room.
  let refused = await h.call('POST', '/v1/messages', {
    group: 'ops',
    text: 'refused while the store is out',
  });
  for (let i = 0; i < 50 && refused.status === 202; i++) {
    refused = await h.call('POST', '/v1/messages', { group: 'ops', text: `filler ${i} ${'y'.repeat(500)}` });
  }
  expect(refused.status).toBe(503);
  expect(refused.body.error.code).toBe('store_unavailable');
  expect(refused.body.error.message.length).toBeGreaterThan(10);
  const health = await h.call('GET', '/health', undefined, null);
  expect(health.status).toBe(503);
  expect(health.body.ok).toBe(false);

  // DingTalk has the message; the hub cannot write that down yet.
  await waitFor(
    () => emu.messages(OPS).some((m) => m.text.includes('sent during the outage')),
    10_000,
    'the emulator to get it',
  );
  // Past the lease: before the fix the result was dropped here, and the reclaim parked the send as unknown.
  const leaseGone = Date.now() + LEASE_MS + 500;
  let more = 0;
  await waitFor(
    async () => {
      if (
        (await h.call('POST', '/v1/messages', { group: 'ops', text: `refused ${more++}` })).status !== 503
      ) {
        throw new Error('accepted during the outage');
      }
      return Date.now() > leaseGone;
    },
    15_000,
    'the lease to run out',
  );
  expect(more).toBeGreaterThan(3);

  const burst = lines.slice(before);
  expect(burst.filter((l) => outage.cause.test(l.text))).toHaveLength(1);
  expect(burst.some((l) => /cannot rollback/.test(l.text))).toBe(false);
  expect(burst.some((l) => l.level === 'error' && l.msg === 'request failed')).toBe(false);

  await outage.end(h);
  await waitFor(async () => (await row()).status === 'sent', 15_000, 'the known outcome to be recorded');
  const final = await row();
  expect(final.attempts).toBe(1);
  expect(emu.messages(OPS).filter((m) => m.text.includes('sent during the outage'))).toHaveLength(1);
  await waitFor(
    async () => (await h.call('GET', '/health', undefined, null)).status === 200,
    10_000,
    'health to pass',
  );
  expect((await h.call('POST', '/v1/messages', { group: 'ops', text: 'after' })).status).toBe(202);
}

describe('store faults are honest', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  it('SQLite: a full disk (SQLITE_FULL) answers 503, fails /health, and keeps the known outcome of a send', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingkit-full-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { logger, lines } = captureLogger();
    const h = await hubWithApi(config({ url: join(dir, 'hub.db') }), logger);
    cleanups.push(() => h.stop());
    await drill(h, lines, {
      async start(x) {
        const db = x.hub.store.db;
        // The cap refuses new pages only, and recording a send's result rewrites its row in place (a smaller row),
        // which the cap lets through where a real full disk refuses the WAL append. This trigger makes recording a
        // result need room, as it does on a real disk: a page-sized row with each result.
        await sql
          .raw(
            `create trigger sec_result_needs_room after update of status on deliveries when new.status = 'sent'
             begin insert into kv (key, value, expires_at) values ('room:' || new.id, hex(zeroblob(1500)), null); end`,
          )
          .execute(db);
        const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count;
        await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
        // Use up the free pages too: from here every write that needs room fails as on a full disk.
        for (const size of [3_000, 200, 20]) {
          for (let i = 0; ; i++) {
            if (i > 10_000) throw new Error('the cap did not fill');
            try {
              await db
                .insertInto('kv')
                .values({ key: `filler:${size}:${i}`, value: 'x'.repeat(size), expires_at: null })
                .execute();
            } catch (e) {
              if ((e as { code?: string }).code === 'SQLITE_FULL') break;
              throw e;
            }
          }
        }
      },
      async end(x) {
        await sql.raw('pragma max_page_count = 1073741823').execute(x.hub.store.db);
      },
      cause: /database or disk is full/,
    });
  });

  it.skipIf(!pgAvailable)(
    'PostgreSQL: a dead server answers 503, fails /health, and keeps the known outcome',
    async () => {
      const schema = `sec_outage_${process.pid}_${Date.now().toString(36)}`;
      const target = new URL(PG_URL);
      const proxy = await cuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
      cleanups.push(async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists "${schema}" cascade`);
        await c.end();
      });
      cleanups.push(() => proxy.close());
      const viaProxy = new URL(PG_URL);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const { logger, lines } = captureLogger();
      const h = await hubWithApi(config({ url: viaProxy.toString(), schema }), logger);
      cleanups.push(() => h.stop());
      await drill(h, lines, {
        async start() {
          proxy.cut();
        },
        async end() {
          proxy.restore();
        },
        cause: /store unavailable/,
      });
    },
  );
});
