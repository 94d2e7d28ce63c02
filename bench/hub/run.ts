/**
 * Hub figures, one run, one table: how long `sendMessage` takes to answer (the request is durable when it
 * returns), how fast the dispatcher then delivers to the emulator, and how long a chat command takes from the
 * emulator's push to its state change. SQLite always; PostgreSQL when DINGKIT_TEST_PG_URL answers.
 *
 *   node --import tsx bench/hub/run.ts [messages=2000]
 *
 * Not a test: nothing here asserts a speed.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchHub } from '../../src/cli/launch-hub.js';
import { parseConfig } from '../../src/hub/config.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { dropPgStore, PG_URL, pct, pgUp } from '../support.js';

const N = Number(process.argv[2] ?? 2000);
const ENG = 'cidDemoEngineering0001==';

async function run(name: string, store: Store): Promise<Record<string, string | number>> {
  const hub = await launchHub({
    config: parseConfig({ emulator: { mode: 'on', port: 0 }, dispatcher: { pollMs: 20, workers: 16 } }, {}),
    store,
    emulator: { port: 0, logRequests: false },
  });
  try {
    const emu = hub.emulator!;
    const total = () => emu.messages().filter((m) => m.text.startsWith('bench message')).length;
    // Spread over seven conversations (two groups through the app robot, five people 1:1): each conversation
    // is delivered in order, one at a time, so this is what parallelism across conversations gives.
    const targets: Array<{ group: string } | { to: string[] }> = [
      { group: 'engineering' },
      { group: 'ops', via: 'app' } as { group: string },
      ...['zhangsan', 'lisi', 'wangwu', 'alice', 'bob'].map((p) => ({ to: [p] })),
    ];
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const s = performance.now();
      await hub.sendMessage({ ...targets[i % targets.length]!, text: `bench message ${i}` }, { by: 'bench' });
      lat.push(performance.now() - s);
    }
    const accepted = performance.now() - t0;
    while (total() < N) await new Promise((r) => setTimeout(r, 10));
    const delivered = performance.now() - t0;
    lat.sort((a, b) => a - b);

    // One conversation: strictly ordered, so one send at a time.
    const M = Math.min(300, N);
    const before = emu.messages(ENG).length;
    const t1 = performance.now();
    for (let i = 0; i < M; i++)
      await hub.sendMessage({ group: 'engineering', text: `ordered ${i}` }, { by: 'bench' });
    while (emu.messages(ENG).length - before < M) await new Promise((r) => setTimeout(r, 10));
    const ordered = performance.now() - t1;
    const got = emu
      .messages(ENG)
      .slice(before)
      .map((m) => Number(m.text.split(' ')[1]));
    const inOrder = got.every((v, i) => v === i);

    // Chat commands: push → inbox → state change, sequentially.
    const cmd: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = await hub.assignTask({ title: `bench ${i}`, assignees: ['lisi'] }, { by: 'bench' });
      const s = performance.now();
      await hub.emulator!.postMessage(ENG, { from: 'lisi', text: `done ${t.id}`, atBot: true });
      while ((await hub.getTask(t.id))?.state !== 'done') await new Promise((r) => setTimeout(r, 2));
      cmd.push(performance.now() - s);
    }
    cmd.sort((a, b) => a - b);
    return {
      store: name,
      messages: N,
      'accept p50 ms': pct(lat, 50).toFixed(2),
      'accept p99 ms': pct(lat, 99).toFixed(2),
      'accepted/s (sequential)': Math.round(N / (accepted / 1000)),
      'delivered/s, 7 conversations': Math.round(N / (delivered / 1000)),
      'delivered/s, 1 conversation (ordered)': Math.round(M / (ordered / 1000)),
      'in order': inOrder ? 'yes' : 'NO',
      'chat done→state p50 ms': pct(cmd, 50).toFixed(1),
      'chat done→state p99 ms': pct(cmd, 99).toFixed(1),
    };
  } finally {
    await hub.stop();
  }
}

const rows: Array<Record<string, string | number>> = [];
const dir = mkdtempSync(join(tmpdir(), 'dingkit-bench-'));
try {
  rows.push(await run('sqlite', await openStore({ url: join(dir, 'hub.db') })));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (await pgUp()) {
  const schema = `bench_${Date.now().toString(36)}`;
  const store = await openStore({ url: PG_URL, schema });
  try {
    rows.push(await run('postgres', store));
  } finally {
    await dropPgStore(store, schema);
  }
} else {
  console.log(`PostgreSQL at ${PG_URL} unreachable: skipped`);
}
console.table(rows);
