/**
 * Tasks: create (201), list with filters, show, edit (PATCH), and the state transitions of src/hub/tasks/state.ts. An invalid
 * transition comes back from the hub as a ValidationError and is answered 409 here: the request was well formed,
 * the task's state forbids it.
 */

import type { Context, Hono } from 'hono';
import { isDingTalkError } from '../../core/errors.js';
import type { Task } from '../../hub/service.js';
import { ApiError } from '../api-error.js';
import {
  createTaskBody,
  taskActionBody,
  taskActionSchema,
  taskIdParam,
  taskListQuery,
  updateTaskBody,
} from '../contracts.js';
import { idempotencyKey, readJson, readOptionalJson, readParam, readQuery } from '../http-input.js';
import { type ApiEnv, actorOf, type RouteDeps, withinLimits } from './route-deps.js';

export function taskRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.post('/v1/tasks', d.guard('send'), async (c) => {
    const body = await readJson(c, createTaskBody);
    const key = idempotencyKey(c, body.idempotencyKey);
    await withinLimits(c, d, {
      groups: body.group === undefined ? [] : [body.group],
      people: body.assignees,
    });
    const task = await d.hub.assignTask({ ...body, idempotencyKey: key }, actorOf(c));
    return c.json(task, 201);
  });

  app.get('/v1/tasks', d.guard('read'), async (c) => {
    const q = readQuery(c, taskListQuery);
    const tasks = await d.hub.listTasks({
      state: q.state,
      assignee: q.assignee,
      group: q.group,
      overdue: q.overdue === undefined ? undefined : q.overdue === 'true',
      limit: q.limit ?? 100,
    });
    return c.json({ tasks });
  });

  app.get('/v1/tasks/:id', d.guard('read'), async (c) => {
    const id = readParam(c.req.param('id'), taskIdParam, 'the task id');
    const task = await d.hub.getTask(id);
    if (!task) throw new ApiError(404, 'not_found', `no task #${id}`);
    return c.json(task);
  });

  app.post('/v1/tasks/:id/:action', d.guard('send'), async (c) => {
    const id = readParam(c.req.param('id'), taskIdParam, 'the task id');
    const action = taskActionSchema.safeParse(c.req.param('action'));
    if (!action.success) throw new ApiError(404, 'not_found', 'task actions are start, done, cancel, reopen');
    // The note is optional, so an empty body is fine; a body that is there must be valid.
    const body = await readOptionalJson(c, taskActionBody);
    return c.json(await act(c, d, id, action.data, body.note));
  });

  // Edits are idempotent by content: the same patch again changes nothing and sends nothing.
  app.patch('/v1/tasks/:id', d.guard('send'), async (c) => {
    const id = readParam(c.req.param('id'), taskIdParam, 'the task id');
    const body = await readJson(c, updateTaskBody);
    const task = await d.hub.getTask(id);
    if (!task) throw new ApiError(404, 'not_found', `no task #${id}`);
    await withinTaskLimits(c, d, task);
    await withinLimits(c, d, {
      groups: typeof body.group === 'string' ? [body.group] : [],
      people: body.addAssignees,
    });
    try {
      return c.json(await d.hub.updateTask(id, body, actorOf(c)));
    } catch (e) {
      // Bad names or groups are the caller's input (400); a closed task is the task's state (409).
      if (isDingTalkError(e) && e.code === 'VALIDATION' && (e as { field?: string }).field === 'state')
        throw new ApiError(409, 'task_closed', e.message);
      throw e;
    }
  });

  // DELETE is "cancel": tasks keep their history, nothing is erased.
  app.delete('/v1/tasks/:id', d.guard('send'), async (c) => {
    const id = readParam(c.req.param('id'), taskIdParam, 'the task id');
    return c.json(await act(c, d, id, 'cancel', undefined));
  });
}

async function act(
  c: Context<ApiEnv>,
  d: RouteDeps,
  id: number,
  action: 'start' | 'done' | 'cancel' | 'reopen',
  note: string | undefined,
) {
  const task = await d.hub.getTask(id);
  if (!task) throw new ApiError(404, 'not_found', `no task #${id}`);
  await withinTaskLimits(c, d, task);
  try {
    return note === undefined
      ? await d.hub.actOnTask(id, action, actorOf(c))
      : await d.hub.actOnTask(id, action, actorOf(c), note);
  } catch (e) {
    if (isDingTalkError(e) && e.code === 'VALIDATION')
      throw new ApiError(409, 'invalid_transition', e.message);
    throw e;
  }
}

/** A limited token may touch a task only when its group and assignees are all within the limits (a change is announced there). */
function withinTaskLimits(c: Context<ApiEnv>, d: RouteDeps, task: Task): Promise<void> {
  return withinLimits(c, d, {
    groups: task.group === undefined ? [] : [task.group],
    people: task.assignees.map((a) => a.name),
  });
}
