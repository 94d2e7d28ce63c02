/**
 * The HTTP twin of hub-stream.test.ts: inbound exactly-once with a real hub process in `inbound.mode: http`. People
 * post `start N` then `done N` in a group through the emulator, which pushes each as a signed robot callback to the
 * hub's `POST /callbacks/robot` (docs/dingtalk.md §9a) and behaves as DingTalk does towards a callback URL:
 *
 * - a push that fails (connection refused, 5xx, no answer within 2.5 s) is pushed again, `callbackRetries` times
 *   `callbackRetryDelayMs` apart (a setting: DingTalk publishes no schedule, §9b, §12), with a fresh signature;
 * - half of the pushes the hub answered are pushed again (`repushAnsweredRate`), as when DingTalk never saw the 200;
 * - the hub process is killed with SIGKILL once in the middle of the `done` burst, with pushes in flight, two more
 *   commands are posted while no hub listens, and a new one is started; the emulator's URL then names the new
 *   process (a load balancer's address would not change).
 *
 * Every command must be applied exactly once: one `start` and one `done` event in each task's history, the same
 * number of outbox jobs about each task (a command applied twice adds a reply), and one inbox entry per message.
 * What makes it hold is the hub's order of effects: the 200 only after the inbox commit, the inbox keyed by
 * DingTalk's msgId whichever push carried it.
 */

import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/emulator.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { backends } from '../conformance/backends.js';
import {
  apiPost,
  CHAOS,
  chaosOrg,
  chaosScene,
  kill9,
  productionConfig,
  spawnHub,
} from './hub-chaos-support.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const ENG = 'cidDemoEngineering0001==';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chat commands over HTTP callbacks, re-pushed and retried, hub killed once (SQLite, real process)', () => {
  const scene = chaosScene();
  const { procs, standby } = scene;

  it('each `start N` / `done N` applied exactly once', async () => {
    const { tasks: N, repushAnsweredRate, retries, retryDelayMs } = CHAOS.http;
    standby.warm(1);
    const emu = await startEmulator({
      port: 0,
      seed: CHAOS.seed,
      fixture: chaosOrg(0),
      // Retries span a hub restart (a warm standby starts in about a second; this allows several).
      limits: { callbackRetries: retries, callbackRetryDelayMs: retryDelayMs },
    });
    scene.emu = emu;
    const app = emu.state.org.apps[0]!;
    const fresh = await sqlite.fresh();
    const store = await fresh.open();
    scene.cleanup = fresh.cleanup;
    const { token } = await createApiToken(new StoreApiTokens(store), 'chaos', ['send']);
    const input = {
      config: { ...productionConfig(emu, 0, { leaseMs: 5_000 }), inbound: { mode: 'http' } },
      databaseUrl: fresh.url,
      receive: true,
      inboxPollMs: 50,
      // An entry the killed process was handling is taken over after this (30 s in production).
      inboxLeaseMs: 2_000,
    };
    const spawn = async () => {
      const h = await spawnHub(input, { standby });
      procs.push(h);
      // What the developer console holds: the hub's robot callback URL.
      app.botCallbackUrl = `${h.url}/callbacks/robot`;
      return h;
    };
    let hub = await spawn();
    standby.warm(1); // the restart after the kill

    const ids: number[] = [];
    for (let i = 0; i < N; i++) {
      const r = await apiPost(hub.url, token, '/v1/tasks', {
        title: `http-${i}`,
        assignees: ['lisi'],
        group: 'engineering',
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids.push(Number((r.body['task'] as { id: number } | undefined)?.id ?? r.body['id']));
    }
    // Not awaited one by one: pushes overlap, and some are in flight when the hub dies.
    const pending: Promise<unknown>[] = [];
    const post = (text: string) =>
      pending.push(emu.postMessage(ENG, { from: 'lisi', text, atBot: true }).catch((e: unknown) => e));
    const states = async () =>
      new Map(
        (await store.db.selectFrom('tasks').select(['id', 'state']).where('id', 'in', ids).execute()).map(
          (t) => [t.id, t.state],
        ),
      );
    const waitAll = async (state: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const s = await states();
        if (ids.every((id) => s.get(id) === state)) return;
        await sleep(100);
      }
      const open = await store.db
        .selectFrom('inbox')
        .select(['id', 'status', 'attempts'])
        .where('status', '!=', 'handled')
        .execute();
      throw new Error(
        `not all tasks ${state}: ${JSON.stringify([...(await states())])}\ninbox not handled: ${JSON.stringify(open)}\n` +
          `inbox: ${(await store.db.selectFrom('inbox').select('id').execute()).length} entries; pushes: ` +
          `${JSON.stringify(emu.acting.callbacks.map((c) => `${c.reason}:${c.result}:${c.url.slice(-22)}`))}\n` +
          `posts: ${JSON.stringify(await Promise.all(pending.map((p) => p.then((r) => (r instanceof Error ? r.message : (r as { http?: { result: string } }).http?.result)))))}\n${hub.stderr()}`,
      );
    };

    emu.setFaults({ seed: CHAOS.seed, callbacks: { repushAnsweredRate } });
    for (const id of ids) {
      post(`start ${id}`);
      await sleep(40);
    }
    await waitAll('in_progress', 20_000);
    const half = Math.floor(N / 2);
    let down = false;
    for (const [k, id] of ids.entries()) {
      post(`done ${id}`);
      if (k === half) {
        await sleep(15); // the push just posted is on its way to, or inside, the hub
        await kill9(hub);
        down = true;
      } else if (down && k === half + 2) {
        // Two commands posted while no hub listens: their pushes fail for certain (whatever the machine's load did
        // to the one in flight at the kill) and are retried until the new process answers.
        hub = await spawn();
        down = false;
      }
      await sleep(40);
    }
    if (down) hub = await spawn(); // a scale with fewer tasks than that
    await Promise.all(pending);
    await waitAll('done', 20_000);
    emu.setFaults({});
    const events = await store.db
      .selectFrom('task_events')
      .select(['task_id', 'kind'])
      .where('task_id', 'in', ids)
      .execute();
    // Announcements and replies are outbox jobs, counted where they are made.
    const jobs = await store.db.selectFrom('deliveries').select('payload').execute();
    const about = (id: number) => jobs.filter((j) => new RegExp(`#${id}\\b`).test(j.payload)).length;
    const perTask = ids.map(about);
    const log = emu.acting.callbacks.filter((c) => c.eventType === 'bot_message');
    const retried = log.filter((c) => c.reason === 'retry').length;
    const repushed = log.filter((c) => c.reason === 'answered_repush').length;
    const failed = log.filter((c) => !c.ok).length;
    const inbox = await store.db
      .selectFrom('inbox')
      .select(['id', 'status', 'source'])
      .where('id', 'like', 'bot:%')
      .execute();
    console.info(
      `[chaos http] ${N} tasks, ${2 * N} commands, 1 kill: ${log.length} HTTP pushes (${failed} failed, ` +
        `${retried} retries, ${repushed} re-pushes of answered ones), ${inbox.length} bot messages in the inbox; ` +
        `outbox jobs per task: ${[...new Set(perTask)].join('/')}`,
    );
    for (const id of ids) {
      expect(
        events.filter((e) => e.task_id === id && e.kind === 'start'),
        `task ${id} start`,
      ).toHaveLength(1);
      expect(
        events.filter((e) => e.task_id === id && e.kind === 'done'),
        `task ${id} done`,
      ).toHaveLength(1);
    }
    // A command applied twice would add a reply (or an announcement) job about its task.
    expect(new Set(perTask).size).toBe(1);
    expect(inbox).toHaveLength(2 * N);
    expect(inbox.every((e) => e.status === 'handled' && e.source === 'http')).toBe(true);
    // The faults did fire: the kill failed pushes that were then retried, and answered ones came again.
    expect(failed).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect(repushed).toBeGreaterThan(0);
  }, 90_000);
});
