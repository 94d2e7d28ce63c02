/**
 * Inbound exactly-once through the whole hub: the emulator drops every Stream socket
 * on a short period, re-pushes frames nobody acked and some that were acked, while people post commands and DingTalk fires events.
 * Every command must take effect once (one state change, one announcement, one reply) and every event must land
 * in the inbox once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, ENG, type HubFixture, startTestHub, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub inbound with the Stream socket dropping (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        emulator: {
          port: 0,
          stream: { redeliverAfterMs: 300, redeliverCallbacks: true, pingIntervalMs: 1_000 },
        },
        stream: { backoff: { initialMs: 20, maxMs: 200 }, healthyAfterMs: 50, pingIntervalMs: 1_000 },
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('applies each chat command and event exactly once while sockets drop every 150 ms', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const N = 12;
      const ids: number[] = [];
      for (let i = 0; i < N; i++) {
        ids.push(
          (
            await hub.assignTask(
              { title: `drop-${i}`, assignees: ['lisi'], group: 'engineering' },
              { by: 't' },
            )
          ).id,
        );
      }
      const connectsBefore = hub.stream!.stats().connects;
      emu.setFaults({ stream: { dropEveryMs: 150, repushAckedRate: 0.5, seed: 5 } });
      try {
        for (let i = 0; i < N; i++) {
          // The socket may be down right now: the gateway keeps the push until a connection takes it.
          await emu.postMessage(ENG, { from: 'lisi', text: `done ${ids[i]}`, atBot: true });
          await emu.fireEvent({
            eventType: 'dingkit_test_event',
            eventId: `evt-${backend.name}-${i}`,
            data: { i },
          });
          await new Promise((r) => setTimeout(r, 40));
        }
        for (const id of ids) {
          await waitFor(async () => (await hub.getTask(id))?.state === 'done', 15_000, `task ${id} done`);
        }
        await waitFor(
          async () => {
            const rows = await f.store.db
              .selectFrom('inbox')
              .select('id')
              .where('id', 'like', `event:evt-${backend.name}-%`)
              .execute();
            return rows.length === N;
          },
          15_000,
          'all events in the inbox',
        );
        // On a fast run every command can land within one or two socket lifetimes: the drops go on until the
        // receiver has reconnected at least twice (the gateway then re-pushes what was in flight).
        await waitFor(
          () => hub.stream!.stats().connects - connectsBefore >= 2,
          15_000,
          'two reconnects under the drop fault',
        );
      } finally {
        emu.setFaults({ stream: { dropEveryMs: undefined, repushAckedRate: 0 } });
      }
      // The fault really fired: the receiver reconnected several times during the run.
      expect(hub.stream!.stats().connects - connectsBefore).toBeGreaterThanOrEqual(2);
      const reasons = emu.gateway.log().frames.map((fr) => fr.reason);
      // ...and frames came again (after drops, and re-pushes of acked ones), so dedupe was put to work.
      expect(reasons.filter((r) => r !== 'first').length).toBeGreaterThan(0);
      // Let late redeliveries arrive and be handled, then count effects.
      await new Promise((r) => setTimeout(r, 800));
      await hub.drainInbox();
      for (const id of ids) {
        const t = (await hub.getTask(id))!;
        expect(t.history.filter((e) => e.kind === 'done')).toHaveLength(1);
        await waitFor(
          () => emu.messages(ENG).some((m) => m.text.includes(`Task #${id} finished by`)),
          10_000,
        );
        expect(emu.messages(ENG).filter((m) => m.text.includes(`Task #${id} finished by`))).toHaveLength(1);
        // Written in the task's group: the reply is the announcement, so no second message beside it.
        expect(
          emu.messages(ENG).filter((m) => m.source !== 'user' && m.text.includes(`Task #${id} `)),
        ).toHaveLength(1);
      }
      const events = await f.store.db
        .selectFrom('inbox')
        .select(['id', 'status'])
        .where('id', 'like', `event:evt-${backend.name}-%`)
        .execute();
      expect(events).toHaveLength(N);
      expect(events.every((e) => e.status === 'handled')).toBe(true);
    });
  });
}
