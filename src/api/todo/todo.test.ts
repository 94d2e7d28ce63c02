import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { PlatformError, TimeoutError, ValidationError } from '../../core/errors.js';

const TASK = {
  id: 'task-1',
  subject: 'Review',
  dueTime: 1700000000000,
  done: false,
  executorIds: ['unionB'],
  participantIds: [],
  detailUrl: { appUrl: 'https://a', pcUrl: 'https://p' },
  sourceId: 'src-1',
  creatorId: 'unionA',
  priority: 20,
  createdTime: 1,
  modifiedTime: 2,
  requestId: 'r',
};

function client(script: (n: number) => Reply = () => ({ body: TASK })) {
  const t = fakeTransport((_r, n) => script(n));
  return { dt: new DingTalk({ ...testOptions, transport: t.send }), t };
}

const detailUrl = { appUrl: 'https://a', pcUrl: 'https://p' };

describe('todo (docs/dingtalk.md §8)', () => {
  it('creates under the owner unionId with detailUrl and the operator in the query', async () => {
    const { dt, t } = client();
    const task = await dt.todo.create('union/A', {
      subject: 'Review',
      executorIds: ['unionB'],
      dueTime: 1700000000000,
      detailUrl,
      sourceId: 'src-1',
      priority: 20,
      operatorId: 'unionA',
    });
    expect(task).toMatchObject({
      id: 'task-1',
      subject: 'Review',
      done: false,
      executorIds: ['unionB'],
      priority: 20,
    });
    const c = t.calls[0]!;
    expect(c.method).toBe('POST');
    expect(c.origin).toBe('https://api.dingtalk.com');
    expect(c.path).toBe('/v1.0/todo/users/union%2FA/tasks?operatorId=unionA');
    expect(c.headers['x-acs-dingtalk-access-token']).toBe('app-token-canary-777');
    expect(c.json).toEqual({
      subject: 'Review',
      dueTime: 1700000000000,
      executorIds: ['unionB'],
      detailUrl,
      sourceId: 'src-1',
      priority: 20,
    });
  });

  it.each([
    [{ subject: 'x' }, 'detailUrl'],
    [{ subject: '', detailUrl }, 'subject'],
    [{ subject: 'x'.repeat(1025), detailUrl }, 'subject'],
    [{ subject: 'x', detailUrl, description: 'd'.repeat(4097) }, 'description'],
    [{ subject: 'x', detailUrl, priority: 25 }, 'priority'],
    [{ subject: 'x', detailUrl: { appUrl: 'nope', pcUrl: 'https://p' } }, 'detailUrl.appUrl'],
    [{ subject: 'x', detailUrl, dueTime: 1.5 }, 'dueTime'],
  ])('refuses %j before I/O', async (input, field) => {
    const { dt, t } = client();
    const err = await dt.todo.create('u', input as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe(field);
    expect(t.calls).toHaveLength(0);
  });

  it('retries a create after an unknown outcome only when a sourceId makes it safe', async () => {
    const unknownThenOk = () => {
      let n = 0;
      return () => (++n === 1 ? new TimeoutError('t', 1, { outcome: 'unknown' }) : { body: TASK });
    };
    const a = client(unknownThenOk());
    await a.dt.todo.create('u', { subject: 's', detailUrl, sourceId: 'src' });
    expect(a.t.calls).toHaveLength(2);
    const b = client(unknownThenOk());
    await expect(b.dt.todo.create('u', { subject: 's', detailUrl })).rejects.toBeInstanceOf(TimeoutError);
    expect(b.t.calls).toHaveLength(1);
  });

  it('gets, updates (done), deletes with the right verbs', async () => {
    const { dt, t } = client((n) => (n === 1 ? { body: TASK } : { body: { result: true, requestId: 'r' } }));
    await dt.todo.get('uA', 'task-1');
    await dt.todo.update('uA', 'task-1', { done: true, operatorId: 'uA' });
    await dt.todo.delete('uA', 'task-1', { operatorId: 'uA' });
    expect(t.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /v1.0/todo/users/uA/tasks/task-1',
      'PUT /v1.0/todo/users/uA/tasks/task-1?operatorId=uA',
      'DELETE /v1.0/todo/users/uA/tasks/task-1?operatorId=uA',
    ]);
    expect(t.calls[1]!.json).toEqual({ done: true });
    await expect(dt.todo.update('uA', 'task-1', {})).rejects.toThrow(/nothing to update/);
  });

  it('update sends the fields §8.1 lists; an empty description clears it, bad content fields are refused', async () => {
    const { dt, t } = client(() => ({ body: { result: true } }));
    await dt.todo.update('uA', 'task-1', {
      subject: 'New',
      description: '',
      dueTime: 1_900_000_000_000,
      contentFieldList: [{ fieldKey: 'k', fieldValue: 'v' }],
    });
    expect(t.calls[0]!.json).toEqual({
      subject: 'New',
      description: '',
      dueTime: 1_900_000_000_000,
      contentFieldList: [{ fieldKey: 'k', fieldValue: 'v' }],
    });
    await expect(dt.todo.update('uA', 'task-1', { subject: '' })).rejects.toThrow(/subject/);
    await expect(
      dt.todo.update('uA', 'task-1', { contentFieldList: [{ fieldKey: 'k', fieldValue: 'x'.repeat(1025) }] }),
    ).rejects.toThrow(/1024 bytes/);
    expect(t.calls).toHaveLength(1);
  });

  it('lists through the doc endpoint by default, the SDK one on request', async () => {
    const page = { nextToken: 'n2', todoCards: [{ taskId: 't1', subject: 's', isDone: false, detailUrl }] };
    const { dt, t } = client(() => ({ body: page }));
    const r = await dt.todo.list('uA', {
      isDone: false,
      roleTypes: [['executor'], ['creator', 'participant']],
    });
    expect(r.nextToken).toBe('n2');
    expect(r.todoCards[0]).toMatchObject({ taskId: 't1', subject: 's', isDone: false, detailUrl });
    expect(t.calls[0]!.path).toBe('/v1.0/todo/users/uA/org/tasks/query');
    expect(t.calls[0]!.json).toEqual({
      isDone: false,
      roleTypes: [['executor'], ['creator', 'participant']],
    });
    const t2 = fakeTransport(() => ({ body: { todoCards: [] } }));
    const dt2 = new DingTalk({ ...testOptions, transport: t2.send, todo: { listEndpoint: 'list' } });
    expect(await dt2.todo.list('uA')).toEqual({ todoCards: [], nextToken: undefined });
    expect(t2.calls[0]!.path).toBe('/v1.0/todo/users/uA/tasks/list');
    await expect(dt.todo.list('uA', { roleTypes: [['owner' as never]] })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('maps todo.taskCreate.paramError', async () => {
    const { dt } = client(() => ({
      status: 400,
      body: { code: 'todo.taskCreate.paramError', message: 'task exist', requestid: 'R' },
    }));
    const err = await dt.todo.create('u', { subject: 's', detailUrl, sourceId: 'dup' }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.platformCode).toBe('todo.taskCreate.paramError');
    expect(err.code).toBe('INVALID_PARAMETER');
  });
});
