/**
 * Language and time, end to end over the emulator: a hub configured `locale: zh-CN`, `timeZone: Asia/Shanghai`.
 * A command written in Chinese is answered in Chinese, one written in English in English, each with times in the
 * hub's zone and the zone marked; a `done` written in the task's group gives that group one message, not a reply
 * plus a near-identical announcement; the move reaches the SSE feed (`/v1/events`) as one `task.changed`.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZonedTime } from '../../src/hub/zoned-time.js';
import {
  backends,
  ENG,
  type HubApi,
  type HubFixture,
  hubApi,
  OPS,
  startTestHub,
  testConfig,
  waitFor,
} from './hub-helpers.js';

const shanghai = new ZonedTime('Asia/Shanghai');

/** A wall time two days ahead in Shanghai, as a person types it, and the instant it means. */
function dueInTwoDays(): { typed: string; iso: string; shown: string } {
  const day = shanghai.format(Date.now() + 2 * 86_400_000).slice(0, 10);
  const iso = new Date(Date.parse(`${day}T18:00:00+08:00`)).toISOString();
  return { typed: `${day} 18:00`, iso, shown: `${day} 18:00 (UTC+08:00)` };
}

/** Reads an SSE body as it arrives; `until` waits for the text so far to satisfy it. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    get text() {
      return text;
    },
    async until(ok: (t: string) => boolean, ms = 10_000): Promise<string> {
      const deadline = Date.now() + ms;
      while (!ok(text)) {
        if (Date.now() > deadline)
          throw new Error(`SSE: not seen within ${ms} ms; got:\n${text.slice(-2_000)}`);
        const r = await Promise.race([
          reader.read(),
          new Promise<undefined>((res) => setTimeout(() => res(undefined), 200)),
        ]);
        if (r?.done) break;
        if (r?.value) text += decoder.decode(r.value, { stream: true });
      }
      return text;
    },
    close: () => reader.cancel(),
  };
}

/** The SSE frames of one type, their data parsed. */
function frames(text: string, type: string): Array<Record<string, unknown>> {
  return [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)]
    .filter((m) => m[1] === type)
    .map((m) => JSON.parse(m[2]!) as Record<string, unknown>);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`language and time (${backend.name})`, () => {
    let f: HubFixture;
    let api: HubApi;
    beforeAll(async () => {
      f = await startTestHub(backend, { config: testConfig({ locale: 'zh-CN', timeZone: 'Asia/Shanghai' }) });
      api = await hubApi(f.hub);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('a due time typed as "YYYY-MM-DD HH:mm" is read in the hub zone and announced with the zone marked', async () => {
      const due = dueInTwoDays();
      const res = await api.call('POST', '/v1/tasks', {
        title: '写周报',
        assignees: ['bob'],
        group: 'ops',
        due: due.typed,
      });
      expect(res.status).toBe(201);
      const task = (await res.json()) as { id: number; due: string };
      expect(task.due).toBe(due.iso);
      // The hub's locale is zh-CN: nobody asked, so the announcement is in it.
      const m = await waitFor(() =>
        f.hub.emulator!.messages(OPS).find((x) => x.text.includes(`新任务 #${task.id}：`)),
      );
      expect(m.text).toContain(`截止：${due.shown}`);
      expect(m.text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    });

    it('a wall time in the past is refused with both times shown in the hub zone', async () => {
      const res = await api.call('POST', '/v1/tasks', {
        title: 'Late',
        assignees: ['bob'],
        due: '2020-01-01 10:00',
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('due_in_past');
      expect(body.error.message).toMatch(
        /^due: 2020-01-01 10:00 \(UTC\+08:00\) is in the past \(now \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\+08:00\)\)/,
      );
      const bad = await api.call('POST', '/v1/tasks', {
        title: 'Late',
        assignees: ['bob'],
        due: '2026-02-30 10:00',
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
        'not a real date',
      );
    });

    it('a Chinese command gets a Chinese answer, an English one an English answer, both with zone-marked times', async () => {
      const emu = f.hub.emulator!;
      const due = dueInTwoDays();
      const t = await f.hub.assignTask(
        { title: 'Review PR 9', assignees: ['bob'], group: 'ops', due: due.iso },
        { by: 'tester' },
      );
      await emu.postMessage(OPS, { from: 'bob', text: '我的任务', atBot: true });
      const zh = await waitFor(() =>
        emu.messages(OPS).find((m) => m.text.startsWith('你未完成的任务') && m.text.includes(`#${t.id} `)),
      );
      expect(zh.text).toContain(`#${t.id} Review PR 9（待处理，截止 ${due.shown}）`);
      await emu.postMessage(OPS, { from: 'bob', text: 'tasks', atBot: true });
      const en = await waitFor(() =>
        emu.messages(OPS).find((m) => m.text.startsWith('Your open tasks') && m.text.includes(`#${t.id} `)),
      );
      expect(en.text).toContain(`#${t.id} Review PR 9 (open, due ${due.shown})`);
      // `help` in either language lists both forms.
      await emu.postMessage(OPS, { from: 'bob', text: '帮助', atBot: true });
      const help = await waitFor(() => emu.messages(OPS).find((m) => m.text.startsWith('我能听懂')));
      expect(help.text).toContain('`完成 <编号>` / `done <编号>`');
    });

    it('the state machine’s refusal is worded in the command’s language', async () => {
      const emu = f.hub.emulator!;
      const t = await f.hub.assignTask(
        { title: 'Old plan', assignees: ['bob'], group: 'ops' },
        { by: 'tester' },
      );
      await f.hub.actOnTask(t.id, 'cancel', { by: 'tester' });
      await emu.postMessage(OPS, { from: 'bob', text: `完成 ${t.id}`, atBot: true });
      const zh = await waitFor(() =>
        emu.messages(OPS).find((m) => m.text.startsWith(`无法修改任务 #${t.id}：`)),
      );
      expect(zh.text).toBe(`无法修改任务 #${t.id}：任务已取消，不能完成`);
      await emu.postMessage(OPS, { from: 'bob', text: `done ${t.id}`, atBot: true });
      const en = await waitFor(() =>
        emu.messages(OPS).find((m) => m.text.startsWith(`Cannot change task #${t.id}:`)),
      );
      expect(en.text).toBe(`Cannot change task #${t.id}: cannot finish a task that is cancelled`);
    });

    it('`完成 N` in the task’s group: one message there, in Chinese, and one task.changed on /v1/events after the commit', async () => {
      const emu = f.hub.emulator!;
      const live = await api.app.request('/v1/events', {
        headers: { authorization: `Bearer ${api.token}` },
      });
      expect(live.status).toBe(200);
      const sse = sseReader(live);
      try {
        await sse.until((t) => t.includes(': connected'));
        const t = await f.hub.assignTask(
          { title: '整理笔记', assignees: ['lisi'], group: 'engineering' },
          { by: 'tester' },
        );
        // An app-robot group: the task is announced as its card (tasks/cards.ts), in Chinese.
        await waitFor(() => emu.state.cards.get(`dingkit-task-${t.id}`)?.cardParamMap['status'] === '待处理');
        const about = () =>
          emu.messages(ENG).filter((m) => m.source !== 'user' && m.text.includes(`#${t.id}`));
        const before = about().length;

        await emu.postMessage(ENG, { from: 'lisi', text: `完成 ${t.id}`, atBot: true });
        const text = await sse.until((x) => frames(x, 'task.changed').some((d) => d['id'] === t.id));
        expect(frames(text, 'task.changed').filter((d) => d['id'] === t.id)).toEqual([
          expect.objectContaining({ id: t.id, state: 'done', action: 'done', by: '李四', via: 'chat' }),
        ]);
        expect(frames(text, 'inbound.command').some((d) => d['taskId'] === t.id)).toBe(true);
        // Published after the commit: a reader of the feed finds the task already done.
        expect((await f.hub.getTask(t.id))?.state).toBe('done');

        const said = await waitFor(() => about().find((m) => m.text.includes('已由 李四 完成')));
        expect(said.text).toBe(`任务 #${t.id} 已由 李四 完成：整理笔记`);
        await waitFor(
          async () => (await f.hub.listDeliveries({ status: 'queued', limit: 1000 })).length === 0,
        );
        await new Promise((r) => setTimeout(r, 300));
        // One message about the move: the reply is the announcement; no English echo, no second one.
        expect(
          about()
            .slice(before)
            .map((m) => m.text),
        ).toEqual([said.text]);
        expect(frames(sse.text, 'task.changed').filter((d) => d['id'] === t.id)).toHaveLength(1);
      } finally {
        await sse.close();
      }
    });

    it('twin: `done N` in a 1:1 chat answers the person and still tells the group, in the hub’s locale', async () => {
      const emu = f.hub.emulator!;
      const t = await f.hub.assignTask(
        { title: 'Tidy wiki', assignees: ['lisi'], group: 'engineering' },
        { by: 'tester' },
      );
      // An app-robot group: the task is announced as its card (tasks/cards.ts), in Chinese.
      await waitFor(() => emu.state.cards.get(`dingkit-task-${t.id}`)?.cardParamMap['status'] === '待处理');
      emu.postDirect('lisi', { text: `done ${t.id}` });
      await waitFor(() =>
        emu.messages('oto:lisi').find((m) => m.text === `Task #${t.id} "Tidy wiki" is now done.`),
      );
      const told = await waitFor(() =>
        emu.messages(ENG).find((m) => m.text.includes(`任务 #${t.id} 已由 李四 完成`)),
      );
      expect(told.text).toBe(`任务 #${t.id} 已由 李四 完成：Tidy wiki（来自聊天）`);
    });

    it('a Todo marked done in DingTalk is one task.changed (via todo), and the group hears it in the hub’s locale', async () => {
      const emu = f.hub.emulator!;
      const t = await f.hub.assignTask(
        { title: 'Sign form', assignees: ['alice'], group: 'engineering' },
        { by: 'tester' },
      );
      const todoId = (
        await waitFor(async () => {
          const x = await f.hub.getTask(t.id);
          return x?.assignees[0]?.todoId ? x : undefined;
        })
      ).assignees[0]!.todoId!;
      const changes: unknown[] = [];
      const off = f.hub.events.subscribe((e) => {
        if ((e.type === 'task.changed' || e.type === 'task.edited') && e.data.id === t.id)
          changes.push(e.data);
      });
      try {
        await emu.markTodoDone(todoId, 'unionAlice0000004');
        await waitFor(() => changes.length > 0);
        await waitFor(async () => (await f.hub.getTask(t.id))?.state === 'done');
        const told = await waitFor(() =>
          emu.messages(ENG).find((m) => m.text.startsWith(`任务 #${t.id} 已由`)),
        );
        expect(told.text).toBe(`任务 #${t.id} 已由 Alice Chen 完成：Sign form（在钉钉待办中标记完成）`);
        await new Promise((r) => setTimeout(r, 300));
        expect(changes).toEqual([
          expect.objectContaining({
            id: t.id,
            state: 'done',
            action: 'done',
            by: 'Alice Chen',
            via: 'todo',
            todoId,
          }),
        ]);
      } finally {
        off();
      }
    });

    it('an API move is announced with the token named as the API’s, not as api:<token>', async () => {
      const emu = f.hub.emulator!;
      const t = await f.hub.assignTask(
        { title: 'Ship 3.0', assignees: ['bob'], group: 'ops' },
        { by: 'tester' },
      );
      const res = await api.call('POST', `/v1/tasks/${t.id}/done`, {});
      expect(res.status).toBe(200);
      const m = await waitFor(() => emu.messages(OPS).find((x) => x.text.startsWith(`任务 #${t.id} 已由`)));
      expect(m.text).toBe(`任务 #${t.id} 已由 API（令牌 test-caller） 完成：Ship 3.0`);
      expect(m.text).not.toContain('api:');
    });
  });
}
