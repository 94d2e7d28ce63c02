/**
 * An emulator in a process of its own (bench/hub/emulator-process.ts: the chaos org of N custom robots, each limited
 * `limit` per `windowMs`), read through its control API: the benches' clients must not share its event loop.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { MessageRecord, OrgDef, RequestRecord } from '../../src/emulator/types.js';
import { chaosOrg } from '../../test/chaos/hub-chaos-support.js';

export interface RemoteEmulator {
  url: string;
  state: { org: OrgDef };
  messages(): Promise<MessageRecord[]>;
  sends(): Promise<RequestRecord[]>;
  close(): Promise<void>;
}

/** The first match of `re` in a child's stdout (a child prints its port or readiness as a line). */
export async function lineOf(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = re.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${re}`)));
  });
}

export async function startEmulatorProcess(
  robots: number,
  limit: number,
  windowMs: number,
): Promise<RemoteEmulator> {
  const script = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, String(robots), String(limit), String(windowMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = Number((await lineOf(child, /PORT (\d+)/))[1]);
  const url = `http://127.0.0.1:${port}`;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}/_emulator/${path}`);
    if (!r.ok) throw new Error(`emulator ${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  };
  return {
    url,
    // The org the child built: the same, since its tokens and secrets derive from each robot's index.
    state: { org: chaosOrg(robots).org },
    messages: () => get<MessageRecord[]>('messages'),
    sends: () => get<RequestRecord[]>(`requests?route=${encodeURIComponent('POST /robot/send')}`),
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
