/**
 * Inbound exactly-once with a real hub process: people post `start N` then `done N` in a
 * group through the emulator's control API while the emulator drops the hub's Stream socket every
 * `dropEveryMs` and pushes again half of the frames the hub had already acked; the hub process is also killed
 * with SIGKILL once during the `done` phase and restarted. Every command must be applied exactly once: one
 * `start` and one `done` event in each task's history, and the same number of outbox jobs about each task
 * (announcements and replies), which a command applied twice would break (a second reply).
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

describe('chat commands over a dropping Stream socket, hub killed once (SQLite, real process)', () => {
  const scene = chaosScene();
  const { procs, standby } = scene;

  it('each `start N` / `done N` applied exactly once', async () => {
    const { tasks: N, dropEveryMs, repushAckedRate } = CHAOS.stream;
    standby.warm(1);
    const emu = await startEmulator({
      port: 0,
      seed: CHAOS.seed,
      fixture: chaosOrg(0),
      // Frames not acked within 300 ms come again, bot messages included (the platform's horizon is 60 s).
      stream: { redeliverAfterMs: 300, redeliverCallbacks: true, pingIntervalMs: 1_000 },
    });
    scene.emu = emu;
    const fresh = await sqlite.fresh();
    const store = await fresh.open();
    scene.cleanup = fresh.cleanup;
    const { token } = await createApiToken(new StoreApiTokens(store), 'chaos', ['send']);
    const input = {
      config: productionConfig(emu, 0, { leaseMs: 5_000 }),
      databaseUrl: fresh.url,
      receive: true,
      inboxPollMs: 50,
      stream: { backoff: { initialMs: 20, maxMs: 200 }, healthyAfterMs: 50, pingIntervalMs: 1_000 },
    };
    let hub = await spawnHub(input, { standby });
    procs.push(hub);
    standby.warm(1); // the restart after the kill

    const ids: number[] = [];
    for (let i = 0; i < N; i++) {
      const r = await apiPost(hub.url, token, '/v1/tasks', {
        title: `stream-${i}`,
        assignees: ['lisi'],
        group: 'engineering',
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids.push(Number((r.body['task'] as { id: number } | undefined)?.id ?? r.body['id']));
    }
    const post = async (text: string) => {
      const res = await fetch(`${emu.url}/_emulator/groups/${encodeURIComponent(ENG)}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'lisi', text, atBot: true }),
      });
      expect(res.status).toBe(200);
    };
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
      throw new Error(`not all tasks ${state}: ${JSON.stringify([...(await states())])}\n${hub.stderr()}`);
    };

    emu.setFaults({ stream: { dropEveryMs, repushAckedRate, seed: CHAOS.seed } });
    for (const id of ids) {
      await post(`start ${id}`);
      await sleep(60);
    }
    await waitAll('in_progress', 30_000);
    for (const [k, id] of ids.entries()) {
      await post(`done ${id}`);
      if (k === Math.floor(N / 2)) {
        await kill9(hub);
        hub = await spawnHub(input, { standby });
        procs.push(hub);
      }
      await sleep(60);
    }
    await waitAll('done', 45_000);
    // Let late re-pushes of acked frames arrive and be deduplicated, then stop the faults and count.
    await sleep(2 * dropEveryMs);
    emu.setFaults({ stream: { repushAckedRate: 0 } });
    await sleep(500);
    const events = await store.db
      .selectFrom('task_events')
      .select(['task_id', 'kind'])
      .where('task_id', 'in', ids)
      .execute();
    // Announcements and replies are outbox jobs, counted where they are made (a send cut off by the kill may
    // be parked and hold back its conversation, so what reached the group is not the measure).
    const jobs = await store.db.selectFrom('deliveries').select('payload').execute();
    const about = (id: number) => jobs.filter((j) => new RegExp(`#${id}\\b`).test(j.payload)).length;
    const perTask = ids.map(about);
    const log = emu.gateway.log();
    const again = log.frames.filter((f) => f.reason !== 'first').length;
    const inbox = await store.db
      .selectFrom('inbox')
      .select(['id', 'status'])
      .where('id', 'like', 'bot:%')
      .execute();
    console.info(
      `[chaos d] ${N} tasks, ${2 * N} commands, 1 kill: ${log.connections.length} Stream connections, ` +
        `${log.frames.length} frames pushed (${again} again: after drops or re-pushes of acked ones), ` +
        `${inbox.length} bot messages in the inbox; outbox jobs per task: ${[...new Set(perTask)].join('/')}`,
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
    expect(inbox.every((e) => e.status === 'handled')).toBe(true);
    // The faults did fire: several connections and frames pushed again.
    expect(log.connections.length).toBeGreaterThanOrEqual(3);
    expect(again).toBeGreaterThan(0);
  }, 150_000);
});
