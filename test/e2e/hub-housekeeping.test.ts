/**
 * The hub's housekeeping: retention rounds that purge finished rows and nothing else,
 * one process at a time; the sender timeout checked against the lease for a config built in code; the store's
 * connection errors on PostgreSQL logged once, counted, and survived.
 */

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import type { Logger } from '../../src/core/logger.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { startHub } from '../../src/hub/hub.js';
import { RETENTION_LOCK } from '../../src/hub/retention.js';
import { storeFaultOf } from '../../src/hub/store-errors.js';
import { PG_URL, pgAvailable } from '../conformance/backends.js';
import { backends, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const DAY = 86_400_000;

/** A series' value from the Prometheus text of the hub's registry (0 when absent). */
function metric(
  hub: { metrics: { render(): string } },
  name: string,
  labels: Record<string, string>,
): number {
  const want = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  const line = hub.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`${name}{${want}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** A logger that keeps every warn line (message and fields) for the assertions. */
function recordingLogger(): Logger & { warns: Array<{ msg: string; o: Record<string, unknown> }> } {
  const warns: Array<{ msg: string; o: Record<string, unknown> }> = [];
  return {
    warns,
    error: () => {},
    warn: (o, m) => warns.push({ msg: m ?? '', o: o as Record<string, unknown> }),
    info: () => {},
    debug: () => {},
  };
}

describe('sender timeout vs lease for a config built in code', () => {
  it('startHub refuses a sendTimeoutMs not below leaseMs, naming both keys, before starting anything', async () => {
    const cfg = testConfig();
    const bad = { ...cfg, dispatcher: { ...cfg.dispatcher, leaseMs: 5_000, sendTimeoutMs: 8_000 } };
    await expect(startHub({ config: bad })).rejects.toThrow(
      /dispatcher\.sendTimeoutMs: must be less than dispatcher\.leaseMs \(5000 ms\), got 8000 ms/,
    );
    await expect(startHub({ config: bad })).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it('startHub never starts an emulator: a config without credentials and no emulator handed in is refused', async () => {
    await expect(startHub({ config: testConfig() })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(/no DingTalk credentials configured.*pass it as `emulator`/),
    });
  });
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub retention (${backend.name})`, () => {
    let cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.reverse()) await c();
      cleanups = [];
    });

    it('purges sent deliveries, their messages and handled inbox keys after the window; keeps the rest', async () => {
      let offset = 0;
      const now = () => Date.now() + offset;
      const f = await startTestHub(backend, { now });
      cleanups.push(f.cleanup);
      const { hub, store } = f;
      const sent = await hub.sendMessage({ group: 'ops', text: 'to be purged' }, { by: 't' });
      await waitFor(async () => (await hub.getMessage(sent.messageId))?.deliveries[0]?.status === 'sent');
      expect(hub.emulator!.messages(OPS).some((m) => m.text.includes('to be purged'))).toBe(true);

      // Rows an operator or the queue still needs: a parked and a dead delivery, a queued one far in the future.
      const box = new Outbox(store, { now });
      const hold = await box.enqueue({
        kind: 'message',
        request: {},
        jobs: ['parked', 'dead', 'queued'].map((s) => ({
          channel: 'robot' as const,
          target: s,
          payload: { t: 'webhook', robot: 'alerts', body: { msgtype: 'text', text: { content: s } } },
          runAt: now() + 400 * DAY,
        })),
      });
      const [parked, dead] = hold.deliveries.map((d) => d.id);
      await store.db
        .updateTable('deliveries')
        .set({ status: 'parked', finished_at: now() })
        .where('id', '=', parked!)
        .execute();
      await store.db
        .updateTable('deliveries')
        .set({ status: 'dead', finished_at: now() })
        .where('id', '=', dead!)
        .execute();
      // Inbox: a handled key (goes), a failed one, a pending one not yet due, one being processed (all stay).
      const t = now();
      const base = {
        source: 'stream',
        topic: 'evt',
        payload: '{}',
        attempts: 0,
        error: null,
        received_at: t,
      };
      await store.db
        .insertInto('inbox')
        .values([
          {
            ...base,
            id: 'h1',
            status: 'handled',
            run_at: t,
            lease_owner: null,
            lease_until: null,
            handled_at: t,
          },
          {
            ...base,
            id: 'f1',
            status: 'failed',
            run_at: t,
            lease_owner: null,
            lease_until: null,
            handled_at: null,
          },
          {
            ...base,
            id: 'p1',
            status: 'pending',
            run_at: t + 400 * DAY,
            lease_owner: null,
            lease_until: null,
            handled_at: null,
          },
          {
            ...base,
            id: 'w1',
            status: 'processing',
            run_at: t,
            lease_owner: 'elsewhere',
            lease_until: t + 400 * DAY,
            handled_at: null,
          },
        ])
        .execute();

      // Six days on: inside the default 7-day retention, nothing goes.
      offset = 6 * DAY;
      expect(await hub.purge()).toEqual({ ran: true, deliveries: 0, messages: 0, inbox: 0 });
      offset = 8 * DAY;
      expect(await hub.purge()).toEqual({ ran: true, deliveries: 1, messages: 1, inbox: 1 });

      expect(await hub.getMessage(sent.messageId)).toBeUndefined();
      const left = await store.db.selectFrom('deliveries').select(['id', 'status']).execute();
      expect(left.map((r) => r.status).sort()).toEqual(['dead', 'parked', 'queued']);
      const inbox = await store.db.selectFrom('inbox').select('id').execute();
      expect(inbox.map((r) => r.id).sort()).toEqual(['f1', 'p1', 'w1']);
      expect(await hub.getMessage(hold.messageId)).toBeDefined();
      expect(metric(hub, 'dingkit_retention_purged_rows_total', { table: 'deliveries' })).toBe(1);
      expect(metric(hub, 'dingkit_retention_purged_rows_total', { table: 'messages' })).toBe(1);
      expect(metric(hub, 'dingkit_retention_purged_rows_total', { table: 'inbox' })).toBe(1);
    });

    it('one process purges per period: of two hubs on one store asking at once, one runs, one skips', async () => {
      let offset = 0;
      const now = () => Date.now() + offset;
      const f = await startTestHub(backend, { now });
      cleanups.push(f.cleanup);
      const other = await launchHub({ config: testConfig(), store: await f.reopen(), now });
      cleanups.push(() => other.stop());
      const sent = await f.hub.sendMessage({ group: 'ops', text: 'one purge' }, { by: 't' });
      await waitFor(async () => (await f.hub.getMessage(sent.messageId))?.deliveries[0]?.status === 'sent');
      offset = 8 * DAY;
      const [a, b] = await Promise.all([f.hub.purge(), other.purge()]);
      expect([a.ran, b.ran].sort()).toEqual([false, true]);
      expect(a.deliveries + b.deliveries).toBe(1);
      const lock = await f.store.db
        .selectFrom('locks')
        .selectAll()
        .where('name', '=', RETENTION_LOCK)
        .executeTakeFirst();
      expect(lock?.owner).toBeDefined();
      // Still within the period: the holder may run again, the other one keeps skipping.
      const skipper = a.ran ? other : f.hub;
      expect((await skipper.purge()).ran).toBe(false);
      expect(metric(skipper, 'dingkit_retention_rounds_total', { result: 'skipped' })).toBe(2);
    });

    it('runs on its own every `retention.everyMs`', async () => {
      let offset = 0;
      const now = () => Date.now() + offset;
      const cfg = testConfig();
      const config = { ...cfg, retention: { ...cfg.retention, everyMs: 40 } };
      const f = await startTestHub(backend, { now, config });
      cleanups.push(f.cleanup);
      const sent = await f.hub.sendMessage({ group: 'ops', text: 'timer purge' }, { by: 't' });
      await waitFor(async () => (await f.hub.getMessage(sent.messageId))?.deliveries[0]?.status === 'sent');
      offset = 8 * DAY;
      await waitFor(async () => (await f.hub.getMessage(sent.messageId)) === undefined, 5_000, 'timed purge');
      // The round counts itself once all its batches are done, a moment after the row is gone (failed once on
      // PostgreSQL when read at once).
      await waitFor(
        () => metric(f.hub, 'dingkit_retention_rounds_total', { result: 'purged' }) > 0,
        5_000,
        'the purging round counted',
      );
    });
  });
}

describe.skipIf(!pgAvailable)('store connection errors on PostgreSQL', () => {
  it('a terminated backend is logged once (redacted), counted, and the hub keeps serving', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const appName = `dingkit_ops_${randomBytes(4).toString('hex')}`;
    const url = new URL(PG_URL);
    url.searchParams.set('application_name', appName);
    const logger = recordingLogger();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const cfg = testConfig();
    const hub = await launchHub({
      config: { ...cfg, database: { url: url.toString(), schema } },
      logger,
      inboxPollMs: 50,
    });
    try {
      const first = await hub.sendMessage({ group: 'ops', text: 'before the cut' }, { by: 't' });
      await waitFor(async () => (await hub.getMessage(first.messageId))?.deliveries[0]?.status === 'sent');
      // Several pooled connections exist now; cut every one of them (twice, a moment apart, as a restart would).
      const cut = async () => {
        const r = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
          [appName],
        );
        return r.rowCount ?? 0;
      };
      expect(await cut()).toBeGreaterThan(0);
      const errors = () => metric(hub, 'dingkit_store_errors_total', { code: '57P01' });
      await waitFor(() => errors() > 0, 5_000, 'a counted store error');
      await new Promise((r) => setTimeout(r, 100));
      await cut();
      await new Promise((r) => setTimeout(r, 100));

      // A pooled connection cut a moment ago can still be handed out before the pool has seen its socket close (CI,
      // loaded machine): that request fails as a store fault, which the API answers 503 with Retry-After, and its
      // caller tries again, as here. At most one such failure per cut; then the hub serves.
      const faults: string[] = [];
      const second = await waitFor(
        async () => {
          try {
            return await hub.sendMessage({ group: 'ops', text: 'after the cut' }, { by: 't' });
          } catch (e) {
            if (storeFaultOf(e) === undefined) throw e;
            faults.push((e as Error).message);
            return undefined;
          }
        },
        5_000,
        'an accepted send after the cut',
      );
      expect(faults.length).toBeLessThanOrEqual(2);
      await waitFor(
        async () => (await hub.getMessage(second.messageId))?.deliveries[0]?.status === 'sent',
        10_000,
        'a send after the cut',
      );
      expect(hub.emulator!.messages(OPS).some((m) => m.text.includes('after the cut'))).toBe(true);
      // The cut opened a store-outage burst; health answers from it until the next probe write (<= 1 s) ends it.
      await waitFor(async () => (await hub.health()).ok, 5_000, 'health ok once a probe write succeeds');

      const lines = logger.warns.filter((w) => w.msg.startsWith('store connection error'));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.o['code']).toBe('57P01');
      expect(String(lines[0]!.o['err'])).toMatch(/terminat/i);
    } finally {
      await hub.stop();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    }
  });
});
