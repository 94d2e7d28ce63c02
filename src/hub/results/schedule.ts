/**
 * When to ask DingTalk again about a sent message, and what its answer means for each recipient: pure functions,
 * tested without I/O (schedule.test.ts). The checker (checker.ts) applies them to the rows it claims.
 *
 * Schedule: the first question `firstCheckMs` after the send (a work notice is delivered asynchronously,
 * docs/dingtalk.md §5.1), then each wait twice the one before, capped at `maxIntervalMs`, and none after
 * `windowMs` from the send (DingTalk answers about a task_id or processQueryKey for 24 h, §5.1, §3.1). The
 * questions stop earlier once nothing can change: every recipient dropped or read, or (without `trackReads`)
 * every recipient's delivery known.
 *
 * | answer for a person (getsendresult, §5.1, §5.2)       | outcome   | reason_code          |
 * | ----------------------------------------------------- | --------- | -------------------- |
 * | in `invalid_user_id_list`                             | dropped   | `invalid_user`       |
 * | in `forbidden_list` / `forbidden_user_id_list`        | dropped   | DingTalk's code, e.g. `143106` |
 * | in `failed_user_id_list`                              | dropped   | `failed`             |
 * | in `read_user_id_list`                                | read      |                      |
 * | in `unread_user_id_list`                              | delivered |                      |
 * | in none of them (still being processed)               | pending   |                      |
 *
 * An outcome only moves forward (pending → delivered → read; dropped is final): a later answer that omits a
 * person never undoes what an earlier one said.
 */

import type { RecipientOutcome } from '../../store/schema.js';
import type { NoticeSendResult, RobotReadStatus } from '../dingtalk/port.js';

export interface CheckTiming {
  firstCheckMs: number;
  maxIntervalMs: number;
  windowMs: number;
}

/** When the first question about a send made at `sentAt` is due. */
export function firstCheckAt(sentAt: number, t: CheckTiming): number {
  return sentAt + t.firstCheckMs;
}

/**
 * When to ask again after the `checks`-th question (1-based) was answered at `now`; undefined when the window
 * closes before then (no more questions).
 */
export function nextCheckAt(sentAt: number, checks: number, now: number, t: CheckTiming): number | undefined {
  const wait = Math.min(t.maxIntervalMs, t.firstCheckMs * 2 ** Math.min(checks, 40));
  // The last question falls just inside the window (a late read is still seen once), and once it is asked, none.
  const last = sentAt + t.windowMs - 1;
  if (now >= last) return undefined;
  return Math.min(now + wait, last);
}

export interface RecipientState {
  userId: string;
  outcome: RecipientOutcome;
  reasonCode?: string | undefined;
  reason?: string | undefined;
}

const RANK: Record<RecipientOutcome, number> = { pending: 0, delivered: 1, read: 2, dropped: 3 };

/** Whether `next` may replace `prev`: outcomes only move forward, and a drop is final. */
export function advances(prev: RecipientOutcome | undefined, next: RecipientOutcome): boolean {
  if (prev === undefined) return true;
  if (prev === 'dropped') return false;
  return RANK[next] > RANK[prev];
}

/** Our words for the lists that carry no code (the forbidden codes come explained from the library, §5.2). */
export const DROP_REASONS = {
  invalid_user: 'DingTalk does not know this userId (invalid_user_id_list)',
  failed: 'DingTalk failed to deliver to this person (failed_user_id_list)',
} as const;

/** Each recipient's outcome in a work notice's send result (the table above). */
export function noticeOutcomes(userIds: readonly string[], r: NoticeSendResult): RecipientState[] {
  const invalid = new Set(r.invalidUserIds);
  const failed = new Set(r.failedUserIds);
  const read = new Set(r.readUserIds);
  const unread = new Set(r.unreadUserIds);
  const forbidden = new Map(r.forbidden.map((f) => [f.userId, f]));
  return [...new Set(userIds)].map((userId): RecipientState => {
    if (invalid.has(userId))
      return { userId, outcome: 'dropped', reasonCode: 'invalid_user', reason: DROP_REASONS.invalid_user };
    const f = forbidden.get(userId);
    if (f) {
      return {
        userId,
        outcome: 'dropped',
        reasonCode: f.code !== undefined ? String(f.code) : 'forbidden',
        reason: f.reason,
      };
    }
    if (failed.has(userId))
      return { userId, outcome: 'dropped', reasonCode: 'failed', reason: DROP_REASONS.failed };
    if (read.has(userId)) return { userId, outcome: 'read' };
    if (unread.has(userId)) return { userId, outcome: 'delivered' };
    return { userId, outcome: 'pending' };
  });
}

/**
 * Each recipient's outcome from an app-robot read status (§3.1). 1:1: a listed person is delivered or read, an
 * unlisted one pending (the send is still processing). Group: only readers are listed; nobody else is reported.
 */
export function robotOutcomes(userIds: readonly string[] | undefined, r: RobotReadStatus): RecipientState[] {
  const seen = new Map(r.people.map((p) => [p.userId, p.read]));
  // A group's readers are the one list whose names come from DingTalk rather than from our send: only names shaped
  // like userIds are kept, at most MAX_READERS, so a wrong answer cannot fill the store.
  if (userIds === undefined)
    return [...new Set(r.people.filter((p) => p.read && USER_ID.test(p.userId)).map((p) => p.userId))]
      .slice(0, MAX_READERS)
      .map((userId) => ({ userId, outcome: 'read' }));
  return [...new Set(userIds)].map((userId): RecipientState => {
    const read = seen.get(userId);
    if (read === undefined) return { userId, outcome: 'pending' };
    return { userId, outcome: read ? 'read' : 'delivered' };
  });
}

/** What a DingTalk userId looks like (letters, digits and a few marks; docs/dingtalk.md §7), bounded. */
const USER_ID = /^[A-Za-z0-9_.@:+=-]{1,64}$/;
/** Readers of one group message recorded at most (five pages of 200, dingtalk/adapter.ts). */
export const MAX_READERS = 1_000;

/** Whether another question could still change something. */
export function settled(states: readonly RecipientOutcome[], trackReads: boolean): boolean {
  return states.every((o) => o === 'dropped' || o === 'read' || (!trackReads && o === 'delivered'));
}
