/**
 * Scripts the tests start as child processes (the CLI, the chaos hub runner and workers), built once per run into
 * one plain ES module each, so a test starts `node <bundle>` instead of `node --import tsx <script>`. Under tsx
 * every start resolves and transforms the whole module graph again (about a hundred files, 1–1.5 CPU-s for the
 * hub or `serve`; a bundle loads in about a third of that). The bundle is the same source through the same
 * transformer (esbuild, which tsx uses too): what a process does is unchanged.
 *
 * Where: `test-artifacts/<run dir>/`, two levels below the repository root like `src/cli/`, so the relative
 * look-ups the code makes at run time (`../../package.json` for the version, packages from `node_modules`)
 * find the same files. The directory is removed at teardown.
 *
 * A vitest globalSetup (test/chaos/prebuild.ts, test/support/prebuild-cli.ts) builds them in vitest's main
 * process and records script → bundle in `DINGKIT_TEST_BUNDLES`, which the test workers inherit. `nodeArgs`
 * reads it; a script nobody built (a file run outside its project) starts through tsx as before.
 */

import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const ENV = 'DINGKIT_TEST_BUNDLES';

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
  }): Promise<unknown>;
}

/** esbuild as tsx resolves it, so the transform is the one the tests would otherwise run through. */
function esbuild(): Esbuild {
  // (vitest runs a globalSetup in its module runner, which has no import.meta.resolve: go through require.)
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return createRequire(tsx)('esbuild') as Esbuild;
}

function readMap(): Record<string, string> {
  return JSON.parse(process.env[ENV] ?? '{}') as Record<string, string>;
}

/** Removes what runs stopped before their teardown (Ctrl-C) left behind: directories of `label` over a day old. */
function pruneStale(artifacts: string, label: string): void {
  let names: string[];
  try {
    names = readdirSync(artifacts);
  } catch {
    return; // no test-artifacts yet
  }
  const dayAgo = Date.now() - 86_400_000;
  for (const name of names) {
    if (!name.startsWith(`${label}-`)) continue;
    const path = join(artifacts, name);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone meanwhile (another run pruned it): nothing to do.
    }
  }
}

/**
 * Builds `scripts` (paths relative to the repository root) not built yet and adds them to the map the workers
 * inherit; returns the teardown that removes them again. `label` names the run's directory; `project` (the
 * globalSetup's argument) has them rebuilt before each rerun in watch mode.
 */
export async function buildBundles(
  label: string,
  scripts: readonly string[],
  project?: Pick<TestProject, 'vitest' | 'onTestsRerun'>,
): Promise<() => void> {
  // Another project's setup in this process may have built some already (teardowns all run at the end).
  const before = readMap();
  scripts = scripts.filter((s) => !before[join(ROOT, s)]);
  if (scripts.length === 0) return () => {};
  const artifacts = join(ROOT, 'test-artifacts');
  pruneStale(artifacts, label);
  const dir = join(artifacts, `${label}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  const entryPoints: Record<string, string> = {};
  const built: Record<string, string> = {};
  for (const script of scripts) {
    const name = basename(script, '.ts');
    entryPoints[name] = join(ROOT, script);
    built[join(ROOT, script)] = join(dir, `${name}.mjs`);
  }
  const build = () =>
    esbuild().build({
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
  try {
    await build();
    // Watch mode: the sources change between reruns, and a stale bundle would run the old code.
    if (project?.vitest.config.watch) project.onTestsRerun(async () => void (await build()));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // Several projects' setups run in the same process: each adds its own scripts.
  process.env[ENV] = JSON.stringify({ ...readMap(), ...built });
  return () => {
    const map = readMap();
    for (const script of Object.keys(built)) delete map[script];
    process.env[ENV] = JSON.stringify(map);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** The node arguments that start `script` (an absolute path): its bundle when one was built this run, else tsx. */
export function nodeArgs(script: string): string[] {
  const bundle = readMap()[script];
  return bundle ? [bundle] : ['--import', import.meta.resolve('tsx'), script];
}
