/**
 * Hub throughput and enqueue latency with real hub processes: SQLite and
 * PostgreSQL, 1 and 2 processes on one store, one table.
 *
 *   node --import tsx bench/hub/processes.ts [messages=5000] [concurrency=16] [workers=default] [cases=all]
 *
 * `cases` is a comma list of `sqlite`, `postgres` (default both; PostgreSQL is skipped when
 * `DINGKIT_TEST_PG_URL` does not answer).
 *
 * Each case starts hub processes the way the chaos tests do (test/chaos/hub-runner.ts: store → startHub → HTTP
 * API, a production config pointed at an emulator started here) on a fresh store (a new SQLite file in WAL mode,
 * or a new PostgreSQL schema dropped afterwards), and then:
 *
 * - live: N messages are posted to `POST /v1/messages` by `concurrency` callers, spread over the processes,
 *   while those processes dispatch. Each request's latency is from sending it to its 2xx, which the hub gives
 *   only once the message and its delivery are committed.
 * - paced: the same, but one request every 1/300 s (`HBENCH_RATE`) whatever the answers, as independent clients
 *   would send: the enqueue latency at 300 sends/s (a busy org's peak) rather than at saturation.
 * - backlog: the same N messages are posted to processes with `dispatcher.enabled: false`; those stop, and as
 *   many processes with the dispatcher on are started on the full queue, so the send rate is the dispatcher's
 *   alone.
 *
 * The emulator has 200 groups with a signed custom robot each (the webhook path with its robot budget check,
 * the hub's common case); message i goes to group i mod 200 (unordered, the default). The
 * emulator's robot limit and the hub's robot budget are a million per second: neither binds. Delivery rates come
 * from the emulator's record of each accepted message (its `at`), duplicates and losses from the tag each text
 * carries. Not a test: nothing here asserts a speed.
 */

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import {
  account,
  apiPost,
  chaosOrg,
  type HubProcess,
  kill9,
  pool,
  productionConfig,
  spawnHub,
} from '../../test/chaos/hub-chaos-support.js';
import type { RunnerInput } from '../../test/chaos/hub-runner.js';
import { Standby } from '../../test/chaos/standby.js';
import { dropPgStore, PG_URL, pct, pgUp } from '../support.js';

const N = Number(process.argv[2] ?? 5_000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
/**
 * Sends in flight per process; by default the hub's own default (`dispatcher.workers` unset: one per custom robot,
 * 200 here), as `dingkit serve` runs with this config.
 */
const WORKERS =
  process.argv[4] === undefined || process.argv[4] === 'default' ? undefined : Number(process.argv[4]);
const CASES = (process.argv[5] ?? 'sqlite,postgres').split(',');
/** Subsets for a quick look: `HBENCH_PROCESSES=1`, `HBENCH_MODES=backlog,paced`. */
const PROCESSES = (process.env['HBENCH_PROCESSES'] ?? '1,2').split(',').map(Number);
const MODES = (process.env['HBENCH_MODES'] ?? 'live,paced,backlog,inbound')
  .split(',')
  .filter((m): m is Mode => m === 'live' || m === 'paced' || m === 'backlog' || m === 'inbound');
/** Chat commands of the inbound mode (`HBENCH_COMMANDS`). */
const COMMANDS = Number(process.env['HBENCH_COMMANDS'] ?? 500);
const ENG = 'cidDemoEngineering0001==';
const ROBOTS = 200;
/** Open-loop enqueue rate of the paced mode: 300 sends/s. */
const RATE = Number(process.env['HBENCH_RATE'] ?? 300);
/** Requests in flight at most in the paced mode. */
const OPEN_LOOP_MAX = 128;
const DRAIN_MS = Math.max(120_000, N * 40);
/**
 * Budgets that never bind. The window is DingTalk's 60 s (docs/dingtalk.md §2.6), so the hub's claim guard is its
 * production 5 s, not the 84 ms a 1 s window would give.
 */
const NEVER = { limit: 1_000_000_000, windowMs: 60_000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The hub runner with a CPU clock (hub-process.ts); `HBENCH_PROFILE=<dir>` passes on to it. */
const HUB_SCRIPT = new URL('./hub-process.ts', import.meta.url).pathname;
const hubEnv: Record<string, string> = {
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '/tmp',
  ...(process.env['HBENCH_PROFILE'] ? { HBENCH_PROFILE: process.env['HBENCH_PROFILE'] } : {}),
};

/** Each hub's event-loop delay p99 (ms) over the span its last `cpuOf` reading closed (hub-process.ts). */
const loopP99 = new WeakMap<HubProcess, number>();

/** CPU microseconds (user + system) the hub process has used so far; see hub-process.ts. */
async function cpuOf(p: HubProcess): Promise<number> {
  const stdout = p.child.stdout!;
  const line = new Promise<number>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /cpu (\d+) loop (\d+)\n/.exec(buf);
      if (!m) return;
      stdout.off('data', onData);
      loopP99.set(p, Number(m[2]) / 1e6);
      resolve(Number(m[1]));
    };
    stdout.on('data', onData);
    once(p.child, 'exit').then(() => reject(new Error('hub exited before reporting its CPU')));
  });
  p.child.kill('SIGUSR2');
  return line;
}

/** CPU milliseconds the hubs used between two `cpuOf` readings of each. */
async function cpuSince(hubs: readonly HubProcess[], before: readonly number[]): Promise<number> {
  const after = await Promise.all(hubs.map(cpuOf));
  return after.reduce((sum, a, i) => sum + (a - before[i]!), 0) / 1000;
}

interface Db {
  url: string;
  schema: string | undefined;
  /** The bench's own connection: migrates before any hub starts, mints the API token, reads the queue. */
  store: Store;
  drop(): Promise<void>;
}

async function freshDb(kind: string): Promise<Db> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dingkit-hbench-'));
    const url = join(dir, 'hub.db');
    const store = await openStore({ url });
    return {
      url,
      schema: undefined,
      store,
      async drop() {
        await store.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `hbench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const store = await openStore({ url: PG_URL, schema, poolSize: 2 });
  return {
    url: PG_URL,
    schema,
    store,
    drop: () => dropPgStore(store, schema),
  };
}

/** SIGTERM (graceful: the runner closes its API, stops the hub, exits), SIGKILL if it lingers. */
async function stopHub(p: HubProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  await kill9(p);
}

interface Enqueued {
  latencies: number[];
  /** Tags whose request was answered 2xx: the ones the emulator must then show exactly once. */
  accepted: string[];
  /** Requests retried after a reset connection. */
  retried: number;
  startedAt: number;
  endedAt: number;
  failed: number;
}

/**
 * Posts the tagged messages; request i goes to process i mod P. Closed loop (`rate` undefined): `CONCURRENCY`
 * callers, each sending its next request when the last was answered: the most the hubs accept. Open loop: one
 * request every 1/rate s whatever the answers, as independent clients would (latency at that load).
 */
async function enqueue(
  hubs: readonly HubProcess[],
  token: string,
  tags: readonly string[],
  rate?: number,
): Promise<Enqueued> {
  const latencies: number[] = [];
  const accepted: string[] = [];
  let failed = 0;
  let retried = 0;
  /** `from`: when the request was due (open loop), so waiting for a connection slot counts as latency. */
  const post = async (tag: string, i: number, from = performance.now()) => {
    const hub = hubs[i % hubs.length]!;
    const body = { group: `g${i % ROBOTS}`, text: `[chaos:${tag}] bench message ${i}` };
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await apiPost(hub.url, token, '/v1/messages', body, { 'idempotency-key': tag });
        if (r.status === 200 || r.status === 202) {
          latencies.push(performance.now() - from);
          accepted.push(tag);
        } else failed++;
        return;
      } catch (e) {
        // A reset connection (an overloaded listener): retry with the same key, which cannot make a second
        // message; the latency keeps counting from the first try.
        if (attempt >= 5) {
          failed++;
          console.error(`request ${tag} failed: ${(e as Error).message}`);
          return;
        }
        retried++;
        await sleep(50 * attempt);
      }
    }
  };
  const startedAt = Date.now();
  if (rate === undefined) {
    await pool(
      tags.map((t, i) => [t, i] as const),
      CONCURRENCY,
      ([t, i]) => post(t, i),
    );
  } else {
    // At most OPEN_LOOP_MAX requests in flight: past it the hubs are saturated anyway, and more open sockets
    // only get reset by the listener. A request that waits for a slot is late, and its latency says so.
    const t0 = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < tags.length; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      while (inFlight.size >= OPEN_LOOP_MAX) await Promise.race(inFlight);
      const p: Promise<void> = post(tags[i]!, i, due).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }
  return {
    latencies: latencies.sort((a, b) => a - b),
    accepted,
    startedAt,
    endedAt: Date.now(),
    failed,
    retried,
  };
}

/** Waits until the emulator recorded every tag (or the deadline); returns the accounting and delivery times. */
async function drain(emu: Emulator, prefix: string, tags: readonly string[]) {
  const deadline = Date.now() + DRAIN_MS;
  const mine = () => emu.messages().filter((m) => m.text.startsWith(`[chaos:${prefix}`));
  let recs = mine();
  let lastCount = -1;
  let stalledSince = Date.now();
  while (Date.now() < deadline) {
    recs = mine();
    if (new Set(recs.map((r) => r.text)).size >= tags.length) break;
    // Nothing new for 20 s: something is stuck; report what arrived rather than wait out the deadline.
    if (recs.length !== lastCount) {
      lastCount = recs.length;
      stalledSince = Date.now();
    } else if (Date.now() - stalledSince > 20_000) break;
    await sleep(50);
  }
  // Late duplicates would show a moment after the last first copy.
  await sleep(500);
  recs = mine();
  const acc = account(recs, tags);
  const times = recs.map((r) => r.at).sort((a, b) => a - b);
  return { acc, first: times[0] ?? Number.NaN, last: times[times.length - 1] ?? Number.NaN };
}

type Row = Record<string, string | number>;

type Mode = 'live' | 'paced' | 'backlog' | 'inbound';

async function runCase(kind: string, processes: number, mode: Mode, messages = N): Promise<Row> {
  if (mode === 'inbound') return runInbound(kind, processes);
  const emu = await startEmulator({
    port: 0,
    fixture: chaosOrg(ROBOTS),
    logRequests: false,
    limits: { robotLimit: NEVER.limit, robotWindowMs: NEVER.windowMs },
  });
  const db = await freshDb(kind);
  const hubs: HubProcess[] = [];
  const prefix = `${kind[0]}${processes}${mode[0]}-`;
  const tags = Array.from({ length: messages }, (_, i) => `${prefix}${i}`);
  try {
    const { token } = await createApiToken(new StoreApiTokens(db.store), 'bench', ['send']);
    const input = (enabled: boolean): RunnerInput => ({
      config: productionConfig(emu, ROBOTS, {
        enabled,
        workers: WORKERS,
        pollMs: 20,
        robotBudget: NEVER,
      }),
      databaseUrl: db.url,
      schema: db.schema,
      // What `dingkit serve` opens (openStore's default), not the chaos runner's smaller pool.
      poolSize: 10,
      receive: false,
    });
    const standby = new Standby(HUB_SCRIPT, { env: hubEnv });
    const spawnAll = async (enabled: boolean) =>
      Promise.all(Array.from({ length: processes }, () => spawnHub(input(enabled), { standby })));

    let enq: Enqueued;
    let dispatchStart: number;
    /** Hub CPU ms over the run: accepting and dispatching, all processes. */
    let cpuMs = 0;
    /** Backlog mode: the accepting hubs' share (they do nothing else), so enqueue and dispatch costs read apart. */
    let acceptCpuMs: number | undefined;
    let cpu0: number[];
    let dispatching: HubProcess[];
    // The bench's own event loop (callers and emulator) during the enqueue: its stalls are in the latencies too.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    if (mode !== 'backlog') {
      hubs.push(...(await spawnAll(true)));
      dispatching = hubs;
      // The hubs' own warm-up: a hub in production has been running a while (its code optimised, its store's
      // connections open). A few hundred messages at the paced rate, delivered, and left out of every figure.
      if (HUB_WARMUP > 0) {
        const warm = Array.from({ length: HUB_WARMUP }, (_, i) => `w${prefix}${i}`);
        await enqueue(hubs, token, warm, RATE);
        await drain(emu, `w${prefix}`, warm);
      }
      cpu0 = await Promise.all(hubs.map(cpuOf));
      loop.enable();
      enq = await enqueue(hubs, token, tags, mode === 'paced' ? RATE : undefined);
      loop.disable();
      dispatchStart = enq.startedAt;
    } else {
      const accepting = await spawnAll(false);
      hubs.push(...accepting);
      const acc0 = await Promise.all(accepting.map(cpuOf));
      loop.enable();
      enq = await enqueue(accepting, token, tags);
      loop.disable();
      acceptCpuMs = await cpuSince(accepting, acc0);
      cpuMs += acceptCpuMs;
      await Promise.all(accepting.map(stopHub));
      if (emu.messages().length > 0) throw new Error('a hub with the dispatcher off sent something');
      dispatching = await spawnAll(true);
      cpu0 = await Promise.all(dispatching.map(cpuOf));
      dispatchStart = Date.now();
      hubs.push(...dispatching);
    }
    const d = await drain(emu, prefix, enq.accepted);
    // The drain waits 500 ms for late duplicates: an idle hub's polls are in the figure too, as in production.
    cpuMs += await cpuSince(dispatching, cpu0);
    await standby.close();
    const enqSec = (enq.endedAt - enq.startedAt) / 1000;
    const l = enq.latencies;
    return {
      store: kind,
      mode: mode === 'paced' ? `paced ${RATE}/s` : mode === 'live' ? `${CONCURRENCY} callers` : 'backlog',
      processes,
      'enqueue p50 ms': pct(l, 50).toFixed(1),
      'enqueue p99 ms': pct(l, 99).toFixed(1),
      'enqueue max ms': (l[l.length - 1] ?? Number.NaN).toFixed(1),
      'bench loop delay p99 ms': (loop.percentile(99) / 1e6).toFixed(1),
      'hub loop delay p99 ms': Math.max(...hubs.map((h) => loopP99.get(h) ?? 0)).toFixed(1),
      'enqueue req/s': Math.round(l.length / enqSec),
      'dispatched/s (first→last send)': Math.round((d.acc.delivered - 1) / ((d.last - d.first) / 1000)),
      'end to end /s': Math.round(d.acc.delivered / ((d.last - dispatchStart) / 1000)),
      'hub CPU ms / message': (cpuMs / d.acc.delivered).toFixed(2),
      'of which accepting': acceptCpuMs === undefined ? '' : (acceptCpuMs / d.acc.delivered).toFixed(2),
      'failed requests': enq.failed,
      'retried requests': enq.retried,
      duplicates: d.acc.duplicates.length,
      lost: d.acc.missing.length,
    };
  } finally {
    await Promise.all(hubs.map(stopHub));
    await emu.close();
    await db.drop();
  }
}

/**
 * Inbound: `COMMANDS` tasks are assigned through the API, then `start <id>` for each is posted in their group
 * through the emulator at once (its Stream gateway pushes one frame per message to the hubs' connections). The
 * rate is commands from the first post until every task is `in_progress` in the store: frame → inbox row
 * committed → acked → applied (the task's state, its event, the reply enqueued).
 */
async function runInbound(kind: string, processes: number): Promise<Row> {
  const emu = await startEmulator({ port: 0, fixture: chaosOrg(0), logRequests: false });
  const db = await freshDb(kind);
  const hubs: HubProcess[] = [];
  try {
    const { token } = await createApiToken(new StoreApiTokens(db.store), 'bench', ['send']);
    const standby = new Standby(HUB_SCRIPT, { env: hubEnv });
    const input: RunnerInput = {
      config: productionConfig(emu, 0, { workers: WORKERS, pollMs: 20 }),
      databaseUrl: db.url,
      schema: db.schema,
      poolSize: 10,
      receive: true,
    };
    hubs.push(...(await Promise.all(Array.from({ length: processes }, () => spawnHub(input, { standby })))));
    await standby.close();
    const ids: number[] = [];
    await pool(
      Array.from({ length: COMMANDS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const r = await apiPost(hubs[i % hubs.length]!.url, token, '/v1/tasks', {
          title: `bench ${i}`,
          assignees: ['lisi'],
          group: 'engineering',
        });
        if (r.status !== 201) throw new Error(`task ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        ids.push(Number(r.body['id']));
      },
    );
    // Every hub has its Stream connection, and the tasks' announcements are sent, before the clock starts: the CPU
    // figure is the commands' alone (with the replies they enqueue and send).
    const deadline = Date.now() + DRAIN_MS;
    const busy = async () =>
      Number(
        (
          await db.store.db
            .selectFrom('deliveries')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', 'in', ['queued', 'sending'])
            .executeTakeFirstOrThrow()
        ).n,
      );
    while ((emu.gateway.log().connections.length < processes || (await busy()) > 0) && Date.now() < deadline)
      await sleep(50);
    const started = async () =>
      Number(
        (
          await db.store.db
            .selectFrom('tasks')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('state', '=', 'in_progress')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const cpu0 = await Promise.all(hubs.map(cpuOf));
    const t0 = performance.now();
    for (const id of ids) await emu.postMessage(ENG, { from: 'lisi', text: `start ${id}`, atBot: true });
    const posted = performance.now();
    const stopAt = Date.now() + DRAIN_MS;
    let applied = await started();
    while (applied < ids.length && Date.now() < stopAt) {
      await sleep(20);
      applied = await started();
    }
    const t1 = performance.now();
    const cpuMs = await cpuSince(hubs, cpu0);
    return {
      store: kind,
      mode: `inbound ${ids.length} commands`,
      processes,
      'posted/s (emulator)': Math.round(ids.length / ((posted - t0) / 1000)),
      'commands applied/s': Math.round(applied / ((t1 - t0) / 1000)),
      'hub CPU ms / message': (cpuMs / Math.max(1, applied)).toFixed(2),
      // Not lost: still waiting, mostly for the gateway's redelivery of frames the hub answered LATER (back-pressure).
      'not applied in the drain': ids.length - applied,
    };
  } finally {
    await Promise.all(hubs.map(stopHub));
    await emu.close();
    await db.drop();
  }
}

const rows: Row[] = [];
const kinds = CASES.filter((k) => k === 'sqlite' || k === 'postgres');
if (kinds.includes('postgres') && !(await pgUp())) {
  console.log(`PostgreSQL at ${PG_URL} unreachable: skipped`);
  kinds.splice(kinds.indexOf('postgres'), 1);
}
// Warm-up, not reported: the bench process itself (its callers, its emulator) is a fresh Node process whose code is
// not yet optimised, and whichever case ran first paid for that in its tail latencies (a paced p99 of 23–67 ms
// when it ran first, 14 ms when it ran after another case, the hub's own answer times the same). One short case
// of each mode first, on a scratch SQLite store; `HBENCH_WARMUP=0` skips it.
const WARMUP = Number(process.env['HBENCH_WARMUP'] ?? 1_500);
/** Messages each live or paced case sends its fresh hubs before its clock starts (`HBENCH_HUB_WARMUP`). */
const HUB_WARMUP = Number(process.env['HBENCH_HUB_WARMUP'] ?? 300);
if (WARMUP > 0) {
  for (const mode of MODES.filter((m) => m === 'live' || m === 'paced'))
    await runCase('sqlite', 1, mode, WARMUP);
}
const load0 = loadavg()[0]!;
for (const kind of kinds) {
  for (const processes of PROCESSES) {
    for (const mode of MODES) {
      const row = await runCase(kind, processes, mode);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
}
console.log(
  `\n${N} messages, ${CONCURRENCY} concurrent callers, ${ROBOTS} robots, ${WORKERS ?? `the default (${ROBOTS})`} workers per process; ` +
    `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ` +
    `load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (whether other work ran ` +
    'meanwhile cannot be known from here: compare rows of one run, not runs)',
);
console.table(rows);
