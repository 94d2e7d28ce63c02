/**
 * What a task's interactive card says, in each locale (hub/locale.ts): its labels, its buttons, the "who did what,
 * when" line and the notes shown to one clicker only (a refusal). The card speaks the configured locale, as the
 * group announcement it replaces does; a note to a clicker does too, since a click carries no language.
 */

import type { Catalogue, Locale } from '../locale.js';
import type { TaskAction } from './state.js';

export interface CardTexts {
  assignees: string;
  /** Between two names. */
  and: string;
  due: string;
  /** The button labels. */
  start: string;
  done: string;
  open: string;
  /** `by` did `action`, `at` already formatted in the hub's zone. */
  last(by: string, action: TaskAction | 'created' | 'edited', at: string): string;
  /** The answer to a click before it is applied (config `tasks.cards.answer`). */
  received: string;
  /** Shown to the clicker alone: the task is not theirs to change (or does not exist: the same words). */
  refused: string;
  /** Shown to the clicker alone: DingTalk named no person the hub knows. */
  unknown: string;
  /** Shown to the clicker alone: the lifecycle refused the move (`why` from tasks/texts.ts `cannotMove`). */
  cannot(why: string): string;
}

const EN_DID: Record<TaskAction | 'created' | 'edited', string> = {
  created: 'created it',
  edited: 'edited it',
  start: 'started it',
  done: 'finished it',
  cancel: 'cancelled it',
  reopen: 'reopened it',
};
const ZH_DID: Record<TaskAction | 'created' | 'edited', string> = {
  created: '创建了任务',
  edited: '修改了任务',
  start: '开始了任务',
  done: '完成了任务',
  cancel: '取消了任务',
  reopen: '重新打开了任务',
};

const en: CardTexts = {
  assignees: 'Assignees',
  and: ', ',
  due: 'Due',
  start: 'Start',
  done: 'Done',
  open: 'Open',
  last: (by, action, at) => `${by} ${EN_DID[action]} · ${at}`,
  received: 'Received, updating…',
  refused: 'This task is not yours to change.',
  unknown: 'The hub does not know who you are, so it changed nothing.',
  cannot: (why) => `Not changed: ${why}.`,
};

const zh: CardTexts = {
  assignees: '负责人',
  and: '，',
  due: '截止',
  start: '开始',
  done: '完成',
  open: '打开',
  last: (by, action, at) => `${by} ${ZH_DID[action]} · ${at}`,
  received: '已收到，正在更新…',
  refused: '你不能修改这个任务。',
  unknown: '系统不认识你，未做任何修改。',
  cannot: (why) => `未修改：${why}。`,
};

export const CARD_TEXTS: Catalogue<CardTexts> = { en, 'zh-CN': zh };

export function cardTexts(locale: Locale): CardTexts {
  return CARD_TEXTS[locale];
}
