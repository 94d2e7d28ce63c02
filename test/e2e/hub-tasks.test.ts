import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { backends, ENG, type HubFixture, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub tasks over the emulator (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('assign: records the task, @mentions the assignees in the group, one Todo per assignee with a detailUrl', async () => {
      const { hub } = f;
      const due = new Date(Date.now() + 86_400_000).toISOString();
      const task = await hub.assignTask(
        {
          title: 'Ship 2.0',
          description: 'cut the release',
          assignees: ['张三', 'Alice Chen'],
          group: 'engineering',
          due,
          priority: 'high',
        },
        { by: 'tester' },
      );
      expect(task.state).toBe('open');
      expect(task.history.map((e) => e.kind)).toEqual(['created']);
      // The engineering group has only the app robot: the task is its card there (tasks/cards.ts), naming the
      // assignees, and each of them is told 1:1, as an app robot cannot @ (docs/dingtalk.md §3.1).
      const card = await waitFor(() => hub.emulator!.state.cards.get(`dingkit-task-${task.id}`));
      expect(card.spaceId).toBe(ENG);
      expect(card.cardParamMap['content']).toMatch(
        /^\*\*Assignees\*\*: (张三, Alice Chen|Alice Chen, 张三)\n/,
      );
      expect(hub.emulator!.messages(ENG).filter((m) => m.text.includes(`New task #${task.id}`))).toEqual([]);
      const announce = await waitFor(() =>
        hub.emulator!.messages('oto:zhangsan').find((m) => m.text.includes(`New task #${task.id}`)),
      );
      expect(announce.text).toContain('@张三');
      expect(announce.text).toContain('@Alice Chen');
      // Its last line opens the task's page (DingTalk opens an https link in its own container, signed in by 免登).
      expect(announce.text.split('\n').at(-1)).toMatch(
        new RegExp(`^Open: http://\\S+/app/tasks/${task.id}$`),
      );
      const todos = await waitFor(() => {
        const t = hub.emulator!.todos().filter((x) => x.subject === 'Ship 2.0');
        return t.length === 2 ? t : undefined;
      });
      expect(todos.map((t) => t.executorIds[0]).sort()).toEqual(['unionAlice0000004', 'unionZhangSan0001']);
      for (const t of todos) {
        expect(t.detailUrl?.appUrl).toMatch(new RegExp(`/app/tasks/${task.id}$`));
        // The PC client opens the same page in its side panel (docs/dingtalk.md §13.4).
        expect(t.detailUrl?.pcUrl).toBe(
          `dingtalk://dingtalkclient/page/link?url=${encodeURIComponent(t.detailUrl!.appUrl!)}&pc_slide=true`,
        );
        expect(t.priority).toBe(30);
      }
      const withIds = await waitFor(async () => {
        const t = await hub.getTask(task.id);
        return t?.assignees.every((a) => a.todoId) ? t : undefined;
      });
      expect(withIds.assignees.map((a) => a.todoId).sort()).toEqual(todos.map((t) => t.id).sort());
    });

    it('renders real @mentions where the group has a custom robot', async () => {
      const { hub } = f;
      const task = await hub.assignTask(
        { title: 'Rotate keys', assignees: ['alice', 'bob'], group: 'ops' },
        { by: 'tester' },
      );
      const m = await waitFor(() =>
        hub.emulator!.messages(OPS).find((x) => x.text.includes(`New task #${task.id}`)),
      );
      expect(m.atUserIds.sort()).toEqual(['alice', 'bob']);
      expect(m.text).toContain('@alice');
    });

    it('`done <id>` from the chat travels Stream → inbox → state change → one message in the group, once even when re-pushed', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const task = await hub.assignTask(
        { title: 'Write notes', assignees: ['lisi'], group: 'engineering' },
        { by: 'tester' },
      );
      emu.setFaults({ stream: { repushAckedRate: 0.6, seed: 11 } });
      try {
        const before = emu.gateway.log().frames.length;
        await emu.postMessage(ENG, { from: 'lisi', text: `done ${task.id}`, atBot: true });
        const done = await waitFor(async () => {
          const t = await hub.getTask(task.id);
          return t?.state === 'done' ? t : undefined;
        });
        expect(done.history.filter((e) => e.kind === 'done')).toHaveLength(1);
        expect(done.history.at(-1)).toMatchObject({ kind: 'done', by: '李四' });
        // Written in the task's own group, so the reply there is the announcement: one message, not two.
        await waitFor(() =>
          emu.messages(ENG).find((m) => m.text === `Task #${task.id} finished by 李四: Write notes`),
        );
        // The fault really re-pushed the message (so this test exercises dedupe)...
        await waitFor(() =>
          emu.gateway
            .log()
            .frames.slice(before)
            .some((fr) => fr.reason === 'acked_repush' && fr.topic.includes('bot')),
        );
        await new Promise((r) => setTimeout(r, 300));
        await hub.drainInbox();
        // ...and yet one message about the move (no announcement beside the reply), one history entry.
        expect(
          emu.messages(ENG).filter((m) => m.source !== 'user' && m.text.includes(`Task #${task.id} `)),
        ).toHaveLength(1);
        expect(
          emu.messages(ENG).filter((m) => m.text.includes(`Task #${task.id} "Write notes"`)),
        ).toHaveLength(0);
        expect((await hub.getTask(task.id))!.history.filter((e) => e.kind === 'done')).toHaveLength(1);
      } finally {
        emu.setFaults({ stream: { repushAckedRate: 0 } });
      }
    });

    it('twin: the same command under a new message id is a second effect, so the dedupe above is what held', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const ask = () => emu.postMessage(ENG, { from: 'wangwu', text: 'tasks', atBot: true });
      await ask();
      await ask(); // two distinct messages (distinct msgIds): two answers expected
      await waitFor(
        () =>
          emu
            .messages(ENG)
            .filter(
              (m) => m.text.startsWith('You have no open tasks') || m.text.startsWith('Your open tasks'),
            ).length >= 2,
      );
    });

    it('answers `tasks` with the sender’s open tasks and `help` with the command list', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Review PR 7', assignees: ['bob'], group: 'ops' },
        { by: 'tester' },
      );
      // Asked in Chinese, answered in Chinese (inbound/replies.ts).
      await emu.postMessage(OPS, { from: 'bob', text: '我的任务', atBot: true });
      await waitFor(() =>
        emu
          .messages(OPS)
          .find((m) => m.text.includes('你未完成的任务') && m.text.includes(`#${t.id} Review PR 7`)),
      );
      await emu.postMessage(OPS, { from: 'bob', text: 'tasks', atBot: true });
      await waitFor(() =>
        emu
          .messages(OPS)
          .find((m) => m.text.includes('Your open tasks') && m.text.includes(`#${t.id} Review PR 7`)),
      );
      await emu.postMessage(OPS, { from: 'bob', text: 'what?', atBot: true });
      await waitFor(() =>
        emu
          .messages(OPS)
          .find((m) => m.text.includes('I did not understand') && m.text.includes('done <id>')),
      );
      // No such task: the same answer as "not yours" (test/security/task-authz.test.ts).
      await emu.postMessage(OPS, { from: 'bob', text: 'start 999999', atBot: true });
      await waitFor(() =>
        emu
          .messages(OPS)
          .find((m) => m.text.startsWith('I cannot change task #999999: there is no such task')),
      );
    });

    it('a Todo marked done in DingTalk finishes the task and closes the other assignees’ Todos', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const task = await hub.assignTask(
        { title: 'Sign contract', assignees: ['alice', 'wangwu'], group: 'engineering' },
        { by: 'tester' },
      );
      const withTodos = await waitFor(async () => {
        const t = await hub.getTask(task.id);
        return t?.assignees.every((a) => a.todoId) ? t : undefined;
      });
      const aliceTodo = withTodos.assignees.find((a) => a.name === 'Alice Chen')!.todoId!;
      const otherTodo = withTodos.assignees.find((a) => a.name === '王五')!.todoId!;
      await emu.markTodoDone(aliceTodo, 'unionAlice0000004');
      const done = await waitFor(async () => {
        const t = await hub.getTask(task.id);
        return t?.state === 'done' ? t : undefined;
      });
      expect(done.history.map((e) => e.kind)).toContain('todo_synced');
      expect(done.history.at(-1)).toMatchObject({ kind: 'done', by: 'Alice Chen' });
      await waitFor(() => emu.todos().find((t) => t.id === otherTodo)?.done === true);
      await waitFor(() =>
        emu.messages(ENG).find((m) => m.text.includes(`Task #${task.id} finished by Alice Chen`)),
      );
    });

    it('a task finished before its Todo could be created still gets that Todo closed', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      emu.setFaults({ rules: [{ route: '/v1.0/todo/*', error5xx: 1 }] });
      let id = 0;
      try {
        const task = await hub.assignTask(
          { title: 'Fast one', assignees: ['wangwu'], group: 'engineering' },
          { by: 't' },
        );
        id = task.id;
        await hub.actOnTask(task.id, 'done', { by: 't' });
        await waitFor(async () =>
          (await hub.listDeliveries({ limit: 50 })).some(
            (d) => d.target === '王五' && d.attempts >= 1 && d.lastError,
          ),
        );
      } finally {
        emu.setFaults({ rules: [] });
      }
      // The create is retried (todos are idempotent by sourceId), then closed because the task is done.
      const todo = await waitFor(() => emu.todos().find((t) => t.subject === 'Fast one' && t.done), 10_000);
      expect(todo.executorIds).toEqual(['unionWangWu000003']);
      expect(emu.todos().filter((t) => t.subject === 'Fast one')).toHaveLength(1);
      expect((await hub.getTask(id))!.assignees[0]!.todoId).toBe(todo.id);
    });

    it('refuses invalid transitions and unknown people with typed errors', async () => {
      const { hub } = f;
      const t = await hub.assignTask({ title: 'Temp', assignees: ['bob'] }, { by: 'tester' });
      await hub.actOnTask(t.id, 'cancel', { by: 'tester' });
      await expect(hub.actOnTask(t.id, 'start', { by: 'tester' })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
      await expect(hub.assignTask({ title: 'x', assignees: ['ghost'] }, { by: 't' })).rejects.toThrow(
        /unknown person/,
      );
      await expect(hub.assignTask({ title: '', assignees: ['bob'] }, { by: 't' })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
      await expect(
        hub.assignTask({ title: 'x', assignees: ['bob'], due: 'tomorrow' }, { by: 't' }),
      ).rejects.toThrow(/ISO/);
      const same1 = await hub.assignTask(
        { title: 'Idem', assignees: ['bob'], idempotencyKey: 'task-k' },
        { by: 't' },
      );
      const same2 = await hub.assignTask(
        { title: 'Idem', assignees: ['bob'], idempotencyKey: 'task-k' },
        { by: 't' },
      );
      expect(same2.id).toBe(same1.id);
    });
  });

  describe.skipIf(backend.skip)(`hub task schedules (${backend.name})`, () => {
    it('reminds before the due time and escalates after it, on a scaled window', async () => {
      const f = await startTestHub(backend, {
        // The reminder is due at +0.5 s and must reach DingTalk before +4 s: a margin a busy CI machine keeps (400 ms
        // did not, on PostgreSQL beside the chaos hubs; nor, once, did 1.5 s).
        config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 3_500, escalateAfterMs: 100 } }),
      });
      try {
        const { hub } = f;
        const due = new Date(Date.now() + 4_000).toISOString();
        const t = await hub.assignTask(
          { title: 'Pay invoice', assignees: ['bob'], group: 'ops', due },
          { by: 'tester' },
        );
        const reminder = await waitFor(() =>
          hub.emulator!.messages(OPS).find((m) => m.text.startsWith(`Reminder: task #${t.id}`)),
        );
        expect(reminder.atUserIds).toEqual(['bob']);
        expect(reminder.at).toBeLessThan(Date.parse(due));
        const overdue = await waitFor(
          () => hub.emulator!.messages(OPS).find((m) => m.text.startsWith(`Overdue: task #${t.id}`)),
          10_000,
          'the overdue escalation',
        );
        expect(overdue.at).toBeGreaterThanOrEqual(Date.parse(due) + 100);
        const history = (await hub.getTask(t.id))!.history.map((e) => e.kind);
        expect(history).toEqual(['created', 'reminded', 'escalated']);
      } finally {
        await f.cleanup();
      }
    });

    it('a finished task is not reminded', async () => {
      const f = await startTestHub(backend, {
        config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 200, escalateAfterMs: 0 } }),
      });
      try {
        const { hub } = f;
        // The reminder falls due at +0.8 s, so the `done` below lands before it even on a busy machine (with +0.2 s,
        // assign and done on PostgreSQL beside the other suites took longer and a reminder went out first); the
        // check waits past the due time, when an escalation would have gone out too.
        const dueAt = Date.now() + 1_000;
        const t = await hub.assignTask(
          {
            title: 'Quick one',
            assignees: ['bob'],
            group: 'ops',
            due: new Date(dueAt).toISOString(),
          },
          { by: 't' },
        );
        await hub.actOnTask(t.id, 'done', { by: 't' });
        await new Promise((r) => setTimeout(r, Math.max(0, dueAt + 300 - Date.now())));
        expect(
          hub
            .emulator!.messages(OPS)
            .filter((m) => /^(Reminder|Overdue): task #/.test(m.text) && m.text.includes(`#${t.id} `)),
        ).toHaveLength(0);
      } finally {
        await f.cleanup();
      }
    });

    it('schedules survive a restart: a new hub process on the same store escalates', async () => {
      const f = await startTestHub(backend, {
        config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 } }),
      });
      let second: Awaited<ReturnType<typeof launchHub>> | undefined;
      try {
        const t = await f.hub.assignTask(
          {
            title: 'Renew cert',
            assignees: ['alice'],
            group: 'ops',
            due: new Date(Date.now() + 800).toISOString(),
          },
          { by: 't' },
        );
        await f.hub.stop(); // the process goes away before the due time
        const store2 = await f.reopen();
        second = await launchHub({
          config: testConfig({ tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 } }),
          store: store2,
          inboxPollMs: 50,
        });
        const hub2 = second;
        await waitFor(
          () => hub2.emulator!.messages(OPS).find((m) => m.text.startsWith(`Overdue: task #${t.id}`)),
          5_000,
        );
        expect((await hub2.getTask(t.id))!.history.map((e) => e.kind)).toEqual(['created', 'escalated']);
      } finally {
        await second?.stop();
        await f.cleanup();
      }
    });
  });
}
