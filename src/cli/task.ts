/** `dingkit task assign|list|show|edit|start|done|cancel|reopen`. */

import type { Task, TaskPatch } from '../hub/service.js';
import { taskTexts } from '../hub/tasks/texts.js';
import { type CliContext, list, parse, taskId } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { table } from './io.js';
import { oneLine } from './terminal-text.js';

export const taskHelp = `Usage: dingkit task assign TITLE --to NAMES [--group ALIAS] [--due WHEN [--allow-past-due]] [--priority P]
                              [--description TEXT]
       dingkit task list [--state S] [--assignee NAME] [--group ALIAS] [--overdue] [--limit N]
       dingkit task show ID
       dingkit task edit ID [--title TEXT] [--description TEXT|--no-description] [--due WHEN|--no-due]
                            [--allow-past-due]
                            [--group ALIAS|--no-group] [--add NAMES] [--remove NAMES]
       dingkit task start|done|cancel|reopen ID [--note TEXT]

WHEN is an ISO time (2026-12-01T18:00:00+08:00), a time in the hub's timeZone ("2026-12-01 18:00"), or a delay
from now: 30m, 4h, 2d. Times are shown in the configured timeZone, with the zone marked. A WHEN more than a minute
in the past is refused (due_in_past, exit 1) unless --allow-past-due says it is meant.
edit works on open and in-progress tasks (exit 7 for a done or cancelled one); NAMES is a comma list and
--add/--remove may be repeated. Added people get a Todo and an @mention, removed people's Todos are deleted.
States: open, in_progress, done, cancelled. Priorities: low, normal, high, urgent.`;

const STATES = ['open', 'in_progress', 'done', 'cancelled'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export async function taskVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'assign':
      return assign(rest, ctx);
    case 'list':
    case 'ls':
      return listTasks(rest, ctx);
    case 'show':
      return show(rest, ctx);
    case 'edit':
      return edit(rest, ctx);
    case 'start':
    case 'done':
    case 'cancel':
    case 'reopen':
      return act(sub, rest, ctx);
    default:
      throw usage(
        sub
          ? `unknown task command "${sub.slice(0, 20)}" (assign, list, show, edit, start, done, cancel, reopen)`
          : 'task needs a command: assign, list, show, edit, start, done, cancel, reopen',
      );
  }
}

/**
 * `30m`, `4h`, `2d` from now, an ISO time with a zone, or a wall time `YYYY-MM-DD HH:mm`. The wall time is passed on
 * as written: the hub reads it in its own `timeZone` (it may run elsewhere than this CLI), the same for the API.
 */
export function parseDue(value: string, now: number = Date.now()): string {
  const rel = /^(\d{1,5})([mhd])$/.exec(value.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(now + Number(rel[1]) * unit).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/.test(value.trim())) return value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw usage(
      '--due is an ISO time with a zone (2026-12-01T18:00:00+08:00), a time in the hub\'s zone ("2026-12-01 18:00") or a delay (30m, 4h, 2d)',
    );
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw usage('--due is not a real date');
  return new Date(t).toISOString();
}

async function assign(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    to: { type: 'string' },
    group: { type: 'string' },
    due: { type: 'string' },
    priority: { type: 'string' },
    description: { type: 'string' },
    'idempotency-key': { type: 'string' },
    'allow-past-due': { type: 'boolean' },
  });
  const title = positionals.join(' ').trim();
  if (title === '') throw usage('task assign needs a TITLE');
  const assignees = list(v.to);
  if (!assignees) throw usage('task assign needs --to NAME[,NAME]');
  if (v.priority !== undefined && !(PRIORITIES as readonly string[]).includes(v.priority)) {
    throw usage(`--priority is one of ${PRIORITIES.join(', ')}`);
  }
  const hub = await ctx.hub();
  const task = await hub.assignTask(
    {
      title,
      assignees,
      group: v.group,
      due: v.due === undefined ? undefined : parseDue(v.due),
      ...(v['allow-past-due'] ? { allowPastDue: true } : {}),
      priority: v.priority as Task['priority'] | undefined,
      description: v.description,
      idempotencyKey: v['idempotency-key'],
    },
    ctx.actor,
  );
  ctx.out.result(
    task,
    () =>
      `assigned task #${task.id} "${oneLine(task.title)}" to ${names(task)}${task.group ? ` in ${task.group}` : ''}`,
  );
  return EXIT.ok;
}

async function listTasks(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    {
      state: { type: 'string' },
      assignee: { type: 'string' },
      group: { type: 'string' },
      overdue: { type: 'boolean' },
      limit: { type: 'string' },
    },
    false,
  );
  if (v.state !== undefined && !(STATES as readonly string[]).includes(v.state)) {
    throw usage(`--state is one of ${STATES.join(', ')}`);
  }
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw usage('--limit is 1-1000');
  const hub = await ctx.hub();
  const tasks = await hub.listTasks({
    state: v.state as Task['state'] | undefined,
    assignee: v.assignee,
    group: v.group,
    overdue: v.overdue ? true : undefined,
    limit,
  });
  const zone = await ctx.zone();
  ctx.out.result(tasks, () =>
    tasks.length === 0
      ? 'no tasks'
      : table(
          ['ID', 'STATE', 'PRIORITY', 'DUE', 'ASSIGNEES', 'TITLE'],
          tasks.map((t) => [
            `#${t.id}`,
            t.state,
            t.priority,
            t.due ? zone.formatIso(t.due) : '-',
            names(t),
            t.title,
          ]),
        ),
  );
  return EXIT.ok;
}

async function show(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parse(args, {});
  const id = taskId(positionals[0]);
  const hub = await ctx.hub();
  const t = await hub.getTask(id);
  if (!t) throw new CliError(EXIT.notFound, `no task #${id}`, 'not_found');
  const zone = await ctx.zone();
  // Every field on its own line (oneLine); a description keeps its line breaks, indented under the fields.
  ctx.out.result(t, () =>
    [
      `#${t.id} ${oneLine(t.title)}`,
      `  state     ${t.state}`,
      `  priority  ${t.priority}`,
      `  assignees ${names(t)}`,
      ...(t.group ? [`  group     ${oneLine(t.group)}`] : []),
      ...(t.due ? [`  due       ${zone.formatIso(t.due)}`] : []),
      ...(t.description ? [`  ${t.description.replace(/\r?\n/g, '\n  ')}`] : []),
      '  history:',
      ...t.history.map(
        (e) =>
          `    ${zone.formatIso(e.at)}  ${e.kind.padEnd(10)} ${oneLine(`${actor(e.by)}${e.note ? `: ${e.note}` : ''}`)}`,
      ),
    ].join('\n'),
  );
  return EXIT.ok;
}

async function edit(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    title: { type: 'string' },
    description: { type: 'string' },
    'no-description': { type: 'boolean' },
    due: { type: 'string' },
    'no-due': { type: 'boolean' },
    'allow-past-due': { type: 'boolean' },
    group: { type: 'string' },
    'no-group': { type: 'boolean' },
    add: { type: 'string', multiple: true },
    remove: { type: 'string', multiple: true },
  });
  const id = taskId(positionals[0]);
  if (positionals.length > 1)
    throw usage('task edit takes one id (quote a title with spaces: --title "...")');
  for (const f of ['description', 'due', 'group'] as const) {
    if (v[f] !== undefined && v[`no-${f}`]) throw usage(`give --${f} or --no-${f}, not both`);
  }
  if (v.title !== undefined && v.title.trim() === '') throw usage('--title cannot be empty');
  const names = (values: string[] | undefined) => values?.flatMap((x) => list(x) ?? []);
  const add = names(v.add);
  const remove = names(v.remove);
  const patch: TaskPatch = {
    ...(v.title !== undefined ? { title: v.title } : {}),
    ...(v.description !== undefined ? { description: v.description } : {}),
    ...(v['no-description'] ? { description: null } : {}),
    ...(v.due !== undefined ? { due: parseDue(v.due) } : {}),
    ...(v['no-due'] ? { due: null } : {}),
    ...(v.group !== undefined ? { group: v.group } : {}),
    ...(v['no-group'] ? { group: null } : {}),
    ...(add?.length ? { addAssignees: add } : {}),
    ...(remove?.length ? { removeAssignees: remove } : {}),
  };
  // Not a change of its own: said after the emptiness check below.
  const allow: TaskPatch = v['allow-past-due'] ? { allowPastDue: true } : {};
  if (Object.keys(patch).length === 0) {
    throw usage(
      'task edit needs something to change: --title, --description, --due, --no-due, --group, --add, --remove',
    );
  }
  const hub = await ctx.hub();
  const before = await hub.getTask(id);
  if (!before) throw new CliError(EXIT.notFound, `no task #${id}`, 'not_found');
  const t = await hub.updateTask(id, { ...patch, ...allow }, ctx.actor);
  const last = t.history.at(-1);
  const changed = t.history.length > before.history.length && last?.kind === 'edited';
  ctx.out.result(t, () =>
    changed
      ? `edited task #${t.id}${last.note ? `: ${oneLine(last.note.split('; ').join(', '))}` : ''}`
      : `task #${t.id} already looks like that; nothing changed`,
  );
  return EXIT.ok;
}

async function act(
  action: 'start' | 'done' | 'cancel' | 'reopen',
  args: string[],
  ctx: CliContext,
): Promise<number> {
  const { values: v, positionals } = parse(args, { note: { type: 'string' } });
  const id = taskId(positionals[0]);
  if (positionals.length > 1) throw usage(`task ${action} takes one id`);
  const hub = await ctx.hub();
  const t =
    v.note === undefined
      ? await hub.actOnTask(id, action, ctx.actor)
      : await hub.actOnTask(id, action, ctx.actor, v.note);
  ctx.out.result(t, () => `task #${t.id} is now ${t.state.replace('_', ' ')}`);
  return EXIT.ok;
}

/** Who acted, as the announcements say it: "the API (token ci)", "the CLI", or the person's name. */
const actor = (by: string) => taskTexts('en').actor(by);

function names(t: Task): string {
  return oneLine(t.assignees.map((a) => a.name).join(', '));
}
