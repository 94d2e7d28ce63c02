/**
 * vitest globalSetup of the chaos project: builds each script the chaos tests start as a child process (hub
 * runner, workers, `serve`, the lossy twin) into one plain ES module, once per run, so the tests start
 * `node <bundle>` instead of `node --import tsx <script>`. Under tsx every start resolves and transforms the
 * whole module graph again (about a hundred files); a chaos run starts some seventy processes on a 2-core
 * machine, and that work competed with the hubs the tests were timing. The bundle is the same source run
 * through the same transformer (esbuild, which tsx uses too): what a process does is unchanged.
 *
 * Where: `test-artifacts/<run dir>/`, two levels below the repository root like `src/cli/`, so the relative
 * look-ups the code makes at run time (`../../package.json` for the version, packages from `node_modules`)
 * find the same files. The run's directory is removed at teardown. Standby (standby.ts) reads the map of
 * script → bundle from `DINGKIT_TEST_BUNDLES`, which the test workers inherit; without it (a file run outside
 * this project) it falls back to tsx.
 */

import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The scripts the chaos tests start (Standby's `script` argument), relative to the repository root. */
export const CHILD_SCRIPTS = [
  'test/chaos/hub-runner.ts',
  'test/chaos/dispatch-worker.ts',
  'test/chaos/enqueue-worker.ts',
  'test/chaos/serve-standby.ts',
  'test/chaos/fixtures/lossy-server.ts',
] as const;

/** The part of esbuild's API used here (esbuild comes with tsx; it is not a dependency of its own). */
interface Esbuild {
  build(o: {
    entryPoints: Record<string, string>;
    outdir: string;
    bundle: true;
    platform: 'node';
    format: 'esm';
    target: string;
    packages: 'external';
    outExtension: Record<string, string>;
    logLevel: 'error';
  }): Promise<{ errors: unknown[] }>;
}

/** esbuild as tsx resolves it, so the transform is the one the tests would otherwise run through. */
function esbuild(): Esbuild {
  // (vitest runs this file in its module runner, which has no import.meta.resolve: go through require.)
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return createRequire(tsx)('esbuild') as Esbuild;
}

export default async function setup(): Promise<() => void> {
  const dir = join(ROOT, 'test-artifacts', `chaos-bundles-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  const entryPoints: Record<string, string> = {};
  const map: Record<string, string> = {};
  for (const script of CHILD_SCRIPTS) {
    const name = basename(script, '.ts');
    entryPoints[name] = join(ROOT, script);
    map[join(ROOT, script)] = join(dir, `${name}.mjs`);
  }
  try {
    await esbuild().build({
      entryPoints,
      outdir: dir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      logLevel: 'error',
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  process.env['DINGKIT_TEST_BUNDLES'] = JSON.stringify(map);
  return () => {
    delete process.env['DINGKIT_TEST_BUNDLES'];
    rmSync(dir, { recursive: true, force: true });
  };
}
