/**
 * Attack: a `send` token could send anywhere. A CI token meant to post build results to `ops` could be used (leaked
 * from a CI log, or by a careless script) to @all the whole engineering group, or to message any person, or to
 * create tasks and share files anywhere.
 *
 * Defence: a token may carry limits (`dingkit token create ci --scopes send --groups ops --people alice
 * --no-at-all`). Every sending route checks them before the hub is called: a group or person outside the limits,
 * or `mentionAll`, is a 403 `token_limit` that names the reason, and nothing is written or sent.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, OPS, waitFor } from '../e2e/hub-helpers.js';
import { type SecureHub, secureHub } from './secure-hub.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`per-token limits (${backend.name})`, () => {
    let h: SecureHub;
    let ci = '';
    let admin = '';
    const refusedTexts: string[] = [];
    beforeAll(async () => {
      h = await secureHub(backend);
      ci = await h.mint('ci', ['send'], { limits: { groups: ['ops'], people: ['alice'], noAtAll: true } });
      admin = await h.mint('admin', ['admin']);
    }, 30_000);
    afterAll(async () => {
      await h?.close();
    });

    async function refused(res: Response, reason: RegExp): Promise<void> {
      expect(res.status).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('token_limit');
      expect(body.error.message).toMatch(reason);
    }

    it('messages: another group, mentionAll, another person are 403 and nothing is written', async () => {
      const before = await h.messageCount();
      const send = (body: Record<string, unknown>) => {
        refusedTexts.push(String(body['text']));
        return h.call(ci, '/v1/messages', { json: body });
      };
      await refused(await send({ group: 'engineering', text: 'ci to engineering' }), /group "engineering"/);
      await refused(await send({ group: 'ops', text: 'ci @all in ops', mentionAll: true }), /mentionAll/);
      await refused(await send({ to: ['bob'], text: 'ci to bob' }), /person "bob"/);
      await refused(await send({ to: ['Bob Li'], text: 'ci to Bob by name' }), /person "Bob Li"/);
      await refused(await send({ to: ['alice', 'bob'], text: 'ci to alice and bob' }), /person "bob"/);
      await refused(
        await send({ group: 'ENGINEERING', text: 'ci to engineering, upper case' }),
        /group "ENGINEERING"/,
      );
      expect(await h.messageCount()).toBe(before);
    });

    it('tasks: a group or an assignee outside the limits is 403, on create, edit and moves', async () => {
      const count = async () => (await h.fx.hub.listTasks({ limit: 1_000 })).length;
      const before = await count();
      await refused(
        await h.call(ci, '/v1/tasks', { json: { title: 'x', assignees: ['alice'], group: 'engineering' } }),
        /group "engineering"/,
      );
      await refused(
        await h.call(ci, '/v1/tasks', { json: { title: 'x', assignees: ['alice', 'bob'], group: 'ops' } }),
        /person "bob"/,
      );
      expect(await count()).toBe(before);

      // A task of another team (engineering, Bob): the limited token may not edit or move it either.
      const other = await h.call(admin, '/v1/tasks', {
        json: { title: 'eng task', assignees: ['bob'], group: 'engineering' },
      });
      expect(other.status).toBe(201);
      const { id } = (await other.json()) as { id: number };
      await refused(
        await h.call(ci, `/v1/tasks/${id}`, { method: 'PATCH', json: { title: 'renamed by ci' } }),
        /group "engineering"/,
      );
      await refused(await h.call(ci, `/v1/tasks/${id}/done`, { method: 'POST' }), /group "engineering"/);
      await refused(await h.call(ci, `/v1/tasks/${id}`, { method: 'DELETE' }), /group "engineering"/);
      const own = await h.call(ci, '/v1/tasks', {
        json: { title: 'ci task', assignees: ['alice'], group: 'ops' },
      });
      expect(own.status).toBe(201);
      const ownId = ((await own.json()) as { id: number }).id;
      await refused(
        await h.call(ci, `/v1/tasks/${ownId}`, { method: 'PATCH', json: { group: 'engineering' } }),
        /group "engineering"/,
      );
      await refused(
        await h.call(ci, `/v1/tasks/${ownId}`, { method: 'PATCH', json: { addAssignees: ['bob'] } }),
        /person "bob"/,
      );
      const task = (await (await h.call(admin, `/v1/tasks/${id}`)).json()) as {
        state: string;
        title: string;
      };
      expect(task).toMatchObject({ state: 'open', title: 'eng task' });
    }, 30_000);

    it('file shares: another group or person is 403', async () => {
      const before = await h.messageCount();
      const share = (fields: Record<string, string>) => {
        const form = new FormData();
        form.set('file', new Blob(['build log\n']), 'build.txt');
        for (const [k, v] of Object.entries(fields)) form.set(k, v);
        return h.call(ci, '/v1/files', { method: 'POST', body: form });
      };
      await refused(await share({ group: 'engineering' }), /group "engineering"/);
      await refused(await share({ to: 'bob' }), /person "bob"/);
      expect(await h.messageCount()).toBe(before);
    });

    it('an admin token with limits may not redrive (it would re-send anything, anywhere)', async () => {
      const limitedAdmin = await h.mint('limited-admin', ['admin'], { limits: { groups: ['ops'] } });
      await refused(
        await h.call(limitedAdmin, '/v1/deliveries/redrive', { json: { allDead: true } }),
        /redrive/,
      );
      const ok = await h.call(admin, '/v1/deliveries/redrive', { json: { allDead: true } });
      expect(ok.status).toBe(200);
    });

    it('an admin token with limits may not resolve a parked delivery either (redrive would re-send it)', async () => {
      const limitedAdmin = await h.mint('limited-resolver', ['admin'], { limits: { groups: ['ops'] } });
      for (const action of ['redrive', 'mark-sent', 'drop']) {
        await refused(
          await h.call(limitedAdmin, '/v1/deliveries/987654/resolve', { json: { action } }),
          /resolve/,
        );
      }
      // The same request with an unlimited admin token goes through to the hub (no such delivery there).
      const ok = await h.call(admin, '/v1/deliveries/987654/resolve', { json: { action: 'drop' } });
      expect(ok.status).toBe(404);
    });

    it('within its limits the token works, and the refused requests never reached DingTalk', async () => {
      const ok = await h.call(ci, '/v1/messages', { json: { group: 'ops', text: 'ci build 77 green' } });
      expect(ok.status).toBe(202);
      const dm = await h.call(ci, '/v1/messages', { json: { to: ['Alice Chen'], text: 'ci: your build' } });
      expect(dm.status).toBe(202);
      const emu = h.fx.hub.emulator!;
      await waitFor(() => emu.messages(OPS).some((m) => m.text.includes('ci build 77 green')));
      await waitFor(() => emu.messages().some((m) => m.text.includes('ci: your build')));
      for (const t of refusedTexts) expect(emu.messages().some((m) => m.text.includes(t))).toBe(false);
      const listed = (await h.tokens.list()).find((t) => t.name === 'ci');
      expect(listed?.limits).toEqual({ groups: ['ops'], people: ['alice'], noAtAll: true });
    }, 30_000);
  });
}
