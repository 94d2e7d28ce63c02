/**
 * The dispatcher's sender port: one job in, one DingTalk call out. It throws the DingTalk error as it came (typed,
 * with its outcome) so the dispatcher's decision table (delivery/policy.ts) can retry, park or dead-letter it.
 */

import { isPlatformError, ValidationError } from '../../core/errors.js';
import type { DingTalkPort, TodoCreate } from '../dingtalk/port.js';
import type { JobPayload } from './jobs.js';

export interface SenderDeps {
  dingtalk: DingTalkPort;
  /** Records a created todo's id on its task (so `done` can close it and a sync can find the task). */
  onTodoCreated(taskId: number, assignee: string, todoId: string, sent: TodoCreate): Promise<void>;
}

export interface SendableJob {
  id: string;
  payload: unknown;
}

export type Sender = (job: SendableJob) => Promise<{ remoteId?: string }>;

export function createSender(deps: SenderDeps): Sender {
  return async (job) => {
    const p = parsePayload(job.payload);
    switch (p.t) {
      case 'webhook':
        await deps.dingtalk.webhookSend(p.robot, p.body, job.id);
        return {};
      case 'group':
        return {
          // The payload is the template message plus where to send it; the library reads msgKey and msgParam.
          remoteId: await deps.dingtalk.robotGroupSend(p.app, p.openConversationId, p),
        };
      case 'oto':
        return { remoteId: await deps.dingtalk.robotOtoSend(p.app, p.userIds, p) };
      case 'notice':
        return { remoteId: await deps.dingtalk.noticeSend(p.app, p.userIds, p.msg) };
      case 'todo': {
        let todoId: string;
        try {
          todoId = await deps.dingtalk.todoCreate(p.app, p.create);
        } catch (e) {
          // A retry after an ambiguous first attempt finds the todo already made: DingTalk refuses the repeated
          // sourceId ("task exist", docs/dingtalk.md §8.4). The first attempt then did the work; nothing more to send.
          if (isPlatformError(e) && /task exist/i.test(e.message)) return {};
          throw e;
        }
        await deps.onTodoCreated(p.taskId, p.assignee, todoId, p.create);
        return { remoteId: todoId };
      }
      case 'todoDone':
        await deps.dingtalk.todoSetDone(p.app, p.unionId, p.todoId, p.done);
        return {};
      case 'todoUpdate':
        await deps.dingtalk.todoUpdate(p.app, p.unionId, p.todoId, p.change);
        return {};
      case 'todoDelete':
        await deps.dingtalk.todoDelete(p.app, p.unionId, p.todoId);
        return {};
    }
  };
}

const KINDS = new Set(['webhook', 'group', 'oto', 'notice', 'todo', 'todoDone', 'todoUpdate', 'todoDelete']);

/** A payload read back from the store, checked before use: a corrupt row is a dead letter, not a crash. */
export function parsePayload(raw: unknown): JobPayload {
  const value = typeof raw === 'string' ? safeJson(raw) : raw;
  if (!value || typeof value !== 'object' || !KINDS.has(String((value as { t?: unknown }).t))) {
    throw new ValidationError('job payload is not one the hub wrote', 'payload');
  }
  return value as JobPayload;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
