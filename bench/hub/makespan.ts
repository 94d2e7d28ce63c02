/**
 * Makespan of M messages over R custom robots under DingTalk's per-robot limit, scaled (20 per 2 s at the
 * emulator instead of 20 per minute, docs/dingtalk.md §2.6), compared in one run:
 *
 * - the hub: messages queued first (the hub's own MessageService on the store), then one hub dispatches them
 *   with a store budget of 19 per 2 s per robot;
 * - a naive loop over the library: each robot's messages sent one after the other with the library's own
 *   limiter off (what a script does), no retry;
 * - the same loop with `dingtalk-robot-sender`.
 *
 * The emulator runs in a process of its own for every case (bench/hub/emulator-process.ts), as DingTalk is a
 * server of its own: in the bench's process its handlers shared one event loop with the hub being measured and
 * spread the first wave's arrivals by ~100 ms, which the hub, counting budget hits from arrival, must then wait out.
 *
 * Makespan = first to last message recorded by the emulator. Theoretical minimum under the hub's budget:
 * `(ceil(perRobot / 19) - 1) * window`. Throttle answers and messages not delivered are counted per case.
 *
 *   node --import tsx bench/hub/makespan.ts [messages=1000] [robots=50]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DingTalk } from '../../src/client.js';
import { parseConfig } from '../../src/hub/config.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { createOutboxPort } from '../../src/hub/delivery/outbox-adapter.js';
import { createDingTalkAdapter } from '../../src/hub/dingtalk/adapter.js';
import { startHub } from '../../src/hub/hub.js';
import { MessageService } from '../../src/hub/messages/send.js';
import { PeopleDirectory } from '../../src/hub/people.js';
import { EventBus } from '../../src/observe/events.js';
import { openStore } from '../../src/store/open-store.js';
import { productionConfig } from '../../test/chaos/hub-chaos-support.js';
import { type RemoteEmulator, startEmulatorProcess } from './remote-emulator.js';

const M = Number(process.argv[2] ?? 1_000);
const R = Number(process.argv[3] ?? 50);
const WINDOW = 2_000;
const EMU_LIMIT = 20;
const HUB_LIMIT = 19;
const perRobot = Math.ceil(M / R);
const minimumMs = (Math.ceil(perRobot / HUB_LIMIT) - 1) * WINDOW;

interface Row {
  case: string;
  delivered: number;
  throttles: number;
  makespanMs: number;
}

function emulator(): Promise<RemoteEmulator> {
  return startEmulatorProcess(R, EMU_LIMIT, WINDOW);
}

async function measure(name: string, emu: RemoteEmulator): Promise<Row> {
  const recorded = (await emu.messages()).filter((m) => m.text.startsWith('[bench]'));
  const times = recorded.map((m) => m.at).sort((a, b) => a - b);
  const sends = await emu.sends();
  return {
    case: name,
    delivered: recorded.length,
    throttles: sends.filter((r) => r.code !== 0).length,
    makespanMs: times.length > 0 ? (times.at(-1) as number) - (times[0] as number) : 0,
  };
}

async function hubCase(): Promise<Row> {
  const emu = await emulator();
  const dir = mkdtempSync(join(tmpdir(), 'dingkit-makespan-'));
  try {
    const config = parseConfig(
      productionConfig(emu, R, {
        // The hub's default (src/hub/delivery/start.ts): one send in flight per robot here, so every robot's window
        // can open at once. (The helper's own default is 8.)
        workers: undefined,
        pollMs: 10,
        robotBudget: { limit: HUB_LIMIT, windowMs: WINDOW },
      }),
      {},
    );
    const store = await openStore({ url: join(dir, 'hub.db') });
    // Queue everything first, through the hub's own message service, so the makespan is the dispatch alone.
    const dingtalk = createDingTalkAdapter({ config, now: Date.now });
    const messages = new MessageService({
      config,
      outbox: createOutboxPort(new Outbox(store)),
      people: new PeopleDirectory({ config, db: store.db, dingtalk }),
      events: new EventBus(),
    });
    for (let i = 0; i < M; i++) {
      await messages.send({ group: `g${i % R}`, text: `[bench] hub ${i}` }, { by: 'bench' });
    }
    const hub = await startHub({ config, store, receive: false });
    const deadline = Date.now() + 120_000;
    while ((await emu.messages()).length < M && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const row = await measure(`hub (budget ${HUB_LIMIT}/${WINDOW / 1000} s, 1 process)`, emu);
    await hub.stop();
    await store.close();
    return row;
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function naiveLibrary(): Promise<Row> {
  const emu = await emulator();
  try {
    const dt = new DingTalk({ oapiBase: emu.url, apiBase: emu.url, rateLimit: false });
    await Promise.all(
      Array.from({ length: R }, async (_, r) => {
        const def = emu.state.org.customRobots.find((x) => x.name === `r${r}`)!;
        const robot = dt.webhook({ accessToken: def.token, secret: def.security.secret });
        for (let i = r; i < M; i += R) await robot.text(`[bench] lib ${i}`).catch(() => {});
      }),
    );
    return await measure('naive loop, dingkit library (limiter off)', emu);
  } finally {
    await emu.close();
  }
}

interface ChatBot {
  text(content: string): Promise<unknown>;
}

async function robotSender(): Promise<Row> {
  const emu = await emulator();
  try {
    const require = createRequire(import.meta.url);
    const ChatBot = require('dingtalk-robot-sender') as new (o: {
      webhook: string;
      secret?: string;
    }) => ChatBot;
    await Promise.all(
      Array.from({ length: R }, async (_, r) => {
        const def = emu.state.org.customRobots.find((x) => x.name === `r${r}`)!;
        const bot = new ChatBot({
          webhook: `${emu.url}/robot/send?access_token=${def.token}`,
          ...(def.security.secret ? { secret: def.security.secret } : {}),
        });
        for (let i = r; i < M; i += R) await bot.text(`[bench] sender ${i}`).catch(() => {});
      }),
    );
    return await measure('naive loop, dingtalk-robot-sender', emu);
  } finally {
    await emu.close();
  }
}

const rows = [await hubCase(), await naiveLibrary(), await robotSender()];
console.log(
  `\n${M} messages over ${R} robots (${perRobot} each); emulator limit ${EMU_LIMIT}/${WINDOW / 1000} s; ` +
    `theoretical minimum under the hub budget ${minimumMs} ms\n`,
);
console.log('| case | delivered | throttle answers | makespan ms | makespan / minimum |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const ratio = minimumMs > 0 ? (r.makespanMs / minimumMs).toFixed(3) : '-';
  console.log(`| ${r.case} | ${r.delivered} | ${r.throttles} | ${r.makespanMs} | ${ratio} |`);
}
