/**
 * A hub process for bench/hub/processes.ts: test/chaos/hub-runner.ts (what `dingkit serve` runs) plus a way to
 * read its CPU time. On SIGUSR2 it writes one stdout line `cpu <µs>` (user + system since the process started),
 * so the bench takes the difference over a phase: the hub's CPU per delivered message, a figure much less
 * sensitive to the other work on the machine than rates and latencies are. The same line carries `loop <ns>`: the
 * 99th percentile of the hub's event-loop delay since the last signal.
 *
 * `HBENCH_PROFILE=<dir>` in its environment: the first SIGUSR2 also starts a V8 CPU profile, the second writes it
 * to `<dir>/hub-<pid>.cpuprofile` (open it in Chrome's DevTools or speedscope).
 */

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const profileDir = process.env['HBENCH_PROFILE'];
let session: Session | undefined;
let marks = 0;

/** The hub's own event-loop delay since the last reading: a stall here delays every request it serves. */
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

process.on('SIGUSR2', () => {
  const u = process.cpuUsage();
  process.stdout.write(`cpu ${u.user + u.system} loop ${Math.round(loop.percentile(99))}\n`);
  loop.reset();
  if (!profileDir) return;
  marks++;
  void (async () => {
    if (marks === 1) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    } else if (marks === 2 && session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(profileDir, `hub-${process.pid}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
  })();
});

await import('../../test/chaos/hub-runner.js');
