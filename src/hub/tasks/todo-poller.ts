/**
 * A safety net for "a Todo marked done in DingTalk is synced back": the platform's Todo-change event is
 * unverified (docs/dingtalk.md §12), so with `tasks.todoPollMs` set, the hub also reads the Todos of unfinished tasks.
 * A Todo found done is committed to the inbox as if the event had come (`todo-poll:<todoId>`), so it takes the
 * same exactly-once path: one state change however many processes poll, and none if the event came first.
 */

import type { Logger } from '../../core/logger.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import type { DingTalkPort } from '../dingtalk/port.js';
import { TODO_POLL_EVENT } from '../inbound/inbound.js';
import type { Inbox } from '../inbound/inbox.js';
import { defaultAppName } from '../messages/plan.js';
import type { StoreFaultSink } from '../store-faults.js';

interface TodoPollerDeps {
  config: HubConfig;
  store: Store;
  inbox: Inbox;
  dingtalk: DingTalkPort;
  logger: Logger;
  /** Store outages go here first (logged once per burst); only other failures are logged by this module. */
  faults?: StoreFaultSink | undefined;
  /** Starts inbox handling at once after a find. */
  kick: () => void;
}

export class TodoPoller {
  readonly #d: TodoPollerDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(deps: TodoPollerDeps) {
    this.#d = deps;
  }

  start(): void {
    const every = this.#d.config.tasks.todoPollMs;
    if (every <= 0) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce()
        .catch((e: unknown) => {
          if (!this.#d.faults?.report(e, 'todo poll'))
            this.#d.logger.warn({ err: (e as Error).message }, 'todo poll failed');
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  /** Reads the Todos of unfinished tasks; returns how many were found done (and committed). */
  async runOnce(limit = 200): Promise<number> {
    const d = this.#d;
    const app = defaultAppName(d.config);
    if (!app) return 0;
    const rows = await d.store.db
      .selectFrom('task_assignees')
      .innerJoin('tasks', 'tasks.id', 'task_assignees.task_id')
      .select(['task_assignees.todo_id', 'task_assignees.union_id'])
      .where('tasks.state', 'in', ['open', 'in_progress'])
      .where('task_assignees.todo_id', 'is not', null)
      .where('task_assignees.union_id', 'is not', null)
      .orderBy('tasks.id')
      .limit(limit)
      .execute();
    let found = 0;
    for (const r of rows) {
      const todoId = r.todo_id!;
      const unionId = r.union_id!;
      let done: boolean;
      try {
        done = await d.dingtalk.todoIsDone(app, unionId, todoId);
      } catch (e) {
        d.logger.debug({ err: (e as Error).message }, 'todo read failed');
        continue;
      }
      if (!done) continue;
      const payload = {
        eventType: TODO_POLL_EVENT,
        data: { taskId: todoId, done: true, operatorUnionId: unionId, source: 'poll' },
      };
      if ((await d.inbox.commit(`todo-poll:${todoId}`, 'poll', TODO_POLL_EVENT, payload)) === 'new') found++;
    }
    if (found > 0) d.kick();
    return found;
  }
}
