import { describe, expect, it } from 'vitest';
import { noticeMessage } from '../../api/notice/notice-messages.js';
import { appMessage } from '../../api/robot/app-templates.js';
import { webhookMessage } from '../../api/robot/webhook-messages.js';
import type { DeliveryRow } from '../../store/schema.js';
import { type JobPayload, parseJobPayload, readJob, UnreadableJobError } from './jobs.js';

const row = (over: Partial<DeliveryRow> = {}): DeliveryRow => ({
  id: 3,
  message_id: 'm-1',
  kind: 'group',
  channel: 'app',
  target: 'ops',
  rate_key: null,
  payload: JSON.stringify({
    t: 'group',
    app: 'hub',
    openConversationId: 'cid',
    msgKey: 'sampleText',
    msgParam: { content: 'hi' },
  }),
  status: 'sending',
  attempts: 1,
  idempotent: 0,
  run_at: 0,
  lease_owner: 'w',
  lease_until: 1,
  started_at: 0,
  order_key: 'msg:m-1:group:ops',
  part_index: 2,
  part_count: 3,
  remote_id: null,
  last_error: null,
  created_at: 0,
  updated_at: 0,
  finished_at: null,
  ...over,
});

/** The error a read throws, or undefined when it reads. */
function readError(r: DeliveryRow): UnreadableJobError | undefined {
  try {
    readJob(r);
    return undefined;
  } catch (e) {
    return e as UnreadableJobError;
  }
}

describe('readJob', () => {
  it('reads a stored row back as the job that was enqueued, payload typed', () => {
    const job = readJob(row({ rate_key: 'app:hub:group' }));
    expect(job).toEqual({
      channel: 'app',
      target: 'ops',
      payload: {
        t: 'group',
        app: 'hub',
        openConversationId: 'cid',
        msgKey: 'sampleText',
        msgParam: { content: 'hi' },
      },
      orderKey: 'msg:m-1:group:ops',
      part: { index: 2, count: 3 },
      rateKey: 'app:hub:group',
    });
  });

  it('refuses what the hub does not write, with a typed error that names the field but never echoes a value', () => {
    const cases: Array<[Partial<DeliveryRow>, RegExp]> = [
      [{ payload: 'not json' }, /not JSON/],
      [{ payload: '[1,2]' }, /not an object/],
      [{ payload: '{"t":"rm -rf"}' }, /kind is not one/],
      [{ payload: '{"t":"toString"}' }, /kind is not one/],
      [
        { payload: JSON.stringify({ t: 'group', app: 'hub', openConversationId: 'cid', msgKey: 'k' }) },
        /msgParam/,
      ],
      [
        { payload: JSON.stringify({ t: 'oto', app: 'a', userIds: ['u', 7], msgKey: 'k', msgParam: {} }) },
        /userIds/,
      ],
      [
        { payload: JSON.stringify({ t: 'todo', app: 'a', taskId: '7', assignee: 'b', create: {} }) },
        /taskId/,
      ],
      [
        { payload: JSON.stringify({ t: 'todoDone', app: 'a', unionId: 'u', todoId: 't', done: 'yes' }) },
        /done/,
      ],
      [{ payload: JSON.stringify({ t: 'webhook', robot: 'ops', body: 'hunter2-value' }) }, /body/],
      [{ channel: 'fax' as DeliveryRow['channel'] }, /channel/],
    ];
    for (const [over, reason] of cases) {
      const e = readError(row(over));
      expect(e, JSON.stringify(over)).toBeInstanceOf(UnreadableJobError);
      expect(e!.code).toBe('UNREADABLE_JOB');
      expect(e!.outcome).toBe('not_sent');
      expect(e!.message).toMatch(reason);
      expect(e!.message).not.toContain('hunter2');
    }
  });

  it('accepts every kind the hub writes', () => {
    const payloads: JobPayload[] = [
      { t: 'webhook', robot: 'ops', body: webhookMessage.text('x') },
      { t: 'oto', app: 'a', userIds: ['u'], ...appMessage.text('x') },
      { t: 'notice', app: 'a', userIds: [], msg: noticeMessage.text('x') },
      {
        t: 'todo',
        app: 'a',
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
      { t: 'todoDone', app: 'a', unionId: 'u', todoId: 't', done: true },
      { t: 'todoUpdate', app: 'a', unionId: 'u', todoId: 't', change: { subject: 'S' } },
      { t: 'todoDelete', app: 'a', unionId: 'u', todoId: 't' },
    ];
    for (const p of payloads) expect(parseJobPayload(JSON.stringify(p))).toEqual(p);
  });
});
