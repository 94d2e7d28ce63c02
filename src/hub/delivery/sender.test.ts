import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../core/errors.js';
import type { DingTalkPort } from '../dingtalk/port.js';
import { isIdempotentPayload } from './jobs.js';
import { createSender, parsePayload } from './sender.js';

describe('sender', () => {
  it('refuses payloads the hub did not write, as a typed error', () => {
    expect(() => parsePayload('{"t":"rm -rf"}')).toThrow(/not one the hub wrote/);
    expect(() => parsePayload('not json')).toThrow(/not one the hub wrote/);
    expect(parsePayload('{"t":"notice","app":"a","userIds":[],"msg":{"msgtype":"text"}}')).toMatchObject({
      t: 'notice',
    });
  });

  it('treats "task exist" on a retried todo create as done, and records a new todo id', async () => {
    const recorded: string[] = [];
    let calls = 0;
    const port = {
      todoCreate: async () => {
        calls++;
        if (calls === 1) return 'todo-1';
        throw new PlatformError('PLATFORM', 'todo.taskCreate.paramError: task exist', { status: 400 });
      },
    } as unknown as DingTalkPort;
    const send = createSender({
      dingtalk: port,
      onTodoCreated: async (t, a, id) => void recorded.push(`${t}/${a}/${id}`),
    });
    const job = {
      id: '1',
      payload: {
        t: 'todo',
        app: 'hub',
        taskId: 7,
        assignee: 'bob',
        create: {
          unionId: 'u',
          subject: 's',
          executorIds: ['u'],
          sourceId: 'x',
          detailUrl: { appUrl: 'a', pcUrl: 'a' },
        },
      },
    };
    await expect(send(job)).resolves.toEqual({ remoteId: 'todo-1' });
    await expect(send(job)).resolves.toEqual({});
    expect(recorded).toEqual(['7/bob/todo-1']);
    const other = {
      ...port,
      todoCreate: async () => {
        throw new PlatformError('PLATFORM', 'subject is oversize', { status: 400 });
      },
    } as unknown as DingTalkPort;
    await expect(createSender({ dingtalk: other, onTodoCreated: async () => {} })(job)).rejects.toThrow(
      /oversize/,
    );
  });

  it('sends Todo updates and deletes as written; both count as idempotent for the dispatcher', async () => {
    const calls: unknown[][] = [];
    const port = {
      todoUpdate: async (...a: unknown[]) => void calls.push(['update', ...a]),
      todoDelete: async (...a: unknown[]) => void calls.push(['delete', ...a]),
    } as unknown as DingTalkPort;
    const send = createSender({ dingtalk: port, onTodoCreated: async () => {} });
    const update = { t: 'todoUpdate', app: 'hub', unionId: 'u', todoId: 'td', change: { subject: 'S' } };
    const del = { t: 'todoDelete', app: 'hub', unionId: 'u', todoId: 'td' };
    await send({ id: '1', payload: JSON.stringify(update) });
    await send({ id: '2', payload: del });
    expect(calls).toEqual([
      ['update', 'hub', 'u', 'td', { subject: 'S' }],
      ['delete', 'hub', 'u', 'td'],
    ]);
    expect(isIdempotentPayload(parsePayload(update))).toBe(true);
    expect(isIdempotentPayload(parsePayload(del))).toBe(true);
    expect(
      isIdempotentPayload(parsePayload({ t: 'notice', app: 'a', userIds: [], msg: { msgtype: 'text' } })),
    ).toBe(false);
  });
});
