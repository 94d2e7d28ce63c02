/**
 * Task-card clicks, attacked (docs/hub.md "Task cards"): with the `group` policy, a member of the task's group may
 * start it from the card in that group. The attacks are callbacks as DingTalk would sign them (the hub's HTTP card
 * route, `POST /callbacks/card`, with the registered apiSecret), carrying what a clicker could steer: where the card
 * was clicked (a forwarded copy), which action id, which params, which card. Each is refused or ignored with the task
 * and its shared card unchanged; each has its allowed twin, so the refusal is the rule's and not a broken path.
 */

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CARD_API_SECRET } from '../../src/cli/emulator-config.js';
import type { ApiServer } from '../../src/server/api-server.js';
import {
  backends,
  ENG,
  type HubFixture,
  serveCallbacks,
  startTestHub,
  testConfig,
  waitFor,
} from '../e2e/hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`task-card clicks under attack (${backend.name})`, () => {
    let f: HubFixture;
    let server: ApiServer;
    let seq = 0;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({
          inbound: { mode: 'http' },
          tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0, access: { policy: 'group' } },
        }),
      });
      server = await serveCallbacks(f.hub);
    });
    afterAll(async () => {
      await server?.close();
      await f?.cleanup();
    });

    /** A click as DingTalk signs it; `over` replaces any field. Resolves once the hub has handled it. */
    async function click(
      id: number | string,
      by: string,
      action: string,
      over: Record<string, unknown> = {},
    ) {
      const ts = String(Date.now() + seq++);
      const body = {
        type: 'actionCallback',
        outTrackId: typeof id === 'number' ? `dingkit-task-${id}` : id,
        userId: by,
        userIdType: 1,
        spaceType: 'IM_GROUP',
        spaceId: ENG,
        content: JSON.stringify({ cardPrivateData: { actionIds: [action], params: {} } }),
        ...over,
      };
      const r = await fetch(`${server.url}/callbacks/card`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-ddpaas-signature-timestamp': ts,
          'x-ddpaas-signature': createHmac('sha256', DEMO_CARD_API_SECRET).update(ts).digest('base64'),
        },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(200);
      await f.hub.drainInbox();
    }

    async function newTask(title: string) {
      const t = await f.hub.assignTask({ title, assignees: ['lisi'], group: 'engineering' }, { by: 'test' });
      await waitFor(() => f.hub.emulator!.state.cards.get(`dingkit-task-${t.id}`), 10_000, 'card');
      return t.id;
    }

    const card = (id: number) => f.hub.emulator!.state.cards.get(`dingkit-task-${id}`)!;
    const settled = () =>
      waitFor(async () => (await f.hub.listDeliveries({ status: 'queued' })).length === 0, 5_000, 'sent');

    it('attack: a forwarded copy clicked outside the group → refused; the twin in the group is allowed', async () => {
      const id = await newTask('forwarded');
      const shared = { ...card(id).cardParamMap };
      // 王五 is in engineering but not an assignee: the group policy lets him act only as shown to be there.
      await click(id, 'wangwu', 'start', { spaceType: 'IM_ROBOT', spaceId: 'wangwu' });
      await waitFor(() => card(id).privateData['wangwu']?.['note'], 10_000, 'note');
      expect(card(id).privateData['wangwu']?.['note']).toBe('This task is not yours to change.');
      expect((await f.hub.getTask(id))!.state).toBe('open');
      expect(card(id).cardParamMap).toEqual(shared);
      // Twin: the same person, from the group's own space.
      await click(id, 'wangwu', 'start');
      await waitFor(async () => (await f.hub.getTask(id))?.state === 'in_progress', 5_000, 'started');
      await waitFor(() => card(id).cardParamMap['state'] === 'in_progress', 10_000, 'card');
    });

    it('attack: an action id the card does not offer (cancel, reopen, edit) moves nothing; done does', async () => {
      const id = await newTask('unoffered');
      const shared = { ...card(id).cardParamMap };
      for (const a of ['cancel', 'reopen', 'edit', '__proto__']) await click(id, 'lisi', a);
      await settled();
      expect((await f.hub.getTask(id))!.history.map((e) => e.kind)).toEqual(['created']);
      expect(card(id).cardParamMap).toEqual(shared);
      await click(id, 'lisi', 'done');
      await waitFor(async () => (await f.hub.getTask(id))?.state === 'done', 5_000, 'done');
    });

    it('attack: params naming an assignee do not make an unknown clicker one', async () => {
      const id = await newTask('params');
      const shared = { ...card(id).cardParamMap };
      await click(id, 'nobody', 'start', {
        content: JSON.stringify({ cardPrivateData: { actionIds: ['start'], params: { userId: 'lisi' } } }),
      });
      await waitFor(() => card(id).privateData['nobody']?.['note'], 10_000, 'note');
      expect(card(id).privateData['nobody']?.['note']).toContain('does not know who you are');
      expect((await f.hub.getTask(id))!.state).toBe('open');
      expect(card(id).cardParamMap).toEqual(shared);
    });

    it('attack: an outTrackId of no card the hub made (another task’s id pattern, a foreign card) is ignored', async () => {
      const id = await newTask('foreign');
      await click('dingkit-task-999999', 'lisi', 'start');
      await click(`dingkit-task-${id}-x`, 'lisi', 'start');
      await settled();
      expect((await f.hub.getTask(id))!.state).toBe('open');
      // Twin: the real card's id is taken.
      await click(id, 'lisi', 'start');
      await waitFor(async () => (await f.hub.getTask(id))?.state === 'in_progress', 5_000, 'started');
    });
  });
}
