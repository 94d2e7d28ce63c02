/**
 * The Todo poller as the only way back (the Todo event ignored, as if DingTalk named it differently): a Todo
 * marked done in DingTalk still finishes its task, once; with the poller off (the twin) it does not.
 */
import { describe, expect, it } from 'vitest';
import { backends, ENG, startTestHub, testConfig, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub Todo poller (${backend.name})`, () => {
    const scenario = async (todoPollMs: number) => {
      const f = await startTestHub(backend, {
        config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, todoPollMs } }),
        todoEventTypes: [],
      });
      const { hub } = f;
      const task = await hub.assignTask(
        { title: 'Poll me', assignees: ['wangwu'], group: 'engineering' },
        { by: 't' },
      );
      const todoId = (
        await waitFor(async () => {
          const t = await hub.getTask(task.id);
          return t?.assignees[0]?.todoId ? t : undefined;
        })
      ).assignees[0]!.todoId!;
      await hub.emulator!.markTodoDone(todoId, 'unionWangWu000003');
      return { f, hub, task };
    };

    it('finishes the task from a Todo found done by polling, exactly once', async () => {
      const { f, hub, task } = await scenario(50);
      try {
        const done = await waitFor(async () => {
          const t = await hub.getTask(task.id);
          return t?.state === 'done' ? t : undefined;
        });
        expect(done.history.map((e) => e.kind)).toEqual(['created', 'todo_synced', 'done']);
        expect(done.history.at(-1)!.by).toBe('王五');
        await new Promise((r) => setTimeout(r, 300)); // several more polls
        expect((await hub.getTask(task.id))!.history.filter((e) => e.kind === 'done')).toHaveLength(1);
        await waitFor(() =>
          hub.emulator!.messages(ENG).find((m) => m.text.includes(`Task #${task.id} finished by 王五`)),
        );
      } finally {
        await f.cleanup();
      }
    });

    it('twin: with the poller off and the event ignored, the task stays open', async () => {
      const { f, hub, task } = await scenario(0);
      try {
        await new Promise((r) => setTimeout(r, 400));
        expect((await hub.getTask(task.id))!.state).toBe('open');
      } finally {
        await f.cleanup();
      }
    });
  });
}
