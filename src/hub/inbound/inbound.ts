/**
 * Inbound: what people say to the bot and what DingTalk tells the hub, from whichever receiver took it in (Stream,
 * HTTP; receiver.ts). Each push is written to the inbox under DingTalk's own id *before* it is answered (`commit`);
 * a re-push of the same id is answered without a second effect. Handling then runs once per id, in the inbox's
 * transaction:
 *
 * - a bot message is a chat command (commands.ts): `done 42`, `start 42`, `cancel 42`, `tasks`, `help`; a change
 *   is made only if the sender may make it (tasks/access.ts); the answer, in the sender's language
 *   (inbound/replies.ts), goes back through the outbox as an app-robot message in the same conversation;
 * - a Todo marked done in DingTalk (an EVENT; its type is unverified, so a setting) finishes the task, if the
 *   person who marked it may;
 * - a click on a task card's button (a card CALLBACK, stored under its push's id and answered once stored) is applied
 *   by tasks/card-clicks.ts under the same rule.
 */

import { appMessage } from '../../api/robot/app-templates.js';
import type { Logger } from '../../core/logger.js';
import { storableDeep } from '../../core/text.js';
import type { EventBus } from '../../observe/events.js';
import type { Counter } from '../../observe/metrics.js';
import type { Tx } from '../../store/open-store.js';
import {
  type BotMessage,
  type CardCallback,
  TOPIC_BOT_MESSAGE,
  TOPIC_CARD_CALLBACK,
} from '../../stream/types.js';
import type { HubConfig } from '../config.js';
import type { Job } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import {
  defaultAppName,
  groupOrdered,
  orderFields,
  peopleOrdered,
  personConversation,
} from '../messages/plan.js';
import type { PeopleDirectory } from '../people.js';
import type { PersonActor } from '../service.js';
import { isTaskAccessError, type RefuseReason } from '../tasks/access.js';
import type { CardClicks } from '../tasks/card-clicks.js';
import * as repo from '../tasks/repo.js';
import { isFinal, isTaskMoveError, type TaskState } from '../tasks/state.js';
import type { TaskChange, TaskService } from '../tasks/tasks.js';
import { taskTexts } from '../tasks/texts.js';
import { parseCommand } from './commands.js';
import type { Inbox, InboxEntry } from './inbox.js';
import type { CommitHow, CommitResult, InboxDoor, VerifiedPush } from './receiver.js';
import { repliesFor } from './replies.js';

type AfterCommit = (effect: () => void) => void;

/** What the Todo poller (tasks/todo-poller.ts) commits when it finds a Todo done: handled like the Todo event. */
export const TODO_POLL_EVENT = 'dingkit_todo_poll';

interface InboundDeps {
  config: HubConfig;
  inbox: Inbox;
  tasks: TaskService;
  people: PeopleDirectory;
  outbox: OutboxPort;
  events: EventBus;
  logger: Logger;
  /** EVENT types that report a Todo change (unverified name, see the emulator's `todoDoneEventType`). */
  todoEventTypes: readonly string[];
  /** Task-card clicks (tasks/card-clicks.ts), when the hub makes cards: received and applied like commands. */
  cardClicks?: CardClicks | undefined;
  received?: Counter | undefined;
  /** Changes the access rule refused, by path (`chat`, `todo`) and reason (tasks/access.ts). */
  refused?: Counter | undefined;
  now: () => number;
}

/** What is kept of a bot message: never the session webhook (a per-conversation credential). */
export function storable(msg: BotMessage): Record<string, unknown> {
  const { sessionWebhook: _s, sessionWebhookExpiredTime: _e, ...rest } = msg;
  return rest;
}

export class InboundService implements InboxDoor {
  readonly #d: InboundDeps;
  #kick: (() => void) | undefined;
  #stopped = false;

  constructor(deps: InboundDeps) {
    this.#d = deps;
  }

  /** Called after each new commit, so handling starts at once instead of at the next poll. */
  onCommitted(kick: () => void): void {
    this.#kick = kick;
  }

  /**
   * The inbox door (receiver.ts): a verified push stored under DingTalk's id, once. The receiver answers DingTalk
   * only after this returns, so no push is answered without being stored. `once` (HTTP) throws on failure and the
   * caller answers 500; `untilDurable` (Stream) retries with backoff while the store fails and returns undefined
   * if the hub stops first.
   *
   * `how.claim` runs first in the same transaction (the callback's replay keys, inbound/http.ts): false means a
   * replay, and nothing is written. Claim and inbox row commit together or not at all, so a process dying in
   * between leaves neither, and DingTalk's retry of the very same request is taken.
   */
  commit = async (push: VerifiedPush, how: CommitHow): Promise<CommitResult | undefined> => {
    // A stopping hub takes nothing new: Stream leaves it unanswered, HTTP answers 500; DingTalk sends it again.
    if (this.#stopped) {
      if (how.retry === 'once') throw new Error('the hub is stopping');
      return undefined;
    }
    const r =
      how.retry === 'once' ? await this.#commitOnce(push, how.claim) : await this.#commitRetrying(push);
    if (r === undefined) return undefined;
    this.#d.received?.inc({ kind: push.kind, result: r });
    this.#kick?.();
    return r;
  };

  /** Stops commit retries (the hub is stopping): pushes not yet stored stay unanswered. */
  stop(): void {
    this.#stopped = true;
  }

  #commitOnce(push: VerifiedPush, claim: CommitHow['claim']): Promise<CommitResult> {
    const inbox = this.#d.inbox;
    if (!claim) return inbox.commit(push.id, push.source, push.topic, push.payload);
    return inbox.withTransaction(async (tx) =>
      (await claim(tx))
        ? inbox.commit(push.id, push.source, push.topic, push.payload, tx)
        : ('replay' as const),
    );
  }

  /** The inbox commit, retried with backoff until it is durable; undefined if the hub stopped first. */
  async #commitRetrying(push: VerifiedPush): Promise<'new' | 'duplicate' | undefined> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        return await this.#d.inbox.commit(push.id, push.source, push.topic, push.payload);
      } catch (e) {
        if (attempt === 1 || attempt % 20 === 0) {
          this.#d.logger.warn(
            { id: push.id, attempt, err: (e as Error)?.message ?? String(e) },
            'inbound push not stored yet; retrying before the ack',
          );
        }
        this.#d.received?.inc({ kind: push.kind, result: 'commit_retry' });
        await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** (attempt - 1))));
      }
    }
    return undefined;
  }

  /**
   * The inbox handler: one entry, inside the inbox transaction. Events are published through `afterCommit`, so the
   * feed never tells of a command whose transaction then rolled back (and runs again).
   */
  handle = async (entry: InboxEntry, tx: Tx, afterCommit: AfterCommit = (f) => f()): Promise<void> => {
    // What people type cannot be refused with a 400: NUL is dropped and lone surrogates become U+FFFD before any of
    // it (a nick in task history, a command echoed in a reply) reaches a store that would refuse it (core/text.ts).
    const payload = storableDeep(entry.payload);
    if (entry.topic === TOPIC_BOT_MESSAGE) return this.#botMessage(payload as BotMessage, tx, afterCommit);
    if (entry.topic === TOPIC_CARD_CALLBACK) {
      return this.#d.cardClicks?.handle(payload as CardCallback, tx, afterCommit);
    }
    const p = payload as { eventType?: string; data?: Record<string, unknown> } | null;
    if (p?.eventType && (p.eventType === TODO_POLL_EVENT || this.#d.todoEventTypes.includes(p.eventType))) {
      return this.#todoEvent(p.data ?? {}, tx, afterCommit);
    }
    // Other events are recorded in the inbox for audit; there is nothing to do with them.
  };

  async #botMessage(msg: BotMessage, tx: Tx, afterCommit: AfterCommit): Promise<void> {
    const d = this.#d;
    const text = msg.text?.content ?? '';
    const cmd = parseCommand(text);
    const say = repliesFor(cmd.lang);
    const words = taskTexts(cmd.lang);
    // Who wrote it is DingTalk's verified senderStaffId (docs/dingtalk.md §9a), looked up in the people directory; the
    // nick and the text are the sender's to choose, so they never identify anyone.
    const person = msg.senderStaffId ? await d.people.byUserId(msg.senderStaffId, tx) : undefined;
    const by = person?.name ?? msg.senderNick ?? msg.senderStaffId ?? 'someone';
    let reply: string;
    let refused: RefuseReason | undefined;
    let change: TaskChange | undefined;
    switch (cmd.kind) {
      case 'transition': {
        const actor: PersonActor | undefined = person && { key: person.key, group: this.#groupOf(msg) };
        const access = await d.tasks.authorize(tx, cmd.taskId, cmd.action, actor);
        if (!access.allowed || actor === undefined) {
          refused = access.allowed ? 'unidentified' : access.reason;
          reply = refused === 'unidentified' ? say.unknownSender : say.refused(cmd.taskId);
          this.#refused('chat', cmd.taskId, cmd.action, refused, msg.senderStaffId);
          break;
        }
        // Allowed, so the task exists and the sender may know its state and title from here on.
        const row = (await repo.taskRow(tx, cmd.taskId))!;
        const state = row.state as TaskState;
        if (isFinal(state) && cmd.action !== 'done') {
          reply = say.already(cmd.taskId, state);
          break;
        }
        // Written in the task's own group: the reply is the group's announcement (one message, in the language of
        // the command), not a second, near-identical one next to it. Only when a reply can be sent at all (an app
        // to send it with), or the group would hear nothing.
        const toldInGroup =
          row.group_alias !== null &&
          row.group_alias === this.#groupOf(msg) &&
          this.#replyJob(msg, '') !== undefined;
        try {
          change = await d.tasks.actIn(
            tx,
            cmd.taskId,
            cmd.action,
            { by, person: actor },
            { via: 'chat', toldInGroup },
          );
          reply = !change
            ? say.already(cmd.taskId, state)
            : toldInGroup
              ? words.moved(
                  cmd.taskId,
                  cmd.action,
                  d.tasks.actorName({ by, person: actor }, words),
                  row.title,
                  undefined,
                )
              : say.moved(cmd.taskId, row.title, change.state as TaskState);
        } catch (e) {
          if (isTaskAccessError(e)) {
            // Lost a race with an edit that took the sender off the task: the same answer as any refusal.
            refused = e.reason;
            reply = say.refused(cmd.taskId);
            this.#refused('chat', cmd.taskId, cmd.action, e.reason, msg.senderStaffId);
          } else if (isTaskMoveError(e)) {
            reply = say.cannot(cmd.taskId, words.cannotMove(e.action, e.from));
          } else {
            throw e;
          }
        }
        break;
      }
      case 'list': {
        // The sender's own tasks only: what the access rule lets every assignee see.
        const mine = person
          ? (await d.tasks.list({ assignee: person.key, limit: 50 }, tx)).filter((t) => !isFinal(t.state))
          : [];
        reply = person
          ? mine.length === 0
            ? say.noOpenTasks
            : say.openTasks(
                mine
                  .slice(0, 20)
                  .map((t) => say.taskLine(t.id, t.title, t.state, t.due && d.tasks.zone.formatIso(t.due))),
              )
          : say.unknownSender;
        break;
      }
      case 'help':
        reply = say.help;
        break;
      default:
        reply = say.notUnderstood(cmd.text);
    }
    const command = {
      kind: cmd.kind,
      by,
      ...(cmd.kind === 'transition' ? { taskId: cmd.taskId, action: cmd.action } : {}),
      ...(refused !== undefined ? { refused } : {}),
    };
    afterCommit(() => {
      d.events.publish('inbound.command', command);
      if (change) d.events.publish('task.changed', change);
    });
    const job = this.#replyJob(msg, reply);
    if (job) {
      await d.outbox.enqueue(
        { kind: 'reply', request: { inReplyTo: msg.msgId }, createdBy: 'hub', jobs: [job] },
        tx,
      );
    }
  }

  /**
   * The group alias a message was written in, if it came from a configured group: a group message is pushed with
   * conversationType "2" and the group's openConversationId (docs/dingtalk.md §9a), and only members can write there.
   */
  #groupOf(msg: BotMessage): string | undefined {
    if (msg.conversationType !== '2' || !msg.conversationId) return undefined;
    return Object.entries(this.#d.config.groups).find(
      ([, g]) => g.openConversationId === msg.conversationId,
    )?.[0];
  }

  /** A refused change: counted and logged (ids only, nothing the sender wrote), never announced. */
  #refused(
    path: 'chat' | 'todo',
    taskId: number,
    action: string,
    reason: RefuseReason,
    sender?: string,
  ): void {
    this.#d.refused?.inc({ path, reason });
    this.#d.logger.info(
      { taskId, action, reason, path, ...(sender ? { sender } : {}) },
      'task change refused by the access rule',
    );
  }

  /** The answer goes back where the message came from, through the app robot (durable, unlike a session reply). */
  #replyJob(msg: BotMessage, content: string): Job | undefined {
    const cfg = this.#d.config;
    const app =
      Object.entries(cfg.apps).find(([, a]) => (a.robotCode ?? a.appKey) === msg.robotCode)?.[0] ??
      defaultAppName(cfg);
    if (!app) return undefined;
    if (msg.conversationType === '1') {
      if (!msg.senderStaffId) return undefined;
      return {
        channel: 'app',
        target: msg.senderNick ?? msg.senderStaffId,
        payload: { t: 'oto', app, userIds: [msg.senderStaffId], ...appMessage.text(content) },
        ...orderFields(personConversation(msg.senderStaffId), peopleOrdered(cfg), 1),
      };
    }
    const alias = Object.entries(cfg.groups).find(
      ([, g]) => g.openConversationId === msg.conversationId,
    )?.[0];
    return {
      channel: 'app',
      target: alias ?? msg.conversationTitle ?? msg.conversationId,
      payload: {
        t: 'group',
        app,
        openConversationId: msg.conversationId,
        ...appMessage.text(content),
      },
      // A group not in the config has no ordering setting: its replies are not ordered.
      ...orderFields(
        `group:${alias ?? msg.conversationId}`,
        alias !== undefined && groupOrdered(cfg, alias),
        1,
      ),
    };
  }

  async #todoEvent(data: Record<string, unknown>, tx: Tx, afterCommit: AfterCommit): Promise<void> {
    const todoId = typeof data['taskId'] === 'string' ? data['taskId'] : undefined;
    if (!todoId || data['done'] !== true) return;
    const found = await repo.taskByTodoId(tx, todoId);
    if (!found) return;
    // Who marked it done: the event's operator when it names one; without one, the Todo's owner (the assignee it
    // was created for), as only a Todo's executors and creator may change it (docs/dingtalk.md §8.1; the creator is the
    // hub's app) and the poller reports the owner the same way.
    const operator = typeof data['operatorUnionId'] === 'string' ? data['operatorUnionId'] : undefined;
    const person = operator
      ? await this.#d.people.byUnionId(operator, tx)
      : (await this.#d.people.list(tx)).find((p) => p.key === found.person);
    const row = await repo.taskRow(tx, found.taskId);
    if (!row || isFinal(row.state as TaskState)) return;
    const access = await this.#d.tasks.authorize(tx, found.taskId, 'done', person && { key: person.key });
    if (!access.allowed) {
      this.#refused('todo', found.taskId, 'done', access.reason, operator);
      return;
    }
    await repo.addEvent(
      tx,
      found.taskId,
      this.#d.now(),
      'todo_synced',
      'dingtalk',
      `Todo ${todoId} marked done`,
    );
    const change = await this.#d.tasks.actIn(
      tx,
      found.taskId,
      'done',
      { by: person!.name, person: { key: person!.key } },
      { via: 'todo', fromTodo: todoId },
    );
    if (change) afterCommit(() => this.#d.events.publish('task.changed', change));
  }
}
