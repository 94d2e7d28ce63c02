/**
 * Editing a task end to end: a real hub on SQLite and PostgreSQL against the emulator. The edit's effects are
 * checked where DingTalk would show them: the kept assignee's Todo updated, the added one's Todo created and
 * @mentioned in the group, the removed one's Todo deleted, reminders moved with the due time, and the outbox jobs
 * of an edit surviving a process restart.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configFromOrg, DEMO_TIME_ZONE } from '../../src/cli/emulator-config.js';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { type RunningHub, startHub } from '../../src/hub/hub.js';
import { ZonedTime } from '../../src/hub/zoned-time.js';
import { backends, ENG, type HubFixture, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const ALICE = 'unionAlice0000004';
const BOB = 'unionBob000000005';
const WANGWU = 'unionWangWu000003';
const ZHANGSAN = 'unionZhangSan0001';
const LISI = 'unionLiSi00000002';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTodos(hub: RunningHub, id: number) {
  return waitFor(async () => {
    const t = await hub.getTask(id);
    return t?.assignees.every((a) => a.todoId) ? t : undefined;
  });
}

async function schedules(hub: RunningHub, taskId: number) {
  return hub.store.db
    .selectFrom('schedules')
    .select(['kind', 'due_at', 'fired_at', 'payload'])
    .where('task_id', '=', taskId)
    .orderBy('id')
    .execute();
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub task edit over the emulator (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('changes fields with an old → new history entry, updates, creates and deletes Todos, @mentions the added', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const due1 = Date.now() + 86_400_000;
      const t = await hub.assignTask(
        {
          title: 'Plan offsite',
          description: 'venue',
          assignees: ['alice', 'bob'],
          group: 'ops',
          due: new Date(due1).toISOString(),
        },
        { by: 'tester' },
      );
      const before = await withTodos(hub, t.id);
      const bobTodo = before.assignees.find((a) => a.name === 'Bob Li')!.todoId!;
      const aliceTodo = before.assignees.find((a) => a.name === 'Alice Chen')!.todoId!;
      const due2 = due1 + 86_400_000;

      const edited = await hub.updateTask(
        t.id,
        {
          title: 'Plan offsite 2027',
          description: 'venue and food',
          due: new Date(due2).toISOString(),
          addAssignees: ['张三'],
          removeAssignees: ['Bob Li'],
        },
        { by: 'tester' },
      );
      expect(edited).toMatchObject({
        title: 'Plan offsite 2027',
        description: 'venue and food',
        due: new Date(due2).toISOString(),
        state: 'open',
      });
      expect(edited.assignees.map((a) => a.name)).toEqual(['Alice Chen', '张三']);
      const entry = edited.history.at(-1)!;
      expect(entry).toMatchObject({ kind: 'edited', by: 'tester' });
      expect(entry.note).toContain('title: "Plan offsite" → "Plan offsite 2027"');
      expect(entry.note).toContain('description: "venue" → "venue and food"');
      // In the hub's zone (the built-in emulator's org: China's), marked; not a bare ISO string.
      const zone = new ZonedTime(DEMO_TIME_ZONE);
      expect(entry.note).toContain(`due: ${zone.format(due1)} → ${zone.format(due2)}`);
      expect(entry.note).toContain('assignees: +张三 -Bob Li');

      // The kept assignee's Todo follows the edit.
      await waitFor(() => emu.todos().find((x) => x.id === aliceTodo)?.subject === 'Plan offsite 2027');
      expect(emu.todos().find((x) => x.id === aliceTodo)).toMatchObject({
        description: 'venue and food',
        dueTime: due2,
        executorIds: [ALICE],
      });
      // The removed assignee's Todo is deleted (docs/dingtalk.md §8.1 delete).
      await waitFor(() => !emu.todos().some((x) => x.id === bobTodo));
      expect(emu.state.todos.get(bobTodo)?.deleted).toBe(true);
      // The added assignee gets a Todo of their own, recorded on the task.
      const added = await waitFor(() =>
        emu.todos().find((x) => x.executorIds[0] === ZHANGSAN && x.subject === 'Plan offsite 2027'),
      );
      expect(added).toMatchObject({ description: 'venue and food', dueTime: due2 });
      expect(added.detailUrl?.appUrl).toMatch(new RegExp(`/app/tasks/${t.id}$`));
      const after = await withTodos(hub, t.id);
      expect(after.assignees.find((a) => a.name === '张三')?.todoId).toBe(added.id);
      // One announcement in the group, with a real @mention of the added member (ops has a custom robot).
      const announce = await waitFor(() =>
        emu.messages(OPS).find((m) => m.text.startsWith(`Task #${t.id} edited by tester`)),
      );
      expect(announce.atUserIds).toEqual(['zhangsan']);
      expect(announce.text).toContain('@zhangsan');
      expect(announce.text).toContain('assignees: +张三 -Bob Li');

      // The same patch again is a no-op: no history entry, nothing sent.
      const sent = emu.messages(OPS).length;
      const todoCount = emu.state.todos.size;
      const replay = await hub.updateTask(
        t.id,
        {
          title: 'Plan offsite 2027',
          description: 'venue and food',
          due: new Date(due2).toISOString(),
          addAssignees: ['张三'],
          removeAssignees: ['Bob Li'],
        },
        { by: 'tester' },
      );
      expect(replay.history).toHaveLength(edited.history.length);
      await sleep(300);
      expect(emu.messages(OPS)).toHaveLength(sent);
      expect(emu.state.todos.size).toBe(todoCount);
    });

    it('clears the description on the Todo; a removed due time stays there, as the update API cannot clear it', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const due = Date.now() + 86_400_000;
      const t = await hub.assignTask(
        { title: 'Clear me', description: 'words', assignees: ['alice'], due: new Date(due).toISOString() },
        { by: 'tester' },
      );
      const todoId = (await withTodos(hub, t.id)).assignees[0]!.todoId!;
      const edited = await hub.updateTask(t.id, { description: null, due: null }, { by: 'tester' });
      expect(edited.description).toBeUndefined();
      expect(edited.due).toBeUndefined();
      await waitFor(() => emu.todos().find((x) => x.id === todoId)?.description === '');
      expect(emu.todos().find((x) => x.id === todoId)?.dueTime).toBe(due);
      // No group: nothing announced anywhere, and no schedule left pending.
      expect((await schedules(hub, t.id)).every((s) => s.fired_at !== null)).toBe(true);
    });

    it('a removed assignee whose Todo is already gone in DingTalk: the delete counts as done, not a dead letter', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Gone already', assignees: ['alice', 'lisi'] },
        { by: 'tester' },
      );
      const lisiTodo = (await withTodos(hub, t.id)).assignees.find((a) => a.name === '李四')!.todoId!;
      emu.state.todos.get(lisiTodo)!.deleted = true; // the owner deleted it in the DingTalk app
      const seen = new Set((await hub.listDeliveries({ limit: 500 })).map((d) => d.id));
      await hub.updateTask(t.id, { removeAssignees: ['lisi'] }, { by: 'tester' });
      const job = await waitFor(async () =>
        (await hub.listDeliveries({ limit: 500 })).find(
          (d) => !seen.has(d.id) && d.target === '李四' && (d.status === 'sent' || d.status === 'dead'),
        ),
      );
      expect(job.status).toBe('sent');
    });

    it('a task moved to another group is announced there; one taken out of its group says so in the old one', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Wanderer', assignees: ['alice'], group: 'ops' },
        { by: 'tester' },
      );
      const moved = await hub.updateTask(t.id, { group: 'engineering' }, { by: 'tester' });
      expect(moved.group).toBe('engineering');
      const there = await waitFor(() =>
        emu.messages(ENG).find((m) => m.text.startsWith(`Task #${t.id} edited by tester`)),
      );
      expect(there.text).toContain('group: ops → engineering');
      expect(emu.messages(OPS).some((m) => m.text.startsWith(`Task #${t.id} edited`))).toBe(false);
      const out = await hub.updateTask(t.id, { group: null }, { by: 'tester' });
      expect(out.group).toBeUndefined();
      await waitFor(() => emu.messages(ENG).find((m) => m.text.includes('group: engineering → none')));
    });

    it('concurrent identical edits apply once: one history entry, one new Todo, no error', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask({ title: 'Crowded', assignees: ['alice'] }, { by: 'tester' });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () =>
          hub.updateTask(t.id, { title: 'Crowded, edited', addAssignees: ['lisi'] }, { by: 'tester' }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const now = (await hub.getTask(t.id))!;
      expect(now.history.filter((e) => e.kind === 'edited')).toHaveLength(1);
      expect(now.assignees.map((a) => a.name)).toEqual(['Alice Chen', '李四']);
      await waitFor(() =>
        emu.todos().find((x) => x.subject === 'Crowded, edited' && x.executorIds[0] === LISI),
      );
      await sleep(200);
      expect(
        emu.todos().filter((x) => x.executorIds[0] === LISI && x.subject.startsWith('Crowded')),
      ).toHaveLength(1);
    });

    it('an edit racing moves of the same task: one `done`, and the edit either before it or refused after it', async () => {
      const { hub } = f;
      const t = await hub.assignTask({ title: 'Race', assignees: ['alice'] }, { by: 'tester' });
      const results = await Promise.allSettled([
        hub.actOnTask(t.id, 'done', { by: 'a' }),
        hub.updateTask(t.id, { title: 'Race, renamed' }, { by: 'e' }),
        hub.actOnTask(t.id, 'done', { by: 'b' }),
        hub.actOnTask(t.id, 'done', { by: 'c' }),
      ]);
      const kinds = (await hub.getTask(t.id))!.history.map((e) => e.kind);
      expect(kinds.filter((k) => k === 'done')).toHaveLength(1);
      const edit = results[1]!;
      if (edit.status === 'fulfilled') expect(kinds.indexOf('edited')).toBeLessThan(kinds.indexOf('done'));
      else expect(edit.reason).toMatchObject({ field: 'state' });
      expect(results.filter((r, i) => i !== 1 && r.status === 'rejected')).toEqual([]);
    });

    it('refuses a closed task with a typed error and changes nothing', async () => {
      const { hub } = f;
      const t = await hub.assignTask({ title: 'Finished', assignees: ['bob'] }, { by: 'tester' });
      await hub.actOnTask(t.id, 'done', { by: 'tester' });
      await expect(hub.updateTask(t.id, { title: 'Reworded' }, { by: 'tester' })).rejects.toMatchObject({
        code: 'VALIDATION',
        field: 'state',
        message: expect.stringContaining('cannot edit a task that is done'),
      });
      const now = (await hub.getTask(t.id))!;
      expect(now.title).toBe('Finished');
      expect(now.history.map((e) => e.kind)).toEqual(['created', 'done']);
      await expect(hub.updateTask(999_999, { title: 'x' }, { by: 't' })).rejects.toMatchObject({
        field: 'id',
      });
      await expect(hub.updateTask(t.id, { addAssignees: ['ghost'] }, { by: 't' })).rejects.toThrow(
        /unknown person/,
      );
      const open = await hub.assignTask({ title: 'Keep one', assignees: ['bob'] }, { by: 'tester' });
      await expect(hub.updateTask(open.id, { removeAssignees: ['bob'] }, { by: 't' })).rejects.toMatchObject({
        field: 'assignees',
      });
      await expect(hub.updateTask(open.id, { group: 'nowhere' }, { by: 't' })).rejects.toMatchObject({
        field: 'group',
      });
      expect((await hub.getTask(open.id))!.history.map((e) => e.kind)).toEqual(['created']);
    });

    it('an edit made while Todos are still being created: the removed one is deleted once made, the kept one updated', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      emu.setFaults({ rules: [{ route: '/v1.0/todo/*', error5xx: 1 }] });
      let id = 0;
      try {
        const t = await hub.assignTask(
          { title: 'Racy', assignees: ['alice', 'bob'], group: 'engineering' },
          { by: 't' },
        );
        id = t.id;
        await hub.updateTask(t.id, { title: 'Racy, renamed', removeAssignees: ['bob'] }, { by: 't' });
        await waitFor(async () =>
          (await hub.listDeliveries({ limit: 100 })).some(
            (d) => d.target === 'Bob Li' && d.attempts >= 1 && d.lastError,
          ),
        );
      } finally {
        emu.setFaults({ rules: [] });
      }
      // Bob's Todo is created by the retried job, then deleted because he left the task meanwhile.
      const bobs = () =>
        [...emu.state.todos.values()].filter((x) => x.executorIds[0] === BOB && x.subject === 'Racy');
      await waitFor(() => bobs().length === 1 && bobs()[0]!.deleted, 10_000, 'bob’s Todo deleted');
      // Alice's Todo was created with the old title and brought up to date once it existed.
      const alice = await waitFor(
        () => emu.todos().find((x) => x.executorIds[0] === ALICE && x.subject === 'Racy, renamed'),
        10_000,
      );
      expect((await hub.getTask(id))!.assignees).toEqual([{ name: 'Alice Chen', todoId: alice.id }]);
    });
  });

  describe.skipIf(backend.skip)(`hub task edit and schedules, on an injected clock (${backend.name})`, () => {
    const MIN = 60_000;
    let f: HubFixture;
    let clock = 0;
    let t0 = 0;
    beforeEach(async () => {
      clock = Date.now();
      t0 = clock;
      // Reminders 1 min before the due time, escalation at it. The scheduler's own tick is made rare, so each
      // runDue() below is the only firing and its count is exact.
      f = await startTestHub(backend, {
        config: testConfig({ tasks: { pollMs: 3_600_000, remindBeforeMs: MIN, escalateAfterMs: 0 } }),
        now: () => clock,
      });
    });
    afterEach(async () => {
      await f?.cleanup();
    });
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    /** How the hub shows that time: in its zone (the built-in emulator's org: China's), the zone marked. */
    const shown = (ms: number) => new ZonedTime(DEMO_TIME_ZONE).format(t0 + ms);
    /**
     * Moves the clock to t0 + ms and fires what is due; returns how many schedules fired. Sends in flight finish
     * first: a jump of minutes would otherwise expire their leases (the dispatcher runs on the same clock).
     */
    const advance = async (ms: number) => {
      await waitFor(
        async () => (await f.hub.listDeliveries({ limit: 200 })).every((d) => d.status === 'sent'),
        5_000,
        'deliveries settled',
      );
      clock = t0 + ms;
      return f.hub.scheduler.runDue();
    };
    const notices = (id: number) =>
      f.hub
        .emulator!.messages(OPS)
        .filter((m) => /^(Reminder|Overdue): task #/.test(m.text) && m.text.includes(`#${id} `))
        .map((m) => m.text.split('\n')[0]);

    it('moving the due time moves the reminder and the escalation', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Moved up', assignees: ['bob'], group: 'ops', due: at(60 * MIN) },
        { by: 'tester' },
      );
      await hub.updateTask(t.id, { due: at(10 * MIN) }, { by: 'tester' });
      expect(await advance(9 * MIN - 1_000)).toBe(0);
      expect(await advance(9 * MIN + 1_000)).toBe(1);
      await waitFor(() => notices(t.id).length === 1);
      expect(notices(t.id)[0]).toBe(`Reminder: task #${t.id} "Moved up" is due ${shown(10 * MIN)}.`);
      expect(await advance(10 * MIN + 1_000)).toBe(1);
      await waitFor(() => notices(t.id).length === 2);
      expect(notices(t.id)[1]).toMatch(
        new RegExp(`^Overdue: task #${t.id} "Moved up" was due ${shown(10 * MIN).replace(/[()+]/g, '\\$&')}`),
      );
      // The schedules for the old due time were closed by the edit: nothing fires at 59 or 60 minutes.
      expect(await advance(61 * MIN)).toBe(0);
      expect((await hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual([
        'created',
        'edited',
        'reminded',
        'escalated',
      ]);
      const rows = await schedules(hub, t.id);
      expect(rows.map((r) => `${r.kind}@${Number(r.due_at) - t0}:${r.payload ?? 'fired'}`)).toEqual([
        `reminder@${59 * MIN}:rescheduled`,
        `escalation@${60 * MIN}:rescheduled`,
        `reminder@${9 * MIN}:fired`,
        `escalation@${10 * MIN}:fired`,
      ]);
    });

    it('a reminder already sent for the old due time does not stop one for the new time', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Pushed back', assignees: ['bob'], group: 'ops', due: at(10 * MIN) },
        { by: 'tester' },
      );
      expect(await advance(9 * MIN + 1_000)).toBe(1);
      await waitFor(() => notices(t.id).length === 1);
      await hub.updateTask(t.id, { due: at(30 * MIN) }, { by: 'tester' });
      // No escalation at the old due time...
      expect(await advance(10 * MIN + 1_000)).toBe(0);
      // ...a second reminder before the new one, then the escalation after it.
      expect(await advance(29 * MIN + 1_000)).toBe(1);
      expect(await advance(30 * MIN + 1_000)).toBe(1);
      await waitFor(() => notices(t.id).length === 3);
      expect(notices(t.id)).toEqual([
        `Reminder: task #${t.id} "Pushed back" is due ${shown(10 * MIN)}.`,
        `Reminder: task #${t.id} "Pushed back" is due ${shown(30 * MIN)}.`,
        `Overdue: task #${t.id} "Pushed back" was due ${shown(30 * MIN)} and is still open.`,
      ]);
      expect((await hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual([
        'created',
        'reminded',
        'edited',
        'reminded',
        'escalated',
      ]);
    });

    it('an edit after the reminder that sets a due time too close for one schedules only the escalation', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Sooner', assignees: ['bob'], group: 'ops', due: at(30 * MIN) },
        { by: 'tester' },
      );
      expect(await advance(29 * MIN + 1_000)).toBe(1);
      await hub.updateTask(t.id, { due: at(29 * MIN + 30_000) }, { by: 'tester' });
      expect((await schedules(hub, t.id)).filter((r) => r.fired_at === null).map((r) => r.kind)).toEqual([
        'escalation',
      ]);
      expect(await advance(29 * MIN + 31_000)).toBe(1);
      expect((await hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual([
        'created',
        'reminded',
        'edited',
        'escalated',
      ]);
    });

    it('removing the due time removes its reminder and escalation', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'No longer due', assignees: ['bob'], group: 'ops', due: at(10 * MIN) },
        { by: 'tester' },
      );
      await hub.updateTask(t.id, { due: null }, { by: 'tester' });
      expect(await advance(11 * MIN)).toBe(0);
      expect((await hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual(['created', 'edited']);
      expect(notices(t.id)).toEqual([]);
    });
  });

  describe.skipIf(backend.skip)(`hub task edit across a restart (${backend.name})`, () => {
    let emu: Emulator;
    let fresh: Awaited<ReturnType<typeof backend.fresh>>;
    const hubs: RunningHub[] = [];
    beforeAll(async () => {
      emu = await startEmulator({ port: 0 });
      fresh = await backend.fresh();
    });
    afterAll(async () => {
      for (const h of hubs.splice(0)) await h.stop().catch(() => {});
      await fresh?.cleanup();
      await emu?.close();
    });

    // Two hub processes over one store and one DingTalk (the shared emulator), as in production.
    const start = async () => {
      const config = configFromOrg(emu.state.org, testConfig({ emulator: { mode: 'off' } }), emu.url);
      const h = await startHub({ config, store: await fresh.open(), inboxPollMs: 50, receive: false });
      hubs.push(h);
      return h;
    };

    it('the edit commits with its outbox jobs; a new process delivers them after the first one stops', async () => {
      const first = await start();
      const t = await first.assignTask(
        { title: 'Survive', assignees: ['alice', 'bob'], group: 'ops' },
        { by: 'tester' },
      );
      const todos = await withTodos(first, t.id);
      const aliceTodo = todos.assignees.find((a) => a.name === 'Alice Chen')!.todoId!;
      const bobTodo = todos.assignees.find((a) => a.name === 'Bob Li')!.todoId!;
      emu.setFaults({ rules: [{ route: '/v1.0/todo/*', error5xx: 1 }] });
      try {
        await first.updateTask(
          t.id,
          { title: 'Survived', addAssignees: ['wangwu'], removeAssignees: ['bob'] },
          { by: 'tester' },
        );
        // Each Todo job was tried and failed: they are queued for a retry when the process stops.
        await waitFor(async () => {
          const failed = (await first.listDeliveries({ limit: 100 })).filter(
            (d) => d.status === 'queued' && d.attempts >= 1 && d.lastError,
          );
          return failed.length === 3;
        });
        await first.stop();
      } finally {
        emu.setFaults({ rules: [] });
      }
      expect(emu.todos().find((x) => x.id === aliceTodo)?.subject).toBe('Survive');
      expect(emu.todos().some((x) => x.id === bobTodo)).toBe(true);

      const second = await start();
      await waitFor(() => emu.todos().find((x) => x.id === aliceTodo)?.subject === 'Survived', 10_000);
      await waitFor(() => !emu.todos().some((x) => x.id === bobTodo), 10_000);
      const added = await waitFor(
        () => emu.todos().find((x) => x.executorIds[0] === WANGWU && x.subject === 'Survived'),
        10_000,
      );
      await waitFor(
        async () => (await second.getTask(t.id))?.assignees.find((a) => a.name === '王五')?.todoId,
      );
      expect((await second.getTask(t.id))!.assignees.find((a) => a.name === '王五')?.todoId).toBe(added.id);
      // Exactly once: one announcement, one new Todo, whatever the restart replayed.
      await sleep(300);
      expect(emu.messages(OPS).filter((m) => m.text.startsWith(`Task #${t.id} edited by`))).toHaveLength(1);
      expect(emu.todos().filter((x) => x.executorIds[0] === WANGWU && x.subject === 'Survived')).toHaveLength(
        1,
      );
    });
  });
}
