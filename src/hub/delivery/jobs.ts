/**
 * What one dispatcher job carries. Payloads name apps and robots as in the config and hold no credential
 * (the store, and so a dead-letter listing, never holds a secret); the sender looks the
 * credentials up at send time.
 */

import type {
  NoticeMessage,
  TemplateMessage,
  TodoChange,
  TodoCreate,
  WebhookMessage,
} from '../dingtalk/port.js';

export type JobPayload =
  /** Custom robot webhook send (docs/dingtalk.md §2). */
  | { t: 'webhook'; robot: string; body: WebhookMessage }
  /** App robot group message (§3.1). */
  | ({ t: 'group'; app: string; openConversationId: string } & TemplateMessage)
  /** App robot 1:1 message (§3.1). */
  | ({ t: 'oto'; app: string; userIds: string[] } & TemplateMessage)
  /** Work notification (§5). */
  | { t: 'notice'; app: string; userIds: string[]; msg: NoticeMessage }
  /** Create one assignee's DingTalk Todo (§8). The sender records the todo id on the task. */
  | { t: 'todo'; app: string; taskId: number; assignee: string; create: TodoCreate }
  /** Mark one assignee's Todo done or not done (§8.1 update). */
  | { t: 'todoDone'; app: string; unionId: string; todoId: string; done: boolean }
  /** Bring one assignee's Todo in line with an edited task (§8.1 update). */
  | { t: 'todoUpdate'; app: string; unionId: string; todoId: string; change: TodoChange }
  /** Delete the Todo of an assignee who was removed from the task (§8.1 delete). */
  | { t: 'todoDelete'; app: string; unionId: string; todoId: string };

export type JobChannel = 'robot' | 'app' | 'notice';

/** One delivery the hub asks the dispatcher to make. */
export interface JobSpec {
  channel: JobChannel;
  /** Group alias or person name (what the operator sees). */
  target: string;
  payload: JobPayload;
  /**
   * Jobs with one key are sent in enqueue order, one at a time (an ordered conversation: `group:<alias>`,
   * `person:<name>`). Absent: sent as soon as budgets allow, in parallel with the rest.
   */
  orderKey?: string | undefined;
  /**
   * `message`: the key orders this request's jobs among themselves only (the parts of one split message, a comment
   * before its file); the outbox makes it unique to the request (`msg:<messageId>:<orderKey>`).
   */
  orderScope?: 'message' | undefined;
  part?: { index: number; count: number } | undefined;
  /** Limiter key of the sending robot (custom robots: 20 per minute, docs/dingtalk.md §2.6). */
  rateKey?: string | undefined;
}

/** Whether a repeated attempt cannot create a second effect (the dispatcher may then retry `unknown`). */
export function isIdempotentPayload(p: JobPayload): boolean {
  return (
    p.t === 'webhook' ||
    p.t === 'todo' ||
    p.t === 'todoDone' ||
    // Setting fields to the same values twice, and deleting twice ("task not exist" is success), change nothing.
    p.t === 'todoUpdate' ||
    p.t === 'todoDelete'
  );
}

/** Jobs about one assignee's Todo share this key, so create → update → done/delete reach DingTalk in order. */
export function todoOrderKey(taskId: number, assignee: string): string {
  return `todo:${taskId}:${assignee}`;
}
