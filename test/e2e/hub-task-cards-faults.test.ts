/**
 * Card clicks as the fault source: while the emulator drops every Stream socket on a short period and re-pushes
 * frames, acked ones too (under fresh messageIds, docs/dingtalk.md §S9), people click Start and then Done on the
 * cards of several tasks. Each click must take effect once: one `start` and one `done` in each task's history, and
 * the card showing the final state. The run also shows that duplicates really came (more click entries in the
 * inbox than clicks), so what held them is the hub's apply-once, not a quiet network. SQLite and PostgreSQL.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type HubFixture, startTestHub, waitFor } from './hub-helpers.js';

const TOPIC = '/v1.0/card/instances/callback';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`task-card clicks with the Stream socket dropping (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        emulator: { port: 0, stream: { redeliverAfterMs: 300, pingIntervalMs: 1_000 } },
        stream: { backoff: { initialMs: 20, maxMs: 200 }, healthyAfterMs: 50, pingIntervalMs: 1_000 },
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('applies each click once while sockets drop every 150 ms and acked clicks are pushed again', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const N = 6;
      const ids: number[] = [];
      for (let i = 0; i < N; i++) {
        const t = await hub.assignTask(
          { title: `card-drop-${i}`, assignees: ['lisi'], group: 'engineering' },
          { by: 't' },
        );
        ids.push(t.id);
      }
      for (const id of ids)
        await waitFor(() => emu.state.cards.get(`dingkit-task-${id}`), 10_000, `card ${id}`);
      const connectsBefore = hub.stream!.stats().connects;
      emu.setFaults({ stream: { dropEveryMs: 150, repushAckedRate: 0.5, seed: 11 } });
      try {
        for (const id of ids) {
          await emu.clickCard(`dingkit-task-${id}`, { by: 'lisi', actionIds: ['start'] });
          await new Promise((r) => setTimeout(r, 40));
        }
        for (const id of ids) {
          await waitFor(
            async () => (await hub.getTask(id))?.state === 'in_progress',
            15_000,
            `task ${id} started`,
          );
          await emu.clickCard(`dingkit-task-${id}`, { by: 'lisi', actionIds: ['done'] });
          await new Promise((r) => setTimeout(r, 40));
        }
        for (const id of ids) {
          await waitFor(async () => (await hub.getTask(id))?.state === 'done', 15_000, `task ${id} done`);
        }
        await waitFor(() => hub.stream!.stats().connects - connectsBefore >= 2, 15_000, 'two reconnects');
      } finally {
        emu.setFaults({ stream: { dropEveryMs: undefined, repushAckedRate: 0 } });
      }
      // The faults fired: reconnects, and frames pushed more than once.
      expect(hub.stream!.stats().connects - connectsBefore).toBeGreaterThanOrEqual(2);
      const reasons = emu.gateway.log().frames.map((fr) => fr.reason);
      expect(reasons.filter((r) => r !== 'first').length).toBeGreaterThan(0);
      // Let late re-pushes land and be handled, then count effects.
      await new Promise((r) => setTimeout(r, 800));
      await hub.drainInbox();
      for (const id of ids) {
        const t = (await hub.getTask(id))!;
        expect(
          t.history.filter((e) => e.kind === 'start'),
          `task ${id}`,
        ).toHaveLength(1);
        expect(
          t.history.filter((e) => e.kind === 'done'),
          `task ${id}`,
        ).toHaveLength(1);
        const card = await waitFor(
          () => {
            const c = emu.state.cards.get(`dingkit-task-${id}`);
            return c?.cardParamMap['state'] === 'done' ? c : undefined;
          },
          10_000,
          `card ${id} done`,
        );
        expect(card.cardParamMap['lastAction']).toMatch(/^李四 finished it · /);
      }
      const entries = await f.store.db
        .selectFrom('inbox')
        .select(['id', 'status'])
        .where('topic', '=', TOPIC)
        .execute();
      expect(entries.every((e) => e.status === 'handled')).toBe(true);
      // Twin of the once-assertions above: the duplicates did reach the hub (2 clicks per task, more entries).
      expect(entries.length).toBeGreaterThan(2 * N);
    });
  });
}
