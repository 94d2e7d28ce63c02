/**
 * What the hub says about tasks, in each locale (hub/locale.ts): the announcements in a task's group, reminders,
 * escalations, edit summaries, the state machine's refusals as a person reads them, and who did it. Times arrive
 * here already formatted in the hub's zone (zoned-time.ts); names arrive as people know them.
 *
 * Who acted (`actor`): a person by their directory name; an operator never as a bare `api:<token>` but as "the
 * API (token ci)", "the CLI", "the hub".
 */

import type { Catalogue, Locale } from '../locale.js';
import type { TaskAction, TaskState } from './state.js';

/** Why a move was made, when the hub knows (besides a note an operator wrote). */
export type MoveVia = 'chat' | 'todo' | 'card';

export interface TaskTexts {
  state: Record<TaskState, string>;
  /** Who acted, from the stored actor (`api:<token>`, `cli`, `hub`, `dingtalk`, or a person's name). */
  actor(by: string): string;
  created(id: number, title: string, due: string | undefined, assignees: string): string;
  /** The last line of an announcement: the task's page (DingTalk opens an https link in its own container). */
  open(url: string): string;
  moved(id: number, action: TaskAction, by: string, title: string, note: string | undefined): string;
  via: Record<MoveVia, string>;
  reminder(id: number, title: string, due: string): string;
  overdue(id: number, title: string, due: string, state: TaskState): string;
  /** Said for a reminder of a task whose due time was removed meanwhile. */
  soon: string;
  edited(
    id: number,
    by: string,
    title: string,
    lines: readonly string[],
    joining: string | undefined,
  ): string;
  /** The `field: old → new` lines of an edit. */
  field: Record<'title' | 'description' | 'due' | 'group' | 'assignees', string>;
  none: string;
  /** Between a field's label and its change: `: ` in English, a full-width `：` in Chinese. */
  colon: string;
  /** The state machine's refusal: `action` is not allowed from `from`. */
  cannotMove(action: TaskAction, from: TaskState): string;
}

const EN_STATE: Record<TaskState, string> = {
  open: 'open',
  in_progress: 'in progress',
  done: 'done',
  cancelled: 'cancelled',
};
const ZH_STATE: Record<TaskState, string> = {
  open: '待处理',
  in_progress: '进行中',
  done: '已完成',
  cancelled: '已取消',
};
const EN_DONE: Record<TaskAction, string> = {
  start: 'started',
  done: 'finished',
  cancel: 'cancelled',
  reopen: 'reopened',
};
const EN_VERB: Record<TaskAction, string> = {
  start: 'start',
  done: 'finish',
  cancel: 'cancel',
  reopen: 'reopen',
};
const ZH_VERB: Record<TaskAction, string> = {
  start: '开始',
  done: '完成',
  cancel: '取消',
  reopen: '重新打开',
};

/** An operator's actor, or undefined for a person's name. */
function operator(
  by: string,
): { kind: 'api'; token: string } | { kind: 'cli' | 'hub' | 'dingtalk' } | undefined {
  if (by.startsWith('api:')) return { kind: 'api', token: by.slice(4) };
  if (by === 'cli' || by === 'hub' || by === 'dingtalk') return { kind: by };
  return undefined;
}

const en: TaskTexts = {
  state: EN_STATE,
  actor(by) {
    const o = operator(by);
    if (!o) return by;
    if (o.kind === 'api') return `the API (token ${o.token})`;
    return { cli: 'the CLI', hub: 'the hub', dingtalk: 'DingTalk' }[o.kind];
  },
  created: (id, title, due, assignees) =>
    `New task #${id}: ${title}${due ? `\nDue: ${due}` : ''}\nAssigned to ${assignees}\nReply \`start ${id}\` or \`done ${id}\` to the bot.`,
  open: (url) => `Open: ${url}`,
  moved: (id, action, by, title, note) =>
    `Task #${id} ${EN_DONE[action]} by ${by}: ${title}${note ? ` (${note})` : ''}`,
  via: { chat: 'from chat', todo: 'Todo marked done in DingTalk', card: 'from the task card' },
  reminder: (id, title, due) => `Reminder: task #${id} "${title}" is due ${due}.`,
  overdue: (id, title, due, state) =>
    `Overdue: task #${id} "${title}" was due ${due} and is still ${EN_STATE[state]}.`,
  soon: 'soon',
  edited: (id, by, title, lines, joining) =>
    `Task #${id} edited by ${by}: ${title}\n${lines.join('\n')}${joining ? `\nNow also assigned to ${joining}` : ''}`,
  field: { title: 'title', description: 'description', due: 'due', group: 'group', assignees: 'assignees' },
  none: 'none',
  colon: ': ',
  cannotMove: (action, from) => `cannot ${EN_VERB[action]} a task that is ${EN_STATE[from]}`,
};

const zh: TaskTexts = {
  state: ZH_STATE,
  actor(by) {
    const o = operator(by);
    if (!o) return by;
    if (o.kind === 'api') return `API（令牌 ${o.token}）`;
    return { cli: '命令行', hub: '系统', dingtalk: '钉钉' }[o.kind];
  },
  created: (id, title, due, assignees) =>
    `新任务 #${id}：${title}${due ? `\n截止：${due}` : ''}\n负责人：${assignees}\n回复机器人 \`开始 ${id}\` 或 \`完成 ${id}\`。`,
  open: (url) => `打开：${url}`,
  moved: (id, action, by, title, note) =>
    `任务 #${id} 已由 ${by} ${ZH_VERB[action]}：${title}${note ? `（${note}）` : ''}`,
  via: { chat: '来自聊天', todo: '在钉钉待办中标记完成', card: '来自任务卡片' },
  reminder: (id, title, due) => `提醒：任务 #${id}“${title}”将于 ${due} 截止。`,
  overdue: (id, title, due, state) =>
    `已逾期：任务 #${id}“${title}”已于 ${due} 截止，目前仍${ZH_STATE[state]}。`,
  soon: '即将',
  edited: (id, by, title, lines, joining) =>
    `任务 #${id} 已由 ${by} 修改：${title}\n${lines.join('\n')}${joining ? `\n新增负责人：${joining}` : ''}`,
  field: { title: '标题', description: '描述', due: '截止', group: '群', assignees: '负责人' },
  none: '无',
  colon: '：',
  cannotMove: (action, from) => `任务${ZH_STATE[from]}，不能${ZH_VERB[action]}`,
};

export const TASK_TEXTS: Catalogue<TaskTexts> = { en, 'zh-CN': zh };

export function taskTexts(locale: Locale): TaskTexts {
  return TASK_TEXTS[locale];
}
