/**
 * One benchmark cell in its own process (so peak RSS belongs to one client): warm up, then send `count` messages
 * with `concurrency` workers, and print one JSON line of results.
 * Usage: peer-process.ts <peer> <workload> <concurrency> <count> <targetJSON>
 */

import { type PeerTarget, peers, type Workload } from './peers.js';

const [peerName, workload, concArg, countArg, targetJson] = process.argv.slice(2);
const concurrency = Number(concArg);
const count = Number(countArg);
const target = JSON.parse(targetJson ?? '{}') as PeerTarget;

async function main(): Promise<void> {
  const make = peers[peerName ?? ''];
  if (!make) throw new Error(`unknown peer ${peerName}`);
  const send = await make(target, workload as Workload);
  if (!send) {
    process.stdout.write(`${JSON.stringify({ peer: peerName, workload, concurrency, skipped: true })}\n`);
    return;
  }
  const run = async (n: number, lat?: number[]): Promise<number> => {
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const t = performance.now();
        try {
          await send();
        } catch {
          errors++;
        }
        lat?.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return errors;
  };
  await run(Math.min(500, count));
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const errors = await run(count, lat);
  const seconds = (performance.now() - t0) / 1000;
  // CPU time per request (user + system) is the client's own cost; unlike req/s it barely moves when other
  // processes compete for the machine's cores.
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  process.stdout.write(
    `${JSON.stringify({
      peer: peerName,
      workload,
      concurrency,
      requests: count,
      errors,
      rps: Math.round(count / seconds),
      cpuUs: Number(((cpu.user + cpu.system) / count).toFixed(1)),
      p50: Number(q(0.5).toFixed(3)),
      p99: Number(q(0.99).toFixed(3)),
      rssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
