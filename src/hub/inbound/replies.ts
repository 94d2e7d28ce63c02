/**
 * What the bot answers in a chat, in the sender's language (commands.ts decides: Chinese when the command was
 * written in Chinese). One table per language (hub/locale.ts), so an answer cannot exist in one and be forgotten in
 * the other.
 *
 * `refused` is the one answer for "no such task" and "not yours to change" (tasks/access.ts): it repeats only the
 * id the sender typed, so trying ids tells an outsider nothing about which exist or what they are called.
 */

import type { Catalogue, Locale } from '../locale.js';
import type { TaskState } from '../tasks/state.js';
import { TASK_TEXTS } from '../tasks/texts.js';

export interface Replies {
  help: string;
  notUnderstood(text: string): string;
  refused(id: number): string;
  unknownSender: string;
  moved(id: number, title: string, to: TaskState): string;
  already(id: number, state: TaskState): string;
  /** `why` is already in this language (tasks/texts.ts `cannotMove`, or a message the hub could not word). */
  cannot(id: number, why: string): string;
  noOpenTasks: string;
  openTasks(lines: string[]): string;
  /** `due` is already formatted in the hub's zone, with the zone marked. */
  taskLine(id: number, title: string, state: TaskState, due: string | undefined): string;
}

// A task's state is named as everywhere else a person reads it (tasks/texts.ts).
const EN_STATE = TASK_TEXTS.en.state;
const ZH_STATE = TASK_TEXTS['zh-CN'].state;

// Both forms of every command, in both languages: a person may type either.
const EN_HELP = [
  'I understand (English or Chinese):',
  '- `tasks` / `我的任务`: your open tasks',
  '- `start <id>` / `开始 <id>`: you are working on it',
  '- `done <id>` / `完成 <id>`: it is finished',
  '- `cancel <id>` / `取消 <id>`: it is no longer needed',
  '- `help` / `帮助`: this message',
].join('\n');

const ZH_HELP = [
  '我能听懂（中文或英文）：',
  '- `我的任务` / `tasks`：你未完成的任务',
  '- `开始 <编号>` / `start <编号>`：你开始做了',
  '- `完成 <编号>` / `done <编号>`：已经做完',
  '- `取消 <编号>` / `cancel <编号>`：不再需要',
  '- `帮助` / `help`：显示这条说明',
].join('\n');

const en: Replies = {
  help: EN_HELP,
  notUnderstood: (text) => `I did not understand "${text.slice(0, 80)}".\n${EN_HELP}`,
  refused: (id) => `I cannot change task #${id}: there is no such task, or it is not yours to change.`,
  unknownSender: 'I do not know you yet: ask an admin to add you to the hub’s people.',
  moved: (id, title, to) => `Task #${id} "${title}" is now ${EN_STATE[to]}.`,
  already: (id, state) => `Task #${id} is already ${EN_STATE[state]}.`,
  cannot: (id, why) => `Cannot change task #${id}: ${why}`,
  noOpenTasks: 'You have no open tasks.',
  openTasks: (lines) => `Your open tasks:\n${lines.join('\n')}`,
  taskLine: (id, title, state, due) => `#${id} ${title} (${EN_STATE[state]}${due ? `, due ${due}` : ''})`,
};

const zh: Replies = {
  help: ZH_HELP,
  notUnderstood: (text) => `没看懂“${text.slice(0, 80)}”。\n${ZH_HELP}`,
  refused: (id) => `无法修改任务 #${id}：没有这个任务，或者你无权修改它。`,
  unknownSender: '我还不认识你：请管理员把你加入 hub 的人员名单。',
  moved: (id, title, to) => `任务 #${id}“${title}”现在${ZH_STATE[to]}。`,
  already: (id, state) => `任务 #${id} 已经${ZH_STATE[state]}。`,
  cannot: (id, why) => `无法修改任务 #${id}：${why}`,
  noOpenTasks: '你没有未完成的任务。',
  openTasks: (lines) => `你未完成的任务：\n${lines.join('\n')}`,
  taskLine: (id, title, state, due) => `#${id} ${title}（${ZH_STATE[state]}${due ? `，截止 ${due}` : ''}）`,
};

export const REPLIES: Catalogue<Replies> = { en, 'zh-CN': zh };

export function repliesFor(locale: Locale): Replies {
  return REPLIES[locale];
}
