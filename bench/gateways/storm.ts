/**
 * An alert storm through the hook door: 1,000 alerts as 100 Alertmanager bodies of 10 over 4 groups, each group
 * served by its own custom robot under the emulator's real limit on a scaled window (20 per 2 s: DingTalk's 20 a
 * minute, docs/dingtalk.md §2.6), the hub's robot budget 19 per window and the gateway's default gates.
 *
 * Two ways of posting, side by side: `concurrent` (the 100 bodies started within about a second, as Alertmanager's
 * many groups would post) and `sequential` (one after another, as test/e2e/gateways-storm.test.ts posts). Per case:
 * how long the accepts took (first post → last 202) and their latency, the makespan (first post → last alert's
 * message recorded by the emulator), and makespan ÷ the theoretical minimum. The minimum: no alert can be delivered
 * before it was posted, and one digest per group after the last post fits every robot's budget, so it is the
 * posting span (first post → last 202) plus nothing; every alert must be counted exactly once in what arrived.
 *
 *   node --import tsx bench/gateways/storm.ts [alerts=1000] [spreadMs=1000]
 */

import { setTimeout as delay } from 'node:timers/promises';
import { maxPerWindow } from '../../test/chaos/hub-chaos-support.js';
import { pct, pgUp } from '../support.js';
import {
  accounted,
  amBody,
  freshStore,
  gatewayHubConfig,
  postHook,
  startEmulatorProcess,
  startHubProcess,
} from './support.js';

const ALERTS = Number(process.argv[2] ?? 1_000);
const SPREAD_MS = Number(process.argv[3] ?? 1_000);
const PER_BODY = 10;
const GROUPS = 4;
const WINDOW = 2_000;
const EMU_LIMIT = 20;
const HUB_BUDGET = 19;

interface Row {
  store: string;
  mode: 'concurrent' | 'sequential';
  acceptSpanMs: number;
  p50: number;
  p99: number;
  makespanMs: number;
  ratio: number;
  messages: number;
  counted: number;
  throttles: number;
  busiest: number;
  cpuMs: number;
}

async function run(kind: 'sqlite' | 'postgres', mode: Row['mode']): Promise<Row> {
  const emu = await startEmulatorProcess(GROUPS, EMU_LIMIT, WINDOW);
  const db = await freshStore(kind);
  const hub = await startHubProcess({
    config: gatewayHubConfig(emu, GROUPS, { budget: HUB_BUDGET, windowMs: WINDOW }),
    databaseUrl: db.databaseUrl,
    schema: db.schema,
  });
  try {
    const bodies = Array.from({ length: ALERTS / PER_BODY }, (_, r) =>
      amBody(`g${r % GROUPS}`, `storm-${r}`, PER_BODY, `storm-${r}`),
    );
    // Warm-up: one alert per group through the whole path (the hub's code loads on first use), then a window's
    // wait so the storm starts with every robot's budget free. Only messages after it are counted.
    for (let g = 0; g < GROUPS; g++) await postHook(hub.url, amBody(`g${g}`, `warm-${g}`, 1, `warm-${g}`));
    for (;;) {
      const ms = await emu.messages();
      if (Array.from({ length: GROUPS }, (_, i) => accounted(ms, `r${i}`)).every((p) => p.alerts >= 1)) break;
      await delay(50);
    }
    await delay(WINDOW + 100);
    const seq0 = Math.max(0, ...(await emu.messages()).map((m) => m.seq));
    const cpu0 = await hub.cpu();
    const first = Date.now();
    const t0 = performance.now();
    const answers: Array<{ status: number; ms: number; at: number }> = [];
    if (mode === 'concurrent') {
      await Promise.all(
        bodies.map(async (b, i) => {
          await delay((i * SPREAD_MS) / bodies.length);
          answers.push(await postHook(hub.url, b));
        }),
      );
    } else {
      for (const b of bodies) answers.push(await postHook(hub.url, b));
    }
    const acceptSpanMs = performance.now() - t0;
    const bad = answers.filter((a) => a.status !== 202);
    if (bad.length > 0) throw new Error(`${bad.length} posts not accepted (${bad[0]!.status})`);
    const deadline = Date.now() + 120_000;
    let counted = 0;
    let messages = 0;
    let lastAt = 0;
    for (;;) {
      const msgs = (await emu.messages()).filter((m) => m.seq > seq0);
      const per = Array.from({ length: GROUPS }, (_, i) => accounted(msgs, `r${i}`));
      counted = per.reduce((s, p) => s + p.alerts, 0);
      messages = per.reduce((s, p) => s + p.messages, 0);
      lastAt = Math.max(...per.map((p) => p.lastAt));
      if (counted >= ALERTS || Date.now() > deadline) break;
      await delay(100);
    }
    // A few more flush rounds: an alert counted twice would show now.
    await delay(500);
    const msgs = (await emu.messages()).filter((m) => m.seq > seq0);
    counted = Array.from({ length: GROUPS }, (_, i) => accounted(msgs, `r${i}`)).reduce(
      (s, p) => s + p.alerts,
      0,
    );
    const cpuMs = ((await hub.cpu()) - cpu0) / 1000;
    const sends = (await emu.sends()).filter((r) => r.at >= first);
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    const makespanMs = lastAt - first;
    return {
      store: kind,
      mode,
      acceptSpanMs,
      p50: pct(ms, 50),
      p99: pct(ms, 99),
      makespanMs,
      ratio: makespanMs / acceptSpanMs,
      messages,
      counted,
      throttles: sends.filter((s) => s.code !== 0).length,
      busiest: Math.max(0, ...maxPerWindow(sends, WINDOW).values()),
      cpuMs: cpuMs / bodies.length,
    };
  } finally {
    await hub.close();
    await emu.close();
    await db.drop();
  }
}

const stores: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (await pgUp()) stores.push('postgres');
else process.stdout.write('PostgreSQL not reachable: its rows are skipped\n');
const rows: Row[] = [];
// GWBENCH_CASES=sqlite:concurrent,postgres:sequential runs only those cases.
const only = process.env['GWBENCH_CASES']?.split(',');
for (const s of stores)
  for (const m of ['concurrent', 'sequential'] as const)
    if (!only || only.includes(`${s}:${m}`)) rows.push(await run(s, m));

const f = (x: number, d = 0) => x.toFixed(d);
process.stdout.write(
  `\nalert storm: ${ALERTS} alerts in ${ALERTS / PER_BODY} bodies over ${GROUPS} robots (emulator ${EMU_LIMIT} per ${WINDOW} ms, hub budget ${HUB_BUDGET})\n\n` +
    '| store      | posting    | accepts: span ms, p50 / p99 ms | makespan ms | ÷ minimum | messages | alerts counted | throttles | busiest window | hub CPU ms / request |\n' +
    '| ---------- | ---------- | ------------------------------ | ----------- | --------- | -------- | -------------- | --------- | -------------- | -------------------- |\n' +
    rows
      .map(
        (r) =>
          `| ${r.store} | ${r.mode} | ${f(r.acceptSpanMs)}, ${f(r.p50, 1)} / ${f(r.p99, 1)} | ${f(r.makespanMs)} | ${f(r.ratio, 2)} | ${r.messages} | ${r.counted} / ${ALERTS} | ${r.throttles} | ${r.busiest} / ${EMU_LIMIT} | ${f(r.cpuMs, 2)} |`,
      )
      .join('\n') +
    '\n',
);
