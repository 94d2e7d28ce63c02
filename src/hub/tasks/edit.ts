/**
 * The pure part of editing a task: checking a patch, comparing it with the task as stored, and wording the
 * change for the history and the group. No I/O here, so every rule is unit-tested on its own (task-edit.test.ts);
 * TaskService.update (tasks.ts) runs the plan inside one store transaction.
 *
 * What an edit does to DingTalk follows from what the Todo API allows (docs/dingtalk.md §8.1): `update` takes
 * `subject`, `description` and `dueTime` (not priority, and no way to clear a due time), `delete` removes a todo.
 * So kept assignees get one update with the changed fields, added ones a new Todo, removed ones lose theirs.
 */

import { ValidationError } from '../../core/errors.js';
import type { TodoChange } from '../dingtalk/port.js';
import type { TaskPatch } from '../service.js';
import { type TaskTexts, taskTexts } from './texts.js';

/** A patch after its own checks: trimmed, parsed, names still unresolved. `null` = remove. */
export interface CheckedPatch {
  title?: string;
  description?: string | null;
  dueAt?: number | null;
  group?: string | null;
  add: string[];
  remove: string[];
}

/** The task fields an edit can touch, as stored. Assignees are person keys. */
export interface EditableTask {
  title: string;
  description: string | undefined;
  dueAt: number | undefined;
  group: string | undefined;
  assignees: readonly string[];
}

interface Change<T> {
  from: T;
  to: T;
}

interface EditPlan {
  title?: Change<string>;
  description?: Change<string | undefined>;
  due?: Change<number | undefined>;
  group?: Change<string | undefined>;
  /** Person keys that join, in patch order. */
  added: string[];
  /** Person keys that leave. */
  removed: string[];
  /** What the kept assignees' Todos need; undefined when nothing a Todo shows changed. */
  todo: TodoChange | undefined;
  /** The task after the edit. */
  after: EditableTask;
}

const MAX_ASSIGNEES = 100;

/** How far in the past a due time may be and still count as "now": clocks of callers and hub disagree a little. */
const DUE_SKEW_MS = 60_000;

/**
 * A due time earlier than now (less the skew) is almost always a mistake (a wrong year, a zone forgotten): the
 * task would be born overdue and escalate at once. Refused unless the caller says it means it. `time` words the
 * two times for the message (the hub's zone, marked).
 */
export function checkDueNotPast(
  dueAt: number,
  now: number,
  allowPastDue: boolean | undefined,
  time: (ms: number) => string = (ms) => new Date(ms).toISOString(),
): void {
  if (allowPastDue === true || dueAt >= now - DUE_SKEW_MS) return;
  throw new ValidationError(
    `${time(dueAt)} is in the past (now ${time(now)}); pass allowPastDue to mean it`,
    'due',
    { reason: 'due_in_past' },
  );
}

/** An ISO time, as the API has always taken it; the service passes one that also reads its zone's wall times. */
function readIso(text: string): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new ValidationError('not an ISO time', 'due');
  return t;
}

/**
 * Field checks that need neither the store nor the directory. `groupExists` asks the config; `readDue` reads a due
 * time (zoned-time.ts `parseDue` in the hub's zone) and throws a ValidationError for one it cannot read.
 */
export function checkPatch(
  patch: TaskPatch,
  groupExists: (alias: string) => boolean,
  readDue: (text: string) => number = readIso,
): CheckedPatch {
  if (typeof patch !== 'object' || patch === null) throw new ValidationError('an object', 'patch');
  const out: CheckedPatch = { add: [], remove: [] };
  if (patch.title !== undefined) {
    const title = typeof patch.title === 'string' ? patch.title.trim() : '';
    if (title === '' || title.length > 1024) throw new ValidationError('1 to 1,024 characters', 'title');
    out.title = title;
  }
  if (patch.description !== undefined) {
    if (patch.description !== null && typeof patch.description !== 'string')
      throw new ValidationError('a string, or null to remove it', 'description');
    if ((patch.description?.length ?? 0) > 4096)
      throw new ValidationError('at most 4,096 characters', 'description');
    out.description = patch.description === '' ? null : patch.description;
  }
  if (patch.due !== undefined) {
    if (patch.due === null) out.dueAt = null;
    else {
      if (typeof patch.due !== 'string') throw new ValidationError('not an ISO time', 'due');
      out.dueAt = readDue(patch.due);
    }
  }
  if (patch.group !== undefined) {
    if (patch.group !== null && (typeof patch.group !== 'string' || !groupExists(patch.group)))
      throw new ValidationError(`no group named "${String(patch.group)}" in the config`, 'group');
    out.group = patch.group;
  }
  for (const [field, list] of [
    ['addAssignees', patch.addAssignees],
    ['removeAssignees', patch.removeAssignees],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n.trim() === ''))
      throw new ValidationError('a list of names', field);
    if (list.length > MAX_ASSIGNEES)
      throw new ValidationError(`at most ${MAX_ASSIGNEES} people (docs/dingtalk.md §8.2)`, field);
    out[field === 'addAssignees' ? 'add' : 'remove'] = [...new Set(list.map((n) => n.trim()))];
  }
  const nothing =
    out.title === undefined &&
    out.description === undefined &&
    out.dueAt === undefined &&
    out.group === undefined &&
    out.add.length === 0 &&
    out.remove.length === 0;
  if (nothing) throw new ValidationError('nothing to change', 'patch');
  return out;
}

/**
 * Compares a checked patch (with names resolved to person keys) with the stored task. Adding someone already
 * assigned and removing someone who is not are no-ops, so a replayed patch plans no change at all.
 */
export function planEdit(
  cur: EditableTask,
  p: Omit<CheckedPatch, 'add' | 'remove'> & { add: readonly string[]; remove: readonly string[] },
): EditPlan {
  const both = p.add.find((k) => p.remove.includes(k));
  if (both !== undefined) throw new ValidationError(`"${both}" is both added and removed`, 'assignees');
  const plan: EditPlan = { added: [], removed: [], todo: undefined, after: { ...cur } };
  if (p.title !== undefined && p.title !== cur.title) {
    plan.title = { from: cur.title, to: p.title };
    plan.after.title = p.title;
  }
  const description = p.description === undefined ? cur.description : (p.description ?? undefined);
  if (description !== cur.description) {
    plan.description = { from: cur.description, to: description };
    plan.after.description = description;
  }
  const dueAt = p.dueAt === undefined ? cur.dueAt : (p.dueAt ?? undefined);
  if (dueAt !== cur.dueAt) {
    plan.due = { from: cur.dueAt, to: dueAt };
    plan.after.dueAt = dueAt;
  }
  const group = p.group === undefined ? cur.group : (p.group ?? undefined);
  if (group !== cur.group) {
    plan.group = { from: cur.group, to: group };
    plan.after.group = group;
  }
  plan.removed = cur.assignees.filter((k) => p.remove.includes(k));
  plan.added = p.add.filter((k) => !cur.assignees.includes(k));
  const after = [...cur.assignees.filter((k) => !plan.removed.includes(k)), ...plan.added];
  if (after.length === 0) throw new ValidationError('a task keeps at least one assignee', 'assignees');
  if (after.length > MAX_ASSIGNEES)
    throw new ValidationError(`at most ${MAX_ASSIGNEES} people (docs/dingtalk.md §8.2)`, 'assignees');
  plan.after.assignees = after;
  const todo: TodoChange = {};
  if (plan.title) todo.subject = plan.title.to;
  // An empty description is how the update API clears one.
  if (plan.description) todo.description = plan.description.to ?? '';
  // The update API cannot clear a due time: a removed one stays on the Todo (documented in docs/hub.md).
  if (plan.due?.to !== undefined) todo.dueTime = plan.due.to;
  plan.todo = Object.keys(todo).length > 0 ? todo : undefined;
  return plan;
}

export function isNoopEdit(plan: EditPlan): boolean {
  return (
    !plan.title &&
    !plan.description &&
    !plan.due &&
    !plan.group &&
    plan.added.length === 0 &&
    plan.removed.length === 0
  );
}

/** How an edit is worded: the locale's texts and the hub's zone. @default English, ISO times */
export interface EditWords {
  texts: TaskTexts;
  time: (ms: number) => string;
}

const ISO_EN: EditWords = { texts: taskTexts('en'), time: (ms) => new Date(ms).toISOString() };

/**
 * One line per changed field, `old → new`, for the history note and the group announcement. Long texts are
 * shortened; `name` turns a person key into the name people know.
 */
export function describeEdit(
  plan: EditPlan,
  name: (key: string) => string,
  words: EditWords = ISO_EN,
): string[] {
  const { texts: t } = words;
  const f = t.field;
  const c = t.colon;
  const opt = (s: string | undefined) => (s === undefined ? t.none : quote(s));
  const time = (ms: number | undefined) => (ms === undefined ? t.none : words.time(ms));
  const lines: string[] = [];
  if (plan.title) lines.push(`${f.title}${c}${quote(plan.title.from)} → ${quote(plan.title.to)}`);
  if (plan.description)
    lines.push(`${f.description}${c}${opt(plan.description.from)} → ${opt(plan.description.to)}`);
  if (plan.due) lines.push(`${f.due}${c}${time(plan.due.from)} → ${time(plan.due.to)}`);
  if (plan.group) lines.push(`${f.group}${c}${plan.group.from ?? t.none} → ${plan.group.to ?? t.none}`);
  if (plan.added.length > 0 || plan.removed.length > 0) {
    const parts = [...plan.added.map((k) => `+${name(k)}`), ...plan.removed.map((k) => `-${name(k)}`)];
    lines.push(`${f.assignees}${c}${parts.join(' ')}`);
  }
  return lines;
}

function quote(s: string): string {
  return `"${s.length > 80 ? `${s.slice(0, 79)}…` : s}"`;
}
