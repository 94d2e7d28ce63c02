/**
 * Warm standby processes for the chaos tests. Starting a process through tsx costs 1.5–3 s on a loaded 2-core
 * machine, nearly all of it loading and transforming modules; a test that kills and restarts processes twenty
 * times spends most of its time there. A standby is started ahead of need: it loads its modules (the static
 * imports of its script) and then waits for one JSON line on stdin before it does anything (open the store, bind
 * a port). The test writes that line when the process is due — after the previous one is dead — so what a test
 * proves is unchanged: a fresh process on the same database after a kill; only the module loading overlaps.
 *
 * Child side: `awaitGo()`. Parent side: `Standby`.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { nodeArgs } from '../support/bundles.js';

/**
 * In the child: resolves with the JSON object of the first stdin line. Before that line, an end of stdin (the
 * test runner died or dropped the standby) exits quietly.
 */
export function awaitGo<T>(): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onEnd = () => process.exit(0);
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      // A paused pipe holds no loop reference in libuv; unref says so explicitly, so a script that is done exits.
      (process.stdin as { unref?: () => void }).unref?.();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as T);
      } catch (e) {
        reject(e);
      }
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
  });
}

export interface StandbyOptions {
  /** Working directory of the processes. */
  cwd?: string | undefined;
  /** Environment (only what the script needs: a developer's DINGKIT_* must not leak in). */
  env?: Record<string, string> | undefined;
}

/** Processes of one script, started ahead of need; `start(go)` hands out a warm one (or a new one). */
export class Standby {
  readonly #script: string;
  readonly #o: StandbyOptions;
  readonly #waiting: ChildProcessWithoutNullStreams[] = [];

  constructor(script: string, o: StandbyOptions = {}) {
    this.#script = script;
    this.#o = o;
  }

  #spawn(): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, nodeArgs(this.#script), {
      cwd: this.#o.cwd,
      env: this.#o.env ?? { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Starts `n` more standbys that load their code and wait. */
  warm(n = 1): void {
    for (let i = 0; i < n; i++) this.#waiting.push(this.#spawn());
  }

  /** A waiting standby (or a new process when none waits), told to go with `go`. */
  start(go: unknown): ChildProcessWithoutNullStreams {
    let child = this.#waiting.shift();
    while (child && child.exitCode !== null) child = this.#waiting.shift();
    child ??= this.#spawn();
    child.stdin.write(`${JSON.stringify(go)}\n`);
    return child;
  }

  /** Kills the standbys nobody took. */
  async close(): Promise<void> {
    const left = this.#waiting.splice(0);
    await Promise.all(
      left.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
  }
}
