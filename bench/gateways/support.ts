/**
 * What the gateway benchmarks share: the emulator and the hub each in a process of their own (their work must not
 * share an event loop with the bench's clients), a fresh store per case, Alertmanager bodies, and the count of
 * alerts that reached a group (a digest says how many it carries; a single alert is one).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import type { MessageRecord } from '../../src/emulator/types.js';
import { openStore } from '../../src/store/open-store.js';
import { productionConfig } from '../../test/chaos/hub-chaos-support.js';
import { lineOf, type RemoteEmulator } from '../hub/remote-emulator.js';
import { dropPgStore, PG_URL } from '../support.js';

export { type RemoteEmulator, startEmulatorProcess } from '../hub/remote-emulator.js';

export const HOOK_TOKEN = 'bench-hook-token-0123456789abcdef';

export interface HubProcess {
  url: string;
  /** CPU µs the hub process has used so far. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

/** A fresh store: a SQLite file in a temporary directory, or a PostgreSQL schema of its own. */
export async function freshStore(kind: 'sqlite' | 'postgres'): Promise<{
  databaseUrl: string;
  schema?: string;
  drop(): Promise<void>;
}> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dingkit-gwbench-'));
    return {
      databaseUrl: `sqlite:${join(dir, 'hub.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `gwbench_${process.pid}_${Date.now().toString(36)}`;
  return {
    databaseUrl: PG_URL,
    schema,
    async drop() {
      await dropPgStore(await openStore({ url: PG_URL, schema, migrate: false }), schema);
    },
  };
}

export async function startHubProcess(input: {
  config: Record<string, unknown>;
  databaseUrl: string;
  schema?: string | undefined;
}): Promise<HubProcess> {
  const script = fileURLToPath(new URL('./hub-process.ts', import.meta.url));
  // GWBENCH_PROFILE=<dir>: the hub writes a V8 CPU profile there when it exits (open it in Chrome's DevTools).
  const prof = process.env['GWBENCH_PROFILE'];
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
  });
  child.stdin!.end(`${JSON.stringify(input)}\n`);
  const url = (await lineOf(child, /ready (\S+)\n/))[1]!;
  return {
    url,
    async cpu() {
      const m = lineOf(child, /cpu (\d+)\n/);
      child.kill('SIGUSR2');
      return Number((await m)[1]);
    },
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The hub's config: `robots` groups g0.. each with its own custom robot, the robot budget `budget` per `windowMs`,
 * and one Alertmanager route (bearer) whose rule sends an alert to the group named by its `group` label.
 */
export function gatewayHubConfig(
  emu: RemoteEmulator,
  robots: number,
  o: { budget: number; windowMs: number; gateways?: Record<string, unknown> },
): Record<string, unknown> {
  const base = productionConfig(emu, robots, { robotBudget: { limit: o.budget, windowMs: o.windowMs } });
  return {
    ...base,
    gateways: {
      flushMs: 50,
      flapWindowMs: 0,
      ...o.gateways,
      routes: [
        {
          name: 'am',
          kind: 'alertmanager',
          locale: 'en',
          auth: { type: 'bearer', token: HOOK_TOKEN },
          rules: Array.from({ length: robots }, (_, i) => ({
            match: { group: `g${i}` },
            targets: { groups: [`g${i}`] },
          })),
        },
      ],
    },
  };
}

/** An Alertmanager v4 body of `n` firing alerts of one group, fingerprints `<prefix>-<i>`. */
export function amBody(group: string, prefix: string, n: number, groupKey: string): string {
  const startsAt = new Date().toISOString();
  const alerts = Array.from({ length: n }, (_, i) => ({
    status: 'firing',
    labels: { alertname: `Bench${group}`, group, severity: 'warning', instance: `node-${prefix}-${i}` },
    annotations: { summary: `bench alert ${prefix}-${i}` },
    startsAt,
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: `${prefix}-${i}`,
  }));
  return JSON.stringify({
    version: '4',
    groupKey,
    status: 'firing',
    receiver: 'dingkit',
    groupLabels: { alertname: `Bench${group}` },
    commonLabels: { group },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.bench:9093',
    alerts,
  });
}

/** Alerts a robot's messages account for: a digest's count, or one for a single alert's message. */
export function accounted(
  msgs: readonly MessageRecord[],
  robot: string,
): { alerts: number; messages: number; lastAt: number } {
  let alerts = 0;
  let lastAt = 0;
  const mine = msgs.filter((m) => m.robot === robot && m.source === 'custom_robot');
  for (const m of mine) {
    const digest = /📋 (\d+) alerts/.exec(m.text);
    if (digest) alerts += Number(digest[1]);
    else if (m.text.includes('FIRING:')) alerts += 1;
    lastAt = Math.max(lastAt, m.at);
  }
  return { alerts, messages: mine.length, lastAt };
}

/**
 * The bench's client: keep-alive connections, and a connect timeout long enough for a loaded machine (undici's
 * 10 s default failed a run at load 14 while the hub was still answering).
 */
const agent = new Agent({ connections: 128, connectTimeout: 60_000, headersTimeout: 120_000 });

/** POSTs a body to the hub's Alertmanager door; resolves to the status and the milliseconds to the answer. */
export async function postHook(
  url: string,
  body: string,
): Promise<{ status: number; ms: number; at: number }> {
  const t0 = performance.now();
  const res = await request(`${url}/hooks/am`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` },
    body,
    dispatcher: agent,
  });
  await res.body.dump();
  return { status: res.statusCode, ms: performance.now() - t0, at: Date.now() };
}
