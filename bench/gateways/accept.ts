/**
 * Accept latency of the hook door: Alertmanager bodies (5 alerts each, over 10 groups) posted at a paced rate
 * (default 200 a second for 10 s) to one hub process, on SQLite and PostgreSQL. A 202 means the delivery and its
 * items are committed (docs/gateways.md), so this is the store's commit under a steady flow, with the flusher and
 * the dispatcher running beside it. The hub's CPU per request covers all of it: accept, flush, render, send.
 * Robot limits are set out of the way here (bench/gateways/storm.ts is the one about them).
 *
 *   node --import tsx bench/gateways/accept.ts [rate=200] [seconds=10]
 */

import { setTimeout as delay } from 'node:timers/promises';
import { pct, pgUp } from '../support.js';
import {
  amBody,
  freshStore,
  gatewayHubConfig,
  postHook,
  startEmulatorProcess,
  startHubProcess,
} from './support.js';

const RATE = Number(process.argv[2] ?? 200);
const SECONDS = Number(process.argv[3] ?? 10);
const GROUPS = 10;
const PER_BODY = 5;

interface Row {
  store: string;
  posted: number;
  accepted: number;
  p50: number;
  p99: number;
  max: number;
  rate: number;
  cpuMs: number;
}

async function paced(
  url: string,
  n: number,
  tag: string,
): Promise<{ ms: number[]; accepted: number; spanMs: number }> {
  const ms: number[] = [];
  let accepted = 0;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / RATE - performance.now();
    if (wait > 1) await delay(wait);
    const g = i % GROUPS;
    pending.push(
      postHook(url, amBody(`g${g}`, `${tag}-${i}`, PER_BODY, `${tag}-${i}`)).then((r) => {
        ms.push(r.ms);
        if (r.status === 202) accepted++;
      }),
    );
  }
  await Promise.all(pending);
  return { ms: ms.sort((a, b) => a - b), accepted, spanMs: performance.now() - t0 };
}

async function run(kind: 'sqlite' | 'postgres'): Promise<Row> {
  const emu = await startEmulatorProcess(GROUPS, 1_000_000, 2_000);
  const db = await freshStore(kind);
  const hub = await startHubProcess({
    config: gatewayHubConfig(emu, GROUPS, { budget: 1_000_000, windowMs: 2_000 }),
    databaseUrl: db.databaseUrl,
    schema: db.schema,
  });
  try {
    await paced(hub.url, Math.min(RATE, 200), 'warm');
    const before = await hub.cpu();
    const n = RATE * SECONDS;
    const r = await paced(hub.url, n, 'run');
    const cpuMs = ((await hub.cpu()) - before) / 1000;
    return {
      store: kind,
      posted: n,
      accepted: r.accepted,
      p50: pct(r.ms, 50),
      p99: pct(r.ms, 99),
      max: r.ms.at(-1) ?? Number.NaN,
      rate: n / (r.spanMs / 1000),
      cpuMs: cpuMs / n,
    };
  } finally {
    await hub.close();
    await emu.close();
    await db.drop();
  }
}

const rows: Row[] = [await run('sqlite')];
if (await pgUp()) rows.push(await run('postgres'));
else process.stdout.write('PostgreSQL not reachable: its row is skipped\n');

const f = (x: number, d = 1) => x.toFixed(d);
process.stdout.write(
  `\nhook accept latency, ${RATE}/s for ${SECONDS} s, ${PER_BODY} alerts per body\n\n` +
    '| store      | posted | 202 | p50 / p99 / max ms  | achieved /s | hub CPU ms / request |\n' +
    '| ---------- | ------ | --- | ------------------- | ----------- | -------------------- |\n' +
    rows
      .map(
        (r) =>
          `| ${r.store.padEnd(10)} | ${r.posted} | ${r.accepted} | ${f(r.p50)} / ${f(r.p99)} / ${f(r.max)} | ${f(r.rate, 0)} | ${f(r.cpuMs, 2)} |`,
      )
      .join('\n') +
    '\n',
);
