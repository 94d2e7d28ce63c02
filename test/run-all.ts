/**
 * `npm test`: lint, then the type check and every vitest project at the same time. Arguments go to vitest.
 *
 * The type check (tsc, about 14 CPU-seconds) used to run alone between the lint and vitest, while vitest leaves
 * part of the machine idle whenever its tests wait on sockets, timers and child processes. It now runs beside
 * vitest at the lowest CPU priority (nice 19), so it takes the idle share rather than time from the tests that
 * measure time; it still ends well inside vitest's run (60–125 s after the start, against 200+ s for vitest).
 * Its output is held and printed after vitest's; the run fails when either fails, as before. The lint still
 * runs first and alone: it takes two seconds and fails fast on what a push most often gets wrong.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

/** The script behind a package's command (`bin` of its package.json), run with this node. */
function bin(pkg: string, name: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (require(manifest) as { bin: Record<string, string> }).bin;
  const file = bins[name];
  if (!file) throw new Error(`${pkg} has no ${name} command`);
  return join(dirname(manifest), file);
}

interface Done {
  code: number;
  ms: number;
  output: string;
}

/** Runs `node <script> ...args` in the repository root; `held` keeps its output for later instead of showing it. */
function run(script: string, args: string[], o: { held?: boolean; nice?: number } = {}): Promise<Done> {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    stdio: o.held ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (o.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, o.nice);
    } catch {
      // Not allowed here (some containers): it runs at normal priority, which is only slower.
    }
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  return new Promise((resolveDone) => {
    child.once('error', (e) => resolveDone({ code: 1, ms: Date.now() - started, output: String(e) }));
    child.once('close', (code, signal) =>
      resolveDone({ code: code ?? (signal ? 1 : 0), ms: Date.now() - started, output }),
    );
  });
}

const lint = await run(bin('@biomejs/biome', 'biome'), ['check', '.']);
if (lint.code !== 0) process.exit(lint.code);

const typecheck = run(bin('typescript', 'tsc'), ['-p', 'tsconfig.json', '--noEmit'], {
  held: true,
  nice: 19,
});
const tests = await run(bin('vitest', 'vitest'), ['run', ...process.argv.slice(2)]);
const types = await typecheck;
process.stdout.write(types.output);
console.log(
  `type check: ${types.code === 0 ? 'no errors' : `failed (exit ${types.code})`} in ${(types.ms / 1000).toFixed(1)} s`,
);
process.exit(tests.code !== 0 ? tests.code : types.code);
