/**
 * "Or the process dies": a bot message committed to the inbox (and so acked) by a process that died before
 * handling it is handled once by the next process on the same store, and a re-push after that changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { Inbox } from '../../src/hub/inbound/inbox.js';
import { backends, ENG, testConfig, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub inbound across a restart (${backend.name})`, () => {
    it('handles what a dead process committed but never handled, exactly once', async () => {
      const fresh = await backend.fresh();
      try {
        // First process: creates the task, then "dies" (stops) before any command arrives.
        const first = await launchHub({ config: testConfig(), store: await fresh.open() });
        const task = await first.assignTask(
          { title: 'Survive me', assignees: ['lisi'], group: 'engineering' },
          { by: 't' },
        );
        await first.stop();
        // What the dead process's receiver had committed (and acked) just before dying.
        const store = await fresh.open();
        const msg = {
          msgtype: 'text',
          text: { content: ` done ${task.id}` },
          msgId: 'msg-survivor-1',
          conversationId: ENG,
          conversationType: '2',
          senderId: '$:LWCP_v1:$x',
          senderStaffId: 'lisi',
          senderNick: '李四',
          robotCode: 'dingdemoappkey000001',
        };
        expect(
          await new Inbox(store).commit('bot:msg-survivor-1', 'stream', '/v1.0/im/bot/messages/get', msg),
        ).toBe('new');

        const second = await launchHub({ config: testConfig(), store, inboxPollMs: 50 });
        try {
          const done = await waitFor(async () => {
            const t = await second.getTask(task.id);
            return t?.state === 'done' ? t : undefined;
          });
          expect(done.history.filter((e) => e.kind === 'done')).toEqual([
            expect.objectContaining({ by: '李四', note: 'from chat' }),
          ]);
          await waitFor(() =>
            second.emulator!.messages(ENG).find((m) => m.text.includes(`Task #${task.id} finished by 李四`)),
          );
          // DingTalk pushes it again (same msgId): a duplicate, no second effect.
          expect(
            await second.inbox.commit('bot:msg-survivor-1', 'stream', '/v1.0/im/bot/messages/get', msg),
          ).toBe('duplicate');
          await second.drainInbox();
          await new Promise((r) => setTimeout(r, 200));
          expect((await second.getTask(task.id))!.history.filter((e) => e.kind === 'done')).toHaveLength(1);
          expect(
            second.emulator!.messages(ENG).filter((m) => m.text.includes(`Task #${task.id} finished by`)),
          ).toHaveLength(1);
        } finally {
          await second.stop();
        }
      } finally {
        await fresh.cleanup();
      }
    });
  });
}
