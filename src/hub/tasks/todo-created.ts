/**
 * What happens when one assignee's Todo create succeeds (the sender calls it through TaskService.todoCreated). The
 * id is recorded on the assignee, and whatever happened to the task while the create was in flight is repaired in
 * the same transaction, through the outbox like everything else:
 *
 * - the assignee was removed meanwhile (an edit): the new Todo is deleted;
 * - the task was closed meanwhile (a quick `done`): the Todo is closed;
 * - the task was edited meanwhile: the Todo is updated to the current title, description and due time;
 * - the assignee already had a Todo (removed and added back before the first create finished): the newer Todo
 *   replaces the older, which is deleted. Creates of one assignee run in order (same order key), so the one that
 *   finishes last is the latest assignment.
 */

import type { Store } from '../../store/open-store.js';
import type { TaskRow } from '../../store/schema.js';
import type { HubConfig } from '../config.js';
import { type Job, todoOrderKey } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { TodoChange, TodoCreate } from '../dingtalk/port.js';
import { defaultAppName } from '../messages/plan.js';
import * as repo from './repo.js';
import { isFinal, type TaskState } from './state.js';

export type TodoCreatedOutcome = 'recorded' | 'deleted' | 'closedLate' | 'updated';

export async function todoCreated(
  d: { config: HubConfig; store: Store; outbox: OutboxPort },
  taskId: number,
  assignee: string,
  todoId: string,
  sent: TodoCreate,
): Promise<TodoCreatedOutcome> {
  const app = defaultAppName(d.config);
  return d.store.transaction(async (tx) => {
    const row = await repo.taskRow(tx, taskId);
    const a = (await repo.assigneesOf(tx, taskId)).find((x) => x.person === assignee);
    const jobs: Job[] = [];
    const job = (payload: Job['payload']): Job => ({
      channel: 'app',
      target: d.config.people[assignee]?.name ?? assignee,
      payload,
      orderKey: todoOrderKey(taskId, assignee),
    });
    let outcome: TodoCreatedOutcome = 'recorded';
    if (!row || !a) {
      if (app !== undefined) jobs.push(job({ t: 'todoDelete', app, unionId: sent.unionId, todoId }));
      outcome = 'deleted';
    } else {
      if (a.todoId !== undefined && a.todoId !== todoId && a.unionId !== undefined && app !== undefined) {
        jobs.push(job({ t: 'todoDelete', app, unionId: a.unionId, todoId: a.todoId }));
      }
      await repo.setTodoId(tx, taskId, assignee, todoId);
      const unionId = a.unionId ?? sent.unionId;
      if (app !== undefined && isFinal(row.state as TaskState)) {
        jobs.push(job({ t: 'todoDone', app, unionId, todoId, done: true }));
        outcome = 'closedLate';
      } else if (app !== undefined) {
        const change = staleFields(sent, row);
        if (change) {
          jobs.push(job({ t: 'todoUpdate', app, unionId, todoId, change }));
          outcome = 'updated';
        }
      }
    }
    if (jobs.length > 0) {
      await d.outbox.enqueue(
        { kind: 'task', request: { taskId, action: `todo-${outcome}` }, createdBy: 'hub', jobs },
        tx,
      );
    }
    return outcome;
  });
}

/** What a Todo created from `sent` lacks against the task as it is now; undefined when it is current. */
function staleFields(sent: TodoCreate, row: TaskRow): TodoChange | undefined {
  const change: TodoChange = {};
  if (sent.subject !== row.title) change.subject = row.title;
  if ((sent.description ?? '') !== (row.description ?? '')) change.description = row.description ?? '';
  // A due time removed since cannot be removed from the Todo (docs/dingtalk.md §8.1 update has no way to clear it).
  if (row.due_at !== null && Number(row.due_at) !== sent.dueTime) change.dueTime = Number(row.due_at);
  return Object.keys(change).length > 0 ? change : undefined;
}
