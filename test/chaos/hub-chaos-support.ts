/**
 * Shared pieces of the hub chaos tests (kill, faults, shared budget, Stream drops): the scaled parameters in one place, an org with
 * many robots, the production config pointing at the test's emulator, spawning / killing hub processes, the
 * HTTP API client, and the oracle's accounting over what the emulator recorded.
 */

import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterEach } from 'vitest';
import { demoOrg } from '../../src/emulator/demo-org.js';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { EmulatorFixture, MessageRecord, OrgDef } from '../../src/emulator/types.js';
import type { Store } from '../../src/store/open-store.js';
import type { RunnerInput } from './hub-runner.js';
import { Standby } from './standby.js';

/**
 * `DINGKIT_CHAOS_SCALE=5` multiplies the message counts for a long local run; the default (1) keeps the whole
 * chaos set within about three minutes on an idle 2-core machine.
 */
export const SCALE = Math.max(0.1, Number(process.env['DINGKIT_CHAOS_SCALE'] ?? '1') || 1);

/** Every knob of the chaos set, so a reader sees what a run means and a long run changes one number. */
export const CHAOS = {
  seed: Number(process.env['DINGKIT_CHAOS_SEED'] ?? '20261125'),
  /** (a) messages queued through the HTTP API, robots they spread over, hub kills per run. */
  kill: {
    messages: Math.round(2_000 * SCALE),
    robots: 20,
    kills: 4,
    leaseMs: 1_500,
    /** Below the lease (config check); the emulator answers in milliseconds, even on a loaded machine. */
    sendTimeoutMs: 1_200,
    drainMs: 90_000 * SCALE,
  },
  /** (b) messages under faults; the share of calls that fail. */
  faults: {
    webhookMessages: Math.round(160 * SCALE),
    appMessages: Math.round(40 * SCALE),
    robots: 10,
    /** Retries back off exponentially (1 s, 2 s, 4 s, ...) within each ordered conversation: allow for it. */
    drainMs: 150_000 * SCALE,
  },
  /** (c) three hubs on PostgreSQL, ten robots, the scaled window: hub budget vs the emulator's limit. */
  budget: {
    processes: 3,
    robots: 10,
    perRobot: Math.round(40 * SCALE),
    /** Ordered lanes (group aliases) per robot, so the hubs can reach the budget. */
    lanes: 6,
    windowMs: 2_000,
    hubLimit: 19,
    emulatorLimit: 20,
    drainMs: 120_000 * SCALE,
  },
  /** (d) chat commands posted while the Stream socket drops. */
  stream: { tasks: Math.round(12 * SCALE), dropEveryMs: 1_500, repushAckedRate: 0.5 },
  /**
   * (e) chat commands pushed over HTTP callbacks: the emulator's retry schedule (a setting, §9b) must span a hub
   * restart; half of the answered pushes come again.
   */
  http: { tasks: Math.round(12 * SCALE), repushAnsweredRate: 0.5, retries: 40, retryDelayMs: 150 },
} as const;

/** Mulberry32: a small seeded source, so kill points and choices replay from the seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex64 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The demo org plus `robots` groups, each with a signed custom robot `r<i>` and the app robot installed (so a
 * test can send through either channel). Signed, as production robots usually are (docs/dingtalk.md §2.2).
 */
export function chaosOrg(robots: number, appGroups = 0): EmulatorFixture {
  const fx = demoOrg();
  const app = fx.org.apps[0];
  // App-robot-only groups: one message each in (b), so a parked send (which blocks the later messages of its
  // conversation until an operator acts) holds back nothing else.
  for (let i = 0; i < appGroups && app; i++) {
    fx.org.groups.push({
      openConversationId: `cidChaosApp${String(i).padStart(4, '0')}==`,
      chatid: `chatchaosapp${String(i).padStart(21, '0')}`,
      name: `Chaos App ${i}`,
      ownerUserId: 'zhangsan',
      members: ['zhangsan', 'lisi', 'alice'],
      robotCodes: [app.robotCode],
    });
  }
  for (let i = 0; i < robots; i++) {
    const cid = `cidChaos${String(i).padStart(4, '0')}==`;
    fx.org.groups.push({
      openConversationId: cid,
      chatid: `chatchaos${String(i).padStart(24, '0')}`,
      name: `Chaos R${i}`,
      ownerUserId: 'zhangsan',
      members: ['zhangsan', 'lisi', 'alice'],
      robotCodes: app ? [app.robotCode] : [],
    });
    fx.org.customRobots.push({
      name: `r${i}`,
      token: hex64(`chaos-robot-${i}`),
      group: cid,
      security: { secret: `SEC${hex64(`chaos-secret-${i}`)}` },
    });
  }
  return fx;
}

/** The production config a deployed hub would have, pointed at the test's emulator (not the demo mode). */
export function productionConfig(
  /** An emulator, or what the config needs of one running elsewhere: its URL and its org. */
  emu: Pick<Emulator, 'url'> & { state: { org: OrgDef } },
  robots: number,
  dispatcher: Record<string, unknown>,
  appGroups = 0,
  lanes = 1,
): Record<string, unknown> {
  const org = emu.state.org;
  const app = org.apps[0]!;
  const cfgRobots: Record<string, unknown> = {};
  const groups: Record<string, unknown> = {};
  for (let i = 0; i < robots; i++) {
    const r = org.customRobots.find((x) => x.name === `r${i}`)!;
    cfgRobots[`r${i}`] = {
      webhook: `${emu.url}/robot/send?access_token=${r.token}`,
      secret: r.security.secret,
    };
    groups[`g${i}`] = { openConversationId: r.group, app: 'hub', robot: `r${i}` };
    // More aliases of the same group: each is its own ordered lane, so one robot can be kept busy up to its
    // budget (one lane delivers one message at a time).
    for (let k = 1; k < lanes; k++) groups[`g${i}l${k}`] = { openConversationId: r.group, robot: `r${i}` };
  }
  for (let i = 0; i < appGroups; i++) {
    groups[`p${i}`] = { openConversationId: `cidChaosApp${String(i).padStart(4, '0')}==`, app: 'hub' };
  }
  groups['engineering'] = { openConversationId: 'cidDemoEngineering0001==', app: 'hub' };
  const people: Record<string, unknown> = {};
  for (const u of org.users) people[u.userId] = { name: u.name, userId: u.userId, unionId: u.unionId };
  return {
    apps: {
      hub: { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId, robotCode: app.robotCode },
    },
    defaultApp: 'hub',
    robots: cfgRobots,
    groups,
    people,
    dingtalk: { oapiBase: emu.url, apiBase: emu.url },
    emulator: { mode: 'off' },
    tasks: { pollMs: 50, remindBeforeMs: 0, escalateAfterMs: 0 },
    dispatcher: { pollMs: 20, workers: 8, ...dispatcher },
  };
}

const RUNNER = fileURLToPath(new URL('./hub-runner.ts', import.meta.url));

export interface HubProcess {
  child: ChildProcess;
  url: string;
  /** stderr so far (shown when a run fails). */
  stderr(): string;
}

/**
 * Warm hub processes for a test that restarts hubs: `warm(n)` ahead of need, pass it to `spawnHub`. `env` replaces
 * the processes' environment (default: PATH and HOME only).
 */
export function hubStandby(env?: Record<string, string>): Standby {
  return new Standby(RUNNER, env ? { env } : {});
}

/** What a chaos test starts and must have stopped after it, whatever happened (see `chaosScene`). */
export interface ChaosScene {
  /** Hub processes started; each is killed after the test. */
  readonly procs: HubProcess[];
  readonly standby: Standby;
  emu: Emulator | undefined;
  /** The store's clean-up (a fresh SQLite file or PostgreSQL schema). */
  cleanup: (() => Promise<void>) | undefined;
}

/**
 * The scene of a chaos test, torn down after each test by an `afterEach` registered here: the warm standby
 * closed, every hub process killed, the emulator closed, the store removed.
 */
export function chaosScene(): ChaosScene {
  const scene: ChaosScene = { procs: [], standby: hubStandby(), emu: undefined, cleanup: undefined };
  afterEach(async () => {
    await scene.standby.close();
    for (const p of scene.procs.splice(0)) await kill9(p);
    await scene.emu?.close();
    await scene.cleanup?.();
    scene.emu = undefined;
    scene.cleanup = undefined;
  });
  return scene;
}

/**
 * Starts one hub process (a warm standby when `standby` has one waiting) and resolves once its HTTP API
 * listens.
 */
export function spawnHub(
  input: RunnerInput,
  o: { standby?: Standby | undefined; timeoutMs?: number | undefined } = {},
): Promise<HubProcess> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const child = (o.standby ?? hubStandby()).start(input);
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub did not start in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited early (${code}): ${err}`));
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err });
      }
    });
  });
}

/** SIGKILL and wait for the exit, so the next process never overlaps the dead one. */
export function kill9(p: HubProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

/** POST JSON to the hub's API; returns status and parsed body. */
export async function apiPost(
  base: string,
  token: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  // undici's `request`, not `fetch`: these callers stand for other machines, yet share this one's two cores with
  // the hubs under test, and `fetch` (WHATWG streams around every body) costs them more CPU and adds tail latency of
  // its own (bench/hub/processes.ts on 2026-12-05: paced p99 50–220 ms and 959 messages/s end to end with fetch;
  // 34–45 ms and 1,061–1,227/s with this, the hub's own answer time unchanged: p99 17–23 ms measured in the hub).
  const res = await request(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.statusCode, body: parsed };
}

/** Sends `items` through `fn` with at most `n` in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, run));
}

export interface Accounting {
  /** Distinct tagged messages the emulator recorded. */
  delivered: number;
  /** Tags recorded more than once (with their counts). */
  duplicates: Array<[string, number]>;
  /** Tags never recorded. */
  missing: string[];
}

/**
 * The oracle: counts the emulator's recorded messages per tag (`[chaos:<tag>]` at the start of the text).
 * Pure, so the twin test can show it reports a duplicate and a loss.
 */
export function account(
  records: readonly Pick<MessageRecord, 'text'>[],
  tags: readonly string[],
): Accounting {
  const seen = new Map<string, number>();
  for (const r of records) {
    const m = /\[chaos:([^\]]+)\]/.exec(r.text);
    if (m?.[1]) seen.set(m[1], (seen.get(m[1]) ?? 0) + 1);
  }
  return {
    delivered: [...seen.keys()].filter((k) => tags.includes(k)).length,
    duplicates: [...seen.entries()].filter(([, n]) => n > 1),
    missing: tags.filter((t) => !seen.has(t)),
  };
}

/**
 * Per robot, the largest number of requests the emulator received in any sliding window of `windowMs`
 * (every window that starts at a request: the maximum over all windows is always attained at one).
 */
export function maxPerWindow(
  requests: readonly { at: number; robot?: string | undefined }[],
  windowMs: number,
): Map<string, number> {
  const byRobot = new Map<string, number[]>();
  for (const r of requests) {
    if (!r.robot) continue;
    const list = byRobot.get(r.robot) ?? [];
    list.push(r.at);
    byRobot.set(r.robot, list);
  }
  const out = new Map<string, number>();
  for (const [robot, times] of byRobot) {
    times.sort((a, b) => a - b);
    let best = 0;
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= windowMs) j++;
      best = Math.max(best, i - j + 1);
    }
    out.set(robot, best);
  }
  return out;
}

export interface DeliveryView {
  id: number;
  status: string;
  payload: string;
  attempts: number;
  last_error: string | null;
}

/** Waits until `n` deliveries exist and none is queued or sending; returns them (the last view on timeout). */
export async function drained(
  store: Store,
  n: number,
  timeoutMs: number,
  settled: (r: DeliveryView) => boolean = (r) => r.status !== 'queued' && r.status !== 'sending',
): Promise<DeliveryView[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: DeliveryView[] = [];
  while (Date.now() < deadline) {
    rows = await store.db
      .selectFrom('deliveries')
      .select(['id', 'status', 'payload', 'attempts', 'last_error'])
      .execute();
    if (rows.length === n && rows.every(settled)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return rows;
}

/** The `[chaos:<tag>]` of a delivery's payload or a message's text. */
export const tagOf = (s: string): string => /\[chaos:([^\]]+)\]/.exec(s)?.[1] ?? '?';

/**
 * Kysely's migrator looks for its table across every schema of the database; when another test run drops its
 * own schema during that look-up, PostgreSQL answers 3F000 for a schema that is not ours. Seen on the shared
 * test database with several suites running at once; a retry finds a stable catalog.
 */
export async function openRetrying<T>(open: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      if (i >= attempts || cause?.code !== '3F000') throw e;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}
