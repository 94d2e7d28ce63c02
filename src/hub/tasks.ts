/**
 * Tasks: assign, track, close. One transaction records the task, its assignees, the `created` event, the group
 * announcement (with rendered @mentions), one Todo job per assignee (reference §8: unionId owner, `detailUrl`,
 * our `sourceId` so a retried create cannot duplicate) and the reminder/escalation schedules. If any part fails,
 * none of it exists; once it commits, the dispatcher delivers it even across restarts.
 *
 * State moves follow task-state.ts; every move writes a history event, is announced in the task's group and
 * brings the assignees' Todos along (done ↔ not done), except the Todo the change came from.
 */

import type { Kysely } from 'kysely';
import { ValidationError } from '../core/errors.js';
import type { EventBus } from '../server/events.js';
import type { Store, Tx } from '../store/open-store.js';
import type { Database } from '../store/schema.js';
import type { HubConfig } from './config.js';
import type { JobSpec } from './jobs.js';
import { defaultAppName, planMessage } from './message-plan.js';
import type { OutboxPort } from './outbox-port.js';
import type { PeopleDirectory, ResolvedPerson } from './people.js';
import type { Actor, Task, TaskFilter, TaskInput } from './service.js';
import * as repo from './task-repo.js';
import { isFinal, isNoop, type TaskAction, transition } from './task-state.js';

type Db = Kysely<Database>;

const PRIORITY_CODE = { low: 10, normal: 20, high: 30, urgent: 40 } as const;
const VERB: Record<TaskAction, string> = {
  start: 'started',
  done: 'finished',
  cancel: 'cancelled',
  reopen: 'reopened',
};

export interface TaskServiceDeps {
  config: HubConfig;
  store: Store;
  outbox: OutboxPort;
  people: PeopleDirectory;
  events: EventBus;
  now: () => number;
  /** Base of the hub's own URL, for the Todo `detailUrl` when `tasks.detailUrl` is not configured. */
  publicUrl: () => string;
}

export class TaskService {
  readonly #d: TaskServiceDeps;

  constructor(deps: TaskServiceDeps) {
    this.#d = deps;
  }

  async assign(input: TaskInput, actor: Actor): Promise<Task> {
    const d = this.#d;
    const title = input.title?.trim() ?? '';
    if (title === '' || title.length > 1024) throw new ValidationError('1 to 1,024 characters', 'title');
    if ((input.description?.length ?? 0) > 4096)
      throw new ValidationError('at most 4,096 characters', 'description');
    if (!Array.isArray(input.assignees) || input.assignees.length === 0) {
      throw new ValidationError('at least one person', 'assignees');
    }
    if (input.assignees.length > 100)
      throw new ValidationError('at most 100 people (reference §8.2)', 'assignees');
    if (input.group !== undefined && !d.config.groups[input.group]) {
      throw new ValidationError(`no group named "${input.group}" in the config`, 'group');
    }
    const priority = input.priority ?? 'normal';
    if (!(priority in PRIORITY_CODE)) throw new ValidationError('low, normal, high or urgent', 'priority');
    let dueAt: number | undefined;
    if (input.due !== undefined) {
      dueAt = Date.parse(input.due);
      if (!Number.isFinite(dueAt)) throw new ValidationError('not an ISO time', 'due');
    }
    if (input.idempotencyKey !== undefined) {
      const existing = await repo.taskIdByKey(d.store.db, input.idempotencyKey);
      if (existing !== undefined) return (await this.get(existing))!;
    }
    const app = defaultAppName(d.config);
    // Lookups (network) happen before the transaction: it then only writes.
    const people: ResolvedPerson[] = [];
    for (const name of new Set(input.assignees)) {
      people.push(await d.people.resolve(name, { userId: true, unionId: app !== undefined }));
    }
    const now = d.now();
    let id: number;
    try {
      id = await d.store.transaction(async (tx) => {
        const taskId = await repo.insertTask(tx, {
          title,
          description: input.description,
          group: input.group,
          dueAt,
          priority,
          idempotencyKey: input.idempotencyKey,
          by: actor.by,
          now,
          assignees: people.map((p) => ({ key: p.key, unionId: p.unionId })),
        });
        const jobs: JobSpec[] = [];
        if (input.group !== undefined) {
          const due = dueAt !== undefined ? `\nDue: ${new Date(dueAt).toISOString()}` : '';
          jobs.push(
            ...planMessage(
              {
                group: input.group,
                text: `New task #${taskId}: ${title}${due}\nAssigned to ${people.map((p) => `@${p.name}`).join(' ')}\nReply \`start ${taskId}\` or \`done ${taskId}\` to the bot.`,
                format: 'text',
                mention: people,
                addKeyword: true,
                sequence: `task:${taskId}`,
              },
              d.config,
            ),
          );
        }
        if (app !== undefined) {
          for (const p of people) {
            jobs.push({
              channel: 'app',
              target: p.name,
              payload: {
                t: 'todo',
                app,
                taskId,
                assignee: p.key,
                create: {
                  unionId: p.unionId!,
                  subject: title,
                  ...(input.description ? { description: input.description } : {}),
                  ...(dueAt !== undefined ? { dueTime: dueAt } : {}),
                  executorIds: [p.unionId!],
                  sourceId: `dingkit-task-${taskId}-${p.key}`,
                  detailUrl: { appUrl: this.#detailUrl(taskId), pcUrl: this.#detailUrl(taskId) },
                  priority: PRIORITY_CODE[priority],
                },
              },
            });
          }
        }
        if (jobs.length > 0) {
          await d.outbox.enqueue(
            { kind: 'task', request: { taskId, action: 'assign' }, createdBy: actor.by, jobs },
            tx,
          );
        }
        if (dueAt !== undefined) {
          const remind = dueAt - d.config.tasks.remindBeforeMs;
          if (d.config.tasks.remindBeforeMs > 0 && remind > now) {
            await repo.addSchedule(tx, { taskId, kind: 'reminder', dueAt: remind, now });
          }
          await repo.addSchedule(tx, {
            taskId,
            kind: 'escalation',
            dueAt: dueAt + d.config.tasks.escalateAfterMs,
            now,
          });
        }
        return taskId;
      });
    } catch (e) {
      // Two callers racing with one idempotency key: the loser finds the winner's task.
      if (input.idempotencyKey !== undefined) {
        const existing = await repo.taskIdByKey(d.store.db, input.idempotencyKey);
        if (existing !== undefined) return (await this.get(existing))!;
      }
      throw e;
    }
    const task = (await this.get(id))!;
    d.events.publish('task.created', { id, title, state: task.state, by: actor.by });
    return task;
  }

  get(id: number, db: Db = this.#d.store.db): Promise<Task | undefined> {
    return repo.loadTask(db, id, (key) => this.#d.config.people[key]?.name ?? key);
  }

  /** Tasks matching `filter`, newest first; `db` is the caller's transaction when inside one. */
  async list(filter: TaskFilter, db: Db = this.#d.store.db): Promise<Task[]> {
    let assigneeKey: string | undefined;
    if (filter.assignee !== undefined) {
      assigneeKey = this.#d.people.keyOf(filter.assignee);
      if (assigneeKey === undefined) return [];
    }
    const ids = await repo.findTaskIds(db, { ...filter, assigneeKey }, this.#d.now());
    const out: Task[] = [];
    for (const id of ids) {
      const t = await this.get(id, db);
      if (t) out.push(t);
    }
    return out;
  }

  /** A state change in its own transaction. */
  async act(id: number, action: TaskAction, actor: Actor, note?: string): Promise<Task> {
    const changed = await this.#d.store.transaction((tx) => this.actIn(tx, id, action, actor, note));
    const task = (await this.get(id))!;
    if (changed) this.#d.events.publish('task.changed', { id, state: task.state, action, by: actor.by });
    return task;
  }

  /**
   * A state change inside the caller's transaction (the inbox handler's, so the command and its effects commit
   * with the inbox entry). Returns false when the action changes nothing (a repeated `done`).
   * `fromTodo` names the Todo the change came from, which then needs no update.
   */
  async actIn(
    tx: Tx,
    id: number,
    action: TaskAction,
    actor: Actor,
    note?: string,
    fromTodo?: string,
  ): Promise<boolean> {
    const d = this.#d;
    const row = await repo.taskRow(tx, id);
    if (!row) throw new ValidationError(`no task #${id}`, 'id');
    const from = row.state as Parameters<typeof transition>[0];
    if (isNoop(from, action)) return false;
    const to = transition(from, action);
    const now = d.now();
    await repo.setState(tx, id, to, now);
    await repo.addEvent(tx, id, now, action, actor.by, note);
    if (isFinal(to)) await repo.closeSchedules(tx, id, now);
    const jobs: JobSpec[] = [];
    if (row.group_alias !== null && d.config.groups[row.group_alias]) {
      const noteText = note ? ` (${note})` : '';
      jobs.push(
        ...planMessage(
          {
            group: row.group_alias,
            text: `Task #${id} ${VERB[action]} by ${actor.by}: ${row.title}${noteText}`,
            format: 'text',
            addKeyword: true,
            sequence: `task:${id}`,
          },
          d.config,
        ),
      );
    }
    const app = defaultAppName(d.config);
    const done = to === 'done' || to === 'cancelled';
    if (app !== undefined && (done || action === 'reopen')) {
      for (const a of await repo.assigneesOf(tx, id)) {
        if (a.todoId === undefined || a.unionId === undefined || a.todoId === fromTodo) continue;
        jobs.push({
          channel: 'app',
          target: d.config.people[a.person]?.name ?? a.person,
          payload: { t: 'todoDone', app, unionId: a.unionId, todoId: a.todoId, done },
        });
      }
    }
    if (jobs.length > 0) {
      await d.outbox.enqueue(
        { kind: 'task', request: { taskId: id, action }, createdBy: actor.by, jobs },
        tx,
      );
    }
    return true;
  }

  #detailUrl(id: number): string {
    const t = this.#d.config.tasks.detailUrl;
    return t ? t.replace('{id}', String(id)) : `${this.#d.publicUrl()}/v1/tasks/${id}`;
  }
}
