/**
 * Commands people send to the bot in a chat (received over Stream as bot messages). In a group the text starts
 * with the stripped @mention, often as a leading space (reference stream-protocol §7), and people type in
 * Chinese as often as English, so both are understood.
 *
 *   done 42 / 完成 42     start 42 / 开始 42     cancel 42 / 取消 42
 *   tasks / 我的任务       help / 帮助
 */

export type ChatCommand =
  | { kind: 'transition'; action: 'start' | 'done' | 'cancel'; taskId: number }
  | { kind: 'list' }
  | { kind: 'help' }
  | { kind: 'unknown'; text: string };

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
  // Drop @mentions (the robot's own and others), full-width spaces and a leading slash.
  const text = raw
    .replace(/\u3000/g, ' ')
    .replace(/@\S+/g, ' ')
    .trim()
    .replace(/^\//, '');
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

export const HELP_TEXT = [
  'I understand:',
  '- `tasks`: your open tasks',
  '- `start <id>`: you are working on it',
  '- `done <id>`: it is finished',
  '- `cancel <id>`: it is no longer needed',
  '- `help`: this message',
].join('\n');
