/**
 * Task cards (docs/hub.md "Task cards"): in a group its app robot serves, a task is announced as an interactive card
 * (docs/dingtalk.md §10) instead of a text, and every change of the task updates that card in place, so the group
 * sees one current card per task rather than a trail of messages.
 *
 * Which groups: `tasks.cards.enabled`, a template id (`tasks.cards.templateId`, or the emulator's in demo mode), and
 * a group that sends through its app robot (an `app`, an `openConversationId` and no custom `robot`: a custom robot
 * cannot send cards, §2, and its @mentions are the ones that notify, §2.5). Other groups keep their text.
 *
 * Delivery goes through the outbox like every other send, inside the transaction of the change it shows: the
 * create and each update are jobs with one order key per task ({@link cardOrderKey}), so DingTalk gets the create
 * first and the updates in commit order; the create's `outTrackId` is derived from the task, so a retried create is
 * no second card, and each update carries the whole card, so a repeated one changes nothing (both idempotent,
 * delivery/jobs.ts). The card's row (migration 009) records that the task has one, where, and by which app.
 */

import type { Kysely, Selectable } from 'kysely';
import type { Tx } from '../../store/open-store.js';
import type { Database, TaskCardsTable } from '../../store/schema.js';
import type { HubConfig } from '../config.js';
import { cardOrderKey, type Job } from '../delivery/jobs.js';
import type { CardUpdate } from '../dingtalk/port.js';
import { groupOrdered } from '../messages/plan.js';
import type { ZonedTime } from '../zoned-time.js';
import { type CardTexts, cardTexts } from './card-texts.js';
import { type CardTaskView, taskCardData } from './card-view.js';
import { taskDetailUrl } from './detail-url.js';
import * as repo from './repo.js';
import type { TaskAction } from './state.js';
import { type TaskTexts, taskTexts } from './texts.js';

type Db = Kysely<Database>;

/** The history kinds a card's "who did what, when" line shows. */
const SHOWN = new Set(['created', 'edited', 'start', 'done', 'cancel', 'reopen']);

export interface TaskCardRow {
  taskId: number;
  outTrackId: string;
  app: string;
  group: string;
  openConversationId: string;
}

interface TaskCardsDeps {
  config: HubConfig;
  zone: ZonedTime;
  publicUrl: () => string;
  now: () => number;
}

export class TaskCards {
  readonly #d: TaskCardsDeps;
  readonly texts: CardTexts;
  readonly #task: TaskTexts;

  constructor(deps: TaskCardsDeps) {
    this.#d = deps;
    this.texts = cardTexts(deps.config.locale);
    this.#task = taskTexts(deps.config.locale);
  }

  /** The template cards are created with, or undefined when cards are off. */
  templateId(): string | undefined {
    const c = this.#d.config.tasks.cards;
    return c?.enabled ? c.templateId : undefined;
  }

  /** The app and conversation a group's card goes to, when the group gets cards at all. */
  servesGroup(alias: string): { app: string; openConversationId: string } | undefined {
    if (this.templateId() === undefined) return undefined;
    const g = this.#d.config.groups[alias];
    if (!g?.app || g.robot !== undefined || !g.openConversationId) return undefined;
    return { app: g.app, openConversationId: g.openConversationId };
  }

  /** The card instance's id at DingTalk: derived from the task, so a retried create is the same card (§10). */
  outTrackId(taskId: number): string {
    return `dingkit-task-${taskId}`;
  }

  /** Where clicks come back: the HTTP route when the hub receives over HTTP only, else Stream (§S8). */
  callback(): { callbackType: 'STREAM' | 'HTTP'; callbackRouteKey?: string } {
    const cfg = this.#d.config;
    if (cfg.inbound?.mode === 'http') {
      return { callbackType: 'HTTP', callbackRouteKey: cfg.tasks.cards.http.routeKey };
    }
    return { callbackType: 'STREAM' };
  }

  /**
   * The card of a task just created in `alias` (inside the creating transaction): its row, and the create job. None
   * when the group gets no cards.
   */
  async createJobs(tx: Tx, taskId: number, alias: string): Promise<Job[]> {
    const where = this.servesGroup(alias);
    const templateId = this.templateId();
    if (!where || templateId === undefined) return [];
    const now = this.#d.now();
    const outTrackId = this.outTrackId(taskId);
    await tx
      .insertInto('task_cards')
      .values({
        task_id: taskId,
        out_track_id: outTrackId,
        app: where.app,
        group_alias: alias,
        open_conversation_id: where.openConversationId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const cardData = await this.#render(tx, taskId);
    if (!cardData) return [];
    return [
      {
        channel: 'app',
        target: alias,
        payload: {
          t: 'cardCreate',
          app: where.app,
          taskId,
          card: {
            outTrackId,
            templateId,
            openConversationId: where.openConversationId,
            cardData,
            ...this.callback(),
          },
        },
        orderKey: this.#orderKey(alias, taskId),
      },
    ];
  }

  /**
   * A card's jobs share one key: the group's own in an ordered group (docs/hub.md "Ordering": the card is one of
   * the group's messages, in acceptance order), else the task's card key, so only its own updates wait for it.
   */
  #orderKey(alias: string, taskId: number): string {
    return groupOrdered(this.#d.config, alias) ? `group:${alias}` : cardOrderKey(taskId);
  }

  /**
   * The update that shows a task's current state on its card (inside the transaction that changed it); none when
   * the task has no card. `privateData` adds values only the named people see (a clicker's note).
   */
  async updateJobs(
    tx: Tx,
    taskId: number,
    privateData?: Record<string, Record<string, string>>,
  ): Promise<Job[]> {
    const card = await cardOfTask(tx, taskId);
    if (!card) return [];
    const cardData = await this.#render(tx, taskId);
    if (!cardData) return [];
    await tx
      .updateTable('task_cards')
      .set({ updated_at: this.#d.now() })
      .where('task_id', '=', taskId)
      .execute();
    return [this.#update(card, { cardData, ...(privateData ? { privateData } : {}) })];
  }

  /** A note on one person's view of the card only (a refused click's answer); the shared values stay as they are. */
  noteJob(card: TaskCardRow, userId: string, note: string): Job {
    return this.#update(card, { privateData: { [userId]: { note } } });
  }

  #update(card: TaskCardRow, values: Omit<CardUpdate, 'outTrackId'>): Job {
    return {
      channel: 'app',
      target: card.group,
      payload: { t: 'cardUpdate', app: card.app, update: { outTrackId: card.outTrackId, ...values } },
      orderKey: this.#orderKey(card.group, card.taskId),
    };
  }

  /** The card's values for the task as it stands in `db` (the caller's transaction). */
  async #render(db: Db, taskId: number): Promise<Record<string, string> | undefined> {
    const cfg = this.#d.config;
    const task = await repo.loadTask(db, taskId, (k) => cfg.people[k]?.name ?? k);
    if (!task) return undefined;
    const last = [...task.history].reverse().find((e) => SHOWN.has(e.kind));
    const view: CardTaskView = {
      id: task.id,
      title: task.title,
      state: task.state,
      assignees: task.assignees.map((a) => a.name),
      due: task.due === undefined ? undefined : this.#d.zone.formatIso(task.due),
      last: last && {
        by: this.#task.actor(last.by),
        action: last.kind as TaskAction | 'created' | 'edited',
        at: this.#d.zone.formatIso(last.at),
      },
      openUrl: taskDetailUrl(cfg, this.#d.publicUrl(), task.id).pcUrl,
    };
    return taskCardData(view, this.texts, this.#task.state, this.#task.colon);
  }
}

export async function cardOfTask(db: Db, taskId: number): Promise<TaskCardRow | undefined> {
  const r = await db.selectFrom('task_cards').selectAll().where('task_id', '=', taskId).executeTakeFirst();
  return r && toCard(r);
}

/** The card a click names, by its outTrackId; undefined for a card the hub did not make. */
export async function cardByOutTrackId(db: Db, outTrackId: string): Promise<TaskCardRow | undefined> {
  const r = await db
    .selectFrom('task_cards')
    .selectAll()
    .where('out_track_id', '=', outTrackId)
    .executeTakeFirst();
  return r && toCard(r);
}

function toCard(r: Selectable<TaskCardsTable>): TaskCardRow {
  return {
    taskId: Number(r.task_id),
    outTrackId: r.out_track_id,
    app: r.app,
    group: r.group_alias,
    openConversationId: r.open_conversation_id,
  };
}
