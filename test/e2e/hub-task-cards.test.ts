/**
 * Task cards end to end (docs/hub.md "Task cards"): a task assigned in a group its app robot serves is announced as
 * an interactive card in the emulator (docs/dingtalk.md §10); clicks come back over Stream (§S8) and, in HTTP mode,
 * to `POST /callbacks/card` signed with the registered apiSecret (§10). A click by an assignee moves the task and
 * updates the card in place for everyone; a stranger's click is refused (a note on their own view only, the shared
 * card unchanged); a re-pushed click is applied once; a chat `done` updates the card too. SQLite and PostgreSQL.
 */

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CARD_API_SECRET } from '../../src/cli/emulator-config.js';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
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

/** The card the emulator holds for a task (the hub derives its outTrackId from the task, cards.ts). */
function cardOf(hub: RunningHub<Emulator>, id: number) {
  return hub.emulator!.state.cards.get(`dingkit-task-${id}`);
}

async function cardWhen(
  hub: RunningHub<Emulator>,
  id: number,
  ok: (params: Record<string, string>) => boolean,
  what: string,
) {
  return waitFor(
    () => {
      const c = cardOf(hub, id);
      return c && ok(c.cardParamMap) ? c : undefined;
    },
    10_000,
    what,
  );
}

const buttonIds = (params: Record<string, string>) =>
  (JSON.parse(params['buttons'] ?? '[]') as Array<{ id: string }>).map((b) => b.id);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`task cards over Stream (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('announces a task in an app-robot group as a card with its state, assignees, due and buttons', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        {
          title: 'Card release notes',
          assignees: ['lisi'],
          group: 'engineering',
          due: '2099-01-02T10:00:00Z',
        },
        { by: 'test' },
      );
      const card = await cardWhen(hub, t.id, () => true, 'the card');
      expect(card.spaceType).toBe('IM_GROUP');
      expect(card.spaceId).toBe(ENG);
      expect(card.callbackType).toBe('STREAM');
      const p = card.cardParamMap;
      expect(p['title']).toBe(`#${t.id} Card release notes`);
      expect(p['status']).toBe('open');
      expect(p['content']).toContain('李四');
      expect(p['content']).toContain('2099-01-02');
      expect(buttonIds(p)).toEqual(['start', 'done', 'open']);
      const open = (JSON.parse(p['buttons']!) as Array<{ id: string; url?: string }>).find(
        (b) => b.id === 'open',
      );
      expect(decodeURIComponent(open?.url ?? '')).toContain(`/app/tasks/${t.id}`);
      expect(open?.url).toMatch(/^dingtalk:\/\/dingtalkclient\/page\/link\?url=/);
      // The card replaces the group text; the assignee is still told 1:1 (a card notifies nobody).
      await waitFor(
        () => emu.messages('oto:lisi').some((m) => m.text.includes(`New task #${t.id}`)),
        5_000,
        '1:1',
      );
      expect(emu.messages(ENG).filter((m) => m.text.includes(`New task #${t.id}`))).toHaveLength(0);
    });

    it("an assignee's Start moves the task and updates the card for everyone; a stranger's click is refused", async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Card start', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      // 王五 is in the group but not an assignee: the default policy refuses him.
      await emu.clickCard(`dingkit-task-${t.id}`, { by: 'wangwu', actionIds: ['done'] });
      await waitFor(() => cardOf(hub, t.id)?.privateData['wangwu']?.['note'], 10_000, 'note to the stranger');
      const afterRefusal = cardOf(hub, t.id)!;
      expect(afterRefusal.privateData['wangwu']?.['note']).toBe('This task is not yours to change.');
      expect(afterRefusal.cardParamMap['status']).toBe('open');
      expect(afterRefusal.cardParamMap['lastAction']).not.toContain('王五');
      expect((await hub.getTask(t.id))!.state).toBe('open');
      const shared = { ...afterRefusal.cardParamMap };

      await emu.clickCard(`dingkit-task-${t.id}`, { by: 'lisi', actionIds: ['start'] });
      const started = await cardWhen(hub, t.id, (p) => p['state'] === 'in_progress', 'card in progress');
      expect(started.cardParamMap['status']).toBe('in progress');
      expect(started.cardParamMap['lastAction']).toMatch(/^李四 started it · \d{4}-\d\d-\d\d \d\d:\d\d/);
      expect(buttonIds(started.cardParamMap)).toEqual(['done', 'open']);
      expect(started.cardParamMap).not.toEqual(shared);
      const task = (await hub.getTask(t.id))!;
      expect(task.state).toBe('in_progress');
      expect(task.history.filter((e) => e.kind === 'start')).toMatchObject([{ by: '李四' }]);
      // The card is the announcement of a click: no text about it in the group.
      expect(emu.messages(ENG).filter((m) => m.text.includes(`Task #${t.id} started`))).toHaveLength(0);
      // The stranger's note stayed his: nobody else's view shows one (the clicker's own was cleared).
      const notes = Object.entries(cardOf(hub, t.id)!.privateData).filter(([, v]) => v['note']);
      expect(notes.map(([u]) => u)).toEqual(['wangwu']);
      expect(cardOf(hub, t.id)!.privateData['lisi']).toEqual({ note: '' });
    });

    it('a click pushed again after its ack (a fresh messageId, §S9) is applied once', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Card replay', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      const countClicks = async () =>
        (
          await f.store.db
            .selectFrom('inbox')
            .select('id')
            .where('topic', '=', '/v1.0/card/instances/callback')
            .execute()
        ).length;
      const before = await countClicks();
      emu.setFaults({ stream: { repushAckedRate: 1, seed: 3 } });
      try {
        await emu.clickCard(`dingkit-task-${t.id}`, { by: 'lisi', actionIds: ['start'] });
        // The fault fired: the one click reached the inbox twice, under two push ids.
        await waitFor(async () => (await countClicks()) - before >= 2, 10_000, 'the re-push stored');
      } finally {
        emu.setFaults({ stream: { repushAckedRate: 0 } });
      }
      await cardWhen(hub, t.id, (p) => p['state'] === 'in_progress', 'card in progress');
      await hub.drainInbox();
      const task = (await hub.getTask(t.id))!;
      expect(task.history.filter((e) => e.kind === 'start')).toHaveLength(1);
      // Both entries were handled, and only one moved the task: the second changed nothing to show.
      const rows = await f.store.db
        .selectFrom('inbox')
        .select('status')
        .where('topic', '=', '/v1.0/card/instances/callback')
        .execute();
      expect(rows.every((r) => r.status === 'handled')).toBe(true);
      await waitFor(async () => (await hub.listDeliveries({ status: 'queued' })).length === 0, 5_000, 'sent');
      expect(cardOf(hub, t.id)!.updates).toBe(1);
    });

    it('a chat `done` updates the card as well', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const t = await hub.assignTask(
        { title: 'Card chat done', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      await emu.postMessage(ENG, { from: 'lisi', text: `done ${t.id}`, atBot: true });
      const done = await cardWhen(hub, t.id, (p) => p['state'] === 'done', 'card done');
      expect(done.cardParamMap['status']).toBe('done');
      expect(done.cardParamMap['lastAction']).toMatch(/^李四 finished it · /);
      expect(buttonIds(done.cardParamMap)).toEqual(['open']);
      // And an operator's move through the API too.
      const t2 = await hub.assignTask(
        { title: 'Card api', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t2.id, () => true, 'the card');
      await hub.actOnTask(t2.id, 'cancel', { by: 'api:ci' });
      const c2 = await cardWhen(hub, t2.id, (p) => p['state'] === 'cancelled', 'card cancelled');
      expect(c2.cardParamMap['lastAction']).toMatch(/^the API \(token ci\) cancelled it · /);
    });

    it('an edit updates the card: new title, due, assignees, and who edited it', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Card edit', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      await hub.updateTask(
        t.id,
        { title: 'Card edited', due: '2099-05-06T07:00:00Z', addAssignees: ['王五'] },
        { by: 'api:ci' },
      );
      const c = await cardWhen(hub, t.id, (p) => p['title'] === `#${t.id} Card edited`, 'card edited');
      expect(c.cardParamMap['content']).toContain('王五');
      expect(c.cardParamMap['content']).toContain('2099-05-06');
      expect(c.cardParamMap['lastAction']).toMatch(/^the API \(token ci\) edited it · /);
      expect(c.cardParamMap['state']).toBe('open');
    });

    it('a group with a custom robot keeps its text announcement', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Ops text', assignees: ['alice'], group: 'ops' },
        { by: 'test' },
      );
      await waitFor(
        () =>
          hub.emulator!.messages('cidDemoOps000000002==').some((m) => m.text.includes(`New task #${t.id}`)),
        5_000,
        'ops text',
      );
      expect(cardOf(hub, t.id)).toBeUndefined();
    });
  });

  describe.skipIf(backend.skip)(`task cards over HTTP callbacks (${backend.name})`, () => {
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

    it('clicks in the emulator reach /callbacks/card signed, and move the task once', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      expect(hub.callbacks?.card).toBeDefined();
      const t = await hub.assignTask(
        { title: 'Card over HTTP', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      const card = await cardWhen(hub, t.id, () => true, 'the card');
      expect(card.callbackType).toBe('HTTP');
      expect(card.callbackRouteKey).toBe('dingkit-tasks');
      const r = await emu.clickCard(`dingkit-task-${t.id}`, { by: 'lisi', actionIds: ['start'] });
      expect(r.http).toMatchObject({ ok: true, result: 'ok' });
      await cardWhen(hub, t.id, (p) => p['state'] === 'in_progress', 'card in progress');
      expect((await hub.getTask(t.id))!.state).toBe('in_progress');
    });

    it('the very same signed click sent again is answered and not applied; a new click is', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Card HTTP replay', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      const click = (action: string, ts: string) => {
        const body = JSON.stringify({
          type: 'actionCallback',
          outTrackId: `dingkit-task-${t.id}`,
          userId: 'lisi',
          userIdType: 1,
          spaceType: 'IM_GROUP',
          spaceId: ENG,
          content: JSON.stringify({ cardPrivateData: { actionIds: [action], params: {} } }),
        });
        const sig = createHmac('sha256', DEMO_CARD_API_SECRET).update(ts).digest('base64');
        return () =>
          fetch(`${server.url}/callbacks/card`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-ddpaas-signature-timestamp': ts,
              'x-ddpaas-signature': sig,
            },
            body,
          });
      };
      const start = click('start', String(Date.now()));
      expect((await start()).status).toBe(200);
      expect((await start()).status).toBe(200);
      await hub.drainInbox();
      await waitFor(async () => (await hub.getTask(t.id))?.state === 'in_progress', 5_000, 'started');
      const rows = await f.store.db
        .selectFrom('inbox')
        .select('id')
        .where('topic', '=', '/v1.0/card/instances/callback')
        .where('payload', 'like', `%dingkit-task-${t.id}"%`)
        .execute();
      expect(rows).toHaveLength(1);
      // Not vacuous: a new click (a new signature) is taken and applied.
      expect((await click('done', String(Date.now() + 1))()).status).toBe(200);
      await waitFor(async () => (await hub.getTask(t.id))?.state === 'done', 5_000, 'done');
      const task = (await hub.getTask(t.id))!;
      expect(task.history.filter((e) => e.kind === 'start')).toHaveLength(1);
      expect(task.history.filter((e) => e.kind === 'done')).toHaveLength(1);
    });

    it('refuses an unsigned or wrongly signed click before anything is stored', async () => {
      const { hub } = f;
      const t = await hub.assignTask(
        { title: 'Card forged', assignees: ['lisi'], group: 'engineering' },
        { by: 'test' },
      );
      await cardWhen(hub, t.id, () => true, 'the card');
      const body = JSON.stringify({
        outTrackId: `dingkit-task-${t.id}`,
        userId: 'lisi',
        content: JSON.stringify({ cardPrivateData: { actionIds: ['done'], params: {} } }),
      });
      const ts = String(Date.now());
      const forged = createHmac('sha256', 'not-the-secret').update(ts).digest('base64');
      const unsigned = await fetch(`${server.url}/callbacks/card`, { method: 'POST', body });
      const wrong = await fetch(`${server.url}/callbacks/card`, {
        method: 'POST',
        headers: { 'x-ddpaas-signature-timestamp': ts, 'x-ddpaas-signature': forged },
        body,
      });
      expect(unsigned.status).toBe(401);
      expect(wrong.status).toBe(401);
      await hub.drainInbox();
      expect((await hub.getTask(t.id))!.state).toBe('open');
    });
  });
}
