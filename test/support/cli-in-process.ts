/**
 * Runs the CLI in the test's own process through `runCli` (src/cli/run.ts) with what src/cli/main.ts passes it:
 * the same argv, an IO whose streams are buffers, the same environment a child would get from cli-process.ts,
 * and the same standalone hub starter. A child process costs 1-3 s of tsx start-up on a loaded machine; this
 * costs milliseconds. The few tests that are about the executable itself (exit status, signals, `serve`) keep
 * using runCliProcess.
 */

import { PassThrough, Readable, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { startLocalHub } from '../../src/cli/local-hub.js';
import { runCli } from '../../src/cli/run.js';
import { CLI_ROOT, type CliRun, childEnv } from './cli-process.js';

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

/**
 * Same options and result as runCliProcess, minus the kill timeout (a hung command fails the test's own
 * timeout instead). `cwd` is also made the process's working directory for the run, as it is for a child:
 * the CLI resolves a relative SQLite path against the process's directory, not only against `io.cwd`. The
 * forks pool gives each test file its own process, and the previous directory comes back afterwards.
 */
export async function runCliInProcess(
  args: readonly string[],
  o: {
    env?: Record<string, string | undefined>;
    /** `null` leaves stdin open and silent, like a CI runner that never closes it. */
    stdin?: string | Buffer | null;
    cwd?: string;
  } = {},
): Promise<CliRun> {
  const stdout = new Collect();
  const stderr = new Collect();
  const stdin =
    o.stdin === null ? new PassThrough() : Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]);
  const before = process.cwd();
  const cwd = o.cwd ?? CLI_ROOT;
  process.chdir(cwd);
  try {
    const io: CliIo = { stdout, stderr, stdin, env: childEnv(o.env), cwd: process.cwd() };
    const code = await runCli(args, io, { startLocalHub });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(before);
    stdin.destroy();
  }
}
