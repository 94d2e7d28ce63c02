/**
 * The task lifecycle: `open → in_progress → done | cancelled`. `done` and `cancelled` are final; a task may be
 * finished or cancelled straight from `open`, and reopened only by an explicit `reopen` (kept out of the chat
 * commands on purpose: a stray message should not resurrect finished work).
 */

import { ValidationError } from '../../core/errors.js';

export type TaskState = 'open' | 'in_progress' | 'done' | 'cancelled';
export type TaskAction = 'start' | 'done' | 'cancel' | 'reopen';

const NEXT: Record<TaskAction, { from: readonly TaskState[]; to: TaskState }> = {
  start: { from: ['open'], to: 'in_progress' },
  done: { from: ['open', 'in_progress'], to: 'done' },
  cancel: { from: ['open', 'in_progress'], to: 'cancelled' },
  reopen: { from: ['done', 'cancelled'], to: 'open' },
};

export function isFinal(s: TaskState): boolean {
  return s === 'done' || s === 'cancelled';
}

/**
 * A move the lifecycle does not allow. The message is for the API's English callers; a chat reply words it in the
 * sender's language from `action` and `from` (tasks/texts.ts `cannotMove`).
 */
export class TaskMoveError extends ValidationError {
  override readonly name = 'TaskMoveError';
  constructor(
    readonly action: TaskAction,
    readonly from: TaskState,
  ) {
    super(`cannot ${action} a task that is ${from.replace('_', ' ')}`, 'state');
  }
}

export function isTaskMoveError(e: unknown): e is TaskMoveError {
  return e instanceof TaskMoveError;
}

/** The state after `action`, or a TaskMoveError that says why the move is not allowed. */
export function transition(from: TaskState, action: TaskAction): TaskState {
  const rule = NEXT[action];
  if (!rule.from.includes(from)) throw new TaskMoveError(action, from);
  return rule.to;
}

/** Whether `action` would change anything: repeating `done` on a done task is a no-op, not an error. */
export function isNoop(from: TaskState, action: TaskAction): boolean {
  return NEXT[action].to === from;
}
