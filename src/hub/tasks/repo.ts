/**
 * Task rows in and out of the store (tables `tasks`, `task_assignees`, `task_events`, `schedules`), mapped to the
 * service's plain-JSON `Task`. Every function takes the executor it should run on, so callers inside a
 * transaction pass their `tx` (on SQLite the store has one connection; using `store.db` there would wait forever).
 */

import type { Kysely } from 'kysely';
import type { Database, TaskRow } from '../../store/schema.js';
import type { Task, TaskEvent, TaskFilter } from '../service.js';
import type { TaskState } from './state.js';

type Db = Kysely<Database>;

/**
 * `tasks.created_by` names the creator: `person:<directory key>` when a person created the task (the access rule's
 * "creator", tasks/access.ts), else the operator's actor (`api:<token>`, `cli`). The prefix keeps the two apart:
 * an operator's name can never pass for a person.
 */
const CREATOR_PERSON = 'person:';

/** The directory key of the person who created the task, if a person did. */
export function creatorOf(row: Pick<TaskRow, 'created_by'>): string | undefined {
  const c = row.created_by;
  return c?.startsWith(CREATOR_PERSON) ? c.slice(CREATOR_PERSON.length) : undefined;
}

/** Ids of the tasks a person created (through the people's pages), newest first. */
export async function taskIdsCreatedBy(db: Db, personKey: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('tasks')
    .select('id')
    .where('created_by', '=', `${CREATOR_PERSON}${personKey}`)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

export type Priority = Task['priority'];

export async function insertTask(
  db: Db,
  t: {
    title: string;
    description: string | undefined;
    group: string | undefined;
    dueAt: number | undefined;
    priority: Priority;
    idempotencyKey: string | undefined;
    idempotencyScope: string;
    requestHash: string | undefined;
    by: string;
    /** Directory key of the person who created it (acting for a person), else undefined (an operator). */
    creator: string | undefined;
    now: number;
    assignees: Array<{ key: string; unionId: string | undefined }>;
  },
): Promise<number> {
  const row = await db
    .insertInto('tasks')
    .values({
      title: t.title,
      description: t.description ?? null,
      state: 'open',
      group_alias: t.group ?? null,
      due_at: t.dueAt ?? null,
      priority: t.priority,
      idempotency_key: t.idempotencyKey ?? null,
      idempotency_scope: t.idempotencyKey === undefined ? null : t.idempotencyScope,
      request_hash: t.idempotencyKey === undefined ? null : (t.requestHash ?? null),
      created_by: t.creator !== undefined ? `${CREATOR_PERSON}${t.creator}` : t.by,
      created_at: t.now,
      updated_at: t.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  await db
    .insertInto('task_assignees')
    .values(
      t.assignees.map((a) => ({ task_id: id, person: a.key, union_id: a.unionId ?? null, todo_id: null })),
    )
    .execute();
  await addEvent(db, id, t.now, 'created', t.by, undefined);
  return id;
}

export async function addEvent(
  db: Db,
  taskId: number,
  at: number,
  kind: string,
  by: string,
  note: string | undefined,
): Promise<number> {
  const row = await db
    .insertInto('task_events')
    .values({ task_id: taskId, at, kind, by_actor: by, note: note ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Writes an edit's new field values (undefined clears an optional one). */
export async function setFields(
  db: Db,
  taskId: number,
  f: { title: string; description: string | undefined; dueAt: number | undefined; group: string | undefined },
  now: number,
): Promise<void> {
  await db
    .updateTable('tasks')
    .set({
      title: f.title,
      description: f.description ?? null,
      due_at: f.dueAt ?? null,
      group_alias: f.group ?? null,
      updated_at: now,
    })
    .where('id', '=', taskId)
    .execute();
}

export async function addAssignees(
  db: Db,
  taskId: number,
  people: ReadonlyArray<{ key: string; unionId?: string | undefined }>,
): Promise<void> {
  if (people.length === 0) return;
  await db
    .insertInto('task_assignees')
    .values(
      people.map((a) => ({ task_id: taskId, person: a.key, union_id: a.unionId ?? null, todo_id: null })),
    )
    .execute();
}

export async function removeAssignees(db: Db, taskId: number, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.deleteFrom('task_assignees').where('task_id', '=', taskId).where('person', 'in', keys).execute();
}

export async function setState(db: Db, taskId: number, state: TaskState, now: number): Promise<void> {
  await db.updateTable('tasks').set({ state, updated_at: now }).where('id', '=', taskId).execute();
}

/**
 * One task row. `lock` (PostgreSQL only: SQLite has one writer anyway and no row locks) holds the row until the
 * transaction ends, so two edits or moves of one task run one after the other and each plans against the other's
 * result. FOR NO KEY UPDATE, not FOR UPDATE: it does not block the key-share lock that inserting a child row
 * (a history event, a schedule) takes through its foreign key, so the scheduler firing a reminder, which holds
 * its schedule row and then writes an event, cannot deadlock with an edit that holds the task and closes schedules.
 */
export async function taskRow(db: Db, id: number, lock = false): Promise<TaskRow | undefined> {
  const q = db.selectFrom('tasks').selectAll().where('id', '=', id);
  return (lock ? q.forNoKeyUpdate() : q).executeTakeFirst();
}

/** The task holding a caller's key, with the fingerprint of the request that created it. */
export async function taskByKey(
  db: Db,
  scope: string,
  key: string,
): Promise<{ id: number; requestHash: string | null } | undefined> {
  const r = await db
    .selectFrom('tasks')
    .select(['id', 'request_hash'])
    .where('idempotency_scope', '=', scope)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return r ? { id: Number(r.id), requestHash: r.request_hash } : undefined;
}

export async function assigneesOf(
  db: Db,
  taskId: number,
): Promise<Array<{ person: string; unionId: string | undefined; todoId: string | undefined }>> {
  const rows = await db
    .selectFrom('task_assignees')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('person')
    .execute();
  return rows.map((r) => ({
    person: r.person,
    unionId: r.union_id ?? undefined,
    todoId: r.todo_id ?? undefined,
  }));
}

export async function setTodoId(db: Db, taskId: number, person: string, todoId: string): Promise<void> {
  await db
    .updateTable('task_assignees')
    .set({ todo_id: todoId })
    .where('task_id', '=', taskId)
    .where('person', '=', person)
    .execute();
}

export async function taskByTodoId(
  db: Db,
  todoId: string,
): Promise<{ taskId: number; person: string } | undefined> {
  const r = await db
    .selectFrom('task_assignees')
    .select(['task_id', 'person'])
    .where('todo_id', '=', todoId)
    .executeTakeFirst();
  return r ? { taskId: Number(r.task_id), person: r.person } : undefined;
}

/** Loads the full task with assignees and history; `displayName` maps a person key to its name. */
export async function loadTask(
  db: Db,
  id: number,
  displayName: (key: string) => string,
): Promise<Task | undefined> {
  const row = await taskRow(db, id);
  if (!row) return undefined;
  const [assignees, events] = await Promise.all([
    assigneesOf(db, id),
    db.selectFrom('task_events').selectAll().where('task_id', '=', id).orderBy('id').execute(),
  ]);
  const history: TaskEvent[] = events.map((e) => ({
    at: new Date(Number(e.at)).toISOString(),
    kind: e.kind,
    by: e.by_actor,
    ...(e.note !== null ? { note: e.note } : {}),
  }));
  return {
    id: Number(row.id),
    title: row.title,
    ...(row.description !== null ? { description: row.description } : {}),
    state: row.state as TaskState,
    assignees: assignees.map((a) => ({
      name: displayName(a.person),
      ...(a.todoId !== undefined ? { todoId: a.todoId } : {}),
    })),
    ...(row.group_alias !== null ? { group: row.group_alias } : {}),
    ...(row.due_at !== null ? { due: new Date(Number(row.due_at)).toISOString() } : {}),
    priority: row.priority as Priority,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    history,
  };
}

/** Task ids matching a filter, newest first. `assigneeKey` is a person key (resolved by the caller). */
export async function findTaskIds(
  db: Db,
  f: TaskFilter & { assigneeKey?: string | undefined },
  now: number,
): Promise<number[]> {
  let q = db.selectFrom('tasks').select('tasks.id');
  if (f.state) q = q.where('tasks.state', '=', f.state);
  if (f.group) q = q.where('tasks.group_alias', '=', f.group);
  if (f.overdue) {
    q = q.where('tasks.due_at', '<', now).where('tasks.state', 'in', ['open', 'in_progress']);
  }
  if (f.assigneeKey) {
    const key = f.assigneeKey;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('task_assignees')
          .select('task_assignees.task_id')
          .whereRef('task_assignees.task_id', '=', 'tasks.id')
          .where('task_assignees.person', '=', key),
      ),
    );
  }
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1_000);
  const rows = await q.orderBy('tasks.id', 'desc').limit(limit).execute();
  return rows.map((r) => Number(r.id));
}

export async function addSchedule(
  db: Db,
  s: { taskId: number; kind: 'reminder' | 'escalation'; dueAt: number; now: number },
): Promise<void> {
  await db
    .insertInto('schedules')
    .values({
      task_id: s.taskId,
      kind: s.kind,
      due_at: s.dueAt,
      payload: null,
      fired_at: null,
      lease_owner: null,
      lease_until: null,
      created_at: s.now,
    })
    .execute();
}

/** Schedules due now and not fired, oldest first. */
export async function dueSchedules(
  db: Db,
  now: number,
  limit: number,
): Promise<Array<{ id: number; taskId: number; kind: string; dueAt: number }>> {
  const rows = await db
    .selectFrom('schedules')
    .select(['id', 'task_id', 'kind', 'due_at'])
    .where('fired_at', 'is', null)
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    taskId: Number(r.task_id),
    kind: r.kind,
    dueAt: Number(r.due_at),
  }));
}

/** Marks a schedule fired; false when another process fired it first (the update is the claim). */
export async function markFired(db: Db, id: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('schedules')
    .set({ fired_at: now })
    .where('id', '=', id)
    .where('fired_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Closes a task's pending schedules without firing them: `skipped` when the task is final, `rescheduled` when an
 * edit moved or removed its due time (the edit adds the new ones).
 */
export async function closeSchedules(
  db: Db,
  taskId: number,
  now: number,
  reason: 'skipped' | 'rescheduled' = 'skipped',
): Promise<void> {
  await db
    .updateTable('schedules')
    .set({ fired_at: now, payload: reason })
    .where('task_id', '=', taskId)
    .where('fired_at', 'is', null)
    .execute();
}
