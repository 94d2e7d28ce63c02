/**
 * How fast is the durable path? Enqueue latency (one request = message row + delivery rows, committed), alone and
 * with 16 concurrent callers, and dispatch throughput (claim, mark started, no-op send, finish) on SQLite
 * (`sqliteSynchronous` FULL: fsynced before answered, and NORMAL) and
 * PostgreSQL side by side. Run: `npx tsx bench/hub/store.ts` (PostgreSQL from DINGKIT_TEST_PG_URL, skipped if
 * unreachable). Numbers depend on the disk and the machine: compare rows, not runs.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { webhookMessage } from '../../src/api/robot/webhook-messages.js';
import { Dispatcher } from '../../src/hub/delivery/dispatcher.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { type OpenStoreOptions, openStore, type Store } from '../../src/store/open-store.js';
import { PG_URL, pct, pgUp } from '../support.js';

const SEQUENTIAL = Number(process.env['BENCH_N'] ?? 1_000);
const CONCURRENT = 16;
const DISPATCH = Number(process.env['BENCH_DISPATCH'] ?? 2_000);

const request = (i: number) => ({
  kind: 'message',
  request: { text: `bench ${i}`, group: 'ops' },
  jobs: [
    {
      channel: 'robot' as const,
      target: 'ops',
      payload: {
        t: 'webhook' as const,
        robot: 'ops',
        body: webhookMessage.text(`bench ${i}`),
      },
    },
  ],
});

async function measure(name: string, open: () => Promise<Store>): Promise<Record<string, string>> {
  const store = await open();
  const box = new Outbox(store);
  for (let i = 0; i < 50; i++) await box.enqueue(request(i)); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await box.enqueue(request(i));
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);

  // Throughput with concurrent callers (one store = one process's pool) and their latency: a commit that blocks
  // the event loop (an fsync inside SQLite) delays every caller, not only its own.
  const t0 = performance.now();
  let next = 0;
  const cLat: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < SEQUENTIAL) {
        const t = performance.now();
        await box.enqueue(request(next++));
        cLat.push(performance.now() - t);
      }
    }),
  );
  const enqPerSec = SEQUENTIAL / ((performance.now() - t0) / 1000);
  cLat.sort((a, b) => a - b);

  // Dispatch: drain a fresh backlog with one dispatcher and a sender that answers at once.
  await store.db.deleteFrom('deliveries').execute();
  await store.db.deleteFrom('messages').execute();
  for (let i = 0; i < DISPATCH; i++) await box.enqueue(request(i));
  let sent = 0;
  const d = new Dispatcher({
    store,
    workers: 32,
    pollMs: 5,
    sender: {
      send: async () => {
        sent++;
        return {};
      },
    },
  });
  const t1 = performance.now();
  d.start();
  while ((await box.counts()).sent < DISPATCH) await new Promise((r) => setTimeout(r, 20));
  const sendPerSec = DISPATCH / ((performance.now() - t1) / 1000);
  await d.stop();
  await store.close();
  if (sent !== DISPATCH) throw new Error(`${name}: sent ${sent} of ${DISPATCH}`);
  return {
    store: name,
    'enqueue p50 ms': pct(lat, 50).toFixed(2),
    'enqueue p99 ms': pct(lat, 99).toFixed(2),
    [`enqueue/s (${CONCURRENT} callers)`]: enqPerSec.toFixed(0),
    [`${CONCURRENT} callers p50 / p99 ms`]: `${pct(cLat, 50).toFixed(2)} / ${pct(cLat, 99).toFixed(2)}`,
    'dispatch sends/s': sendPerSec.toFixed(0),
  };
}

const rows: Record<string, string>[] = [];
const dir = mkdtempSync(join(tmpdir(), 'dingkit-bench-'));
try {
  for (const sync of ['FULL', 'NORMAL'] as const) {
    const o: OpenStoreOptions = { url: join(dir, `bench-${sync}.db`), sqliteSynchronous: sync };
    rows.push(await measure(`sqlite (synchronous=${sync})`, () => openStore(o)));
  }
  if (await pgUp()) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    try {
      rows.push(await measure('postgres', () => openStore({ url: PG_URL, schema })));
    } finally {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    }
  } else {
    console.warn(`PostgreSQL at ${PG_URL} unreachable: skipped`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `\n${SEQUENTIAL} sequential enqueues (latency), ${SEQUENTIAL} with ${CONCURRENT} callers, ${DISPATCH} dispatched`,
);
console.table(rows);
