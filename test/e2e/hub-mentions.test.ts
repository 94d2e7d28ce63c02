/**
 * Mentions that notify. A group served by a custom robot @mentions assignees for real (`at.atUserIds`); a group
 * served only by the app robot cannot (v1.0 group sends carry no `at`, docs/dingtalk.md §3.1), so its text names
 * them and each one is also reached on their own: 1:1 from the app robot (the default), as a work notification, or
 * not at all, as `tasks.mentionFallback` says. Assignment, additions by an edit, reminders and escalations alike.
 */

import { describe, expect, it } from 'vitest';
import { backends, ENG, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

/** Fast task polls, no reminders; each test adds what it is about. */
const TASKS = { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 };

const oneToOne = (f: Awaited<ReturnType<typeof startTestHub>>, userId: string, taskId: number) =>
  f.hub.emulator!.messages(`oto:${userId}`).filter((m) => m.text.includes(`#${taskId}`));

for (const backend of backends) {
  describe.skipIf(backend.skip)(`assignees are notified on every channel (${backend.name})`, () => {
    it('app-robot group: the text names them, and each assignee gets it 1:1 from the app robot', async () => {
      // The text path of an app-robot group: with task cards off (the card path is hub-task-cards.test.ts).
      const f = await startTestHub(backend, {
        config: testConfig({ tasks: { ...TASKS, cards: { enabled: false } } }),
      });
      try {
        const t = await f.hub.assignTask(
          { title: 'Fix login', assignees: ['张三', 'Alice Chen'], group: 'engineering' },
          { by: 'tester' },
        );
        const announce = await waitFor(() =>
          f.hub.emulator!.messages(ENG).find((m) => m.text.includes(`New task #${t.id}`)),
        );
        expect(announce.text).toContain('@张三');
        expect(announce.atUserIds).toEqual([]);
        const zhang = await waitFor(() => oneToOne(f, 'zhangsan', t.id)[0]);
        const alice = await waitFor(() => oneToOne(f, 'alice', t.id)[0]);
        for (const m of [zhang, alice]) expect(m.text).toBe(announce.text);
        // Nobody else hears of it 1:1.
        expect(oneToOne(f, 'lisi', t.id)).toEqual([]);
        // An edit that adds someone reaches the newcomer the same way, and only them.
        await f.hub.updateTask(t.id, { addAssignees: ['lisi'] }, { by: 'tester' });
        await waitFor(() => oneToOne(f, 'lisi', t.id)[0]);
        expect(oneToOne(f, 'zhangsan', t.id)).toHaveLength(1);
      } finally {
        await f.cleanup();
      }
    });

    it('custom-robot group: real @mentions, no 1:1 copies', async () => {
      const f = await startTestHub(backend);
      try {
        const t = await f.hub.assignTask(
          { title: 'Rotate certs', assignees: ['alice', 'bob'], group: 'ops' },
          { by: 'tester' },
        );
        const m = await waitFor(() =>
          f.hub.emulator!.messages(OPS).find((x) => x.text.includes(`New task #${t.id}`)),
        );
        expect(m.atUserIds.sort()).toEqual(['alice', 'bob']);
        // Give the dispatcher the time it took for the group message: any 1:1 copy would be out by now.
        await waitFor(async () => (await f.hub.getTask(t.id))?.assignees.every((a) => a.todoId));
        expect([...oneToOne(f, 'alice', t.id), ...oneToOne(f, 'bob', t.id)]).toEqual([]);
      } finally {
        await f.cleanup();
      }
    });

    it('mentionFallback notice: each assignee gets a work notification instead; none: nobody is told apart', async () => {
      const notice = await startTestHub(backend, {
        config: testConfig({
          tasks: { ...TASKS, mentionFallback: 'notice' },
        }),
      });
      try {
        const t = await notice.hub.assignTask(
          { title: 'Order chairs', assignees: ['wangwu'], group: 'engineering' },
          { by: 'tester' },
        );
        const n = await waitFor(() =>
          notice.hub.emulator!.notices('wangwu').find((x) => JSON.stringify(x).includes(`#${t.id}`)),
        );
        expect(JSON.stringify(n)).toContain('Order chairs');
        expect(oneToOne(notice, 'wangwu', t.id)).toEqual([]);
      } finally {
        await notice.cleanup();
      }
      const none = await startTestHub(backend, {
        config: testConfig({
          tasks: { ...TASKS, mentionFallback: 'none', cards: { enabled: false } },
        }),
      });
      try {
        const t = await none.hub.assignTask(
          { title: 'Water plants', assignees: ['wangwu'], group: 'engineering' },
          { by: 'tester' },
        );
        await waitFor(() =>
          none.hub.emulator!.messages(ENG).find((m) => m.text.includes(`New task #${t.id}`)),
        );
        await waitFor(async () => (await none.hub.getTask(t.id))?.assignees.every((a) => a.todoId));
        expect(oneToOne(none, 'wangwu', t.id)).toEqual([]);
        expect(
          none.hub.emulator!.notices('wangwu').filter((x) => JSON.stringify(x).includes(`#${t.id}`)),
        ).toEqual([]);
      } finally {
        await none.cleanup();
      }
    });

    it('a reminder in an app-robot group reaches each assignee 1:1', async () => {
      const f = await startTestHub(backend, {
        // Reminder due at +0.5 s (2 s before the due time), escalation off: a margin a busy machine keeps.
        config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 1_500, escalateAfterMs: 0 } }),
      });
      try {
        const due = new Date(Date.now() + 2_000).toISOString();
        const t = await f.hub.assignTask(
          { title: 'Renew domain', assignees: ['lisi', 'wangwu'], group: 'engineering', due },
          { by: 'tester' },
        );
        for (const who of ['lisi', 'wangwu']) {
          const r = await waitFor(() =>
            f.hub.emulator!.messages(`oto:${who}`).find((m) => m.text.startsWith(`Reminder: task #${t.id}`)),
          );
          expect(r.text).toContain('Renew domain');
        }
      } finally {
        await f.cleanup();
      }
    });
  });
}
