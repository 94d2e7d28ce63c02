/**
 * Task authorization, attacked the way a person in the org would: by writing to the bot through
 * the emulator's control API (the DingTalk client stand-in) over loopback, against a real hub with its store,
 * dispatcher and Stream receiver. Each attack checks three things: the task did not change, nothing was announced,
 * and the answer the attacker got says nothing about the task (identical for a task that does not exist).
 *
 * The demo org: groups `engineering` (张三 zhangsan, 李四 lisi, 王五 wangwu, Alice Chen alice, Bob Li bob) and `ops`
 * (alice, bob, zhangsan), both with the hub's app robot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/hub/service.js';
import { TOPIC_BOT_MESSAGE as BOT_TOPIC } from '../../src/stream/index.js';
import {
  backends,
  ENG,
  type HubFixture,
  OPS,
  startTestHub,
  testConfig,
  waitFor,
} from '../e2e/hub-helpers.js';

/** The one refusal for "no such task" and "not yours": it names only the id the sender typed. */
const REFUSED_EN = (id: number) =>
  `I cannot change task #${id}: there is no such task, or it is not yours to change.`;
const REFUSED_ZH = (id: number) => `无法修改任务 #${id}：没有这个任务，或者你无权修改它。`;
const UNKNOWN_SENDER = 'I do not know you yet: ask an admin to add you to the hub’s people.';

interface EmuMessage {
  seq: number;
  conversation: string;
  source: string;
  text: string;
}

/** The emulator's control API, as a tester (or an attacker with a DingTalk client) drives it. */
class Client {
  constructor(readonly url: string) {}

  async #post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    await res.arrayBuffer();
  }

  async messages(conversation: string): Promise<EmuMessage[]> {
    const res = await fetch(
      `${this.url}/_emulator/messages?conversation=${encodeURIComponent(conversation)}`,
    );
    return (await res.json()) as EmuMessage[];
  }

  async lastSeq(conversation: string): Promise<number> {
    return (await this.messages(conversation)).at(-1)?.seq ?? 0;
  }

  /** `from` writes `@bot <text>` in a group; resolves with the bot's answer there. */
  async inGroup(cid: string, from: string, text: string, atUserIds?: string[]): Promise<string> {
    const before = await this.lastSeq(cid);
    await this.#post(`/_emulator/groups/${encodeURIComponent(cid)}/messages`, {
      from,
      text,
      atBot: true,
      ...(atUserIds ? { atUserIds } : {}),
    });
    return this.#answer(cid, before);
  }

  /** `from` writes to the bot 1:1; resolves with the bot's answer in that chat. */
  async direct(from: string, text: string): Promise<string> {
    const conv = `oto:${from}`;
    const before = await this.lastSeq(conv);
    await this.#post(`/_emulator/users/${encodeURIComponent(from)}/messages`, { text });
    return this.#answer(conv, before);
  }

  /** The bot's reply: the first robot message after `before` that is not an announcement. */
  async #answer(conversation: string, before: number): Promise<string> {
    return this.answerAfter(conversation, before);
  }

  async answerAfter(conversation: string, before: number): Promise<string> {
    const m = await waitFor(
      async () =>
        (await this.messages(conversation)).find(
          (x) => x.seq > before && x.source !== 'user' && !isAnnouncement(x.text),
        ),
      10_000,
      `the bot's answer in ${conversation}`,
    );
    return m.text;
  }

  async fireEvent(eventType: string, eventId: string, data: Record<string, unknown>): Promise<void> {
    await this.#post('/_emulator/events', { eventType, eventId, data });
  }
}

/** What the hub posts in a group on its own: a new task, a change of state (task.ts). */
function isAnnouncement(text: string): boolean {
  return /^New task #\d+: /.test(text) || /^Task #\d+ (started|finished|cancelled|reopened) by /.test(text);
}

/** Every robot message that announces a change of task `id`, in any conversation. */
async function announcements(c: Client, id: number): Promise<string[]> {
  const all: EmuMessage[] = [];
  for (const conv of [ENG, OPS]) all.push(...(await c.messages(conv)));
  return all
    .filter((m) => new RegExp(`^Task #${id} (started|finished|cancelled) by `).test(m.text))
    .map((m) => m.text);
}

function refusedCount(f: HubFixture, path: string, reason: string): number {
  const line = f.hub.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`dingkit_task_access_refused_total{path="${path}",reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The task is exactly as it was: same state, no history entry after `created`. */
async function unchanged(f: HubFixture, c: Client, t: Task): Promise<void> {
  await f.hub.drainInbox();
  const now = (await f.hub.getTask(t.id))!;
  expect(now.state).toBe(t.state);
  expect(now.history.map((e) => e.kind)).toEqual(t.history.map((e) => e.kind));
  expect(await announcements(c, t.id)).toEqual([]);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`task authorization, default policy (${backend.name})`, () => {
    let f: HubFixture;
    let c: Client;
    beforeAll(async () => {
      // No `tasks.access` at all: the default must already be "assignees and the creator only".
      f = await startTestHub(backend);
      c = new Client(f.hub.emulator!.url);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    const opsTask = (title: string) =>
      f.hub.assignTask({ title, assignees: ['alice'], group: 'ops' }, { by: 'api:ops' });

    it('attack: a non-assignee writes `done <id>` from another group → refused, nothing changes or is announced', async () => {
      const t = await opsTask('Rotate the prod database password');
      const before = refusedCount(f, 'chat', 'not_permitted');
      const answer = await c.inGroup(ENG, 'lisi', `done ${t.id}`);
      expect(answer).toBe(REFUSED_EN(t.id));
      await unchanged(f, c, t);
      expect(refusedCount(f, 'chat', 'not_permitted')).toBe(before + 1);
    });

    it('attack: a member of the task’s own group who is not an assignee writes `cancel <id>` there → refused', async () => {
      const t = await opsTask('Renew the TLS certificate');
      const answer = await c.inGroup(OPS, 'bob', `cancel ${t.id}`);
      expect(answer).toBe(REFUSED_EN(t.id));
      expect(answer).not.toContain('TLS');
      await unchanged(f, c, t);
    });

    it('attack: a non-assignee in a 1:1 chat with the bot → refused', async () => {
      const t = await opsTask('Budget for Q3 layoffs');
      const answer = await c.direct('wangwu', `start ${t.id}`);
      expect(answer).toBe(REFUSED_EN(t.id));
      await unchanged(f, c, t);
    });

    it('attack: `完成 <id>` in Chinese → the refusal comes in Chinese, still without the title', async () => {
      const t = await opsTask('裁员名单 Q3');
      const answer = await c.inGroup(ENG, 'lisi', `完成 ${t.id}`);
      expect(answer).toBe(REFUSED_ZH(t.id));
      expect(answer).not.toContain('裁员');
      await unchanged(f, c, t);
      // The same person in English gets English.
      expect(await c.direct('lisi', `done ${t.id}`)).toBe(REFUSED_EN(t.id));
    });

    it('attack: guessing ids → the answer for a task that exists is the one for a task that does not', async () => {
      const t = await opsTask('Acquisition of Initech');
      const missing = t.id + 100_000;
      for (const verb of ['done', 'start', 'cancel', '完成', '取消']) {
        const real = await c.direct('lisi', `${verb} ${t.id}`);
        const none = await c.direct('lisi', `${verb} ${missing}`);
        expect(real.replace(`#${t.id}`, '#N')).toBe(none.replace(`#${missing}`, '#N'));
        expect(real).not.toContain('Initech');
      }
      // ...and the sender's task list shows only their own tasks, not this one.
      const list = await c.direct('lisi', 'tasks');
      expect(list).not.toContain('Initech');
      expect(list).not.toContain(`#${t.id}`);
      await unchanged(f, c, t);
    });

    it('attack: the text claims another identity (`@alice done <id>`, @-mentioning the assignee) → refused', async () => {
      const t = await opsTask('Sign the vendor contract');
      const answer = await c.inGroup(OPS, 'bob', `@alice done ${t.id}`, ['alice']);
      expect(answer).toBe(REFUSED_EN(t.id));
      await unchanged(f, c, t);
    });

    it('attack: a message without senderStaffId (an external sender, §9a) whose nick is the assignee’s → may not act', async () => {
      const t = await opsTask('Wire the payment');
      // DingTalk leaves senderStaffId empty for external users (docs/dingtalk.md §9a); the emulator has no external users,
      // so the push is put in the inbox as the Stream receiver would store it.
      const before = await c.lastSeq(OPS);
      await f.hub.inbox.commit(`bot:external-${t.id}`, 'stream', BOT_TOPIC, {
        msgtype: 'text',
        text: { content: ` done ${t.id}` },
        msgId: `external-${t.id}`,
        conversationType: '2',
        conversationId: OPS,
        conversationTitle: '运维值班 Ops',
        senderNick: 'Alice Chen',
        senderStaffId: '',
        robotCode: 'dingdemoappkey000001',
      });
      await f.hub.drainInbox();
      expect(await c.answerAfter(OPS, before)).toBe(UNKNOWN_SENDER);
      await unchanged(f, c, t);
      expect(refusedCount(f, 'chat', 'unidentified')).toBeGreaterThanOrEqual(1);
    });

    it('attack: a Todo-done event naming someone who may not change the task as the operator → ignored', async () => {
      const t = await opsTask('Close the audit finding');
      const withTodo = await waitFor(async () => {
        const x = await f.hub.getTask(t.id);
        return x?.assignees[0]?.todoId ? x : undefined;
      });
      const eventId = `authz-todo-${backend.name}-${t.id}`;
      await c.fireEvent('todo_task_update', eventId, {
        taskId: withTodo.assignees[0]!.todoId,
        done: true,
        operatorUnionId: 'unionLiSi00000002',
      });
      await waitFor(
        async () =>
          (
            await f.store.db
              .selectFrom('inbox')
              .select('status')
              .where('id', '=', `event:${eventId}`)
              .executeTakeFirst()
          )?.status === 'handled',
        5_000,
        'the event handled',
      );
      await unchanged(f, c, withTodo);
      expect(refusedCount(f, 'todo', 'not_permitted')).toBe(1);
    });

    it('allowed: the assignee, in the group, in Chinese, gets the change and the usual answer', async () => {
      const t = await opsTask('Patch the kernel');
      const answer = await c.inGroup(OPS, 'alice', `开始 ${t.id}`);
      expect(answer).toContain(`#${t.id}`);
      expect((await f.hub.getTask(t.id))!.state).toBe('in_progress');
      expect(await c.direct('alice', `done ${t.id}`)).toBe(`Task #${t.id} "Patch the kernel" is now done.`);
      const done = (await f.hub.getTask(t.id))!;
      expect(done.history.at(-1)).toMatchObject({ kind: 'done', by: 'Alice Chen' });
    });

    it('allowed: the task’s creator (a person, e.g. from the people’s pages) who is not an assignee', async () => {
      const t = await f.hub.assignTask(
        { title: 'Order new laptops', assignees: ['alice'], group: 'ops' },
        { by: '王五', person: { key: 'wangwu' } },
      );
      expect(await c.direct('wangwu', `cancel ${t.id}`)).toBe(
        `Task #${t.id} "Order new laptops" is now cancelled.`,
      );
      expect((await f.hub.getTask(t.id))!.state).toBe('cancelled');
    });

    it('the service path for pages and per-person API calls: refused like a missing task, edit/reopen kept for owners', async () => {
      const t = await opsTask('Quarterly OKRs');
      const lisi = { by: '李四', person: { key: 'lisi' } };
      const missing = t.id + 100_000;
      const err = await f.hub.actOnTask(t.id, 'done', lisi).catch((e: unknown) => e);
      const none = await f.hub.actOnTask(missing, 'done', lisi).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'TaskAccessError', code: 'TASK_ACCESS', reason: 'not_permitted' });
      expect(none).toMatchObject({ name: 'TaskAccessError', code: 'TASK_ACCESS', reason: 'no_task' });
      expect((err as Error).message.replace(String(t.id), 'N')).toBe(
        (none as Error).message.replace(String(missing), 'N'),
      );
      expect((err as Error).message).not.toContain('OKR');
      // An assignee finishes work but does not rewrite it; an operator (no person) is not subject to the rule.
      const alice = { by: 'Alice Chen', person: { key: 'alice', group: 'ops' } };
      await expect(f.hub.updateTask(t.id, { title: 'Mine now' }, alice)).rejects.toMatchObject({
        code: 'TASK_ACCESS',
      });
      await unchanged(f, c, t);
      expect((await f.hub.updateTask(t.id, { title: 'Quarterly OKRs v2' }, { by: 'api:ops' })).title).toBe(
        'Quarterly OKRs v2',
      );
      expect((await f.hub.actOnTask(t.id, 'start', alice)).state).toBe('in_progress');
    });

    it('allowed: a Todo marked done in DingTalk by its own assignee', async () => {
      const t = await opsTask('Update the runbook');
      const todoId = (
        await waitFor(async () => {
          const x = await f.hub.getTask(t.id);
          return x?.assignees[0]?.todoId ? x : undefined;
        })
      ).assignees[0]!.todoId!;
      await f.hub.emulator!.markTodoDone(todoId, 'unionAlice0000004');
      await waitFor(async () => (await f.hub.getTask(t.id))?.state === 'done', 5_000, 'the task done');
    });
  });

  describe.skipIf(backend.skip)(`task authorization, admins and leads (${backend.name})`, () => {
    let f: HubFixture;
    let c: Client;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({
          tasks: {
            pollMs: 20,
            remindBeforeMs: 0,
            escalateAfterMs: 0,
            access: { policy: 'assignees', admins: ['张三'], leads: { engineering: ['wangwu'] } },
          },
        }),
      });
      c = new Client(f.hub.emulator!.url);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('allowed: an admin (named by display name) changes any task, from a 1:1 chat', async () => {
      const t = await f.hub.assignTask(
        { title: 'Admin closes', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      expect(await c.direct('zhangsan', `done ${t.id}`)).toBe(`Task #${t.id} "Admin closes" is now done.`);
      expect((await f.hub.getTask(t.id))!.history.at(-1)).toMatchObject({ kind: 'done', by: '张三' });
    });

    it('allowed: the lead of a group changes that group’s tasks; refused: the same lead on another group’s task', async () => {
      const eng = await f.hub.assignTask(
        { title: 'Lead starts', assignees: ['alice'], group: 'engineering' },
        { by: 't' },
      );
      expect(await c.direct('wangwu', `start ${eng.id}`)).toBe(
        `Task #${eng.id} "Lead starts" is now in progress.`,
      );
      const ops = await f.hub.assignTask(
        { title: 'Not the lead’s', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      expect(await c.direct('wangwu', `start ${ops.id}`)).toBe(REFUSED_EN(ops.id));
      await unchanged(f, c, ops);
    });
  });

  describe.skipIf(backend.skip)(`task authorization, policy "group" (${backend.name})`, () => {
    let f: HubFixture;
    let c: Client;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({
          tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, access: { policy: 'group' } },
        }),
      });
      c = new Client(f.hub.emulator!.url);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('allowed: a member of the task’s group, writing in that group', async () => {
      const t = await f.hub.assignTask(
        { title: 'Team effort', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      // Written in the task's own group, the answer is the group's one announcement of the move.
      await f.hub.emulator!.postMessage(OPS, { from: 'bob', text: `done ${t.id}`, atBot: true });
      await waitFor(async () => (await announcements(c, t.id)).length > 0);
      expect(await announcements(c, t.id)).toEqual([`Task #${t.id} finished by Bob Li: Team effort`]);
      expect((await f.hub.getTask(t.id))?.state).toBe('done');
    });

    it('refused: the same member 1:1 (membership is not shown there), and someone writing from another group', async () => {
      const t = await f.hub.assignTask(
        { title: 'Team only', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      expect(await c.direct('bob', `done ${t.id}`)).toBe(REFUSED_EN(t.id));
      expect(await c.inGroup(ENG, 'lisi', `done ${t.id}`)).toBe(REFUSED_EN(t.id));
      await unchanged(f, c, t);
    });
  });

  describe.skipIf(backend.skip)(`task authorization, policy "org" (${backend.name})`, () => {
    let f: HubFixture;
    let c: Client;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({
          tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, access: { policy: 'org' } },
        }),
      });
      c = new Client(f.hub.emulator!.url);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('allowed: anyone in the people directory, from anywhere', async () => {
      const t = await f.hub.assignTask(
        { title: 'Anyone may', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      expect(await c.direct('lisi', `done ${t.id}`)).toBe(`Task #${t.id} "Anyone may" is now done.`);
    });

    it('refused: still nobody who is not identified by senderStaffId', async () => {
      const t = await f.hub.assignTask(
        { title: 'Not for strangers', assignees: ['alice'], group: 'ops' },
        { by: 't' },
      );
      const before = await c.lastSeq(OPS);
      await f.hub.inbox.commit(`bot:external-org-${t.id}`, 'stream', BOT_TOPIC, {
        msgtype: 'text',
        text: { content: ` done ${t.id}` },
        msgId: `external-org-${t.id}`,
        conversationType: '2',
        conversationId: OPS,
        senderNick: 'Alice Chen',
        robotCode: 'dingdemoappkey000001',
      });
      await f.hub.drainInbox();
      expect(await c.answerAfter(OPS, before)).toBe(UNKNOWN_SENDER);
      await unchanged(f, c, t);
    });
  });
}
