import { describe, expect, it } from 'vitest';
import { apiHarness } from '../../test/support/api-harness.js';
import { TaskAccessError } from '../hub/tasks/access.js';

type ErrorBody = { error: { code: string; message: string } };

async function errorOf(res: Response): Promise<ErrorBody['error']> {
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toMatch(/^[a-z_]+$/);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

describe('messages', () => {
  it('sends to a group and answers 202 with the deliveries; the actor is the token name', async () => {
    const h = await apiHarness();
    const res = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'deploy done' }),
    );
    expect(res.status).toBe(202);
    const body = (await res.json()) as { messageId: string; duplicate: boolean; deliveries: unknown[] };
    expect(body.duplicate).toBe(false);
    expect(body.deliveries).toHaveLength(1);
    expect(h.hub.calls.at(-1)).toEqual({
      method: 'sendMessage',
      args: [
        { group: 'ops', text: 'deploy done', idempotencyKey: undefined },
        { by: 'api:sender', idempotencyScope: 'token:sender' },
      ],
    });
    const got = await h.app.request(`/v1/messages/${body.messageId}`, { headers: h.auth(h.tokens.read) });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { messageId: string }).messageId).toBe(body.messageId);
  });

  it('passes the Idempotency-Key header through: the second request is a duplicate of the first', async () => {
    const h = await apiHarness();
    const req = () =>
      h.app.request(
        '/v1/messages',
        h.json(h.tokens.send, { to: ['Alice'], text: 'hi' }, 'POST', { 'idempotency-key': 'order-42' }),
      );
    const a = (await (await req()).json()) as { messageId: string; duplicate: boolean };
    const b = (await (await req()).json()) as { messageId: string; duplicate: boolean };
    expect(b).toMatchObject({ messageId: a.messageId, duplicate: true });
    expect(h.hub.deliveries).toHaveLength(1);
  });

  it('refuses a header key that disagrees with the body key, and a non-ASCII key', async () => {
    const h = await apiHarness();
    const clash = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'x', idempotencyKey: 'a' }, 'POST', {
        'idempotency-key': 'b',
      }),
    );
    expect(clash.status).toBe(400);
    expect((await errorOf(clash)).code).toBe('invalid_idempotency_key');
    const spaced = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'x' }, 'POST', { 'idempotency-key': 'has space' }),
    );
    expect(spaced.status).toBe(400);
  });

  it('names the bad field, wants exactly one destination, and maps hub validation errors to 400', async () => {
    const h = await apiHarness();
    const noText = await h.app.request('/v1/messages', h.json(h.tokens.send, { group: 'ops' }));
    expect(noText.status).toBe(400);
    expect((await errorOf(noText)).message).toMatch(/^text:/);
    const both = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', to: ['Bob'], text: 'x' }),
    );
    expect(both.status).toBe(400);
    expect((await errorOf(both)).message).toContain('exactly one');
    const unknownGroup = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'nope', text: 'x' }),
    );
    expect(unknownGroup.status).toBe(400);
    expect((await errorOf(unknownGroup)).message).toContain('no group named');
    const extra = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'x', y: 1 }),
    );
    expect(extra.status).toBe(400);
  });

  it('answers 404 for an unknown message and 400 for a malformed id', async () => {
    const h = await apiHarness();
    const missing = await h.app.request('/v1/messages/msg_999', { headers: h.auth(h.tokens.read) });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    const bad = await h.app.request(`/v1/messages/${'x'.repeat(300)}`, { headers: h.auth(h.tokens.read) });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('invalid_id');
  });
});

describe('tasks', () => {
  it('a refusal of the task-access rule (a call acting for a person) is answered 404 like a missing task', async () => {
    const h = await apiHarness();
    await h.app.request('/v1/tasks', h.json(h.tokens.send, { title: 'Secret plan', assignees: ['Bob'] }));
    h.hub.failNext = { method: 'actOnTask', error: new TaskAccessError(1, 'not_permitted') };
    const refused = await h.app.request('/v1/tasks/1/done', {
      method: 'POST',
      headers: h.auth(h.tokens.send),
    });
    expect(refused.status).toBe(404);
    const e = await errorOf(refused);
    expect(e.code).toBe('not_found');
    expect(e.message).not.toContain('Secret');
  });

  it('creates, lists with filters, shows, and moves a task through its states', async () => {
    const h = await apiHarness();
    const created = await h.app.request(
      '/v1/tasks',
      h.json(h.tokens.send, {
        title: 'Ship it',
        assignees: ['Alice', 'Bob'],
        group: 'ops',
        due: '2026-12-01T10:00:00Z',
      }),
    );
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: number; state: string };
    expect(task.state).toBe('open');

    const list = await h.app.request('/v1/tasks?state=open&assignee=Alice&limit=5', {
      headers: h.auth(h.tokens.read),
    });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { tasks: unknown[] }).tasks).toHaveLength(1);
    expect(h.hub.calls.at(-1)?.args[0]).toEqual({
      state: 'open',
      assignee: 'Alice',
      group: undefined,
      overdue: undefined,
      limit: 5,
    });
    const none = await h.app.request('/v1/tasks?state=done', { headers: h.auth(h.tokens.read) });
    expect(((await none.json()) as { tasks: unknown[] }).tasks).toHaveLength(0);

    const start = await h.app.request(`/v1/tasks/${task.id}/start`, {
      method: 'POST',
      headers: h.auth(h.tokens.send),
    });
    expect(start.status).toBe(200);
    expect(((await start.json()) as { state: string }).state).toBe('in_progress');
    const done = await h.app.request(`/v1/tasks/${task.id}/done`, h.json(h.tokens.send, { note: 'merged' }));
    expect(((await done.json()) as { state: string }).state).toBe('done');
    const shown = await h.app.request(`/v1/tasks/${task.id}`, { headers: h.auth(h.tokens.read) });
    const full = (await shown.json()) as { history: Array<{ kind: string; by: string; note?: string }> };
    expect(full.history.map((e) => e.kind)).toEqual(['created', 'start', 'done']);
    expect(full.history[2]).toMatchObject({ by: 'api:sender', note: 'merged' });
  });

  it('answers 409 for a transition the state forbids, 404 for unknown tasks and actions, 400 for bad ids', async () => {
    const h = await apiHarness();
    await h.app.request('/v1/tasks', h.json(h.tokens.send, { title: 'T', assignees: ['Bob'] }));
    const del = await h.app.request('/v1/tasks/1', { method: 'DELETE', headers: h.auth(h.tokens.send) });
    expect(((await del.json()) as { state: string }).state).toBe('cancelled');
    const again = await h.app.request('/v1/tasks/1/start', {
      method: 'POST',
      headers: h.auth(h.tokens.send),
    });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('invalid_transition');
    expect((await h.app.request('/v1/tasks/7', { headers: h.auth(h.tokens.read) })).status).toBe(404);
    expect(
      (await h.app.request('/v1/tasks/7/done', { method: 'POST', headers: h.auth(h.tokens.send) })).status,
    ).toBe(404);
    const verb = await h.app.request('/v1/tasks/1/explode', {
      method: 'POST',
      headers: h.auth(h.tokens.send),
    });
    expect(verb.status).toBe(404);
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      const r = await h.app.request(`/v1/tasks/${id}`, { headers: h.auth(h.tokens.read) });
      expect(r.status, id).toBe(400);
    }
  });

  it('refuses bad task input: empty assignees, bad due time, bad filters', async () => {
    const h = await apiHarness();
    const empty = await h.app.request('/v1/tasks', h.json(h.tokens.send, { title: 'T', assignees: [] }));
    expect((await errorOf(empty)).message).toMatch(/^assignees:/);
    const due = await h.app.request(
      '/v1/tasks',
      h.json(h.tokens.send, { title: 'T', assignees: ['Bob'], due: 'soon' }),
    );
    expect((await errorOf(due)).message).toMatch(/^due:/);
    const filter = await h.app.request('/v1/tasks?state=sleeping', { headers: h.auth(h.tokens.read) });
    expect(filter.status).toBe(400);
    const repeated = await h.app.request('/v1/tasks?limit=1&limit=2', { headers: h.auth(h.tokens.read) });
    expect((await errorOf(repeated)).code).toBe('invalid_query');
    const unknown = await h.app.request('/v1/tasks?colour=red', { headers: h.auth(h.tokens.read) });
    expect(unknown.status).toBe(400);
  });

  it('PATCH edits a task and passes the patch (nulls included) to the hub as the token name', async () => {
    const h = await apiHarness();
    await h.app.request(
      '/v1/tasks',
      h.json(h.tokens.send, { title: 'T', assignees: ['Bob'], due: '2026-12-01T10:00:00Z' }),
    );
    const patch = {
      title: 'T2',
      description: null,
      due: null,
      addAssignees: ['Alice'],
      removeAssignees: ['Bob'],
    };
    const res = await h.app.request('/v1/tasks/1', h.json(h.tokens.send, patch, 'PATCH'));
    expect(res.status).toBe(200);
    const task = (await res.json()) as { title: string; due?: string; assignees: Array<{ name: string }> };
    expect(task).toMatchObject({ title: 'T2', assignees: [{ name: 'Alice' }] });
    expect(task.due).toBeUndefined();
    expect(h.hub.calls.find((c) => c.method === 'updateTask')?.args).toEqual([
      1,
      patch,
      { by: 'api:sender', idempotencyScope: 'token:sender' },
    ]);
  });

  it('PATCH refuses bad input with a reason (400), unknown tasks (404), closed tasks (409), readers (403)', async () => {
    const h = await apiHarness();
    await h.app.request('/v1/tasks', h.json(h.tokens.send, { title: 'T', assignees: ['Bob'] }));
    const patch = (body: unknown, id = '1', token = h.tokens.send) =>
      h.app.request(`/v1/tasks/${id}`, h.json(token, body, 'PATCH'));
    const cases: Array<[unknown, RegExp]> = [
      [{}, /at least one field/],
      [{ title: '' }, /^title:/],
      [{ title: 'x'.repeat(201) }, /^title:/],
      [{ due: 'tomorrow' }, /^due:/],
      [{ due: 1_900_000_000_000 }, /^due:/],
      [{ group: 'no spaces allowed' }, /^group:/],
      [{ addAssignees: [] }, /^addAssignees:/],
      [{ removeAssignees: 'Bob' }, /^removeAssignees:/],
      [{ description: 'x'.repeat(4_001) }, /^description:/],
      [{ state: 'done' }, /state/],
      [{ title: null }, /^title:/],
    ];
    for (const [body, reason] of cases) {
      const r = await patch(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(r)).message, JSON.stringify(body)).toMatch(reason);
    }
    const raw = await h.app.request('/v1/tasks/1', {
      method: 'PATCH',
      headers: h.auth(h.tokens.send, { 'content-type': 'application/json' }),
      body: '{"title":',
    });
    expect((await errorOf(raw)).code).toBe('invalid_json');
    // A name the hub does not know is bad input too, not a conflict.
    const ghost = await patch({ addAssignees: ['Ghost'] });
    expect(ghost.status).toBe(400);
    expect((await errorOf(ghost)).code).toBe('invalid_request');
    expect(h.hub.calls.filter((c) => c.method === 'updateTask')).toHaveLength(1);
    expect((await patch({ title: 'x' }, '9')).status).toBe(404);
    expect((await patch({ title: 'x' }, 'abc')).status).toBe(400);
    expect((await patch({ title: 'x' }, '1', h.tokens.read)).status).toBe(403);
    await h.app.request('/v1/tasks/1/done', { method: 'POST', headers: h.auth(h.tokens.send) });
    const closed = await patch({ title: 'x' });
    expect(closed.status).toBe(409);
    const err = await errorOf(closed);
    expect(err.code).toBe('task_closed');
    expect(err.message).toContain('done');
  });
});

describe('files', () => {
  const upload = (
    token: string,
    fields: Record<string, string>,
    file?: { name: string; bytes: Uint8Array },
  ) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (file) form.append('file', new Blob([file.bytes]), file.name);
    return { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form };
  };

  it('shares an uploaded file with the bytes intact and lists the share', async () => {
    const h = await apiHarness();
    const bytes = new Uint8Array(5000).map((_, i) => i % 251);
    const res = await h.app.request(
      '/v1/files',
      upload(h.tokens.send, { group: 'ops', comment: 'Q3' }, { name: '../../etc/report.pdf', bytes }),
    );
    expect(res.status).toBe(202);
    const share = (await res.json()) as { fileName: string; size: number };
    expect(share).toMatchObject({ fileName: 'report.pdf', size: 5000 });
    expect(Buffer.compare(h.hub.shares[0]!.bytes, Buffer.from(bytes))).toBe(0);
    const people = await h.app.request(
      '/v1/files',
      upload(h.tokens.send, { to: 'Alice, Bob' }, { name: 'a.txt', bytes }),
    );
    expect(people.status).toBe(202);
    expect((h.hub.calls.at(-1)!.args[0] as { to: string[] }).to).toEqual(['Alice', 'Bob']);
    const list = await h.app.request('/v1/files?limit=10', { headers: h.auth(h.tokens.read) });
    expect(((await list.json()) as { shares: unknown[] }).shares).toHaveLength(2);
  });

  it('refuses uploads without a file, with two files, empty, over the cap, or not multipart', async () => {
    const h = await apiHarness({ fileLimitBytes: 1000 });
    const bytes = new Uint8Array(10);
    expect((await h.app.request('/v1/files', upload(h.tokens.send, { group: 'ops' }))).status).toBe(400);
    const two = upload(h.tokens.send, { group: 'ops' }, { name: 'a', bytes });
    two.body.append('file', new Blob([bytes]), 'b');
    expect((await h.app.request('/v1/files', two)).status).toBe(400);
    const empty = await h.app.request(
      '/v1/files',
      upload(h.tokens.send, { group: 'ops' }, { name: 'a', bytes: new Uint8Array(0) }),
    );
    expect((await errorOf(empty)).code).toBe('invalid_file');
    const big = await h.app.request(
      '/v1/files',
      upload(h.tokens.send, { group: 'ops' }, { name: 'a', bytes: new Uint8Array(1001) }),
    );
    expect(big.status).toBe(413);
    const huge = await h.app.request(
      '/v1/files',
      upload(h.tokens.send, { group: 'ops' }, { name: 'a', bytes: new Uint8Array(200_000) }),
    );
    expect(huge.status).toBe(413);
    const json = await h.app.request('/v1/files', h.json(h.tokens.send, { group: 'ops' }));
    expect(json.status).toBe(415);
    const broken = await h.app.request('/v1/files', {
      method: 'POST',
      headers: h.auth(h.tokens.send, { 'content-type': 'multipart/form-data; boundary=xyz' }),
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nunterminated',
    });
    expect((await errorOf(broken)).code).toBe('invalid_multipart');
    const noDest = await h.app.request('/v1/files', upload(h.tokens.send, {}, { name: 'a', bytes }));
    expect(noDest.status).toBe(400);
    expect(h.hub.shares).toHaveLength(0);
  });
});

describe('deliveries and people', () => {
  it('lists by status and dead letters, and redrives (admin only)', async () => {
    const h = await apiHarness();
    await h.app.request('/v1/messages', h.json(h.tokens.send, { group: 'ops', text: 'x' }));
    const dead = h.hub.addDead('ops', 'ROBOT_SECURITY: keywords not in content');
    const all = await h.app.request('/v1/deliveries', { headers: h.auth(h.tokens.read) });
    expect(((await all.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(2);
    const queued = await h.app.request('/v1/deliveries?status=queued', { headers: h.auth(h.tokens.read) });
    expect(((await queued.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1);
    const dl = await h.app.request('/v1/deliveries/dead', { headers: h.auth(h.tokens.read) });
    expect(((await dl.json()) as { deliveries: Array<{ id: string }> }).deliveries.map((d) => d.id)).toEqual([
      dead.id,
    ]);

    const asSender = await h.app.request('/v1/deliveries/redrive', h.json(h.tokens.send, { allDead: true }));
    expect(asSender.status).toBe(403);
    const res = await h.app.request('/v1/deliveries/redrive', h.json(h.tokens.admin, { ids: [dead.id] }));
    expect(await res.json()).toEqual({ moved: 1 });
    const again = await h.app.request('/v1/deliveries/redrive', h.json(h.tokens.admin, { allDead: true }));
    expect(await again.json()).toEqual({ moved: 0 });
    const bad = await h.app.request('/v1/deliveries/redrive', h.json(h.tokens.admin, { ids: [] }));
    expect(bad.status).toBe(400);
    expect(
      (await h.app.request('/v1/deliveries?status=lost', { headers: h.auth(h.tokens.read) })).status,
    ).toBe(400);
  });

  it('lists people', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/v1/people', { headers: h.auth(h.tokens.read) });
    expect(((await res.json()) as { people: Array<{ name: string }> }).people.map((p) => p.name)).toEqual([
      'Alice',
      'Bob',
    ]);
  });
});
