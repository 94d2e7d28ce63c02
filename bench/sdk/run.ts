/**
 * bench/sdk: the same workload through dingkit and its peers, in one run, against a minimal stub server (client
 * overhead) and against the dingkit emulator (a realistic server). Prints a table with ratios to the official
 * SDK (`@alicloud/dingtalk`, group sends) or the community sender (`dingtalk-robot-sender`, webhook sends), and to
 * the raw `undici.request` loop, the practical ceiling.
 *
 * Usage: node --import tsx bench/sdk/run.ts [--count 20000] [--targets stub,emulator]
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PeerTarget, Workload } from './peers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const COUNT = Number(arg('count', '20000'));
const TARGETS = arg('targets', 'stub,emulator').split(',');
const PEERS = ['dingkit', '@alicloud/dingtalk', 'dingtalk-robot-sender', 'raw-undici', 'raw-fetch'];
const WORKLOADS: Workload[] = ['webhook', 'group'];
const CONCURRENCY = [1, 32];

interface Row {
  peer: string;
  workload: string;
  concurrency: number;
  rps: number;
  /** Client CPU µs per request. */
  cpuUs: number;
  p50: number;
  p99: number;
  rssMB: number;
  errors: number;
  skipped?: boolean;
}

function node(script: string, argv: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `${here}${script}`, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  let buf = '';
  for await (const chunk of child.stdout!) {
    buf += String(chunk);
    const nl = buf.indexOf('\n');
    if (nl >= 0) return buf.slice(0, nl);
  }
  throw new Error('child exited without output');
}

async function startTarget(kind: string): Promise<{ target: PeerTarget; stop: () => Promise<void> }> {
  const child = node(kind === 'stub' ? 'stub-server.ts' : 'emulator-target.ts', []);
  const line = await firstLine(child);
  const port = Number(line.split(' ')[1]);
  const extra = kind === 'stub' ? {} : (JSON.parse(line.slice(line.indexOf('{'))) as Partial<PeerTarget>);
  const target: PeerTarget = {
    base: `http://127.0.0.1:${port}`,
    robotToken: 'b'.repeat(64),
    robotSecret: `SEC${'c'.repeat(64)}`,
    appKey: 'dingbenchapp',
    appSecret: 'bench-secret',
    openConversationId: 'cidBENCH==',
    ...extra,
  };
  return {
    target,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function cell(peer: string, w: Workload, c: number, t: PeerTarget): Promise<Row> {
  const child = node('peer-process.ts', [peer, w, String(c), String(COUNT), JSON.stringify(t)]);
  const line = await firstLine(child);
  await once(child, 'exit');
  return JSON.parse(line) as Row;
}

function table(rows: Row[], kind: string): string {
  const out = [`\n### target: ${kind} (${COUNT} requests per cell)\n`];
  out.push(
    '| workload | conc | client | req/s | CPU µs/req | p50 ms | p99 ms | peak RSS MB | vs official | vs raw undici | CPU vs official | CPU vs raw undici |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const w of WORKLOADS) {
    for (const c of CONCURRENCY) {
      const cellRows = rows.filter((r) => r.workload === w && r.concurrency === c && !r.skipped);
      const official = cellRows.find(
        (r) => r.peer === (w === 'group' ? '@alicloud/dingtalk' : 'dingtalk-robot-sender'),
      );
      const raw = cellRows.find((r) => r.peer === 'raw-undici');
      for (const r of cellRows) {
        const vs = (x?: Row) => (x ? `${(r.rps / x.rps).toFixed(2)}×` : '—');
        // Higher is better in both: req/s ratio, and how many times less CPU than the peer.
        const cpuVs = (x?: Row) => (x ? `${(x.cpuUs / r.cpuUs).toFixed(2)}×` : '—');
        out.push(
          `| ${w} | ${c} | ${r.peer}${r.errors ? ` (${r.errors} errors)` : ''} | ${r.rps} | ${r.cpuUs} | ${r.p50} | ${r.p99} | ${r.rssMB} | ${vs(official)} | ${vs(raw)} | ${cpuVs(official)} | ${cpuVs(raw)} |`,
        );
      }
    }
  }
  return out.join('\n');
}

async function singleFlight(t: PeerTarget): Promise<string> {
  const child = node('single-flight.ts', [t.base]);
  const line = await firstLine(child);
  await once(child, 'exit');
  const r = JSON.parse(line) as { calls: number; tokenFetches: number; failed: number; ms: number };
  return `\ntoken single-flight: ${r.tokenFetches} token fetch(es) for ${r.calls} concurrent calls on a cold client (${r.failed} failed, ${r.ms} ms)\n`;
}

async function main(): Promise<void> {
  for (const kind of TARGETS) {
    const { target, stop } = await startTarget(kind);
    const rows: Row[] = [];
    let extra = '';
    try {
      for (const w of WORKLOADS)
        for (const c of CONCURRENCY) for (const p of PEERS) rows.push(await cell(p, w, c, target));
      if (kind === 'stub') extra = await singleFlight(target);
    } finally {
      await stop();
    }
    process.stdout.write(`${table(rows, kind)}\n${extra}`);
  }
}

await main();
