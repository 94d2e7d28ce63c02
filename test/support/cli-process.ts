/** Runs the CLI (`src/cli/main.ts`, bundled or through tsx) as a child process, the way a user or a script would. */

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgs } from './bundles.js';

/** The repository root: the working directory of a CLI run that names none. */
export const CLI_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_MAIN = resolve(CLI_ROOT, 'src/cli/main.ts');
/**
 * The node arguments that run the CLI with `args`: the bundle of `src/cli/main.ts` built for this run
 * (prebuild-cli.ts), or the source through tsx. Absolute paths, so any working directory works.
 */
export function cliArgs(...args: string[]): string[] {
  return [...nodeArgs(CLI_MAIN), ...args];
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only what the CLI needs from the parent environment: a stray DINGKIT_* of the developer must not leak in. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCliProcess(
  args: readonly string[],
  o: {
    env?: Record<string, string | undefined>;
    /** `null` leaves stdin open and silent, like a CI runner that never closes it. */
    stdin?: string | Buffer | null;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, cliArgs(...args), {
      cwd: o.cwd ?? CLI_ROOT,
      env: childEnv(o.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    if (o.stdin !== null) child.stdin.end(o.stdin ?? '');
  });
}
