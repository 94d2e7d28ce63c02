/**
 * Attack: text the stores cannot hold. PostgreSQL's `text` refuses U+0000 (the insert fails, the caller got a 500)
 * and a lone UTF-16 surrogate has no UTF-8 form (both drivers silently turn it into U+FFFD, so two different
 * idempotency keys could collide). Defence: every text field the API and the hub take refuses them with a 400 that
 * names the field, before any I/O, on both stores; the hub stays up and serves the next request.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDingTalkError } from '../../src/core/errors.js';
import {
  backends,
  ENG,
  type HubApi,
  type HubFixture,
  hubApi,
  startTestHub,
  waitFor,
} from '../e2e/hub-helpers.js';

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`NUL and lone surrogates are refused (${backend.name})`, () => {
    let fx: HubFixture;
    let app: HubApi['app'];
    let token = '';
    let person = '';
    let taskId = 0;

    const call = (method: string, path: string, body: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    beforeAll(async () => {
      fx = await startTestHub(backend);
      ({ app, token } = await hubApi(fx.hub));
      person = (await fx.hub.listPeople())[0]!.name;
      const res = await call('POST', '/v1/tasks', { title: 'seed', assignees: [person] });
      taskId = ((await res.json()) as { id: number }).id;
    }, 60_000);

    afterAll(async () => {
      await fx?.cleanup();
    });

    const cases = (bad: string) => [
      { field: 'title', method: 'POST', path: '/v1/tasks', body: { title: bad, assignees: [person] } },
      {
        field: 'description',
        method: 'POST',
        path: '/v1/tasks',
        body: { title: 't', description: bad, assignees: [person] },
      },
      {
        field: 'idempotencyKey',
        method: 'POST',
        path: '/v1/tasks',
        body: { title: 't', assignees: [person], idempotencyKey: bad },
      },
      { field: 'assignees', method: 'POST', path: '/v1/tasks', body: { title: 't', assignees: [bad] } },
      { field: 'note', method: 'POST', path: () => `/v1/tasks/${taskId}/start`, body: { note: bad } },
      { field: 'title', method: 'PATCH', path: () => `/v1/tasks/${taskId}`, body: { title: bad } },
      { field: 'text', method: 'POST', path: '/v1/messages', body: { group: 'ops', text: bad } },
      { field: 'title', method: 'POST', path: '/v1/messages', body: { group: 'ops', text: 'x', title: bad } },
      {
        field: 'idempotencyKey',
        method: 'POST',
        path: '/v1/messages',
        body: { group: 'ops', text: 'x', idempotencyKey: bad },
      },
      {
        field: 'vars',
        method: 'POST',
        path: '/v1/messages',
        body: { group: 'ops', text: '{{v}}', vars: { v: bad } },
      },
      { field: 'group', method: 'POST', path: '/v1/messages', body: { group: bad, text: 'x' } },
      { field: 'to', method: 'POST', path: '/v1/messages', body: { to: [bad], text: 'x' } },
    ];

    for (const [label, bad] of [
      ['NUL', NUL],
      ['a lone surrogate', LONE],
    ] as const) {
      it(`answers 400 naming the field for ${label} in each text field, and keeps serving`, async () => {
        for (const c of cases(bad)) {
          const path = typeof c.path === 'function' ? c.path() : c.path;
          const res = await call(c.method, path, c.body);
          const text = await res.text();
          expect(res.status, `${c.method} ${path} ${c.field}: ${text.slice(0, 200)}`).toBe(400);
          expect(JSON.parse(text).error.message, c.field).toContain(c.field);
        }
        // Query parameters too (a URL cannot carry a lone surrogate: its UTF-8 bytes decode to U+FFFD).
        const q = await app.request(`/v1/tasks?assignee=${bad === NUL ? 'a%00b' : 'a%ED%A0%80b'}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(q.status).toBe(bad === NUL ? 400 : 200);
        // Nothing was stored, and the hub still serves.
        const list = (await (
          await app.request('/v1/tasks?limit=1000', { headers: { authorization: `Bearer ${token}` } })
        ).json()) as { tasks: Array<{ title: string }> };
        expect(list.tasks.map((t) => t.title)).toEqual(['seed']);
        const ok = await call('POST', '/v1/messages', { group: 'ops', text: 'still here' });
        expect(ok.status).toBe(202);
        expect((await app.request('/v1/health')).status).toBe(200);
      });
    }

    it('chat text from DingTalk cannot be refused: NUL is dropped, lone surrogates become U+FFFD, the command works', async () => {
      const task = await fx.hub.assignTask(
        { title: 'chat', assignees: ['lisi'], group: 'engineering' },
        { by: 't' },
      );
      const emu = fx.hub.emulator!;
      await emu.postMessage(ENG, { from: 'lisi', text: `done ${task.id}\u0000`, atBot: true });
      await waitFor(
        async () => (await fx.hub.getTask(task.id))?.state === 'done',
        10_000,
        'task done from chat',
      );
      await emu.postMessage(ENG, { from: 'lisi', text: 'what\u0000 is \ud800 this', atBot: true });
      const reply = await waitFor(
        () => emu.messages(ENG).find((m) => m.text.includes('I did not understand "what is \ufffd this"')),
        10_000,
        'the reply to a garbled command',
      );
      expect(reply.text).not.toContain('\u0000');
      // Every push was handled (none failed or waits for a retry).
      await waitFor(
        async () =>
          (await fx.store.db.selectFrom('inbox').select('status').where('status', '!=', 'handled').execute())
            .length === 0,
        10_000,
        'the inbox handled',
      );
    });

    it('the hub itself refuses them with a ValidationError (library callers, the CLI, chat)', async () => {
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['title', () => fx.hub.assignTask({ title: NUL, assignees: [person] }, { by: 't' })],
        [
          'idempotencyKey',
          () => fx.hub.assignTask({ title: 't', assignees: [person], idempotencyKey: LONE }, { by: 't' }),
        ],
        ['note', () => fx.hub.actOnTask(taskId, 'start', { by: 't' }, NUL)],
        ['title', () => fx.hub.updateTask(taskId, { title: LONE }, { by: 't' })],
        ['text', () => fx.hub.sendMessage({ group: 'ops', text: NUL }, { by: 't' })],
        ['mention', () => fx.hub.sendMessage({ group: 'ops', text: 'x', mention: [NUL] }, { by: 't' })],
        ['by', () => fx.hub.sendMessage({ group: 'ops', text: 'x' }, { by: NUL })],
      ];
      for (const [field, run] of attempts) {
        const e = await run().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(isDingTalkError(e) && e.code === 'VALIDATION', `${field}: ${String(e)}`).toBe(true);
        expect((e as { field?: string }).field ?? '', field).toContain(field);
      }
    });
  });
}
