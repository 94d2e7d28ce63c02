/**
 * A task as its interactive card's values (docs/dingtalk.md §10: `cardParamMap`, strings only, complex values
 * JSON-encoded). Pure, so what everyone in the group sees is unit-tested without I/O.
 *
 * The variables a card template binds (docs/hub.md "Task cards"):
 *
 * | variable     | value                                                                                  |
 * |--------------|----------------------------------------------------------------------------------------|
 * | `title`      | `#42 Prepare the release notes`                                                        |
 * | `status`     | the state as people read it (`进行中`)                                                  |
 * | `state`      | the state's code (`open`, `in_progress`, `done`, `cancelled`), for a template to switch on |
 * | `content`    | markdown: the assignees and the due time                                               |
 * | `lastAction` | who did what, when (`张三 开始了任务 · 2026-12-05 10:00 (UTC+08:00)`)                     |
 * | `buttons`    | JSON `[{id, text, url?}]`: Start while open, Done until final, Open (a link) always    |
 *
 * A button with an `id` comes back as a click (`actionIds: [id]`); Open carries a `url` and is a link the client
 * opens (the people's page, wrapped in DingTalk's page link as the Todo's is, §13.4).
 */

import type { CardTexts } from './card-texts.js';
import { isFinal, type TaskAction, type TaskState } from './state.js';

/** The clicks a card sends back; anything else in `actionIds` is ignored. */
export const CARD_ACTIONS = ['start', 'done'] as const satisfies readonly TaskAction[];
export type CardAction = (typeof CARD_ACTIONS)[number];

export function isCardAction(id: unknown): id is CardAction {
  return typeof id === 'string' && (CARD_ACTIONS as readonly string[]).includes(id);
}

export interface CardTaskView {
  id: number;
  title: string;
  state: TaskState;
  /** Names as people know them. */
  assignees: readonly string[];
  /** Already formatted in the hub's zone. */
  due: string | undefined;
  /** The latest change worth a line; undefined shows none. */
  last: { by: string; action: TaskAction | 'created' | 'edited'; at: string } | undefined;
  /** The Open button's link. */
  openUrl: string;
}

export interface CardButton {
  id: string;
  text: string;
  url?: string;
}

export function cardButtons(v: CardTaskView, t: CardTexts): CardButton[] {
  const out: CardButton[] = [];
  if (v.state === 'open') out.push({ id: 'start', text: t.start });
  if (!isFinal(v.state)) out.push({ id: 'done', text: t.done });
  out.push({ id: 'open', text: t.open, url: v.openUrl });
  return out;
}

export function taskCardData(
  v: CardTaskView,
  t: CardTexts,
  stateName: Record<TaskState, string>,
  colon: string,
): Record<string, string> {
  const lines = [`**${t.assignees}**${colon}${v.assignees.join(t.and) || '-'}`];
  if (v.due !== undefined) lines.push(`**${t.due}**${colon}${v.due}`);
  return {
    title: `#${v.id} ${v.title}`,
    status: stateName[v.state],
    state: v.state,
    content: lines.join('\n\n'),
    lastAction: v.last ? t.last(v.last.by, v.last.action, v.last.at) : '',
    buttons: JSON.stringify(cardButtons(v, t)),
  };
}
