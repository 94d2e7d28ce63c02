/**
 * A Todo for the operator (§8), with writes: created, read back, deleted at the end. With `--todo-event` the
 * operator ticks it and the event DingTalk pushes is recorded (todo-event.ts).
 */

import { meName, myIds, needMe, TEXT } from './check-support.js';
import { watchTodoDone } from './todo-event.js';
import type { VerifyCheck } from './types.js';

export const todo: VerifyCheck = {
  id: 'todo',
  family: 'todo',
  title: 'a Todo created for the operator, then deleted',
  facts: ['todo.doneEventType'],
  plan: (env) => {
    const skip = needMe(env);
    if (skip) return { skip };
    const wait = env.todoEventWaitMs
      ? `; while you tick it (up to ${Math.round(env.todoEventWaitMs / 1000)} s) the app's events are read on a Stream connection, all but the Todo's answered LATER`
      : '';
    return { sends: `one Todo for ${meName(env)}, deleted at the end${wait}` };
  },
  async run(env, rec) {
    const { unionId } = myIds(env);
    const link = 'https://open.dingtalk.com/';
    const subject = TEXT(env, 'Todo');
    const task = await env.dt.todo.create(unionId, {
      subject,
      executorIds: [unionId],
      sourceId: `dingkit-verify-${env.runId}`,
      detailUrl: { appUrl: link, pcUrl: link },
    });
    rec.created({ what: 'Todo', to: meName(env), undo: () => env.dt.todo.delete(unionId, task.id) });
    const back = await env.dt.todo.get(unionId, task.id);
    if (back.id !== task.id) return { failed: 'the Todo read back has another id' };
    if (!env.todoEventWaitMs) {
      rec.unobserved(
        'todo.doneEventType',
        'not asked: --todo-event SECONDS has the operator tick the Todo while the suite listens',
      );
      return 'created and read back';
    }
    return `created and read back; ${await watchTodoDone(env, rec, { taskId: task.id, unionId, subject })}`;
  },
};
