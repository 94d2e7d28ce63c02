/**
 * Reminders before a task is due and escalation after it is overdue. The schedule rows live in the store, so a
 * restart loses none; firing one is a single transaction that claims the row (`fired_at` set only if still
 * null), writes the history event and enqueues the message, so two hub processes never both remind.
 */

import type { Logger } from '../../core/logger.js';
import type { EventBus } from '../../observe/events.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import type { Job } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { DingTalkPort } from '../dingtalk/port.js';
import { defaultAppName, type MentionTarget, planGroupMentions, planMessage } from '../messages/plan.js';
import type { PeopleDirectory } from '../people.js';
import type { StoreFaultSink } from '../store-faults.js';
import { ZonedTime } from '../zoned-time.js';
import * as repo from './repo.js';
import { isFinal, type TaskState } from './state.js';
import { type TaskTexts, taskTexts } from './texts.js';

interface SchedulerDeps {
  config: HubConfig;
  store: Store;
  outbox: OutboxPort;
  people: PeopleDirectory;
  events: EventBus;
  logger: Logger;
  /** For `tasks.escalateTo: ['manager']` (the assignees' managers, docs/dingtalk.md §7). Absent: no managers. */
  dingtalk?: Pick<DingTalkPort, 'managerOf'> | undefined;
  /** Store outages go here first (logged once per burst); only other failures are logged by this module. */
  faults?: StoreFaultSink | undefined;
  now: () => number;
}

export class TaskScheduler {
  readonly #d: SchedulerDeps;
  readonly #zone: ZonedTime;
  readonly #texts: TaskTexts;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #warnedVia = false;

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
    this.#zone = new ZonedTime(deps.config.timeZone);
    this.#texts = taskTexts(deps.config.locale);
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runDue()
        .then(() => undefined)
        .catch((e: unknown) => {
          if (!this.#d.faults?.report(e, 'task scheduler'))
            this.#d.logger.warn({ err: (e as Error).message }, 'task scheduler tick failed');
        })
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#d.config.tasks.pollMs);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** Fires every schedule that is due now; returns how many this process fired. */
  async runDue(): Promise<number> {
    const d = this.#d;
    let fired = 0;
    for (const s of await repo.dueSchedules(d.store.db, d.now(), 50)) {
      const mentions = await this.#mentions(s.taskId);
      const above = s.kind === 'reminder' ? [] : await this.#escalateTo(s.taskId, mentions);
      const done = await d.store.transaction(async (tx) => {
        const now = d.now();
        if (!(await repo.markFired(tx, s.id, now))) return false;
        const task = await repo.taskRow(tx, s.taskId);
        if (!task || isFinal(task.state as TaskState)) return false;
        const kind = s.kind === 'reminder' ? 'reminded' : 'escalated';
        await repo.addEvent(tx, s.taskId, now, kind, 'hub', undefined);
        // In the configured locale, the due time in the configured zone (marked): nobody asked, so nobody's
        // language is known.
        const words = this.#texts;
        const due = task.due_at !== null ? this.#zone.format(Number(task.due_at)) : words.soon;
        const text =
          s.kind === 'reminder'
            ? words.reminder(task.id, task.title, due)
            : words.overdue(task.id, task.title, due, task.state as TaskState);
        const jobs: Job[] = [];
        if (task.group_alias !== null && d.config.groups[task.group_alias]) {
          jobs.push(
            ...planGroupMentions(
              {
                group: task.group_alias,
                text,
                format: 'text',
                mention: mentions,
                addKeyword: true,
                sequence: `task:${task.id}`,
              },
              d.config,
              d.config.tasks.mentionFallback,
            ),
          );
        } else {
          const reachable = mentions.filter((m) => m.userId !== undefined);
          if (reachable.length > 0)
            jobs.push(...planMessage({ to: reachable, text, format: 'text' }, d.config));
        }
        // An escalation also reaches someone who can act on it: its creator, the leads, the assignees' managers,
        // each 1:1 (the app robot's chat, or a work notification with `tasks.escalateVia: 'notice'`).
        if (above.length > 0) {
          jobs.push(...planMessage({ to: above, text, format: 'text', via: this.#escalateVia() }, d.config));
        }
        if (jobs.length > 0) {
          await d.outbox.enqueue(
            { kind, request: { taskId: s.taskId, schedule: s.id }, createdBy: 'hub', jobs },
            tx,
          );
        }
        return true;
      });
      if (done) {
        fired++;
        d.events.publish(s.kind === 'reminder' ? 'task.reminded' : 'task.escalated', { id: s.taskId });
      }
    }
    return fired;
  }

  /**
   * The people an overdue task escalates to besides its group (`tasks.escalateTo`): its creator, if a person created
   * it; the leads (its group's, and `tasks.escalationLeads`); the assignees' managers by DingTalk's word. Never an
   * assignee (the group, or their own 1:1, already tells them), each once, only those with a userId to write to. A
   * lookup that fails (DingTalk down, someone gone from the directory) drops that person only, logged: the group and
   * everyone else are still told, once.
   */
  async #escalateTo(taskId: number, assignees: readonly MentionTarget[]): Promise<MentionTarget[]> {
    const d = this.#d;
    const to = d.config.tasks.escalateTo;
    if (to.length === 0) return [];
    const task = await repo.taskRow(d.store.db, taskId);
    if (!task) return [];
    const keys = new Set<string>();
    const creator = to.includes('creator') ? repo.creatorOf(task) : undefined;
    if (creator !== undefined) keys.add(creator);
    if (to.includes('leads')) {
      if (task.group_alias !== null) {
        for (const k of d.config.tasks.access.leads[task.group_alias] ?? []) keys.add(k);
      }
      for (const k of d.config.tasks.escalationLeads) keys.add(k);
    }
    const out: MentionTarget[] = [];
    const seen = new Set(assignees.map((a) => a.userId).filter((u) => u !== undefined));
    const add = (p: MentionTarget) => {
      if (p.userId === undefined || seen.has(p.userId)) return;
      seen.add(p.userId);
      out.push(p);
    };
    for (const key of keys) {
      try {
        add(await d.people.resolve(key, { userId: true }));
      } catch (e) {
        d.logger.warn({ task: taskId, person: key, err: (e as Error).message }, 'escalation: person skipped');
      }
    }
    if (to.includes('manager')) for (const m of await this.#managers(taskId, assignees)) add(m);
    return out;
  }

  /** The assignees' managers (docs/dingtalk.md §7), named as the directory knows them, else by userId. */
  async #managers(taskId: number, assignees: readonly MentionTarget[]): Promise<MentionTarget[]> {
    const d = this.#d;
    const app = defaultAppName(d.config);
    if (!d.dingtalk || !app) return [];
    const out: MentionTarget[] = [];
    for (const a of assignees) {
      if (a.userId === undefined) continue;
      let manager: string | undefined;
      try {
        manager = await d.dingtalk.managerOf(app, a.userId);
      } catch (e) {
        d.logger.warn(
          { task: taskId, assignee: a.name, err: (e as Error).message },
          "escalation: the assignee's manager could not be looked up; the others are told",
        );
        continue;
      }
      if (manager === undefined) continue;
      const known = await d.people.byUserId(manager).catch(() => undefined);
      out.push({ name: known?.name ?? manager, userId: manager });
    }
    return out;
  }

  /**
   * `tasks.escalateVia` as a channel. A work notification needs the app's agentId (docs/dingtalk.md §5); without
   * one the app robot's 1:1 chat is used, said once in the log, so an escalation never fails on it.
   */
  #escalateVia(): 'app' | 'notice' {
    const d = this.#d;
    if (d.config.tasks.escalateVia !== 'notice') return 'app';
    const app = defaultAppName(d.config);
    if (app !== undefined && d.config.apps[app]?.agentId !== undefined) return 'notice';
    if (!this.#warnedVia) {
      this.#warnedVia = true;
      d.logger.warn(
        { app },
        'tasks.escalateVia is notice but the app has no agentId: escalations go through the app robot',
      );
    }
    return 'app';
  }

  async #mentions(taskId: number): Promise<MentionTarget[]> {
    const out: MentionTarget[] = [];
    for (const a of await repo.assigneesOf(this.#d.store.db, taskId)) {
      try {
        out.push(await this.#d.people.resolve(a.person, { userId: true }));
      } catch {
        // A person removed from the config since assignment is reminded by name only.
        out.push({ name: a.person });
      }
    }
    return out.filter((m) => m.userId !== undefined || m.mobile !== undefined);
  }
}
