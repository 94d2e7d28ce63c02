/**
 * The one shape a delivery has from the call that enqueues it to the DingTalk call that makes it: a `Job`, whose
 * payload is a union tagged by `t`. The store keeps it as a `deliveries` row (payload as JSON); `readJob` turns a
 * row back into a Job, checking the payload once, where the dispatcher reads the row. A row that does not read
 * back is an `UnreadableJobError` (a dead letter with its reason), never a crash further down.
 *
 * Payloads name apps and robots as in the config and hold no credential (the store, and so a dead-letter listing,
 * never holds a secret); the sender looks the credentials up at send time.
 */

import { DingTalkError } from '../../core/errors.js';
import type { DeliveryChannel, DeliveryRow } from '../../store/schema.js';
import type {
  CardCreate,
  CardUpdate,
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
  | { t: 'todoDelete'; app: string; unionId: string; todoId: string }
  /** Create and deliver an interactive card into its group (§10): a task's, or an alert's (no `taskId`). */
  | { t: 'cardCreate'; app: string; taskId?: number; card: CardCreate }
  /** Update a task's card in place (§10), after its create (same order key, {@link cardOrderKey}). */
  | { t: 'cardUpdate'; app: string; update: CardUpdate };

export type JobKind = JobPayload['t'];

export type JobChannel = DeliveryChannel;

/** One delivery: what the hub enqueues, what the store keeps, what the sender sends. */
export interface Job {
  channel: JobChannel;
  /** Group alias or person name (what the operator sees). */
  target: string;
  payload: JobPayload;
  /**
   * Jobs with one key are sent in enqueue order, one at a time (an ordered conversation: `group:<alias>`,
   * `person:<name>`). Absent: sent as soon as budgets allow, in parallel with the rest.
   */
  orderKey?: string | null | undefined;
  /**
   * `message`: the key orders this request's jobs among themselves only (the parts of one split message, a comment
   * before its file); the outbox stores it as `msg:<messageId>:<orderKey>`, so no other request waits on it.
   * @default 'key' (the key as given)
   */
  orderScope?: 'key' | 'message' | undefined;
  part?: { index: number; count: number } | undefined;
  /**
   * Limiter key whose budget this send spends, e.g. `webhook:ops` for custom robot `ops` (its 20/min cap,
   * docs/dingtalk.md §2.6). Absent: the dispatcher applies no budget of its own.
   */
  rateKey?: string | null | undefined;
  /** Not before this time (epoch ms). @default now */
  runAt?: number | undefined;
}

/** Whether a repeated attempt cannot create a second effect (the dispatcher may then retry `unknown`). */
export function isIdempotentPayload(p: JobPayload): boolean {
  return (
    p.t === 'webhook' ||
    p.t === 'todo' ||
    p.t === 'todoDone' ||
    // Setting fields to the same values twice, and deleting twice ("task not exist" is success), change nothing.
    p.t === 'todoUpdate' ||
    p.t === 'todoDelete' ||
    // One outTrackId is one card (a second create changes nothing), and an update sets values (§10).
    p.t === 'cardCreate' ||
    p.t === 'cardUpdate'
  );
}

/** Jobs about one assignee's Todo share this key, so create → update → done/delete reach DingTalk in order. */
export function todoOrderKey(taskId: number, assignee: string): string {
  return `todo:${taskId}:${assignee}`;
}

/** A task card's create and updates share this key, so DingTalk gets the create first and the updates in order. */
export function cardOrderKey(taskId: number): string {
  return `card:${taskId}`;
}

/** A stored job that does not read back as one the hub writes: nothing can be sent for it (a dead letter). */
export class UnreadableJobError extends DingTalkError {
  override readonly name: string = 'UnreadableJobError';

  constructor(message: string) {
    super('UNREADABLE_JOB', message, { outcome: 'not_sent', retryable: false });
  }
}

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === 'string';
const int: Check = (v) => Number.isSafeInteger(v);
const optInt: Check = (v) => v === undefined || int(v);
const bool: Check = (v) => typeof v === 'boolean';
const obj: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings: Check = (v) => Array.isArray(v) && v.every(str);
const strRecord: Check = (v) => obj(v) && Object.values(v as object).every(str);

/**
 * The fields each kind must carry, checked on read. The DingTalk bodies (`body`, `msg`, `create`, `change`) are
 * the hub's own output, built by the message and task code; here they only have to be objects.
 */
const FIELDS: { [K in JobKind]: Record<Exclude<keyof Extract<JobPayload, { t: K }>, 't'>, Check> } = {
  webhook: { robot: str, body: obj },
  group: { app: str, openConversationId: str, msgKey: str, msgParam: strRecord },
  oto: { app: str, userIds: strings, msgKey: str, msgParam: strRecord },
  notice: { app: str, userIds: strings, msg: obj },
  todo: { app: str, taskId: int, assignee: str, create: obj },
  todoDone: { app: str, unionId: str, todoId: str, done: bool },
  todoUpdate: { app: str, unionId: str, todoId: str, change: obj },
  todoDelete: { app: str, unionId: str, todoId: str },
  cardCreate: { app: str, taskId: optInt, card: obj },
  cardUpdate: { app: str, update: obj },
};

const CHANNELS: ReadonlySet<string> = new Set<DeliveryChannel>(['robot', 'app', 'notice']);

/** Checks a payload (parsed JSON, or the JSON text) against its kind's fields. */
export function parseJobPayload(raw: unknown): JobPayload {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UnreadableJobError('payload is not JSON');
    }
  }
  if (!obj(value)) throw new UnreadableJobError('payload is not an object');
  const t = (value as { t?: unknown }).t;
  const fields = typeof t === 'string' && Object.hasOwn(FIELDS, t) ? FIELDS[t as JobKind] : undefined;
  // The kind and field names are the hub's own words; values are never echoed (they may be anything).
  if (!fields) throw new UnreadableJobError('payload kind is not one the hub writes');
  for (const [name, ok] of Object.entries(fields) as Array<[string, Check]>) {
    if (!ok((value as Record<string, unknown>)[name])) {
      throw new UnreadableJobError(`payload of kind ${t} has a missing or malformed ${name}`);
    }
  }
  return value as JobPayload;
}

/** A stored row as the Job it was enqueued as (the order key as stored, already scoped). */
export function readJob(row: DeliveryRow): Job {
  if (!CHANNELS.has(row.channel)) throw new UnreadableJobError('channel is not one the hub writes');
  return {
    channel: row.channel,
    target: row.target,
    payload: parseJobPayload(row.payload),
    orderKey: row.order_key,
    part: { index: row.part_index, count: row.part_count },
    rateKey: row.rate_key,
  };
}
