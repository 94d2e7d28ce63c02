/**
 * Tasks: assign, track, close. One transaction records the task, its assignees, the `created` event, the group
 * announcement (with rendered @mentions), one Todo job per assignee (docs/dingtalk.md §8: unionId owner, `detailUrl`,
 * our `sourceId` so a retried create cannot duplicate) and the reminder/escalation schedules. If any part fails,
 * none of it exists; once it commits, the dispatcher delivers it even across restarts.
 *
 * State moves follow tasks/state.ts; every move writes a history event, is announced in the task's group and
 * brings the assignees' Todos along (done ↔ not done), except the Todo the change came from.
 *
 * A move or edit made for a person (`actor.person`) is checked against tasks/access.ts inside the transaction,
 * on the locked row, so a refusal changes, records and announces nothing.
 */

import type { Kysely } from 'kysely';
import { ValidationError } from '../../core/errors.js';
import type { HubEvents } from '../../observe/event-map.js';
import type { EventBus } from '../../observe/events.js';
import { IdempotencyConflictError, requestFingerprint, sameRequest } from '../../store/idempotency.js';
import type { Store, Tx } from '../../store/open-store.js';
import type { Database, TaskRow } from '../../store/schema.js';
import type { HubConfig } from '../config.js';
import { type Job, todoOrderKey } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { TodoCreate } from '../dingtalk/port.js';
import { defaultAppName, planGroupMentions, planMessage } from '../messages/plan.js';
import { type PeopleDirectory, type ResolvedPerson, resolveUnique } from '../people.js';
import {
  type Actor,
  keyScopeOf,
  type PersonActor,
  type Task,
  type TaskFilter,
  type TaskInput,
  type TaskPatch,
} from '../service.js';
import { parseDue, ZonedTime } from '../zoned-time.js';
import {
  type AccessDecision,
  type AccessRules,
  DEFAULT_ACCESS,
  decideTaskAccess,
  type TaskAccessAction,
  TaskAccessError,
} from './access.js';
import type { TaskCards } from './cards.js';
import { taskDetailUrl } from './detail-url.js';
import { checkDueNotPast, checkPatch, describeEdit, isNoopEdit, planEdit } from './edit.js';
import type { Priority } from './repo.js';
import * as repo from './repo.js';
import { isFinal, isNoop, type TaskAction, type TaskState, transition } from './state.js';
import { type MoveVia, type TaskTexts, taskTexts } from './texts.js';
import { type TodoCreatedOutcome, todoCreated } from './todo-created.js';

type Db = Kysely<Database>;

const PRIORITY_CODE = { low: 10, normal: 20, high: 30, urgent: 40 } as const;

/** What a state move publishes once it has committed. */
export type TaskChange = HubEvents['task.changed'];

/** How a move came about, beyond who made it. */
export interface MoveOptions {
  /** The operator's own words, kept in the history and shown in the announcement. */
  note?: string | undefined;
  /** Where the move came from when not the API or CLI: worded in the history and the announcement. */
  via?: MoveVia | undefined;
  /** The Todo the change came from, which then needs no update. */
  fromTodo?: string | undefined;
  /**
   * The caller says it in the task's group itself (a chat command written there gets its reply there), so the
   * group is not told twice.
   */
  toldInGroup?: boolean | undefined;
  /** The userId of the person who clicked the task's card (cards.ts): their own note on it is cleared. */
  clicker?: string | undefined;
}

interface TaskServiceDeps {
  config: HubConfig;
  store: Store;
  outbox: OutboxPort;
  people: PeopleDirectory;
  events: EventBus;
  now: () => number;
  /** Base of the hub's own URL, for the Todo `detailUrl` when `tasks.detailUrl` is not configured. */
  publicUrl: () => string;
  /** `tasks.access` resolved to directory keys (resolveAccessRules). @default assignees and creator only */
  access?: AccessRules | undefined;
  /** Task cards in app-robot groups (cards.ts); absent: text announcements everywhere. */
  cards?: TaskCards | undefined;
}

export class TaskService {
  readonly #d: TaskServiceDeps;
  /** The hub's zone: due input is read in it, and announcements show times in it. */
  readonly zone: ZonedTime;
  /** Announcements, reminders and escalations speak the configured locale. */
  readonly texts: TaskTexts;

  constructor(deps: TaskServiceDeps) {
    this.#d = deps;
    this.zone = new ZonedTime(deps.config.timeZone);
    this.texts = taskTexts(deps.config.locale);
  }

  /** Who acted, as people read it: a person by their directory name, an operator as "the API (token ci)". */
  actorName(actor: Actor, texts: TaskTexts = this.texts): string {
    return actor.person ? this.#name(actor.person.key) : texts.actor(actor.by);
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
      throw new ValidationError('at most 100 people (docs/dingtalk.md §8.2)', 'assignees');
    if (input.group !== undefined && !d.config.groups[input.group]) {
      throw new ValidationError(`no group named "${input.group}" in the config`, 'group');
    }
    const priority = input.priority ?? 'normal';
    if (!(priority in PRIORITY_CODE)) throw new ValidationError('low, normal, high or urgent', 'priority');
    let dueAt: number | undefined;
    if (input.due !== undefined) {
      dueAt = parseDue(input.due, this.zone);
      checkDueNotPast(dueAt, d.now(), input.allowPastDue, (ms) => this.zone.format(ms));
    }
    const scope = keyScopeOf(actor);
    const requestHash =
      input.idempotencyKey === undefined
        ? undefined
        : requestFingerprint({ ...input, idempotencyKey: undefined });
    // A key this caller already used: the same request gets its task back, another request is refused.
    const byKey = async () => {
      if (input.idempotencyKey === undefined) return undefined;
      const held = await repo.taskByKey(d.store.db, scope, input.idempotencyKey);
      if (!held) return undefined;
      if (!sameRequest(held.requestHash, requestHash)) throw new IdempotencyConflictError();
      return (await this.get(held.id))!;
    };
    const existing = await byKey();
    if (existing) return existing;
    const app = defaultAppName(d.config);
    // Lookups (network) happen before the transaction: it then only writes.
    const people = await resolveUnique(d.people, input.assignees, {
      userId: true,
      unionId: app !== undefined,
    });
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
          idempotencyScope: scope,
          requestHash,
          by: actor.by,
          creator: actor.person?.key,
          now,
          assignees: people.map((p) => ({ key: p.key, unionId: p.unionId })),
        });
        const jobs: Job[] = [];
        if (input.group !== undefined) {
          const due = dueAt !== undefined ? this.zone.format(dueAt) : undefined;
          // A group served by its app robot gets the task's card (cards.ts) in place of the text; the 1:1 texts that
          // reach the assignees (the card notifies nobody, like any app-robot message, docs/dingtalk.md §3.1) stay.
          const card = (await d.cards?.createJobs(tx, taskId, input.group)) ?? [];
          const planned = planGroupMentions(
            {
              group: input.group,
              text: `${this.texts.created(taskId, title, due, people.map((p) => `@${p.name}`).join(' '))}\n${this.texts.open(this.#detailUrl(taskId).appUrl)}`,
              format: 'text',
              mention: people,
              addKeyword: true,
              sequence: `task:${taskId}`,
            },
            d.config,
            d.config.tasks.mentionFallback,
          );
          jobs.push(...card, ...(card.length > 0 ? planned.filter((j) => j.payload.t !== 'group') : planned));
        }
        if (app !== undefined) {
          const fields = { title, description: input.description || undefined, dueAt, priority };
          for (const p of people) {
            jobs.push(this.#todoCreateJob(app, taskId, p, fields, `dingkit-task-${taskId}-${p.key}`));
          }
        }
        if (jobs.length > 0) {
          await d.outbox.enqueue(
            { kind: 'task', request: { taskId, action: 'assign' }, createdBy: actor.by, jobs },
            tx,
          );
        }
        if (dueAt !== undefined) await this.#schedule(tx, taskId, dueAt, now);
        return taskId;
      });
    } catch (e) {
      // Two requests of one caller racing with one key: the loser finds the winner's task (or conflicts with it).
      const winner = await byKey();
      if (winner) return winner;
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

  /**
   * Whether `person` may do `action` to task `id` (tasks/access.ts). `undefined` is a sender the hub could not
   * identify. `db` is the caller's transaction when inside one.
   */
  async authorize(
    db: Db,
    id: number,
    action: TaskAccessAction,
    person: PersonActor | undefined,
  ): Promise<AccessDecision> {
    const row = person === undefined ? undefined : await repo.taskRow(db, id);
    return this.#decide(db, id, row, action, person);
  }

  async #decide(
    db: Db,
    id: number,
    row: TaskRow | undefined,
    action: TaskAccessAction,
    person: PersonActor | undefined,
  ): Promise<AccessDecision> {
    const actor = { person: person?.key, groups: person?.group !== undefined ? [person.group] : [] };
    const subject = row && {
      assignees: (await repo.assigneesOf(db, id)).map((a) => a.person),
      creator: repo.creatorOf(row),
      group: row.group_alias ?? undefined,
    };
    return decideTaskAccess(actor, subject, action, this.#d.access ?? DEFAULT_ACCESS);
  }

  /** Throws TaskAccessError when the actor is a person the rule refuses; operators pass. */
  async #check(db: Db, id: number, row: TaskRow | undefined, action: TaskAccessAction, actor: Actor) {
    if (actor.person === undefined) return;
    const decision = await this.#decide(db, id, row, action, actor.person);
    if (!decision.allowed) throw new TaskAccessError(id, decision.reason);
  }

  /** A state change in its own transaction; `task.changed` is published once it has committed. */
  async act(id: number, action: TaskAction, actor: Actor, note?: string): Promise<Task> {
    const change = await this.#d.store.transaction((tx) => this.actIn(tx, id, action, actor, { note }));
    if (change) this.#d.events.publish('task.changed', change);
    return (await this.get(id))!;
  }

  /**
   * A state change inside the caller's transaction (the inbox handler's, so the command and its effects commit
   * with the inbox entry). Returns the `task.changed` event for the caller to publish *after* its commit (a
   * rolled-back change must not have been announced on the feed), or undefined when the action changes nothing
   * (a repeated `done`).
   */
  async actIn(
    tx: Tx,
    id: number,
    action: TaskAction,
    actor: Actor,
    o: MoveOptions = {},
  ): Promise<TaskChange | undefined> {
    const { fromTodo } = o;
    const note = o.note ?? (o.via !== undefined ? this.texts.via[o.via] : undefined);
    const d = this.#d;
    // Locked like an edit (PostgreSQL), so a move and an edit of one task, or two moves, run one after the other.
    const row = await repo.taskRow(tx, id, d.store.dialect === 'postgres');
    await this.#check(tx, id, row, action, actor);
    if (!row) throw new ValidationError(`no task #${id}`, 'id');
    const from = row.state as Parameters<typeof transition>[0];
    if (isNoop(from, action)) return undefined;
    const to = transition(from, action);
    const now = d.now();
    await repo.setState(tx, id, to, now);
    await repo.addEvent(tx, id, now, action, actor.by, note);
    if (isFinal(to)) await repo.closeSchedules(tx, id, now);
    const jobs: Job[] = [];
    if (row.group_alias !== null && d.config.groups[row.group_alias] && !o.toldInGroup) {
      jobs.push(
        ...planMessage(
          {
            group: row.group_alias,
            text: this.texts.moved(id, action, this.actorName(actor), row.title, note),
            format: 'text',
            addKeyword: true,
            sequence: `task:${id}`,
          },
          d.config,
        ),
      );
    }
    // The card shows the move to everyone in place (its "who did what" line); a clicker's own note is cleared.
    if (d.cards) {
      jobs.push(...(await d.cards.updateJobs(tx, id, o.clicker ? { [o.clicker]: { note: '' } } : undefined)));
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
          orderKey: todoOrderKey(id, a.person),
        });
      }
    }
    if (jobs.length > 0) {
      await d.outbox.enqueue(
        { kind: 'task', request: { taskId: id, action }, createdBy: actor.by, jobs },
        tx,
      );
    }
    return {
      id,
      state: to,
      action,
      by: actor.by,
      ...(o.via !== undefined ? { via: o.via } : {}),
      ...(fromTodo !== undefined ? { todoId: fromTodo } : {}),
    };
  }

  /**
   * Edits an open or in-progress task in one transaction: the row, the assignee list, an `edited` history entry
   * (`old → new` per field), the schedules when the due time moved, and through the outbox the Todo updates,
   * creates and deletes plus one group announcement that @mentions the people added. A patch that changes
   * nothing (a replay) writes and sends nothing.
   */
  async update(id: number, patch: TaskPatch, actor: Actor): Promise<Task> {
    const d = this.#d;
    const checked = checkPatch(
      patch,
      (alias) => d.config.groups[alias] !== undefined,
      (text) => parseDue(text, this.zone),
    );
    if (typeof checked.dueAt === 'number')
      checkDueNotPast(checked.dueAt, d.now(), patch.allowPastDue, (ms) => this.zone.format(ms));
    const app = defaultAppName(d.config);
    // Directory lookups (maybe network) before the transaction, which then only reads and writes the store.
    const added = await resolveUnique(d.people, checked.add, { userId: true, unionId: app !== undefined });
    const remove = [
      ...new Set(
        checked.remove.map((name) => {
          const key = d.people.keyOf(name);
          if (key === undefined)
            throw new ValidationError(
              `unknown person "${name}" (add them under people in the config)`,
              'people',
            );
          return key;
        }),
      ),
    ];
    const changed = await d.store.transaction(async (tx) => {
      const row = await repo.taskRow(tx, id, d.store.dialect === 'postgres');
      await this.#check(tx, id, row, 'edit', actor);
      if (!row) throw new ValidationError(`no task #${id}`, 'id');
      const state = row.state as TaskState;
      if (isFinal(state)) throw new ValidationError(`cannot edit a task that is ${state}`, 'state');
      const current = await repo.assigneesOf(tx, id);
      const plan = planEdit(
        {
          title: row.title,
          description: row.description ?? undefined,
          dueAt: row.due_at === null ? undefined : Number(row.due_at),
          group: row.group_alias ?? undefined,
          assignees: current.map((a) => a.person),
        },
        { ...checked, add: added.map((p) => p.key), remove },
      );
      if (isNoopEdit(plan)) return undefined;
      const now = d.now();
      const after = plan.after;
      await repo.setFields(tx, id, after, now);
      const joining = added.filter((p) => plan.added.includes(p.key));
      await repo.removeAssignees(tx, id, plan.removed);
      await repo.addAssignees(tx, id, joining);
      const lines = describeEdit(plan, (k) => this.#name(k), {
        texts: this.texts,
        time: (ms) => this.zone.format(ms),
      });
      const eventId = await repo.addEvent(tx, id, now, 'edited', actor.by, lines.join('; '));
      if (plan.due) {
        // Schedules follow the current due time: the old ones close (even a reminder already sent does not
        // suppress one for the new time), new ones are added by the same rule as on assignment.
        await repo.closeSchedules(tx, id, now, 'rescheduled');
        if (after.dueAt !== undefined) await this.#schedule(tx, id, after.dueAt, now);
      }
      const jobs: Job[] = [];
      // Announced where the task now lives; a task taken out of its group says so in the old one.
      const group = after.group ?? row.group_alias ?? undefined;
      if (group !== undefined && d.config.groups[group]) {
        const welcome = joining.length > 0 ? joining.map((p) => `@${p.name}`).join(' ') : undefined;
        jobs.push(
          ...planGroupMentions(
            {
              group,
              text: this.texts.edited(id, this.actorName(actor), after.title, lines, welcome),
              format: 'text',
              mention: joining,
              addKeyword: true,
              sequence: `task:${id}`,
            },
            d.config,
            d.config.tasks.mentionFallback,
          ),
        );
      }
      if (d.cards) jobs.push(...(await d.cards.updateJobs(tx, id)));
      if (app !== undefined) {
        for (const a of current) {
          if (a.todoId === undefined || a.unionId === undefined) continue;
          const target = this.#name(a.person);
          const orderKey = todoOrderKey(id, a.person);
          if (plan.removed.includes(a.person)) {
            jobs.push({
              channel: 'app',
              target,
              payload: { t: 'todoDelete', app, unionId: a.unionId, todoId: a.todoId },
              orderKey,
            });
          } else if (plan.todo) {
            jobs.push({
              channel: 'app',
              target,
              payload: { t: 'todoUpdate', app, unionId: a.unionId, todoId: a.todoId, change: plan.todo },
              orderKey,
            });
          }
        }
        // Assignees whose Todo is still being created are brought in line when it is (todoCreated below).
        const fields = {
          title: after.title,
          description: after.description,
          dueAt: after.dueAt,
          priority: row.priority as Priority,
        };
        for (const p of joining) {
          // A fresh sourceId: someone removed and added again must not collide with their first Todo's.
          jobs.push(this.#todoCreateJob(app, id, p, fields, `dingkit-task-${id}-${p.key}-e${eventId}`));
        }
      }
      if (jobs.length > 0) {
        await d.outbox.enqueue(
          { kind: 'task', request: { taskId: id, action: 'edit' }, createdBy: actor.by, jobs },
          tx,
        );
      }
      const fields = (['title', 'description', 'due', 'group'] as const).filter((k) => plan[k] !== undefined);
      return plan.added.length + plan.removed.length > 0 ? [...fields, 'assignees'] : fields;
    });
    const task = await this.get(id);
    if (!task) throw new ValidationError(`no task #${id}`, 'id');
    if (changed) d.events.publish('task.edited', { id, state: task.state, by: actor.by, fields: changed });
    return task;
  }

  /** A Todo create finished (the sender calls this): see tasks/todo-created.ts. */
  todoCreated(
    taskId: number,
    assignee: string,
    todoId: string,
    sent: TodoCreate,
  ): Promise<TodoCreatedOutcome> {
    return todoCreated(this.#d, taskId, assignee, todoId, sent);
  }

  #todoCreateJob(
    app: string,
    taskId: number,
    p: ResolvedPerson,
    f: { title: string; description: string | undefined; dueAt: number | undefined; priority: Priority },
    sourceId: string,
  ): Job {
    return {
      channel: 'app',
      target: p.name,
      payload: {
        t: 'todo',
        app,
        taskId,
        assignee: p.key,
        create: {
          unionId: p.unionId!,
          subject: f.title,
          ...(f.description ? { description: f.description } : {}),
          ...(f.dueAt !== undefined ? { dueTime: f.dueAt } : {}),
          executorIds: [p.unionId!],
          sourceId,
          detailUrl: this.#detailUrl(taskId),
          priority: PRIORITY_CODE[f.priority],
        },
      },
      orderKey: todoOrderKey(taskId, p.key),
    };
  }

  /** Reminder before `dueAt` (when that is still ahead) and escalation after it (config `tasks`). */
  async #schedule(tx: Tx, taskId: number, dueAt: number, now: number): Promise<void> {
    const t = this.#d.config.tasks;
    const remind = dueAt - t.remindBeforeMs;
    if (t.remindBeforeMs > 0 && remind > now) {
      await repo.addSchedule(tx, { taskId, kind: 'reminder', dueAt: remind, now });
    }
    await repo.addSchedule(tx, { taskId, kind: 'escalation', dueAt: dueAt + t.escalateAfterMs, now });
  }

  #name(key: string): string {
    return this.#d.config.people[key]?.name ?? key;
  }

  /** Where tapping the Todo lands: the task's page (detail-url.ts). */
  #detailUrl(id: number): { appUrl: string; pcUrl: string } {
    return taskDetailUrl(this.#d.config, this.#d.publicUrl(), id);
  }
}
