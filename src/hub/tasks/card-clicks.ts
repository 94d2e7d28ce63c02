/**
 * A click on a task card's button (docs/dingtalk.md §10 HTTP, §S8 Stream), applied once from the inbox like a chat
 * command (inbound/inbound.ts): the push was committed under DingTalk's id before it was answered, and this runs in
 * the inbox entry's transaction, so the move, its history, the card update and the entry commit together.
 *
 * Who clicked is DingTalk's `userId` of the callback (a unionId when `userIdType` is 2), looked up in the people
 * directory; nothing the clicker chose (params, the button's label) names anyone. The move is the button's action id
 * (`start`, `done`; `open` is a link and changes nothing), checked by the same rule as chat and the people's pages
 * (tasks/access.ts). The click shows membership of the card's group when it came from that group's space: the card
 * is delivered there unforwardable (dingtalk/adapter.ts), so only the group's members see it.
 *
 * A refusal changes nothing that everyone sees: the clicker alone gets a note on their view of the card (its
 * private data, §10), worded like every refusal so it tells no one whether the task exists. A move updates the card
 * for everyone through the task service (the card's "who did what, when" line), which also clears the clicker's note.
 */

import type { Logger } from '../../core/logger.js';
import type { EventBus } from '../../observe/events.js';
import type { Counter } from '../../observe/metrics.js';
import type { Tx } from '../../store/open-store.js';
import { parseCardAction } from '../../stream/card.js';
import type { CardCallback, CardCallbackResponse } from '../../stream/types.js';
import type { HubConfig } from '../config.js';
import type { Job } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { PeopleDirectory } from '../people.js';
import type { PersonActor } from '../service.js';
import { isTaskAccessError, type RefuseReason } from './access.js';
import { isCardAction } from './card-view.js';
import { cardByOutTrackId, type TaskCardRow, type TaskCards } from './cards.js';
import { isTaskMoveError } from './state.js';
import type { TaskChange, TaskService } from './tasks.js';
import { taskTexts } from './texts.js';

type AfterCommit = (effect: () => void) => void;

interface CardClickDeps {
  config: HubConfig;
  tasks: TaskService;
  cards: TaskCards;
  people: PeopleDirectory;
  outbox: OutboxPort;
  events: EventBus;
  logger: Logger;
  /** Clicks by result (`applied`, `unchanged`, `refused`, `cannot`, `ignored`) and refusal reason. */
  clicks?: Counter | undefined;
}

export class CardClicks {
  readonly #d: CardClickDeps;

  constructor(deps: CardClickDeps) {
    this.#d = deps;
  }

  /**
   * What a click is answered with before it is applied (config `tasks.cards.answer`; the shape is unverified, §10,
   * §S8): nothing (`{}`), or "received" on the clicker's view or on everyone's. The update that follows the move
   * replaces it.
   */
  answer(): CardCallbackResponse {
    const received = { note: this.#d.cards.texts.received };
    switch (this.#d.config.tasks.cards?.answer) {
      case 'privateData':
        return {
          userPrivateData: { cardParamMap: received },
          cardUpdateOptions: { updatePrivateDataByKey: true },
        };
      case 'cardData':
        return { cardData: { cardParamMap: received }, cardUpdateOptions: { updateCardDataByKey: true } };
      default:
        return {};
    }
  }

  /** The inbox handler of one click (topic `/v1.0/card/instances/callback`). */
  async handle(cb: CardCallback, tx: Tx, afterCommit: AfterCommit): Promise<void> {
    const d = this.#d;
    const card = typeof cb?.outTrackId === 'string' ? await cardByOutTrackId(tx, cb.outTrackId) : undefined;
    const action = parseCardAction(cb)?.actionIds.find(isCardAction);
    if (!card || !action) {
      // Not a card the hub made, or a button that moves nothing (Open is a link): recorded in the inbox only.
      d.clicks?.inc({ result: 'ignored' });
      return;
    }
    const userId = typeof cb.userId === 'string' && cb.userId !== '' ? cb.userId : undefined;
    const byUnion = cb.userIdType === 2;
    const person = userId
      ? byUnion
        ? await d.people.byUnionId(userId, tx)
        : await d.people.byUserId(userId, tx)
      : undefined;
    // A note goes to the clicker's userId: the one the card's private data is keyed by (§10, userIdType 1).
    const noteTo = byUnion ? person?.userId : userId;
    const inGroup = cb.spaceType === 'IM_GROUP' && cb.spaceId === card.openConversationId;
    const actor: PersonActor | undefined = person && {
      key: person.key,
      ...(inGroup ? { group: card.group } : {}),
    };
    const jobs: Job[] = [];
    const note = (text: string) => {
      if (noteTo !== undefined) jobs.push(d.cards.noteJob(card, noteTo, text));
    };
    const access = await d.tasks.authorize(tx, card.taskId, action, actor);
    let change: TaskChange | undefined;
    if (!access.allowed || actor === undefined || person === undefined) {
      const reason: RefuseReason = access.allowed ? 'unidentified' : access.reason;
      note(reason === 'unidentified' ? d.cards.texts.unknown : d.cards.texts.refused);
      this.#refused(card, action, reason, userId);
    } else {
      try {
        change = await d.tasks.actIn(
          tx,
          card.taskId,
          action,
          { by: person.name, person: actor },
          // The card's update is the group's announcement: no text beside it.
          { via: 'card', toldInGroup: true, ...(noteTo !== undefined ? { clicker: noteTo } : {}) },
        );
        d.clicks?.inc({ result: change ? 'applied' : 'unchanged' });
        // Nothing moved (a second Start): only a "received" answer, if one was given, is taken back.
        if (!change && d.config.tasks.cards?.answer !== 'empty') note('');
      } catch (e) {
        if (isTaskAccessError(e)) {
          // Lost a race with an edit that took the clicker off the task: the same answer as any refusal.
          note(d.cards.texts.refused);
          this.#refused(card, action, e.reason, userId);
        } else if (isTaskMoveError(e)) {
          note(d.cards.texts.cannot(taskTexts(d.config.locale).cannotMove(e.action, e.from)));
          d.clicks?.inc({ result: 'cannot' });
        } else {
          throw e;
        }
      }
    }
    if (jobs.length > 0) {
      await d.outbox.enqueue(
        { kind: 'task', request: { taskId: card.taskId, action: 'card_note' }, createdBy: 'hub', jobs },
        tx,
      );
    }
    if (change) {
      const published = change;
      afterCommit(() => d.events.publish('task.changed', published));
    }
  }

  /** A refused click: counted and logged (ids only), never shown to anyone but the clicker. */
  #refused(card: TaskCardRow, action: string, reason: RefuseReason, sender: string | undefined): void {
    this.#d.clicks?.inc({ result: 'refused', reason });
    this.#d.logger.info(
      { taskId: card.taskId, action, reason, path: 'card', ...(sender ? { sender } : {}) },
      'task change refused by the access rule',
    );
  }
}
