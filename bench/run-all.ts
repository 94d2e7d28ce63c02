/**
 * Runs every benchmark one after the other, each in its own Node process (a benchmark's heap, sockets and
 * timers never leak into the next one's figures), and prints their tables in order.
 *
 *   npm run bench                 every benchmark
 *   npm run bench -- sdk hub      only the ones whose name starts with one of the words
 *
 * Each benchmark can also be run alone (see the command in the list below). Nothing here asserts a speed.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

interface Bench {
  name: string;
  script: string;
  args?: string[];
  what: string;
}

const BENCHES: Bench[] = [
  {
    name: 'sdk',
    script: 'bench/sdk/run.ts',
    what: 'library vs official clients and raw HTTP (req/s, CPU, RSS)',
  },
  { name: 'emulator', script: 'bench/emulator/run.ts', what: 'emulator sends/s and Stream frames/s' },
  { name: 'api', script: 'bench/api/run.ts', what: 'HTTP API layer, in-process and over a socket' },
  { name: 'hub-store', script: 'bench/hub/store.ts', what: 'store enqueue latency and dispatch rate' },
  { name: 'hub', script: 'bench/hub/run.ts', what: 'hub send latency, delivery rate, command round trip' },
  {
    name: 'hub-upload-flood',
    script: 'bench/hub/upload-flood.ts',
    what: '50 concurrent 20 MB uploads: the hub process peak RSS and throughput',
  },
  {
    name: 'hub-makespan',
    script: 'bench/hub/makespan.ts',
    what: '1,000 messages over 50 robots vs naive loops',
  },
  {
    name: 'gateways-accept',
    script: 'bench/gateways/accept.ts',
    what: 'hook door accept latency at 200 Alertmanager bodies/s, SQLite and PostgreSQL, hub CPU per request',
  },
  {
    name: 'gateways-storm',
    script: 'bench/gateways/storm.ts',
    what: '1,000 alerts in about a second under robot limits: makespan ÷ minimum, every alert counted',
  },
];

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const selected =
  wanted.length === 0 ? BENCHES : BENCHES.filter((b) => wanted.some((w) => b.name.startsWith(w)));

if (selected.length === 0) {
  process.stderr.write(
    `no benchmark matches ${wanted.join(' ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}

const failed: string[] = [];
for (const bench of selected) {
  process.stdout.write(`\n=== ${bench.name}: ${bench.what}\n    node --import tsx ${bench.script}\n\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', bench.script, ...(bench.args ?? [])], {
    cwd: root,
    stdio: 'inherit',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) failed.push(`${bench.name} (exit ${code})`);
}

if (failed.length > 0) {
  process.stderr.write(`\nfailed: ${failed.join(', ')}\n`);
  process.exit(1);
}
