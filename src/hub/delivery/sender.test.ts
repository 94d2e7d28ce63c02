import { describe, expect, it } from 'vitest';
import { noticeMessage } from '../../api/notice/notice-messages.js';
import { webhookMessage } from '../../api/robot/webhook-messages.js';
import { PlatformError } from '../../core/errors.js';
import type { DingTalkPort } from '../dingtalk/port.js';
import { isIdempotentPayload, type Job, type JobPayload } from './jobs.js';
import { createSender } from './sender.js';

const at = (n: number) => ({ deliveryId: n, messageId: 'm', number: 1 });
const jobOf = (payload: JobPayload): Job => ({ channel: 'app', target: 'bob', payload });

describe('sender', () => {
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
    const job = jobOf({
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
    });
    await expect(send.send(job, at(1))).resolves.toEqual({ remoteId: 'todo-1' });
    await expect(send.send(job, at(1))).resolves.toEqual({});
    expect(recorded).toEqual(['7/bob/todo-1']);
    const other = {
      ...port,
      todoCreate: async () => {
        throw new PlatformError('PLATFORM', 'subject is oversize', { status: 400 });
      },
    } as unknown as DingTalkPort;
    await expect(
      createSender({ dingtalk: other, onTodoCreated: async () => {} }).send(job, at(1)),
    ).rejects.toThrow(/oversize/);
  });

  it('sends Todo updates and deletes as written; both count as idempotent for the dispatcher', async () => {
    const calls: unknown[][] = [];
    const port = {
      todoUpdate: async (...a: unknown[]) => void calls.push(['update', ...a]),
      todoDelete: async (...a: unknown[]) => void calls.push(['delete', ...a]),
    } as unknown as DingTalkPort;
    const send = createSender({ dingtalk: port, onTodoCreated: async () => {} });
    const update: JobPayload = {
      t: 'todoUpdate',
      app: 'hub',
      unionId: 'u',
      todoId: 'td',
      change: { subject: 'S' },
    };
    const del: JobPayload = { t: 'todoDelete', app: 'hub', unionId: 'u', todoId: 'td' };
    await send.send(jobOf(update), at(1));
    await send.send(jobOf(del), at(2));
    expect(calls).toEqual([
      ['update', 'hub', 'u', 'td', { subject: 'S' }],
      ['delete', 'hub', 'u', 'td'],
    ]);
    expect(isIdempotentPayload(update)).toBe(true);
    expect(isIdempotentPayload(del)).toBe(true);
    expect(isIdempotentPayload({ t: 'notice', app: 'a', userIds: [], msg: noticeMessage.text('x') })).toBe(
      false,
    );
  });

  it('gives a webhook send its delivery as the idempotency key, so a retried attempt is one message', async () => {
    const calls: unknown[][] = [];
    const port = {
      webhookSend: async (...a: unknown[]) => void calls.push(a),
    } as unknown as DingTalkPort;
    const send = createSender({ dingtalk: port, onTodoCreated: async () => {} });
    const body = webhookMessage.text('hi');
    const job: Job = { channel: 'robot', target: 'ops', payload: { t: 'webhook', robot: 'ops', body } };
    await send.send(job, { deliveryId: 41, messageId: 'm-9', number: 1 });
    await send.send(job, { deliveryId: 41, messageId: 'm-9', number: 2 });
    expect(calls).toEqual([
      ['ops', body, 'm-9:41'],
      ['ops', body, 'm-9:41'],
    ]);
  });
});
