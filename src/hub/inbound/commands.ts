/**
 * Commands people send to the bot in a chat (received over Stream as bot messages). In a group the text starts
 * with the stripped @mention, often as a leading space (docs/dingtalk.md §S7), and people type in
 * Chinese as often as English, so both are understood.
 *
 *   done 42 / 完成 42     start 42 / 开始 42     cancel 42 / 取消 42
 *   tasks / 我的任务       help / 帮助
 */

import type { Locale } from '../locale.js';

type Command =
  | { kind: 'transition'; action: 'start' | 'done' | 'cancel'; taskId: number }
  | { kind: 'list' }
  | { kind: 'help' }
  | { kind: 'unknown'; text: string };

type ChatCommand = Command & {
  /** The language to answer in: Chinese when the command is written in Chinese (a CJK character), else English. */
  lang: Locale;
};

/** CJK punctuation (not the ideographic space), ideographs (with extension A) and full-width forms. */
const CJK = /[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uffef]/u;

const ACTIONS: Record<string, 'start' | 'done' | 'cancel'> = {
  start: 'start',
  begin: 'start',
  开始: 'start',
  done: 'done',
  finish: 'done',
  finished: 'done',
  complete: 'done',
  完成: 'done',
  cancel: 'cancel',
  取消: 'cancel',
};

export function parseCommand(raw: string): ChatCommand {
  // Drop @mentions (the robot's own and others: a name in them is not who wrote it), full-width spaces and a
  // leading slash.
  const text = raw
    .replace(/\u3000/g, ' ')
    .replace(/@\S+/g, ' ')
    .trim()
    .replace(/^\//, '');
  return { ...understand(text), lang: CJK.test(text) ? 'zh-CN' : 'en' };
}

function understand(text: string): Command {
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'help' || lower === '?' || lower === '帮助') return { kind: 'help' };
  if (
    lower === 'tasks' ||
    lower === 'my tasks' ||
    lower === 'list' ||
    lower === '我的任务' ||
    lower === '任务'
  ) {
    return { kind: 'list' };
  }
  const m = /^(\S+?)\s*#?(\d{1,12})$/u.exec(lower);
  if (m) {
    const action = ACTIONS[m[1]!];
    if (action) return { kind: 'transition', action, taskId: Number(m[2]) };
  }
  return { kind: 'unknown', text };
}
