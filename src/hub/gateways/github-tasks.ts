/**
 * GitHub issues as dingkit tasks (docs/gateways.md "GitHub"). An `issues` event is accepted like any hook item
 * (committed with its delivery before the 2xx, target `task:<group>`); this step applies it, one item at a time
 * in the order received, and marks it done in the transaction that writes the issue's link:
 *
 * | action       | linked task                                         | no linked task                                  |
 * | ------------ | --------------------------------------------------- | ----------------------------------------------- |
 * | `assigned`   | the mapped person is added (a Todo, an @mention)    | a task for the mapped person(s) in the group    |
 * | `unassigned` | the mapped person is removed (their Todo deleted); the last assignee stays | nothing      |
 * | `closed`     | the task is done (Todos checked)                    | nothing                                         |
 * | `reopened`   | the task is reopened                                | nothing                                         |
 *
 * Never lost, never twice: an item stays `pending` until the transaction that marks it done commits, so a kill
 * before that applies it again after the restart. Applying again is harmless: the task is created with the
 * idempotency key `github:<repo>#<number>` (scope `hook:<route>`), so a second create returns the first task;
 * adding or removing a person already added or removed changes nothing; `done` on a done task is a no-op.
 * The link's primary key (route, repo, number) keeps one task per issue whatever number of deliveries name it.
 *
 * The group: the first group the route's rules (or its `targets`) give the item; none, the task has no group
 * (the Todos still reach the people). Logins no person has are noted on the item, never guessed.
 */

import { ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Counter } from '../../observe/metrics.js';
import type { Actor, Task } from '../service.js';
import type { TaskService } from '../tasks/tasks.js';
import type { HookStore, PendingItem } from './hook-store.js';
import type { IssueTaskOp } from './items.js';

/** Target prefix of task items in `hook_items.target`: `task:<group alias>` (empty: no group). */
export const TASK_TARGET = 'task:';

export function taskTarget(group: string | undefined): string {
  return `${TASK_TARGET}${group ?? ''}`;
}

export interface IssueTaskDeps {
  hooks: HookStore;
  tasks: TaskService | undefined;
  logger: Logger;
  items: Counter;
  now: () => number;
}

interface Outcome {
  state: 'sent' | 'coalesced' | 'failed';
  note: string;
  link?: number | undefined;
}

/** Applies the due task items of one route and group; returns how many moved. */
export async function applyIssueTasks(d: IssueTaskDeps, route: string, target: string): Promise<number> {
  const items = await d.hooks.pending(route, target, d.now(), 200);
  const group = target.slice(TASK_TARGET.length) || undefined;
  let moved = 0;
  for (const it of items) {
    const outcome = await applyOne(d, route, group, it);
    const now = d.now();
    await d.hooks.store.transaction(async (tx) => {
      const op = it.item.task;
      if (outcome.link !== undefined && op) {
        await tx
          .insertInto('github_issue_tasks')
          .values({ route, repo: op.repo, number: op.number, task_id: outcome.link, created_at: now })
          .onConflict((oc) => oc.columns(['route', 'repo', 'number']).doNothing())
          .execute();
      }
      await d.hooks.finish(tx, [it.id], outcome.state, null, outcome.note.slice(0, 500), now);
    });
    d.items.inc({ route, outcome: outcome.state === 'sent' ? 'applied' : outcome.state });
    if (outcome.state === 'failed') d.logger.warn({ route, err: outcome.note }, 'GitHub issue not applied');
    moved++;
  }
  return moved;
}

async function linkOf(d: IssueTaskDeps, route: string, op: IssueTaskOp): Promise<number | undefined> {
  const row = await d.hooks.store.db
    .selectFrom('github_issue_tasks')
    .select('task_id')
    .where('route', '=', route)
    .where('repo', '=', op.repo)
    .where('number', '=', op.number)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.task_id);
}

function unknownNote(op: IssueTaskOp): string {
  return op.unknown.length > 0 ? `; GitHub logins no person has: ${op.unknown.join(', ')}` : '';
}

async function applyOne(
  d: IssueTaskDeps,
  route: string,
  group: string | undefined,
  it: PendingItem,
): Promise<Outcome> {
  const op = it.item.task;
  if (!op) return { state: 'failed', note: 'not a task item' };
  if (!d.tasks) return { state: 'failed', note: 'no task service in this process' };
  const tasks = d.tasks;
  const actor: Actor = { by: `hook:${route}`, idempotencyScope: `hook:${route}` };
  try {
    const link = await linkOf(d, route, op);
    switch (op.op) {
      case 'assign': {
        if (op.people.length === 0)
          return { state: 'coalesced', note: `no assignee maps to a person${unknownNote(op)}` };
        if (link !== undefined) {
          await tasks.update(link, { addAssignees: op.people }, actor);
          return { state: 'sent', note: `task #${link}: assignees added${unknownNote(op)}`, link };
        }
        const task: Task = await tasks.assign(
          {
            title: `${op.repo}#${op.number} ${op.title}`.slice(0, 1_024),
            description: op.url,
            assignees: op.people,
            group,
            idempotencyKey: `github:${op.repo}#${op.number}`,
          },
          actor,
        );
        return { state: 'sent', note: `task #${task.id}${unknownNote(op)}`, link: task.id };
      }
      case 'unassign': {
        if (link === undefined) return { state: 'coalesced', note: 'no task linked to this issue' };
        if (op.people.length === 0)
          return { state: 'coalesced', note: `no assignee maps to a person${unknownNote(op)}` };
        try {
          await tasks.update(link, { removeAssignees: op.people }, actor);
        } catch (e) {
          // GitHub allows an issue nobody is assigned; a dingkit task keeps one assignee (tasks/edit.ts): it stays.
          if (e instanceof ValidationError && e.field === 'assignees')
            return { state: 'coalesced', note: `task #${link}: the last assignee stays` };
          throw e;
        }
        return { state: 'sent', note: `task #${link}: assignees removed`, link };
      }
      case 'close':
      case 'reopen': {
        if (link === undefined) return { state: 'coalesced', note: 'no task linked to this issue' };
        await tasks.act(link, op.op === 'close' ? 'done' : 'reopen', actor, `GitHub: ${op.url}`);
        return { state: 'sent', note: `task #${link}: ${op.op === 'close' ? 'done' : 'reopened'}`, link };
      }
    }
  } catch (e) {
    // A move the task's state refuses (closing a cancelled task, adding people to a done one), a person the
    // directory cannot resolve: said on the row and in the log; the rest of the hub carries on.
    if (e instanceof ValidationError) return { state: 'failed', note: e.message };
    throw e;
  }
}
