/**
 * The hub in HTTP callback mode (`inbound.mode: 'http'`) against the emulator, which pushes to the hub's own
 * server: an @-mention is POSTed to `/callbacks/robot` signed with the app secret (docs/dingtalk.md §9a), a Todo marked done is an
 * encrypted push to `/callbacks/events` (§9b). The outcome must be the one Stream gives (hub-inbound.test.ts): the
 * command closes the task once, the answer goes back to the group, the Todo event finishes its task.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import {
  backends,
  ENG,
  type HubFixture,
  serveCallbacks,
  startTestHub,
  testConfig,
  waitFor,
} from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub inbound over HTTP callbacks (${backend.name})`, () => {
    let f: HubFixture;
    let server: ApiServer;
    beforeAll(async () => {
      f = await startTestHub(backend, { config: testConfig({ inbound: { mode: 'http' } }) });
      server = await serveCallbacks(f.hub);
    });
    afterAll(async () => {
      await server?.close();
      await f?.cleanup();
    });

    it('receives no Stream: the app pushes to the callback routes instead', () => {
      expect(f.hub.stream).toBeUndefined();
      const app = f.hub.emulator!.state.org.apps[0]!;
      expect(app.botCallbackUrl).toBe(`${server.url}/callbacks/robot`);
      expect(app.callback?.url).toBe(`${server.url}/callbacks/events`);
    });

    it('`done <id>` by an assignee, over HTTP, closes the task once and answers in the group', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const task = await hub.assignTask(
        { title: 'http-done', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      const r = await emu.postMessage(ENG, { from: 'lisi', text: `done ${task.id}`, atBot: true });
      // The emulator's push was answered 200 (after the durable commit) with no inline reply.
      expect(r.http).toMatchObject({ ok: true, result: 'ok' });
      await waitFor(async () => (await hub.getTask(task.id))?.state === 'done', 5_000, 'task done');
      // Written in the task's group: the answer there is the group's one message about the move.
      const answer = `Task #${task.id} finished by 李四: http-done`;
      await waitFor(() => emu.messages(ENG).some((m) => m.text.startsWith(answer)), 5_000, 'answer');
      const done = (await hub.getTask(task.id))!;
      expect(done.history.filter((e) => e.kind === 'done')).toHaveLength(1);
      const entries = await f.store.db
        .selectFrom('inbox')
        .select(['id', 'source', 'status', 'payload'])
        .where('topic', '=', '/v1.0/im/bot/messages/get')
        .execute();
      expect(entries).toHaveLength(1);
      // Under DingTalk's msgId, as over Stream: a message that came both ways would be one entry.
      expect(entries[0]!.id).toMatch(/^bot:msg[0-9a-f]+$/);
      expect(entries[0]!.source).toBe('http');
      expect(entries[0]!.status).toBe('handled');
      // The session webhook (a per-conversation credential) is not kept.
      expect(entries[0]!.payload).not.toContain('sendBySession');
      expect(emu.messages(ENG).filter((m) => m.text.startsWith(answer))).toHaveLength(1);
    });

    it('a Todo marked done in DingTalk arrives as an encrypted HTTP push and finishes the task', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const task = await hub.assignTask(
        { title: 'http-todo', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      const todoId = await waitFor(async () => (await hub.getTask(task.id))?.assignees[0]?.todoId);
      const r = await emu.markTodoDone(todoId, 'unionLiSi00000002');
      expect(r.http).toMatchObject({ ok: true, result: 'ok' });
      await waitFor(async () => (await hub.getTask(task.id))?.state === 'done', 5_000, 'task done by Todo');
      const events = await f.store.db
        .selectFrom('inbox')
        .select(['source', 'topic'])
        .where('id', 'like', 'event:%')
        .execute();
      expect(events).toEqual([{ source: 'http', topic: 'todo_task_update' }]);
    });
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub inbound over Stream and HTTP at once (${backend.name})`, () => {
    let f: HubFixture;
    let server: ApiServer;
    beforeAll(async () => {
      f = await startTestHub(backend, { config: testConfig({ inbound: { mode: 'both' } }) });
      server = await serveCallbacks(f.hub);
    });
    afterAll(async () => {
      await server?.close();
      await f?.cleanup();
    });

    it('a message that arrives both ways is one inbox entry and one change', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      expect(hub.stream).toBeDefined();
      const task = await hub.assignTask(
        { title: 'both-ways', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      const r = await emu.postMessage(ENG, { from: 'lisi', text: `start ${task.id}`, atBot: true });
      expect(r.http).toMatchObject({ ok: true });
      expect(r.frameMessageId).toBeDefined();
      await waitFor(async () => (await hub.getTask(task.id))?.state === 'in_progress', 5_000, 'started');
      // The Stream frame is acked once it is committed (or found committed): then both copies are in.
      await waitFor(
        () => emu.gateway.log().acks.some((a) => a.messageId === r.frameMessageId),
        5_000,
        'Stream ack',
      );
      await hub.drainInbox();
      const rows = await f.store.db.selectFrom('inbox').select(['id', 'source']).execute();
      expect(rows).toHaveLength(1);
      const t = (await hub.getTask(task.id))!;
      expect(t.history.filter((e) => e.kind === 'start')).toHaveLength(1);
    });
  });
}
