/**
 * Which event DingTalk pushes when a person marks a Todo done (docs/dingtalk.md §8, §12: not documented; the emulator's
 * `todoDoneEventType` guesses `todo_task_update`). Only a person can provoke it, so this runs only when asked
 * (`--todo-event SECONDS`): the suite listens on a Stream connection for the app's events, asks the operator to tick
 * the Todo it just made for them, and records the type of the first event whose data names that Todo.
 *
 * The connection takes EVENT pushes meant for a running hub too: DingTalk hands each push to one connection of the
 * app (§S6). Every event that is not about the Todo is answered LATER, so DingTalk pushes it again, to the hub or to
 * this connection until it closes; only the one about the Todo is acked.
 */

import { verifyStreamClient } from './check-support.js';
import type { Recorder, VerifyEnv } from './types.js';

export async function watchTodoDone(
  env: VerifyEnv,
  rec: Recorder,
  todo: { taskId: string; unionId: string; subject: string },
): Promise<string> {
  const waitMs = env.todoEventWaitMs;
  let found: ((eventType: string) => void) | undefined;
  const seen = new Promise<string>((resolve) => {
    found = resolve;
  });
  const client = verifyStreamClient(env, [{ type: 'EVENT', topic: '*' }]);
  client.onEvent((event) => {
    if (!JSON.stringify(event.data ?? {}).includes(todo.taskId)) throw new Error('not ours: answer LATER');
    found?.(event.eventType);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.start();
    await env.askOperator({ kind: 'todo-done', ...todo, waitMs });
    const type = await Promise.race([
      seen,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), waitMs);
        // Ctrl-C while waiting for the person: stop waiting, so the cleanup runs now.
        if (env.signal?.aborted) resolve(undefined);
        else env.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
      }),
    ]);
    if (type === undefined && env.signal?.aborted) {
      rec.unobserved('todo.doneEventType', 'interrupted while waiting for the Todo to be ticked');
      return 'interrupted while waiting for the Todo to be ticked';
    }
    if (type === undefined) {
      rec.unobserved(
        'todo.doneEventType',
        `no event named the Todo within ${Math.round(waitMs / 1000)} s (was it ticked? does the app subscribe to Todo events?)`,
      );
      return `no event about the Todo within ${Math.round(waitMs / 1000)} s`;
    }
    rec.observe('todo.doneEventType', type, `ticking the Todo pushed event "${type}"`);
    return `ticking it pushed "${type}"`;
  } finally {
    clearTimeout(timer);
    await client.stop({ graceMs: 1_000 });
  }
}
