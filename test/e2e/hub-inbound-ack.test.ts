/**
 * Ack only after commit, through the hub: a push is acked only once it is stored. Here the database refuses every
 * inbox commit, so the first hub process never stores the `done` command; it stops (as it would die) with the push
 * unanswered, the emulator pushes it again to the next process on the same store, which applies it once.
 * The twin acks before storing, as a careless receiver would: the same outage then loses the command for good.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFromOrg } from '../../src/cli/emulator-config.js';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { type RunningHub, startHub } from '../../src/hub/hub.js';
import { backends, ENG, testConfig, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub inbound: ack only after the durable commit (${backend.name})`, () => {
    let emu: Emulator;
    let fresh: Awaited<ReturnType<typeof backend.fresh>>;
    const hubs: RunningHub[] = [];
    beforeEach(async () => {
      emu = await startEmulator({ port: 0, stream: { redeliverAfterMs: 200, redeliverCallbacks: true } });
      fresh = await backend.fresh();
    });
    afterEach(async () => {
      for (const h of hubs.splice(0)) await h.stop().catch(() => {});
      await fresh.cleanup();
      await emu.close();
    });

    // A production-style hub whose DingTalk is the shared emulator, so a second process meets the same platform.
    const hub = async (o: { unsafeAckBeforeCommit?: boolean } = {}) => {
      const config = configFromOrg(emu.state.org, testConfig({ emulator: { mode: 'off' } }), emu.url);
      const h = await startHub({ config, store: await fresh.open(), inboxPollMs: 50, ...o });
      hubs.push(h);
      await waitFor(async () => (await h.health()).stream === 'connected');
      return h;
    };

    const outage = async (unsafeAckBeforeCommit: boolean) => {
      const first = await hub({ unsafeAckBeforeCommit });
      const task = await first.assignTask(
        { title: 'Ack after commit', assignees: ['lisi'], group: 'engineering' },
        { by: 't' },
      );
      let refused = 0;
      first.inbox.commit = async () => {
        refused++;
        throw new Error('database unavailable');
      };
      await emu.postMessage(ENG, { from: 'lisi', text: `done ${task.id}`, atBot: true });
      await waitFor(() => refused >= 2, 5_000, 'commit retries');
      await first.stop(); // the process goes away during the outage
      const second = await hub();
      return { second, task };
    };

    it('a push that could not be stored is not acked, and the next process applies it once', async () => {
      const { second, task } = await outage(false);
      const done = await waitFor(async () => {
        const t = await second.getTask(task.id);
        return t?.state === 'done' ? t : undefined;
      }, 10_000);
      expect(done.history.filter((e) => e.kind === 'done')).toHaveLength(1);
      await waitFor(() =>
        emu.messages(ENG).find((m) => m.text.includes(`Task #${task.id} finished by 李四`)),
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(emu.messages(ENG).filter((m) => m.text.includes(`Task #${task.id} finished by`))).toHaveLength(
        1,
      );
    });

    it('twin: acking before storing loses the command in the same outage', async () => {
      const { second, task } = await outage(true);
      await new Promise((r) => setTimeout(r, 1_000)); // several redelivery windows
      await second.drainInbox();
      expect((await second.getTask(task.id))!.state).toBe('open');
    });
  });
}
