/**
 * Where the hub's makespan goes (bench/hub/makespan.ts, hub case only), per robot: when its first message arrived,
 * when its budget hits were stamped (read from the store's limiter inserts), how long after its window opened
 * (first hit + window + guard) the last message was claimed, and how long claim → arrival took. Also the store
 * statements by total time, and the arrivals per 100 ms.
 *
 *   node --import tsx bench/hub/makespan-trace.ts [messages=1000] [robots=50] [workers=hub default]
 *
 * It patches better-sqlite3's statements to time them, so its absolute figures are a little above the bench's.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/emulator.js';
import { parseConfig } from '../../src/hub/config.js';
import { defaultGuardMs } from '../../src/hub/delivery/dispatcher.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { createOutboxPort } from '../../src/hub/delivery/outbox-adapter.js';
import { createDingTalkAdapter } from '../../src/hub/dingtalk/adapter.js';
import { startHub } from '../../src/hub/hub.js';
import { MessageService } from '../../src/hub/messages/send.js';
import { PeopleDirectory } from '../../src/hub/people.js';
import { EventBus } from '../../src/observe/events.js';
import { openStore } from '../../src/store/open-store.js';
import { chaosOrg, productionConfig } from '../../test/chaos/hub-chaos-support.js';

const M = Number(process.argv[2] ?? 1_000);
const R = Number(process.argv[3] ?? 50);
/** Sends in flight; default: the hub's own default (one per robot, at least 8). */
const WORKERS = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const WINDOW = 2_000;
const HUB_LIMIT = 19;
const GUARD = defaultGuardMs('sqlite', WINDOW);
const perRobot = Math.ceil(M / R);
const minimumMs = (Math.ceil(perRobot / HUB_LIMIT) - 1) * WINDOW;

// Statement timing and the limiter's hit stamps, from better-sqlite3's prepared statements.
type Stmt = Record<'run' | 'all' | 'get', (...a: unknown[]) => unknown>;
const Database = createRequire(import.meta.url)('better-sqlite3') as {
  prototype: { prepare(sql: string): Stmt };
};
const stats = new Map<string, { n: number; ms: number }>();
const hits: Array<{ key: string; at: number }> = [];
let tracing = false;
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (this: unknown, sql: string): Stmt {
  const st = prepare.call(this, sql);
  const name = sql.replace(/\s+/g, ' ').slice(0, 100);
  const isHit = sql.startsWith('insert into "limiter_hits"');
  for (const m of ['run', 'all', 'get'] as const) {
    const f = st[m];
    st[m] = (...a: unknown[]) => {
      if (!tracing) return f.apply(st, a);
      if (isHit) {
        // One insert may carry several hits: (key, at) pairs.
        const p = a[0] as unknown[];
        for (let i = 0; i + 1 < p.length; i += 2) hits.push({ key: p[i] as string, at: p[i + 1] as number });
      }
      const t = performance.now();
      try {
        return f.apply(st, a);
      } finally {
        const x = stats.get(name) ?? { n: 0, ms: 0 };
        x.n++;
        x.ms += performance.now() - t;
        stats.set(name, x);
      }
    };
  }
  return st;
};

const emu = await startEmulator({
  port: 0,
  seed: 1,
  fixture: chaosOrg(R),
  limits: { robotLimit: 20, robotWindowMs: WINDOW, robotPenaltyMs: 10 * WINDOW },
});
const dir = mkdtempSync(join(tmpdir(), 'dingkit-makespan-trace-'));
const config = parseConfig(
  productionConfig(emu, R, {
    workers: WORKERS,
    pollMs: 10,
    robotBudget: { limit: HUB_LIMIT, windowMs: WINDOW },
  }),
  {},
);
const store = await openStore({ url: join(dir, 'hub.db') });
const messages = new MessageService({
  config,
  outbox: createOutboxPort(new Outbox(store)),
  people: new PeopleDirectory({
    config,
    db: store.db,
    dingtalk: createDingTalkAdapter({ config, now: Date.now }),
  }),
  events: new EventBus(),
});
for (let i = 0; i < M; i++) {
  await messages.send({ group: `g${i % R}`, text: `[bench] hub ${i}` }, { by: 'bench' });
}
tracing = true;
const started = Date.now();
const hub = await startHub({ config, store, receive: false });
while (emu.messages().length < M && Date.now() < started + 120_000)
  await new Promise((r) => setTimeout(r, 20));
tracing = false;

const recorded = emu.messages().filter((m) => m.text.startsWith('[bench]'));
const first = Math.min(...recorded.map((m) => m.at));
const last = Math.max(...recorded.map((m) => m.at));
const arrivals = new Map<string, number[]>();
for (const m of recorded) arrivals.set(m.robot!, [...(arrivals.get(m.robot!) ?? []), m.at]);
const stamps = new Map<string, number[]>();
for (const h of hits) stamps.set(h.key, [...(stamps.get(h.key) ?? []), h.at]);

interface Robot {
  firstArrival: number;
  firstHit: number;
  /** When the last message was claimed, after its window opened (first hit + window + guard). */
  lastClaimLate: number;
  /** Claim of the last message → its arrival. */
  lastClaimToArrival: number;
}
const robots: Robot[] = [];
for (const [robot, ts] of arrivals) {
  ts.sort((a, b) => a - b);
  const hs = (stamps.get(`webhook:${robot}`) ?? []).sort((a, b) => a - b);
  if (hs.length < perRobot) continue;
  robots.push({
    firstArrival: ts[0]! - first,
    firstHit: hs[0]! - first,
    lastClaimLate: hs.at(-1)! - (hs[hs.length - 1 - HUB_LIMIT]! + WINDOW + GUARD),
    lastClaimToArrival: ts.at(-1)! - hs.at(-1)!,
  });
}
const dist = (k: keyof Robot) => {
  const v = robots.map((r) => r[k]).sort((a, b) => a - b);
  return `min ${v[0]} p50 ${v[v.length >> 1]} max ${v.at(-1)}`;
};
const per100: number[] = [];
for (const m of recorded) {
  const b = Math.floor((m.at - first) / 100);
  per100[b] = (per100[b] ?? 0) + 1;
}
const tooOld = await store.db
  .selectFrom('deliveries')
  .select('id')
  .where('last_error', 'like', 'CLAIM_TOO_OLD%')
  .execute();

console.log(
  `${M} messages, ${R} robots, ${WORKERS ?? 'default'} workers, guard ${GUARD} ms: makespan ${last - first} ms = ` +
    `${((last - first) / minimumMs).toFixed(3)} of the minimum ${minimumMs} ms; hub start → first arrival ` +
    `${first - started} ms; throttles ${emu.requests({ route: 'POST /robot/send' }).filter((r) => r.code !== 0).length}; ` +
    `given back as too old ${tooOld.length}`,
);
console.log(`first arrival per robot (after the first of all): ${dist('firstArrival')}`);
console.log(`first hit per robot (after the first arrival):    ${dist('firstHit')}`);
console.log(`last claim after its window opened:               ${dist('lastClaimLate')}`);
console.log(`last claim → arrival:                             ${dist('lastClaimToArrival')}`);
console.log(`arrivals per 100 ms: ${Array.from(per100, (x) => x ?? 0).join(' ')}`);
console.log('store statements by total time (ms, count):');
for (const [sql, v] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)) {
  console.log(`  ${v.ms.toFixed(0).padStart(6)} ${String(v.n).padStart(6)}  ${sql}`);
}
await hub.stop();
await store.close();
await emu.close();
rmSync(dir, { recursive: true, force: true });
